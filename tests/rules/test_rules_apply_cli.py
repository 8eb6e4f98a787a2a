"""``geotrigger rules apply``: check, diff by rule id, version, save (or not). On SQLite and on
real PostGIS."""

from __future__ import annotations

from pathlib import Path

import pytest

from geotrigger.cli import main
from geotrigger.store import migrations
from geotrigger.store.database import connect
from geotrigger.store.rule_sets import active_rule_set
from tests.store.conftest import database_url  # noqa: F401  (the fixture: both databases)

RULE = """\
version: 1
moments:
  - id: {id}
    trigger: {{on: dwell, places: {{tags: [cafe]}}}}
    suppression:
      caps: [{{scope: consumer_rule, max: {max}, window: calendar_day}}]
    action: {{message: "hello at {{place.name}}"}}
"""


def write(folder: Path, name: str, rule_id: str, cap: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(RULE.format(id=rule_id, max=cap), encoding="utf-8")
    return path


def apply(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, list[str]]:
    code = main(["rules", "apply", *args, "--database-url", url])
    return code, capsys.readouterr().out.splitlines()


def active_version(url: str) -> int | None:
    engine = connect(url)
    with engine.connect() as conn:
        active = active_rule_set(conn)
    engine.dispose()
    return None if active is None else active.version


def test_apply_prints_the_diff_and_the_version(
    database_url: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    migrations.upgrade(database_url)
    folder = tmp_path / "moments"
    write(folder, "a.yaml", "alpha")
    write(folder, "b.yaml", "beta")
    code, out = apply(capsys, database_url, str(folder))
    assert code == 0
    assert out[-3:] == ["+ alpha", "+ beta", "version 1 (new)"]

    # the same files again: nothing changes, the same version
    code, out = apply(capsys, database_url, str(folder))
    assert (code, out[-1]) == (0, "version 1 (unchanged)")
    assert not any(line[:2] in ("+ ", "~ ", "- ") for line in out)

    # one edited, one removed, one added
    write(folder, "a.yaml", "alpha", cap=2)
    (folder / "b.yaml").unlink()
    write(folder, "c.yaml", "gamma")
    code, out = apply(capsys, database_url, str(folder))
    assert code == 0
    assert out[-4:] == ["+ gamma", "~ alpha", "- beta", "version 2 (new)"]
    assert active_version(database_url) == 2


def test_dry_run_saves_nothing(
    database_url: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    migrations.upgrade(database_url)
    path = write(tmp_path, "m.yaml", "alpha")
    code, out = apply(capsys, database_url, str(path), "--dry-run")
    assert code == 0
    assert out[-3:] == ["+ alpha", "a new version", "dry run: the database was not changed"]
    assert active_version(database_url) is None


def test_errors_save_nothing(
    database_url: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    migrations.upgrade(database_url)
    path = write(tmp_path, "m.yaml", "alpha")
    path.write_text(path.read_text().replace("on: dwell", "on: dwel"), encoding="utf-8")
    code, out = apply(capsys, database_url, str(path))
    assert code == 1
    assert f"{path} line 4: rule 'alpha': trigger.on: 'dwel' is not one of" in out[0]
    assert out[-2:] == [
        "0 rules loaded; 1 errors, 0 warnings",
        "nothing saved: the moments have errors",
    ]
    assert active_version(database_url) is None


def test_places_are_checked(
    database_url: str,  # noqa: F811
    repo_root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The shipped moments against the shipped places: saved, with the warnings printed."""
    migrations.upgrade(database_url)
    rules, places = repo_root / "rules" / "moments", repo_root / "rules" / "places"
    code, out = apply(capsys, database_url, str(rules), "--places", str(places))
    assert code == 0
    assert "5 rules loaded; 0 errors" in "\n".join(out)
    assert out[-1] == "version 1 (new)"


def test_a_database_without_the_schema_is_a_clear_error(
    database_url: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    migrations.upgrade(database_url, "base")  # the database exists, without tables
    path = write(tmp_path, "m.yaml", "alpha")
    assert main(["rules", "apply", str(path), "--database-url", database_url]) == 1
    assert "run geotrigger db upgrade first" in capsys.readouterr().err


def test_the_same_files_named_another_way_are_the_same_version(
    database_url: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    migrations.upgrade(database_url)
    write(tmp_path / "moments", "m.yaml", "alpha")
    monkeypatch.chdir(tmp_path)
    assert apply(capsys, database_url, "moments")[1][-1] == "version 1 (new)"
    assert apply(capsys, database_url, "./moments/m.yaml")[1][-1] == "version 1 (unchanged)"


def test_files_applied_before_make_their_version_active_again(
    database_url: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    migrations.upgrade(database_url)
    path = write(tmp_path, "m.yaml", "alpha")
    assert apply(capsys, database_url, str(path))[1][-1] == "version 1 (new)"
    write(tmp_path, "m.yaml", "alpha", cap=2)
    assert apply(capsys, database_url, str(path))[1][-2:] == ["~ alpha", "version 2 (new)"]
    write(tmp_path, "m.yaml", "alpha")
    out = apply(capsys, database_url, str(path), "--dry-run")[1]
    assert out[-3:] == [
        "~ alpha",
        "version 1 (active again)",
        "dry run: the database was not changed",
    ]
    assert active_version(database_url) == 2
    assert apply(capsys, database_url, str(path))[1][-1] == "version 1 (active again)"
    assert active_version(database_url) == 1

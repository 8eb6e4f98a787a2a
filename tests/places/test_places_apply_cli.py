"""``geotrigger places apply``: the shipped places into a database, then a modified copy of
them, as a dry run (nothing changes) and for real; on SQLite and on PostGIS."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from geotrigger.cli import main
from geotrigger.store import migrations
from geotrigger.store.database import connect
from geotrigger.store.places import load_places
from tests.store.conftest import _fresh_postgres

SHIPPED = 1044  # places in rules/places


@pytest.fixture(params=["sqlite", "postgis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend (as ``tests/store/conftest.py`` makes them)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'geotrigger.sqlite3'}"
        return
    yield from _fresh_postgres()


@pytest.fixture
def migrated(store_url: str) -> str:
    migrations.upgrade(store_url)
    return store_url


def apply(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["places", "apply", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def held(url: str) -> dict[str, tuple[str, str | None]]:
    """The database's places: id -> (name, opening hours)."""
    engine = connect(url)
    try:
        with engine.connect() as conn:
            return {
                p.id: (p.name, None if p.opening_hours is None else p.opening_hours.expression)
                for p in load_places(conn)
            }
    finally:
        engine.dispose()


def modified_copy(repo_root: Path, tmp_path: Path) -> Path:
    """rules/places with one place renamed, one with new hours, one gone and one new."""
    folder = tmp_path / "places"
    shutil.copytree(repo_root / "rules" / "places", folder)
    footprints = folder / "helsinki-footprints.yaml"
    text = footprints.read_text(encoding="utf-8")
    edits = [
        ("name: Senate Square", "name: Senaatintori"),
        ('"Mo-Fr 10:00-20:00; Sa 10:00-19:00; Su 12:00-18:00"', '"Mo-Su 10:00-21:00"'),
    ]
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    start = text.index("  # A circle, for comparison")
    gone = text[start:]
    assert "id: rautatieasema" in gone and gone.count("- id:") == 1
    new_place = (
        "  - id: ateneum\n"
        "    name: Ateneum\n"
        "    circle: {lat: 60.1697, lon: 24.9443, radius_m: 60}\n"
    )
    footprints.write_text(text[:start] + new_place, encoding="utf-8")
    return folder


def test_apply_the_shipped_places_then_a_modified_copy(
    migrated: str, repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = str(repo_root / "rules" / "places")
    code, out, err = apply(capsys, shipped, "--database-url", migrated)
    assert (code, err) == (0, "")
    assert out[-1] == f"{SHIPPED} added, 0 changed, 0 removed, 0 unchanged"
    assert "+ kauppatori Kauppatori market square" in out
    assert len([line for line in out if line.startswith("+ ")]) == SHIPPED
    before = held(migrated)
    assert len(before) == SHIPPED

    # the same files again: nothing to do
    code, out, _ = apply(capsys, shipped, "--database-url", migrated)
    assert (code, out) == (0, [f"0 added, 0 changed, 0 removed, {SHIPPED} unchanged"])

    copy = str(modified_copy(repo_root, tmp_path))
    expected = [
        "+ ateneum Ateneum",
        "~ senaatintori: name",
        "~ stockmann-helsinki: opening_hours",
        "- rautatieasema",
        f"1 added, 2 changed, 1 removed, {SHIPPED - 3} unchanged",
    ]
    code, out, _ = apply(capsys, copy, "--database-url", migrated, "--dry-run")
    assert (code, out) == (0, [*expected, "dry run: the database was not changed"])
    assert held(migrated) == before

    code, out, _ = apply(capsys, copy, "--database-url", migrated)
    assert (code, out) == (0, expected)
    after = held(migrated)
    assert after["senaatintori"][0] == "Senaatintori"
    assert after["stockmann-helsinki"][1] == "Mo-Su 10:00-21:00"
    assert "rautatieasema" not in after and after["ateneum"] == ("Ateneum", None)
    assert len(after) == SHIPPED

    code, out, _ = apply(capsys, copy, "--database-url", migrated, "--dry-run")
    assert out[-2] == f"0 added, 0 changed, 0 removed, {SHIPPED} unchanged"


def test_apply_without_the_schema_says_to_upgrade(
    store_url: str, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = apply(capsys, str(repo_root / "rules" / "places"), "--database-url", store_url)
    assert (code, out) == (1, [])
    assert "no places table: run geotrigger db upgrade first" in err


def test_apply_refuses_files_with_errors_and_changes_nothing(
    migrated: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "version: 1\nplaces:\n"
        "  - id: a\n    name: A\n    circle: {lat: 60.1, lon: 24.9, radius_m: 50}\n",
        encoding="utf-8",
    )
    assert apply(capsys, str(good), "--database-url", migrated)[0] == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nplaces:\n"
        "  - id: b\n    name: B\n    circle: {lat: 95.0, lon: 24.9, radius_m: 50}\n",
        encoding="utf-8",
    )
    code, out, err = apply(capsys, str(bad), "--database-url", migrated)
    assert (code, out) == (1, [])
    assert "bad.yaml" in err
    assert list(held(migrated)) == ["a"]


def test_apply_names_an_unreachable_database_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    places = tmp_path / "p.yaml"
    places.write_text(
        "version: 1\nplaces:\n"
        "  - id: a\n    name: A\n    circle: {lat: 60.1, lon: 24.9, radius_m: 50}\n",
        encoding="utf-8",
    )
    url = "postgresql+psycopg2://someone:s3cret@127.0.0.1:1/nowhere"
    code, out, err = apply(capsys, str(places), "--database-url", url, "--dry-run")
    assert (code, out) == (1, [])
    assert "database postgresql+psycopg2://someone:***@127.0.0.1:1/nowhere" in err
    assert "s3cret" not in err

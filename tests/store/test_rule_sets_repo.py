"""Rule sets in the database: versions by checksum, one active, compiled back from the stored
text to the same rules as the files. On SQLite and on real PostGIS."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from geotrigger.errors import RuleError
from geotrigger.places import load_places_strict
from geotrigger.rules import load_rules_strict
from geotrigger.rules.loading import read_rule_files
from geotrigger.store.rule_sets import (
    RuleSetDiff,
    active_rule_set,
    compile_rule_set,
    diff_rule_sets,
    find_rule_set,
    load_rule_set,
    rule_set_checksum,
    save_rule_set,
)
from geotrigger.store.tables import rule_sets

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
RULE = """\
version: 1
defaults:
  ttl: 10m
moments:
  - id: {id}
    trigger: {{on: dwell, places: {{tags: [cafe]}}}}
    suppression:
      caps: [{{scope: consumer_rule, max: {max}, window: calendar_day}}]
    action: {{message: "hello at {{place.name}}"}}
"""


def moments(rule_id: str = "coffee", cap: int = 1) -> str:
    return RULE.format(id=rule_id, max=cap)


def test_no_rule_set_before_the_first_save(engine: Engine) -> None:
    with engine.connect() as conn:
        assert active_rule_set(conn) is None


def test_the_same_sources_are_the_same_version(engine: Engine) -> None:
    sources = {"a.yaml": moments("a"), "b.yaml": moments("b")}
    with engine.begin() as conn:
        first = save_rule_set(conn, sources=sources, now=NOW)
    with engine.begin() as conn:
        # the same files in another order, saved later: still the same version, no new row
        again = save_rule_set(
            conn, sources=dict(reversed(sources.items())), now=NOW.replace(hour=13)
        )
        count = len(conn.execute(select(rule_sets.c.version)).all())
    assert again == first
    assert count == 1
    assert first.checksum == rule_set_checksum(sources)
    with engine.connect() as conn:
        active = active_rule_set(conn)
    assert active == first
    assert active is not None and active.created_at == NOW
    assert active.created_at.tzinfo is not None
    assert dict(active.sources) == sources


def test_changed_sources_become_the_only_active_version(engine: Engine) -> None:
    with engine.begin() as conn:
        v1 = save_rule_set(conn, sources={"m.yaml": moments()}, now=NOW)
    with engine.begin() as conn:
        v2 = save_rule_set(conn, sources={"m.yaml": moments(cap=2)}, now=NOW)
    assert v2.version > v1.version
    assert v2.checksum != v1.checksum
    with engine.connect() as conn:
        assert active_rule_set(conn) == v2
        active = conn.execute(select(rule_sets.c.version).where(rule_sets.c.active)).all()
        assert [row.version for row in active] == [v2.version]
        assert load_rule_set(conn, version=v1.version) == v1
        assert find_rule_set(conn, checksum=v2.checksum) == v2
        assert load_rule_set(conn, version=v2.version + 100) is None


def test_saving_an_older_version_again_makes_it_active(engine: Engine) -> None:
    with engine.begin() as conn:
        v1 = save_rule_set(conn, sources={"m.yaml": moments()}, now=NOW)
        save_rule_set(conn, sources={"m.yaml": moments(cap=2)}, now=NOW)
        back = save_rule_set(conn, sources={"m.yaml": moments()}, now=NOW)
        assert back == v1
        assert active_rule_set(conn) == v1
        assert len(conn.execute(select(rule_sets.c.version)).all()) == 2


def test_names_and_texts_count_in_the_checksum() -> None:
    base = rule_set_checksum({"a.yaml": "x"})
    assert rule_set_checksum({"b.yaml": "x"}) != base  # renamed
    assert rule_set_checksum({"a.yaml": "y"}) != base  # edited
    assert rule_set_checksum({"a.yaml": "", "x": ""}) != rule_set_checksum({"a.yamlx": ""})


@pytest.mark.parametrize(
    "sources",
    [
        {},  # nothing to save
        {"a.yaml": 1},  # not a text
    ],
)
def test_save_refuses_what_is_no_rule_set(engine: Engine, sources: dict[str, object]) -> None:
    with engine.begin() as conn, pytest.raises(ValueError):
        save_rule_set(conn, sources=sources, now=NOW)  # type: ignore[arg-type]


def test_save_refuses_a_naive_now(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(ValueError, match="timezone-aware"):
        save_rule_set(conn, sources={"m.yaml": moments()}, now=NOW.replace(tzinfo=None))


def test_compiled_back_equals_the_shipped_files(engine: Engine, repo_root: Path) -> None:
    """The shipped moments with the shipped places: stored, read back, compiled, the same."""
    folder = repo_root / "rules" / "moments"
    places = {p.id: p for p in load_places_strict([repo_root / "rules" / "places"]).places}
    texts, findings = read_rule_files([folder])
    assert findings == []
    with engine.begin() as conn:
        save_rule_set(conn, sources=dict(texts), now=NOW)
    with engine.connect() as conn:
        stored = active_rule_set(conn)
    assert stored is not None
    expected = load_rules_strict([folder], places=places)
    compiled = compile_rule_set(stored, places=places)
    assert compiled == expected
    assert len(compiled.rules) == 5 and compiled.policy.caps


def test_compile_errors_name_the_file_and_line_as_stored(engine: Engine) -> None:
    bad = moments().replace("on: dwell", "on: dwel")
    with engine.begin() as conn:
        version = save_rule_set(conn, sources={"rules/m.yaml": bad}, now=NOW)
    with pytest.raises(RuleError, match=r"rules/m\.yaml line 6: rule 'coffee': trigger\.on"):
        compile_rule_set(version)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # nothing before: every rule is added
        (None, {"m.yaml": moments("a")}, RuleSetDiff(added=("a",))),
        # the same rules: nothing changes
        ({"m.yaml": moments("a")}, {"m.yaml": moments("a")}, RuleSetDiff()),
        # a comment and a move to another file are no change
        ({"m.yaml": moments("a")}, {"n.yaml": "# note\n" + moments("a")}, RuleSetDiff()),
        # a cap edited: changed
        ({"m.yaml": moments("a")}, {"m.yaml": moments("a", cap=3)}, RuleSetDiff(changed=("a",))),
        # the file's defaults edited: changed too
        (
            {"m.yaml": moments("a")},
            {"m.yaml": moments("a").replace("ttl: 10m", "ttl: 5m")},
            RuleSetDiff(changed=("a",)),
        ),
        # one renamed: one removed, one added
        (
            {"m.yaml": moments("a"), "n.yaml": moments("b")},
            {"m.yaml": moments("a"), "n.yaml": moments("c")},
            RuleSetDiff(added=("c",), removed=("b",)),
        ),
    ],
)
def test_diff_by_rule_id(
    old: dict[str, str] | None, new: dict[str, str], expected: RuleSetDiff
) -> None:
    assert diff_rule_sets(old, new) == expected

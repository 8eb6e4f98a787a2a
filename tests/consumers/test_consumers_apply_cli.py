"""``geotrigger consumers apply`` on both databases: profiles in, what changed printed, a dry
run saves nothing, a second apply changes nothing, consumers not named are kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from geotrigger.cli import main
from geotrigger.store.consumers import load_consumer, set_consent
from geotrigger.store.database import transaction
from tests.store.conftest import database_url  # noqa: F401  (the fixture: both databases)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "examples" / "consumers" / "helsinki.jsonl"


def test_apply_inserts_then_changes_only_what_differs(
    database_url: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["db", "upgrade", "--database-url", database_url]) == 0
    url = ["--database-url", database_url]
    capsys.readouterr()
    assert main(["consumers", "apply", str(SHIPPED), *url, "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "6 added, 0 changed, 0 unchanged",
        "dry run: nothing saved",
    ]
    with transaction(database_url) as conn:
        assert load_consumer(conn, consumer_id="consumer-shopper") is None
    assert main(["consumers", "apply", str(SHIPPED), *url]) == 0
    assert "+ consumer-shopper" in capsys.readouterr().out
    records = [json.loads(line) for line in SHIPPED.read_text().splitlines() if line.strip()]
    shopper = next(r for r in records if r["id"] == "consumer-shopper")
    shopper["consent"] = {"location_marketing": False}
    changed = tmp_path / "shopper.jsonl"
    changed.write_text(json.dumps(shopper) + "\n")
    assert main(["consumers", "apply", str(changed), *url]) == 0
    # consent is the person's: a file cannot change it once stored (withdrawn or given)
    assert capsys.readouterr().out.splitlines() == ["0 added, 0 changed, 1 unchanged"]
    shopper["consent"] = {"location_marketing": True}
    shopper["segments"] = ["fashion", "outdoor"]
    changed.write_text(json.dumps(shopper) + "\n")
    with transaction(database_url) as conn:
        set_consent(
            conn,
            consumer_id="consumer-shopper",
            purpose="location_marketing",
            given=False,
            now=datetime.now(UTC),
        )
    assert main(["consumers", "apply", str(changed), *url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "~ consumer-shopper",
        "0 added, 1 changed, 0 unchanged",
    ]
    with transaction(database_url) as conn:
        stored = load_consumer(conn, consumer_id="consumer-shopper")
        kept = load_consumer(conn, consumer_id="consumer-walker")  # not named: kept
    assert stored is not None and stored.consent == {"location_marketing": False}
    assert "outdoor" in stored.segments
    assert kept is not None


def test_a_bad_profile_saves_nothing_and_names_the_line(
    database_url: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["db", "upgrade", "--database-url", database_url]) == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "c-1", "consent": {"location_marketing": true}}\n{"id": 5}\n')
    capsys.readouterr()
    assert main(["consumers", "apply", str(bad), "--database-url", database_url]) == 1
    assert "line 2" in capsys.readouterr().err
    with transaction(database_url) as conn:
        assert load_consumer(conn, consumer_id="c-1") is None

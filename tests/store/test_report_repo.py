"""The moments report from the database and ``geotrigger report``: each rule's funnel equals
what the replay's decisions hold, outcomes count per cohort and kind within the range of their
moments, and the command prints the table, the JSON, or one clear line for an empty database.
On SQLite and on real PostGIS (the replayed database of ``test_outcomes_repo``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from geotrigger.cli import main
from geotrigger.moments.decision import Decision
from geotrigger.moments.report import report_document
from geotrigger.moments.report_arithmetic import Group, OutcomeKind
from geotrigger.moments.summary import MomentSummary
from geotrigger.store.outcomes import record_outcome
from geotrigger.store.report import load_report
from tests.store.test_outcomes_repo import (
    HOLDOUT_RULE_ID,
    Replayed,
    copied,
    replayed,
    would_be_id,
)

__all__ = ["copied", "replayed"]  # the fixtures, used by name


def _summary(decisions: list[Decision] | tuple[Decision, ...]) -> MomentSummary:
    summary = MomentSummary()
    summary.count(decisions)
    return summary


def _report_outcome(engine: Engine, moment: str, decision: Decision, kind: str) -> None:
    with engine.begin() as conn:
        record_outcome(
            conn,
            moment_id=moment,
            kind=kind,
            at=decision.at + dt.timedelta(minutes=20),
            data={},
            now=decision.at + dt.timedelta(hours=1),
        )


def _fired_id(decision: Decision) -> str:
    assert decision.moment is not None
    return decision.moment.id


def test_the_report_counts_what_the_decisions_hold(copied: tuple[Replayed, Engine]) -> None:
    replayed, engine = copied
    expected = _summary(replayed.decisions)
    with engine.connect() as conn:
        report = load_report(conn)
    assert [r.rule_id for r in report.rules] == sorted(expected.rules)
    for rule in report.rules:
        funnel = expected.rules[rule.rule_id]
        assert (rule.candidates, rule.matched, rule.fired, rule.would_fire) == (
            funnel.candidates,
            funnel.matched,
            funnel.fired,
            funnel.would_fire,
        ), rule.rule_id
        assert dict(rule.suppressed) == dict(funnel.suppressed), rule.rule_id
        assert dict(rule.not_matched) == dict(funnel.not_matched), rule.rule_id
    by_id = {r.rule_id: r for r in report.rules}
    assert all(r.lift is None for r in report.rules if r.rule_id != HOLDOUT_RULE_ID)
    lift = by_id[HOLDOUT_RULE_ID].lift
    fired, held_out = replayed.fired(), replayed.held_out()
    assert lift is not None
    assert lift.treated == Group(
        moments=len(fired), converted=0, consumers=len({d.consumer_id for d in fired})
    )
    assert lift.control == Group(
        moments=len(held_out), converted=0, consumers=len({d.consumer_id for d in held_out})
    )
    assert lift.absolute_pp is None and lift.note.startswith("too few moments to tell")


def test_outcomes_count_per_cohort_and_kind(copied: tuple[Replayed, Engine]) -> None:
    replayed, engine = copied
    first, second = replayed.fired()[:2]
    held = replayed.held_out()[0]
    for kind in ("delivered", "opened", "converted"):
        _report_outcome(engine, _fired_id(first), first, kind)
    _report_outcome(engine, _fired_id(second), second, "delivered")
    _report_outcome(engine, would_be_id(held), held, "converted")
    _report_outcome(engine, would_be_id(held), held, "converted")  # a retried callback
    with engine.connect() as conn:
        report = load_report(conn, rule_ids=[HOLDOUT_RULE_ID])
    (rule,) = report.rules
    assert dict(rule.treated) == {"delivered": 2, "opened": 1, "converted": 1}
    assert dict(rule.holdout) == {"converted": 1}
    assert rule.outcome(OutcomeKind.DELIVERED) == 2
    assert rule.lift is not None
    assert (rule.lift.treated.converted, rule.lift.control.converted) == (1, 1)
    assert rule.lift.treated.rate == pytest.approx(1 / len(replayed.fired()))
    assert rule.lift.control.rate == pytest.approx(1 / len(replayed.held_out()))


def test_the_range_takes_its_decisions_and_their_moments_outcomes(
    copied: tuple[Replayed, Engine],
) -> None:
    replayed, engine = copied
    fired, held_out = replayed.fired(), replayed.held_out()
    for d in fired:
        _report_outcome(engine, _fired_id(d), d, "converted")
    for d in held_out:
        _report_outcome(engine, would_be_id(d), d, "converted")
    cut = held_out[-1].at  # the last holdout decision is in the later range
    assert held_out[0].at < cut
    for since, until in ((None, cut), (cut, None)):
        inside = tuple(
            d
            for d in replayed.decisions
            if (since is None or d.at >= since) and (until is None or d.at < until)
        )
        with engine.connect() as conn:
            report = load_report(conn, since=since, until=until)
        expected = _summary(inside)
        assert {r.rule_id: r.candidates for r in report.rules} == {
            rule_id: f.candidates for rule_id, f in expected.rules.items()
        }
        rule = next(r for r in report.rules if r.rule_id == HOLDOUT_RULE_ID)
        fired_in = [d for d in fired if d in inside]
        held_in = [d for d in held_out if d in inside]
        assert fired_in and held_in  # both groups on both sides of the cut
        assert rule.lift is not None
        assert rule.lift.treated.moments == rule.lift.treated.converted == len(fired_in)
        assert rule.lift.control.moments == rule.lift.control.converted == len(held_in)


def test_only_the_rules_asked_for(copied: tuple[Replayed, Engine]) -> None:
    _, engine = copied
    with engine.connect() as conn:
        report = load_report(conn, rule_ids=["no-such-rule", HOLDOUT_RULE_ID])
    assert [r.rule_id for r in report.rules] == ["no-such-rule", HOLDOUT_RULE_ID]
    assert report.rules[0].candidates == 0 and report.rules[1].candidates > 0


def test_the_command_prints_the_table_and_the_json(
    copied: tuple[Replayed, Engine], capsys: pytest.CaptureFixture[str]
) -> None:
    replayed, engine = copied
    held = replayed.held_out()[0]
    _report_outcome(engine, would_be_id(held), held, "converted")
    assert main(["report", "--database-url", replayed.url]) == 0
    table = capsys.readouterr().out
    fired = len([d for d in replayed.decisions if d.moment is not None])
    assert table.startswith(f"moments report, decisions of all time: {fired} fired\n")
    assert "lift over holdout: too few moments to tell" in table
    assert "holdout" in table and "1 converted" in table
    assert "consumer-" not in table  # rules and counts, never a consumer
    args = ["report", "--database-url", replayed.url, "--json", "--rule", HOLDOUT_RULE_ID]
    assert main([*args, "--since", "2026-06-12T00:00:00Z", "--until", "2026-06-13T00:00:00Z"]) == 0
    document = json.loads(capsys.readouterr().out)
    since = dt.datetime(2026, 6, 12, tzinfo=dt.UTC)
    with engine.connect() as conn:
        expected = load_report(
            conn, since=since, until=since + dt.timedelta(days=1), rule_ids=[HOLDOUT_RULE_ID]
        )
    assert document == json.loads(json.dumps(report_document(expected)))
    assert [r["rule_id"] for r in document["rules"]] == [HOLDOUT_RULE_ID]
    assert document["rules"][0]["outcomes"]["holdout"]["converted"] == 1


def test_an_empty_database_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'gt.sqlite3'}"
    assert main(["db", "upgrade", "--database-url", url]) == 0
    capsys.readouterr()
    assert main(["report", "--database-url", url]) == 0
    assert (
        capsys.readouterr().out == "no decisions and no outcomes of all time: nothing to report\n"
    )
    assert main(["report", "--database-url", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"since": None, "until": None, "rules": []}


def test_the_command_refuses_what_it_cannot_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'none.sqlite3'}"
    assert main(["report", "--database-url", url]) == 1
    assert "run geotrigger db upgrade first" in capsys.readouterr().err
    backwards = ["--since", "2026-06-13T00:00:00Z", "--until", "2026-06-12T00:00:00Z"]
    assert main(["report", "--database-url", url, *backwards]) == 1
    assert "is not before --until" in capsys.readouterr().err

"""The per-rule funnel of a replay."""

from __future__ import annotations

from moments.helpers import T0

from geotrigger.moments.decision import Decision, Outcome
from geotrigger.moments.summary import MomentSummary, format_funnels
from geotrigger.rules.model import TriggerKind


def decision(outcome: Outcome, gate: str | None = None, **kw: object) -> Decision:
    return Decision(
        rule_id="r-1",
        consumer_id="c-1",
        place_id="p-1",
        trigger=TriggerKind.ENTER,
        at=T0,
        evaluated_at=T0,
        event_key="e",
        outcome=outcome,
        reason="why",
        gate=gate,
        **kw,  # type: ignore[arg-type]
    )


def test_the_funnel_counts_each_outcome_once() -> None:
    summary = MomentSummary()
    summary.count(
        [
            decision(Outcome.FIRED),
            decision(Outcome.SUPPRESSED, "consent"),  # never evaluated: not matched either
            decision(Outcome.SUPPRESSED, "caps"),
            decision(Outcome.SUPPRESSED, "monitor", would_fire=True),
            decision(Outcome.NOT_MATCHED, condition="local_time"),
        ]
    )
    funnel = summary.rules["r-1"]
    assert (funnel.candidates, funnel.matched, funnel.fired, funnel.would_fire) == (5, 3, 1, 1)
    assert funnel.suppressed == {"consent": 1, "caps": 1, "monitor": 1}
    assert funnel.not_matched == {"local_time": 1}
    table = format_funnels(summary, ["r-1", "r-quiet"])
    assert "r-quiet" in table  # a rule with no candidates is listed too
    assert "suppressed by consent" in table and "not matched: local_time" in table

"""The decider: every candidate of one evaluation to exactly one decision.

An **evaluation** is everything one event makes for one consumer: the enters, dwells, exits and
signal crossings of one ping, or one weather change. For each candidate, in this order:

1. the **consent** gate (nothing about a consumer who did not consent is evaluated further);
2. the rule's **conditions**, in their fixed order, stopping at the first that does not hold;
3. the **relevance** score against the rule's ``min_relevance`` (nothing known: no moment);
4. the other **gates** in ``GATE_ORDER`` (expired ... holdout), stopping at the first "no".

Every candidate sees the same history: nothing an evaluation fires is recorded until all its
candidates are judged, so the outcome never depends on the order the rules are listed in. Then
**conflict resolution** picks at most one moment per consumer per evaluation among the
candidates every gate let through: highest priority, then highest relevance, then rule id and
place id (so the choice is deterministic); the others are suppressed by ``conflict`` naming the
winner. Monitor and holdout candidates ("would have fired") take no part: they never send
anything, so they must not take a live rule's place. Only then is the winner's moment recorded
in the history (the caps, cooldowns and spacing of later evaluations count it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from geotrigger.moments.conditions import evaluate_conditions
from geotrigger.moments.decision import (
    Candidate,
    ConditionResult,
    Decision,
    GateResult,
    Outcome,
    RelevanceScore,
)
from geotrigger.moments.firing import build_moment
from geotrigger.moments.gates import CONSENT, build_gates, run_gates
from geotrigger.moments.history import WritableHistory
from geotrigger.moments.relevance import relevance_result, relevance_score
from geotrigger.rules.model import Policy

# A candidate that passed every gate, waiting for conflict resolution.
Passed = tuple[Candidate, RelevanceScore, tuple[ConditionResult, ...]]


def _decision(
    c: Candidate,
    outcome: Outcome,
    reason: str,
    *,
    gate: GateResult | None = None,
    condition: ConditionResult | None = None,
    score: RelevanceScore | None = None,
    conditions: tuple[ConditionResult, ...] = (),
) -> Decision:
    seen = gate.seen if gate is not None else condition.seen if condition is not None else {}
    return Decision(
        rule_id=c.rule.id,
        consumer_id=c.consumer_id,
        place_id=c.place.id,
        place_name=c.place.name,
        place_zone=c.place_zone,
        trigger=c.trigger,
        at=c.at,
        evaluated_at=c.now,
        event_key=c.event_key,
        outcome=outcome,
        reason=reason,
        gate=gate.gate if gate is not None else None,
        condition=condition.name if condition is not None else None,
        seen=seen,
        would_fire=gate.would_fire if gate is not None else False,
        relevance=score,
        conditions=conditions,
        mode=c.rule.mode.value,
    )


def _rank(item: Passed) -> tuple[int, float, str, str]:
    c, score, _ = item
    return (-c.rule.priority, -score.score, c.rule.id, c.place.id)


class Decider:
    """Judges candidates against a history it alone writes to."""

    def __init__(self, policy: Policy, history: WritableHistory) -> None:
        self.gates = build_gates(policy)
        self.history = history

    def decide(self, candidates: Sequence[Candidate]) -> list[Decision]:
        """The decisions of one evaluation (candidates of one event, any consumers), in the
        order of the candidates."""
        by_consumer: dict[str, list[int]] = {}
        for i, c in enumerate(candidates):
            by_consumer.setdefault(c.consumer_id, []).append(i)
        out: list[Decision | None] = [None] * len(candidates)
        for positions in by_consumer.values():
            self._decide_one_consumer([candidates[i] for i in positions], positions, out)
        return [d for d in out if d is not None]

    def _decide_one_consumer(
        self, candidates: list[Candidate], positions: list[int], out: list[Decision | None]
    ) -> None:
        passed: list[tuple[int, Passed]] = []
        for pos, c in zip(positions, candidates, strict=True):
            verdict = self._judge(c)
            if isinstance(verdict, Decision):
                out[pos] = verdict
            else:
                passed.append((pos, verdict))
        if not passed:
            return
        passed.sort(key=lambda item: _rank(item[1]))
        win_pos, (winner, score, conds) = passed[0]
        moment = build_moment(winner, score)
        fired = _decision(winner, Outcome.FIRED, "fired", score=score, conditions=conds)
        out[win_pos] = replace(fired, moment=moment)
        for pos, (c, c_score, c_conds) in passed[1:]:
            lost = GateResult(
                gate="conflict",
                passed=False,
                reason=f"{winner.rule.id} at {winner.place.name} won "
                f"(priority {winner.rule.priority} vs {c.rule.priority}, "
                f"relevance {score.score:.2f} vs {c_score.score:.2f})",
                seen={"winner_rule": winner.rule.id, "winner_place": winner.place.id},
            )
            out[pos] = _decision(
                c, Outcome.SUPPRESSED, lost.reason, gate=lost, score=c_score, conditions=c_conds
            )
        self.history.record_moment(moment, spell_id=winner.spell_id)

    def _judge(self, c: Candidate) -> Decision | Passed:
        consent = CONSENT.check(c, self.history)
        if not consent.passed:
            return _decision(c, Outcome.SUPPRESSED, consent.reason, gate=consent)
        conds = evaluate_conditions(c.rule.conditions, c)
        if conds and not conds[-1].held:
            failed = conds[-1]
            return _decision(
                c, Outcome.NOT_MATCHED, failed.reason, condition=failed, conditions=conds
            )
        score = relevance_score(c.rule.relevance, c)
        relevant = relevance_result(c.rule.relevance, score)
        conds = (*conds, relevant)
        if not relevant.held:
            return _decision(
                c,
                Outcome.NOT_MATCHED,
                relevant.reason,
                condition=relevant,
                score=score,
                conditions=conds,
            )
        failed_gate, _ = run_gates(self.gates, c, self.history)
        if failed_gate is not None:
            return _decision(
                c,
                Outcome.SUPPRESSED,
                failed_gate.reason,
                gate=failed_gate,
                score=score,
                conditions=conds,
            )
        return (c, score, conds)

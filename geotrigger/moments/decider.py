"""The decider: every candidate of one evaluation to exactly one decision.

An **evaluation** is everything one event makes for one consumer: the enters, dwells, exits and
signal crossings of one ping, or one weather change. For each candidate, in this order:

1. the **consent** gate (nothing about a consumer who did not consent is evaluated further);
2. the rule's **conditions**, in their fixed order, stopping at the first that does not hold;
3. the **relevance** score against the rule's ``min_relevance`` (nothing known: no moment);
4. the other **gates** in ``GATE_ORDER`` (expired ... holdout), stopping at the first "no".

Every candidate of one consumer sees the same history: nothing an evaluation fires is recorded
until all its candidates are judged, so the outcome never depends on the order the rules are
listed in. Then **conflict resolution** picks at most one moment per consumer per evaluation
among the candidates every gate let through: highest priority, then highest relevance, then
rule id and place id (so the choice is deterministic); the others are suppressed by
``conflict`` naming the winner. Only then is the winner's moment recorded in the history (the
caps, cooldowns and spacing of later evaluations count it).

**Several consumers in one evaluation** (a weather change reaches everyone near the shops of a
cell at once) share caps of the place and rule scopes and the rules' daily budgets. They are
served one after another in a fixed order: the consumer whose best live candidate (not monitor,
not holdout) ranks highest — priority, then relevance — first, ties by consumer id; never the
order they came in.

**Would have fired.** Monitor candidates and holdout candidates never send anything, so they
take no part in conflict resolution with live ones; among one consumer's would-be candidates of
one rule, the best ranked is the one that would have fired, the others lose a conflict to it.
Their gates see the real history plus the rule's own shadow of would-be moments (see
:mod:`geotrigger.moments.shadow`), so "would have fired" obeys the same caps, cooldowns and
spacing a live rule would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from geotrigger.moments.conditions import evaluate_conditions
from geotrigger.moments.decision import (
    Candidate,
    ConditionResult,
    Decision,
    GateResult,
    Outcome,
    RelevanceScore,
    moment_id,
)
from geotrigger.moments.firing import build_moment
from geotrigger.moments.gates import CONSENT, build_gates, run_gates
from geotrigger.moments.history import History, Verify, WritableHistory
from geotrigger.moments.holdout import holdout_bucket
from geotrigger.moments.memory_history import MemoryHistory
from geotrigger.moments.relevance import relevance_result, relevance_score
from geotrigger.moments.shadow import WithShadow
from geotrigger.rules.model import Mode, Policy

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


def _moment_id_of(c: Candidate) -> str:
    return moment_id(c.rule.id, c.consumer_id, c.place.id, c.event_key)


def _rank(item: Passed) -> tuple[int, float, str, str]:
    c, score, _ = item
    return (-c.rule.priority, -score.score, c.rule.id, c.place.id)


class Decider:
    """Judges candidates against a history it alone writes to."""

    def __init__(
        self,
        policy: Policy,
        history: WritableHistory,
        *,
        shadows: Callable[[str], WritableHistory] | None = None,
    ) -> None:
        """``shadows(rule_id)`` makes the history of a rule's would-be moments (in memory by
        default; in the database when moments are)."""
        self.gates = build_gates(policy)
        self.history = history
        self._new_shadow = shadows or (lambda _rule_id: MemoryHistory())
        self._shadows: dict[str, WritableHistory] = {}  # by rule id: would-be moments

    def decide(self, candidates: Sequence[Candidate]) -> list[Decision]:
        """The decisions of one evaluation (candidates of one event, any consumers), in the
        order of the candidates."""
        out: list[Decision | None] = [None] * len(candidates)
        ready: dict[str, list[tuple[int, Passed]]] = {}
        for pos, c in enumerate(candidates):
            verdict = self._match(c)
            if isinstance(verdict, Decision):
                out[pos] = verdict
            else:
                ready.setdefault(c.consumer_id, []).append((pos, verdict))
        for consumer_id in sorted(ready, key=lambda cid: (self._best(ready[cid]), cid)):
            # one consumer's reads share a connection; the next consumer reads afresh and
            # sees what this one fired
            with self.history.reading():
                self._serve(ready[consumer_id], out)
        return [d for d in out if d is not None]

    def _match(self, c: Candidate) -> Decision | Passed:
        """Consent, conditions and relevance: what does not depend on the history."""
        consent = CONSENT.check(c, self.history)
        if not consent.passed:
            return _decision(c, Outcome.SUPPRESSED, consent.reason, gate=consent)
        conds = evaluate_conditions(c.rule.conditions, c)
        score = relevance_score(c.rule.relevance, c)
        if conds and not conds[-1].held:
            failed = conds[-1]
            return _decision(
                c,
                Outcome.NOT_MATCHED,
                failed.reason,
                condition=failed,
                score=score,
                conditions=conds,
            )
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
        return (c, score, conds)

    @staticmethod
    def _would_be(c: Candidate) -> bool:
        """Whether the candidate can only ever "would have fired": monitor mode or holdout."""
        rule = c.rule
        return rule.mode is Mode.MONITOR or (
            holdout_bucket(rule.id, c.consumer_id) < rule.suppression.holdout
        )

    def _best(self, items: list[tuple[int, Passed]]) -> tuple[bool, tuple[int, float, str, str]]:
        """How a consumer ranks for being served first: by their best live candidate."""
        return min((self._would_be(item[0]), _rank(item)) for _, item in items)

    def _view(self, c: Candidate) -> tuple[History, WritableHistory | None]:
        """The history a candidate's gates see, and the shadow it would be recorded in.

        Every candidate of a rule with a shadow (monitor, or a holdout) sees it: the control
        group's would-be moments count for the rule's and place's caps and the daily budget of
        the treated consumers too, as they would have had the control group been treated, so
        the two groups meet the same limits and lift is measured fairly. A consumer's own keys
        are in one of the two only, so their own caps are not touched."""
        rule = c.rule
        if rule.mode is not Mode.MONITOR and rule.suppression.holdout <= 0:
            return self.history, None
        shadow = self._shadows.get(rule.id)
        if shadow is None:
            shadow = self._shadows[rule.id] = self._new_shadow(rule.id)
        return WithShadow(self.history, shadow), (shadow if self._would_be(c) else None)

    def _serve(self, items: list[tuple[int, Passed]], out: list[Decision | None]) -> None:
        """One consumer's matched candidates through the gates, then conflict resolution."""
        if self._replayed(items, out):
            return
        live: list[tuple[int, Passed]] = []
        would: dict[str, list[tuple[int, Passed, GateResult, WritableHistory]]] = {}
        for pos, item in items:
            c, score, conds = item
            view, shadow = self._view(c)
            failed, _ = run_gates(self.gates, c, view)
            if failed is None:
                live.append((pos, item))
            elif failed.would_fire and shadow is not None:
                would.setdefault(c.rule.id, []).append((pos, item, failed, shadow))
            else:
                out[pos] = _decision(
                    c, Outcome.SUPPRESSED, failed.reason, gate=failed, score=score, conditions=conds
                )
        for pool in would.values():
            pool.sort(key=lambda entry: _rank(entry[1]))
            pos, (c, score, conds), gate, shadow = pool[0]
            out[pos] = _decision(
                c, Outcome.SUPPRESSED, gate.reason, gate=gate, score=score, conditions=conds
            )
            self._lost(pool[0][1], [(p, i) for p, i, _, _ in pool[1:]], out)
            shadow.record_moment(build_moment(c, score), spell_id=c.spell_id)
        if live:
            live.sort(key=lambda entry: _rank(entry[1]))
            self._fire_first(live, out)

    def _replayed(self, items: list[tuple[int, Passed]], out: list[Decision | None]) -> bool:
        """An event decided before (its batch replayed after a crash) keeps the moment it
        fired then: the same winner again, and nothing else, whatever the gates now say (its
        own moment would hold it back, and let a runner-up fire as well)."""
        stored = [
            entry
            for entry in items
            if not self._would_be(entry[1][0])
            and self.history.has_moment(_moment_id_of(entry[1][0]))
        ]
        if not stored:
            return False
        stored.sort(key=lambda entry: _rank(entry[1]))
        pos, (c, score, conds) = stored[0]
        fired = _decision(
            c, Outcome.FIRED, "fired (recorded before)", score=score, conditions=conds
        )
        out[pos] = replace(fired, moment=build_moment(c, score))
        self._lost(stored[0][1], [e for e in items if e[0] != pos], out)
        return True

    def _fire_first(self, live: list[tuple[int, Passed]], out: list[Decision | None]) -> None:
        """The best candidate that can still be recorded fires; a candidate refused because
        another process took its place meanwhile makes way for the next."""
        for i, (pos, (c, score, conds)) in enumerate(live):
            moment = build_moment(c, score)
            refused = self.history.record_moment(
                moment, spell_id=c.spell_id, verify=self._verifier(c)
            )
            if refused is None:
                fired = _decision(c, Outcome.FIRED, "fired", score=score, conditions=conds)
                out[pos] = replace(fired, moment=moment)
                self._lost(live[i][1], live[i + 1 :], out)
                return
            reason = f"{refused.reason} (taken meanwhile by another process)"
            out[pos] = _decision(
                c, Outcome.SUPPRESSED, reason, gate=refused, score=score, conditions=conds
            )

    def _verifier(self, c: Candidate) -> Verify:
        """The gates of ``c`` again, against the history as a writer sees it (with the rule's
        shadow, as the candidate saw it)."""
        shadow = self._shadows.get(c.rule.id)

        def verify(history: History) -> GateResult | None:
            view: History = history if shadow is None else WithShadow(history, shadow)
            return run_gates(self.gates, c, view)[0]

        return verify

    @staticmethod
    def _lost(won: Passed, losers: list[tuple[int, Passed]], out: list[Decision | None]) -> None:
        winner, score = won[0], won[1]
        for pos, (c, c_score, c_conds) in losers:
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

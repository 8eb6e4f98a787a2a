"""The per-rule funnel of a replay: candidates, matched, suppressed by gate, fired."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from geotrigger.moments.decision import Decision, Outcome


@dataclass(slots=True)
class RuleFunnel:
    """What happened to one rule's candidates."""

    candidates: int = 0
    matched: int = 0  # every condition held and the relevance was enough (consent given)
    fired: int = 0
    would_fire: int = 0  # monitor mode or holdout: passed everything, sent nothing
    suppressed: Counter[str] = field(default_factory=Counter)  # by gate
    not_matched: Counter[str] = field(default_factory=Counter)  # by condition


@dataclass(slots=True)
class MomentSummary:
    """Funnels by rule id, for the summary table."""

    rules: dict[str, RuleFunnel] = field(default_factory=dict)

    def count(self, decisions: Iterable[Decision]) -> None:
        """Add decisions to the funnels."""
        for d in decisions:
            funnel = self.rules.get(d.rule_id)
            if funnel is None:
                funnel = self.rules[d.rule_id] = RuleFunnel()
            funnel.candidates += 1
            if d.outcome is Outcome.NOT_MATCHED:
                funnel.not_matched[d.condition or "?"] += 1
                continue
            if d.outcome is Outcome.SUPPRESSED:
                funnel.suppressed[d.gate or "?"] += 1
                funnel.would_fire += d.would_fire
            if d.gate == "consent":
                continue  # judged before any condition: nothing was matched
            funnel.matched += 1
            funnel.fired += d.outcome is Outcome.FIRED

    @property
    def fired(self) -> int:
        """Moments fired over all rules."""
        return sum(f.fired for f in self.rules.values())


def format_funnels(summary: MomentSummary, rule_ids: Iterable[str] = ()) -> str:
    """The funnel table: one block per rule (every rule of ``rule_ids``, even without
    candidates, then any other rule that had some)."""
    order = list(dict.fromkeys([*rule_ids, *sorted(summary.rules)]))
    lines = [
        f"moments: {summary.fired:,} fired",
        f"  {'rule':<28} {'candidates':>10} {'matched':>8} {'suppressed':>10} {'fired':>6}",
    ]
    for rule_id in order:
        f = summary.rules.get(rule_id, RuleFunnel())
        suppressed = sum(f.suppressed.values())
        lines.append(
            f"  {rule_id:<28} {f.candidates:>10,} {f.matched:>8,} {suppressed:>10,} {f.fired:>6,}"
        )
        for condition, n in f.not_matched.most_common():
            lines.append(f"      not matched: {condition:<20} {n:>8,}")
        for gate, n in f.suppressed.most_common():
            lines.append(f"      suppressed by {gate:<18} {n:>8,}")
        if f.would_fire:
            lines.append(f"      would have fired (monitor/holdout) {f.would_fire:>4,}")
    return "\n".join(lines)

"""The numbers of the moments report: each rule's funnel over a range of decisions, the
outcomes of its moments (delivered, opened, converted), and its lift over the holdout group.

The database does the counting (``geotrigger.store.report`` groups decisions and outcomes in
SQL); this module turns those groups into each rule's numbers and does the arithmetic of lift.
The table and the JSON document are :mod:`geotrigger.moments.report`'s.

**Lift** compares the conversion rate of the treated group, the moments a rule fired, with the
control group's, the would-be moments of its holdout consumers (what it would have sent them,
under the same caps): the absolute lift in percentage points and the relative lift. The unit
is the moment in both groups (a conversion is reported for one moment). Both lifts are left
out, with a note saying why, when either group has fewer than :data:`MIN_GROUP` moments (too
few to tell an effect from chance), and the relative lift when the control group converted
nothing (no base to compare with): never a lift from nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from geotrigger.moments.decision import Outcome

MIN_GROUP = 30  # moments in each group below which no lift is told
WOULD_FIRE_GATES = frozenset({"monitor", "holdout"})  # they suppress what would have fired
HOLDOUT_GATE = "holdout"


class OutcomeKind(StrEnum):
    """What a moment achieved, each at most once per moment."""

    DELIVERED = "delivered"
    OPENED = "opened"
    CONVERTED = "converted"


class Cohort(StrEnum):
    """Whose moment an outcome is of: a fired moment, or a holdout consumer's would-be one."""

    TREATED = "treated"
    HOLDOUT = "holdout"


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionGroup:
    """A rule's decisions in the range that ended the same way (one row of a GROUP BY)."""

    rule_id: str
    outcome: Outcome
    gate: str | None
    condition: str | None
    decisions: int
    moments: int = 0  # distinct moment ids (fired decisions carry one)
    consumers: int = 0  # distinct consumers


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeGroup:
    """How many outcomes of one kind a rule's moments of one cohort had."""

    rule_id: str
    cohort: Cohort
    kind: OutcomeKind
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """One side of a lift: its moments, the consumers they went (or would have gone) to, and
    how many of the moments converted."""

    moments: int
    converted: int
    consumers: int = 0

    @property
    def rate(self) -> float | None:
        """Conversions per moment, or None without moments."""
        return self.converted / self.moments if self.moments else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Lift:
    """The treated group against the control group, and the lift when it can be told."""

    treated: Group
    control: Group
    absolute_pp: float | None = None  # treated rate minus control rate, percentage points
    relative: float | None = None  # the difference over the control rate: 0.25 is +25 %
    note: str = ""  # why a lift is left out


def measure_lift(treated: Group, control: Group, *, min_group: int = MIN_GROUP) -> Lift:
    """The lift of ``treated`` over ``control``, or a note saying why there is none."""
    for name, group in (("treated", treated), ("holdout", control)):
        if group.converted > group.moments:
            note = (
                f"more conversions than moments in the {name} group ({group.converted} > "
                f"{group.moments}): were the range's decisions pruned?"
            )
            return Lift(treated=treated, control=control, note=note)
    if treated.moments < min_group or control.moments < min_group:
        note = (
            f"too few moments to tell: {treated.moments} treated, {control.moments} held out "
            f"({min_group} needed in each)"
        )
        return Lift(treated=treated, control=control, note=note)
    treated_rate, control_rate = treated.rate or 0.0, control.rate or 0.0
    absolute_pp = (treated_rate - control_rate) * 100.0
    if control.converted == 0:
        note = "the holdout group converted none: no relative lift"
        return Lift(treated=treated, control=control, absolute_pp=absolute_pp, note=note)
    relative = (treated_rate - control_rate) / control_rate
    return Lift(treated=treated, control=control, absolute_pp=absolute_pp, relative=relative)


_NO_COUNTS: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleReport:
    """One rule over the range: its funnel, what its moments achieved, its lift."""

    rule_id: str
    candidates: int = 0
    matched: int = 0  # consent given, every condition held, relevant enough
    fired: int = 0
    would_fire: int = 0  # monitor mode or holdout: passed everything, sent nothing
    suppressed: Mapping[str, int] = field(default_factory=lambda: _NO_COUNTS)  # by gate
    not_matched: Mapping[str, int] = field(default_factory=lambda: _NO_COUNTS)  # by condition
    treated: Mapping[str, int] = field(default_factory=lambda: _NO_COUNTS)  # by outcome kind
    holdout: Mapping[str, int] = field(default_factory=lambda: _NO_COUNTS)  # by outcome kind
    lift: Lift | None = None  # rules with a holdout group only

    def outcome(self, kind: OutcomeKind) -> int:
        """Outcomes of this kind of the rule's fired moments."""
        return self.treated.get(kind.value, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Every rule of a range of decisions (``since <= at < until``; None: unbounded)."""

    since: datetime | None
    until: datetime | None
    rules: tuple[RuleReport, ...]
    rule_ids: tuple[str, ...] = ()  # the rules asked for (none: every rule)

    @property
    def empty(self) -> bool:
        """Whether nothing was decided in the range and no outcome counts in it."""
        return not any(r.candidates or r.treated or r.holdout for r in self.rules)


def build_report(
    decisions: Iterable[DecisionGroup],
    outcomes: Iterable[OutcomeGroup],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    rule_ids: Sequence[str] = (),
    min_group: int = MIN_GROUP,
) -> Report:
    """Each rule's numbers from the groups: the rules of ``rule_ids`` first (also those with
    nothing in the range), then every other rule found, by id."""
    by_rule: dict[str, list[DecisionGroup]] = {}
    for group in decisions:
        by_rule.setdefault(group.rule_id, []).append(group)
    achieved: dict[str, dict[Cohort, Counter[str]]] = {}
    for o in outcomes:
        cohorts = achieved.setdefault(o.rule_id, {c: Counter() for c in Cohort})
        cohorts[o.cohort][o.kind.value] += o.count
    order = list(dict.fromkeys([*rule_ids, *sorted({*by_rule, *achieved})]))
    empty: dict[Cohort, Counter[str]] = {c: Counter() for c in Cohort}
    rules = tuple(
        _rule_report(rule_id, by_rule.get(rule_id, []), achieved.get(rule_id, empty), min_group)
        for rule_id in order
    )
    return Report(since=since, until=until, rules=rules, rule_ids=tuple(rule_ids))


def _rule_report(
    rule_id: str,
    groups: list[DecisionGroup],
    achieved: Mapping[Cohort, Counter[str]],
    min_group: int,
) -> RuleReport:
    """One rule's funnel (as the replay summary counts it), outcomes and lift."""
    candidates = matched = fired = would_fire = 0
    suppressed: Counter[str] = Counter()
    not_matched: Counter[str] = Counter()
    treated = control = Group(moments=0, converted=0)
    has_holdout = bool(achieved[Cohort.HOLDOUT])
    for g in groups:
        candidates += g.decisions
        if g.outcome is Outcome.NOT_MATCHED:
            not_matched[g.condition or "?"] += g.decisions
            continue
        if g.outcome is Outcome.SUPPRESSED:
            suppressed[g.gate or "?"] += g.decisions
            would_fire += g.decisions if g.gate in WOULD_FIRE_GATES else 0
            if g.gate == "consent":
                continue  # judged before any condition: nothing was matched
        matched += g.decisions
        if g.outcome is Outcome.FIRED:
            fired += g.decisions
            treated = Group(moments=g.moments, converted=0, consumers=g.consumers)
        elif g.gate == HOLDOUT_GATE:
            has_holdout = True  # a holdout decision is one would-be moment
            control = Group(moments=g.decisions, converted=0, consumers=g.consumers)
    lift = None
    if has_holdout:
        conversions = OutcomeKind.CONVERTED.value
        lift = measure_lift(
            replace(treated, converted=achieved[Cohort.TREATED][conversions]),
            replace(control, converted=achieved[Cohort.HOLDOUT][conversions]),
            min_group=min_group,
        )
    return RuleReport(
        rule_id=rule_id,
        candidates=candidates,
        matched=matched,
        fired=fired,
        would_fire=would_fire,
        suppressed=MappingProxyType(dict(suppressed.most_common())),
        not_matched=MappingProxyType(dict(not_matched.most_common())),
        treated=MappingProxyType(_by_kind(achieved[Cohort.TREATED])),
        holdout=MappingProxyType(_by_kind(achieved[Cohort.HOLDOUT])),
        lift=lift,
    )


def _by_kind(counts: Counter[str]) -> dict[str, int]:
    """Outcome counts in the order of the funnel (delivered, opened, converted); kinds
    without any are left out."""
    return {k.value: counts[k.value] for k in OutcomeKind if counts[k.value]}

"""The queries of the moments report (``geotrigger report``): the database counts, grouped;
no decision or outcome is read one by one.

Decisions are grouped by rule, outcome, gate and condition over a range of their event time
(``since <= at < until``, either bound may be left out). An outcome counts in the range through
its moment: a fired moment's through its fired decision in the range, so what is counted as
converted is among what is counted as fired; a holdout would-be moment's through its time in
``would_be_ledger``, while a holdout decision of its consumer and rule in the range is kept (a
range whose decisions were pruned counts neither the would-be moments nor their outcomes). The
arithmetic is :mod:`geotrigger.moments.report_arithmetic`'s, the table
:mod:`geotrigger.moments.report`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, distinct, exists, func, select, union_all

from geotrigger.moments.decision import Outcome
from geotrigger.moments.report_arithmetic import (
    HOLDOUT_GATE,
    MIN_GROUP,
    Cohort,
    DecisionGroup,
    OutcomeGroup,
    OutcomeKind,
    Report,
    build_report,
)
from geotrigger.store.tables import decisions, outcomes, would_be_ledger
from geotrigger.store.types import utc


def load_report(
    conn: Connection,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    rule_ids: Sequence[str] = (),
    min_group: int = MIN_GROUP,
) -> Report:
    """The report of the decisions in the range (every rule, or those of ``rule_ids``)."""
    return build_report(
        decision_groups(conn, since=since, until=until, rule_ids=rule_ids),
        outcome_groups(conn, since=since, until=until, rule_ids=rule_ids),
        since=since,
        until=until,
        rule_ids=rule_ids,
        min_group=min_group,
    )


def decision_groups(
    conn: Connection,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    rule_ids: Sequence[str] = (),
) -> list[DecisionGroup]:
    """The decisions in the range, counted per rule, outcome, gate and condition (with the
    distinct moments and consumers of each group)."""
    d = decisions.c
    keys = (d.rule_id, d.outcome, d.gate, d.condition)
    query = (
        select(
            *keys,
            func.count().label("decisions"),
            func.count(distinct(d.moment_id)).label("moments"),
            func.count(distinct(d.consumer_id)).label("consumers"),
        )
        .where(*_decided_in(since, until, rule_ids))
        .group_by(*keys)
    )
    return [
        DecisionGroup(
            rule_id=row.rule_id,
            outcome=Outcome(row.outcome),
            gate=row.gate,
            condition=row.condition,
            decisions=int(row.decisions),
            moments=int(row.moments),
            consumers=int(row.consumers),
        )
        for row in conn.execute(query)
    ]


def outcome_groups(
    conn: Connection,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    rule_ids: Sequence[str] = (),
) -> list[OutcomeGroup]:
    """The outcomes of the range's moments, counted per rule, cohort and kind."""
    o, d = outcomes.c, decisions.c
    keys = (o.rule_id, o.cohort, o.kind)
    rules = [o.rule_id.in_(rule_ids)] if rule_ids else []
    fired = select(d.moment_id).where(
        d.outcome == Outcome.FIRED.value,
        d.moment_id.is_not(None),
        *_decided_in(since, until, rule_ids),
    )
    treated = select(*keys, func.count().label("n")).where(
        o.cohort == Cohort.TREATED.value, o.moment_id.in_(fired), *rules
    )
    held_out = exists().where(
        d.rule_id == o.rule_id,
        d.consumer_id == o.consumer_id,
        d.gate == HOLDOUT_GATE,
        *_decided_in(since, until, ()),
    )
    holdout = select(*keys, func.count().label("n")).where(
        o.cohort == Cohort.HOLDOUT.value, held_out, *rules, *_would_be_in(since, until)
    )
    query = union_all(treated.group_by(*keys), holdout.group_by(*keys))
    return [
        OutcomeGroup(
            rule_id=rule_id,
            cohort=Cohort(cohort),
            kind=OutcomeKind(kind),
            count=int(n),
        )
        for rule_id, cohort, kind, n in conn.execute(query)
    ]


def _decided_in(
    since: dt.datetime | None, until: dt.datetime | None, rule_ids: Sequence[str]
) -> list[ColumnElement[bool]]:
    """Decisions with event time in the range, of the rules asked for."""
    d = decisions.c
    where: list[ColumnElement[bool]] = []
    if since is not None:
        where.append(d.at >= utc(since))
    if until is not None:
        where.append(d.at < utc(until))
    if rule_ids:
        where.append(d.rule_id.in_(rule_ids))
    return where


def _would_be_in(since: dt.datetime | None, until: dt.datetime | None) -> list[ColumnElement[bool]]:
    """Outcomes whose would-be moment's time is in the range (no bound: nothing to check)."""
    if since is None and until is None:
        return []
    w = would_be_ledger.c
    when: list[ColumnElement[bool]] = []
    if since is not None:
        when.append(w.at_s >= utc(since).timestamp())
    if until is not None:
        when.append(w.at_s < utc(until).timestamp())
    return [outcomes.c.moment_id.in_(select(w.moment_id).where(*when))]

"""The arithmetic of the moments report on hand-made numbers: conversion rates, the absolute
and relative lift over holdout, the notes instead of a lift from too little, and each rule's
funnel as the replay summary counts it."""

from __future__ import annotations

import datetime as dt

import pytest

from geotrigger.moments.decision import Outcome
from geotrigger.moments.report import format_report, report_document
from geotrigger.moments.report_arithmetic import (
    MIN_GROUP,
    Cohort,
    DecisionGroup,
    Group,
    OutcomeGroup,
    OutcomeKind,
    build_report,
    measure_lift,
)


def test_lift_in_points_and_relative() -> None:
    lift = measure_lift(Group(moments=200, converted=30), Group(moments=100, converted=10))
    assert lift.treated.rate == pytest.approx(0.15) and lift.control.rate == pytest.approx(0.10)
    assert lift.absolute_pp == pytest.approx(5.0)
    assert lift.relative == pytest.approx(0.5)  # 15 % against 10 %: half as many again
    assert lift.note == ""


def test_a_negative_lift_is_told_as_it_is() -> None:
    lift = measure_lift(Group(moments=40, converted=2), Group(moments=50, converted=5))
    assert lift.absolute_pp == pytest.approx(-5.0)  # 5 % against 10 %
    assert lift.relative == pytest.approx(-0.5)


@pytest.mark.parametrize(("treated", "control"), [(MIN_GROUP - 1, 500), (500, MIN_GROUP - 1)])
def test_no_lift_from_groups_too_small(treated: int, control: int) -> None:
    lift = measure_lift(Group(moments=treated, converted=5), Group(moments=control, converted=1))
    assert lift.absolute_pp is None and lift.relative is None
    assert lift.note == (
        f"too few moments to tell: {treated} treated, {control} held out "
        f"({MIN_GROUP} needed in each)"
    )
    assert lift.treated.rate == pytest.approx(5 / treated)  # the rates are still facts


def test_exactly_the_minimum_is_enough() -> None:
    lift = measure_lift(Group(moments=30, converted=3), Group(moments=30, converted=3))
    assert lift.absolute_pp == 0.0 and lift.relative == 0.0


def test_no_relative_lift_over_a_control_group_that_converted_none() -> None:
    lift = measure_lift(Group(moments=100, converted=4), Group(moments=80, converted=0))
    assert lift.absolute_pp == pytest.approx(4.0)
    assert lift.relative is None
    assert lift.note == "the holdout group converted none: no relative lift"


def test_empty_groups_have_no_rate_and_no_lift() -> None:
    lift = measure_lift(Group(moments=0, converted=0), Group(moments=0, converted=0))
    assert lift.treated.rate is None and lift.control.rate is None
    assert lift.absolute_pp is None and "too few" in lift.note


def test_more_conversions_than_moments_is_no_rate_to_trust() -> None:
    lift = measure_lift(Group(moments=100, converted=20), Group(moments=40, converted=41))
    assert lift.absolute_pp is None
    assert "more conversions than moments in the holdout group (41 > 40)" in lift.note


def _group(
    outcome: Outcome,
    n: int,
    *,
    gate: str | None = None,
    condition: str | None = None,
    moments: int = 0,
    consumers: int = 0,
    rule_id: str = "welcome",
) -> DecisionGroup:
    return DecisionGroup(
        rule_id=rule_id,
        outcome=outcome,
        gate=gate,
        condition=condition,
        decisions=n,
        moments=moments,
        consumers=consumers,
    )


GROUPS = [
    _group(Outcome.NOT_MATCHED, 50, condition="relevance"),
    _group(Outcome.NOT_MATCHED, 7, condition="local_time"),
    _group(Outcome.SUPPRESSED, 4, gate="consent"),
    _group(Outcome.SUPPRESSED, 9, gate="caps"),
    _group(Outcome.SUPPRESSED, 40, gate="holdout", consumers=35),
    _group(Outcome.FIRED, 120, moments=118, consumers=90),
    _group(Outcome.SUPPRESSED, 6, gate="monitor", rule_id="watch"),
]
OUTCOMES = [
    OutcomeGroup(rule_id="welcome", cohort=Cohort.TREATED, kind=OutcomeKind.DELIVERED, count=110),
    OutcomeGroup(rule_id="welcome", cohort=Cohort.TREATED, kind=OutcomeKind.OPENED, count=60),
    OutcomeGroup(rule_id="welcome", cohort=Cohort.TREATED, kind=OutcomeKind.CONVERTED, count=59),
    OutcomeGroup(rule_id="welcome", cohort=Cohort.HOLDOUT, kind=OutcomeKind.CONVERTED, count=10),
]


def test_each_rules_funnel_outcomes_and_lift() -> None:
    report = build_report(GROUPS, OUTCOMES, rule_ids=["quiet", "welcome"])
    assert [r.rule_id for r in report.rules] == ["quiet", "welcome", "watch"]
    quiet, welcome, watch = report.rules
    assert quiet.candidates == 0 and quiet.lift is None  # asked for, nothing decided
    assert welcome.candidates == 50 + 7 + 4 + 9 + 40 + 120
    assert welcome.matched == 9 + 40 + 120  # not the unmatched, not the refused consent
    assert (welcome.fired, welcome.would_fire) == (120, 40)
    assert dict(welcome.suppressed) == {"holdout": 40, "caps": 9, "consent": 4}
    assert dict(welcome.not_matched) == {"relevance": 50, "local_time": 7}
    assert welcome.outcome(OutcomeKind.OPENED) == 60
    assert dict(welcome.holdout) == {"converted": 10}
    lift = welcome.lift
    assert lift is not None
    assert lift.treated == Group(moments=118, converted=59, consumers=90)  # distinct moments
    assert lift.control == Group(moments=40, converted=10, consumers=35)
    assert lift.absolute_pp == pytest.approx(25.0)  # 50 % against 25 %
    assert lift.relative == pytest.approx(1.0)
    assert watch.would_fire == 6 and watch.matched == 6 and watch.lift is None  # no holdout


def test_the_table_and_the_document() -> None:
    since = dt.datetime(2026, 6, 12, tzinfo=dt.UTC)
    report = build_report(GROUPS, OUTCOMES, since=since)
    table = format_report(report)
    assert table.splitlines()[0] == "moments report, decisions from 2026-06-12T00:00:00Z: 120 fired"
    assert "      lift over holdout: +25.0 points (+100.0 %)" in table
    held_out = "      holdout        40 would-be moments to 35 consumers, 10 converted (25.0 %)"
    assert held_out in table.splitlines()
    document = report_document(report)
    assert document["since"] == "2026-06-12T00:00:00Z" and document["until"] is None
    welcome = next(r for r in document["rules"] if r["rule_id"] == "welcome")
    assert welcome["outcomes"]["treated"] == {"delivered": 110, "opened": 60, "converted": 59}
    assert welcome["lift"]["holdout"] == {
        "moments": 40,
        "consumers": 35,
        "converted": 10,
        "rate": 0.25,
    }
    assert welcome["lift"]["note"] is None


def test_an_empty_report_says_so_in_one_line() -> None:
    until = dt.datetime(2026, 6, 13, tzinfo=dt.UTC)
    report = build_report([], [], until=until, rule_ids=["welcome"])
    assert report.empty
    assert format_report(report) == (
        "no decisions and no outcomes for welcome until 2026-06-13T00:00:00Z: nothing to report"
    )

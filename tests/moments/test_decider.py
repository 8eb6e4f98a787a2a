"""The decider: consent first, conditions, relevance, gates, then one winner per evaluation."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from moments.helpers import T0, make_candidate, make_consumer, make_place, make_rule

from geotrigger.consumers.profile import Affinities
from geotrigger.moments.decider import Decider
from geotrigger.moments.decision import Outcome, moment_id
from geotrigger.moments.memory_history import MemoryHistory
from geotrigger.rules.model import (
    Cap,
    Conditions,
    Mode,
    NumberRange,
    Policy,
    Reentry,
    Relevance,
    Scope,
    Suppression,
    TriggerKind,
    Window,
    WindowKind,
)


def decider(policy: Policy | None = None) -> Decider:
    return Decider(policy or Policy(), MemoryHistory())


def test_a_relevant_candidate_fires_with_a_deterministic_moment() -> None:
    c = make_candidate()
    (d,) = decider().decide([c])
    assert d.outcome is Outcome.FIRED and d.moment is not None
    assert d.moment.id == moment_id("r-1", "c-1", "p-1", "ping-1")
    assert d.moment.expires_at == T0 + timedelta(seconds=600)
    assert d.relevance is not None and d.relevance.score > 0.8
    assert [c.name for c in d.conditions] == ["relevance"]


def test_consent_comes_before_anything_is_evaluated() -> None:
    """Nothing about a consumer without consent is looked at: no conditions, no score."""
    rule = make_rule(conditions=Conditions(distance_m=NumberRange(max=1.0)))
    c = make_candidate(rule, consumer=make_consumer(consent={}), distance_m=40.0)
    (d,) = decider().decide([c])
    assert (d.outcome, d.gate) == (Outcome.SUPPRESSED, "consent")
    assert d.conditions == () and d.relevance is None


def test_the_first_failing_condition_is_named() -> None:
    rule = make_rule(conditions=Conditions(distance_m=NumberRange(max=10.0)))
    (d,) = decider().decide([make_candidate(rule, distance_m=40.0)])
    assert (d.outcome, d.condition) == (Outcome.NOT_MATCHED, "distance")
    assert d.moment is None


def test_a_consumer_we_know_nothing_relevant_about_gets_no_moment() -> None:
    rule = make_rule(relevance=Relevance(offer_tags=frozenset({"coffee"}), min_relevance=0.0))
    consumer = make_consumer(affinities=Affinities(base={"sports": 1.0}))
    (d,) = decider().decide([make_candidate(rule, consumer=consumer)])
    assert (d.outcome, d.condition) == (Outcome.NOT_MATCHED, "relevance")


def test_conflict_keeps_one_moment_per_consumer_by_priority() -> None:
    low, high = make_rule(id="low", priority=1), make_rule(id="high", priority=5)
    decisions = decider().decide([make_candidate(low), make_candidate(high)])
    by_rule = {d.rule_id: d for d in decisions}
    assert by_rule["high"].outcome is Outcome.FIRED
    assert by_rule["low"].gate == "conflict" and "high" in by_rule["low"].reason


def test_conflict_between_equal_priorities_goes_to_relevance() -> None:
    consumer = make_consumer(affinities=Affinities(base={"green-tea": 0.9, "coffee": 0.5}))
    tea = make_rule(id="tea")
    coffee = make_rule(id="coffee", relevance=Relevance(offer_tags=frozenset({"coffee"})))
    decisions = decider().decide(
        [make_candidate(coffee, consumer=consumer), make_candidate(tea, consumer=consumer)]
    )
    assert [d.rule_id for d in decisions if d.outcome is Outcome.FIRED] == ["tea"]


def test_monitor_and_holdout_never_take_a_live_rule_s_place() -> None:
    watch = make_rule(id="watch", priority=99, mode=Mode.MONITOR)
    live = make_rule(id="live", priority=0)
    decisions = {
        d.rule_id: d for d in decider().decide([make_candidate(watch), make_candidate(live)])
    }
    assert decisions["live"].outcome is Outcome.FIRED
    assert decisions["watch"].gate == "monitor" and decisions["watch"].would_fire


def test_each_consumer_of_one_evaluation_gets_their_own_winner() -> None:
    other = make_consumer(id="c-2")
    decisions = decider().decide([make_candidate(), make_candidate(consumer=other)])
    assert [d.outcome for d in decisions] == [Outcome.FIRED, Outcome.FIRED]


def test_a_fired_moment_counts_for_the_next_evaluation() -> None:
    cap = Cap(
        scope=Scope.CONSUMER_RULE,
        max=1,
        window=Window(kind=WindowKind.CALENDAR_DAY),
        label="consumer_rule 1 per calendar_day",
    )
    rule = make_rule(suppression=Suppression(caps=(cap,), reentry=Reentry.ANY))
    d = decider()
    first = d.decide([make_candidate(rule)])
    later = T0 + timedelta(hours=1)
    second = d.decide([make_candidate(rule, at=later, event_key="ping-2")])
    assert first[0].outcome is Outcome.FIRED
    assert (second[0].outcome, second[0].gate) == (Outcome.SUPPRESSED, "caps")


RULES = [
    make_rule(id=f"r{i}", priority=p, mode=mode)
    for i, (p, mode) in enumerate(
        [(0, Mode.LIVE), (3, Mode.LIVE), (3, Mode.MONITOR), (1, Mode.LIVE), (3, Mode.LIVE)]
    )
]
PLACES = [make_place(id=f"p-{i}") for i in range(3)]


@settings(max_examples=60, deadline=None)
@given(
    picks=st.lists(
        st.tuples(st.integers(0, len(RULES) - 1), st.integers(0, len(PLACES) - 1)),
        min_size=1,
        max_size=8,
        unique=True,
    ),
    order=st.randoms(use_true_random=False),
)
def test_decisions_do_not_depend_on_the_order_of_rules(picks: list[tuple[int, int]], order) -> None:  # type: ignore[no-untyped-def]
    """Shuffling the candidates of an evaluation changes no decision."""
    candidates = [make_candidate(RULES[r], place=PLACES[p]) for r, p in picks]
    shuffled = list(candidates)
    order.shuffle(shuffled)

    def outcomes(cands: list) -> dict[tuple[str, str], tuple[Outcome, str | None]]:  # type: ignore[type-arg]
        return {(d.rule_id, d.place_id): (d.outcome, d.gate) for d in decider().decide(cands)}

    assert outcomes(candidates) == outcomes(shuffled)
    fired = [d for d in decider().decide(shuffled) if d.outcome is Outcome.FIRED]
    assert len(fired) <= 1


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.tuples(st.integers(0, len(RULES) - 1), st.integers(0, 3 * 3600)), max_size=25)
)
def test_monitor_never_fires(steps: list[tuple[int, int]]) -> None:
    """Whatever happens, a monitor rule's decisions never carry a moment."""
    d = decider(Policy(min_spacing_s=600.0))
    for n, (r, offset) in enumerate(sorted(steps, key=lambda s: s[1])):
        c = make_candidate(RULES[r], at=T0 + timedelta(seconds=offset), event_key=f"e{n}")
        for decision in d.decide([c, replace(c, rule=RULES[2])]):
            if decision.rule_id == RULES[2].id:
                assert decision.outcome is not Outcome.FIRED and decision.moment is None


def test_after_exit_does_not_hold_back_moments_fired_near_a_place() -> None:
    """A weather moment fires near a place, where no exit may ever come: only the cooldown
    and caps hold it back, not re-entry."""
    rule = make_rule(suppression=Suppression(reentry=Reentry.AFTER_EXIT))
    d = decider()
    first = d.decide([make_candidate(rule, trigger=TriggerKind.WEATHER, event_key="w1")])
    later = T0 + timedelta(hours=2)
    again = d.decide([make_candidate(rule, trigger=TriggerKind.WEATHER, at=later, event_key="w2")])
    entered = d.decide([make_candidate(rule, at=later, event_key="e3")])
    assert first[0].outcome is Outcome.FIRED and again[0].outcome is Outcome.FIRED
    assert entered[0].gate == "cooldown"  # an enter there still needs a leave first


def test_would_have_fired_obeys_the_rule_s_own_caps_and_spacing() -> None:
    """A monitor rule with one per day says "would have fired" once a day, not at every
    candidate: its would-be moments count for its own caps as if they had been sent."""
    cap = Cap(
        scope=Scope.CONSUMER_RULE,
        max=1,
        window=Window(kind=WindowKind.CALENDAR_DAY),
        label="consumer_rule 1 per calendar_day",
    )
    watch = make_rule(
        id="watch", mode=Mode.MONITOR, suppression=Suppression(caps=(cap,), reentry=Reentry.ANY)
    )
    d = decider()
    outcomes = [
        d.decide([make_candidate(watch, at=T0 + timedelta(minutes=m), event_key=f"e{m}")])[0]
        for m in range(4)
    ]
    assert [(o.gate, o.would_fire) for o in outcomes] == [("monitor", True)] + [("caps", False)] * 3
    # and a live rule is not held back by what the monitor rule would have sent
    live = make_rule(id="live", suppression=Suppression(caps=(cap,), reentry=Reentry.ANY))
    (fired,) = d.decide([make_candidate(live, at=T0 + timedelta(minutes=5), event_key="e5")])
    assert fired.outcome is Outcome.FIRED


def test_holdout_consumers_would_fire_as_often_as_treated_ones() -> None:
    held = make_rule(
        id="held",
        suppression=Suppression(holdout=0.999999, reentry=Reentry.ANY, cooldown_s=3600.0),
    )
    d = decider()
    first = d.decide([make_candidate(held, event_key="a")])[0]
    again = d.decide([make_candidate(held, at=T0 + timedelta(minutes=10), event_key="b")])[0]
    assert (first.gate, first.would_fire) == ("holdout", True)
    assert (again.gate, again.would_fire) == ("cooldown", False)


def test_consumers_of_one_event_share_a_budget_by_rank_not_by_arrival() -> None:
    """Rain starts near two consumers and the rule has one moment left today: the consumer it
    is more relevant to gets it, whichever candidate came first."""
    rule = make_rule(suppression=Suppression(daily_budget=1, reentry=Reentry.ANY))
    keen = make_consumer(id="keen", affinities=Affinities(base={"green-tea": 0.95}))
    mild = make_consumer(id="mild", affinities=Affinities(base={"green-tea": 0.4}))
    both = [make_candidate(rule, consumer=mild), make_candidate(rule, consumer=keen)]
    for order in (both, both[::-1]):
        decisions = {x.consumer_id: x for x in decider().decide(order)}
        assert decisions["keen"].outcome is Outcome.FIRED
        assert decisions["mild"].gate == "budget"


def test_a_candidate_not_matched_by_a_condition_still_carries_its_relevance() -> None:
    rule = make_rule(conditions=Conditions(distance_m=NumberRange(max=10.0)))
    (d,) = decider().decide([make_candidate(rule, distance_m=40.0)])
    assert d.condition == "distance" and d.relevance is not None and d.relevance.score > 0.8


def test_a_holdout_shares_the_budget_with_the_treated_consumers() -> None:
    """Control and treated consumers draw on one daily budget: with a budget of 10 and half
    the consumers held out, at most 10 moments are sent or would-be, not 10 sent plus more
    would-be."""
    rule = make_rule(suppression=Suppression(daily_budget=10, holdout=0.5, reentry=Reentry.ANY))
    d = decider()
    decisions = [
        d.decide([make_candidate(rule, consumer=make_consumer(id=f"c-{n}"), event_key=f"e{n}")])[0]
        for n in range(60)
    ]
    sent = sum(x.outcome is Outcome.FIRED for x in decisions)
    would = sum(x.would_fire for x in decisions)
    assert sent + would == 10 and sent > 0 and would > 0


def test_consumers_are_served_by_their_best_live_candidate() -> None:
    """A monitor candidate of high priority does not put its consumer first in line for a
    shared place cap."""
    cap = Cap(
        scope=Scope.PLACE, max=1, window=Window(kind=WindowKind.CALENDAR_DAY), label="place 1"
    )
    live_low = make_rule(id="low", priority=1, suppression=Suppression(caps=(cap,)))
    watch = make_rule(id="watch", priority=10, mode=Mode.MONITOR)
    live_high = make_rule(id="high", priority=5, suppression=Suppression(caps=(cap,)))
    a, b = make_consumer(id="a"), make_consumer(id="b")
    decisions = decider().decide(
        [
            make_candidate(live_low, consumer=a),
            make_candidate(watch, consumer=a),
            make_candidate(live_high, consumer=b),
        ]
    )
    fired = [(x.consumer_id, x.rule_id) for x in decisions if x.outcome is Outcome.FIRED]
    assert fired == [("b", "high")]


def test_weather_event_caps_count_crossings_and_spells() -> None:
    """A threshold trigger counts per crossing (two heat crossings in one dry spell are two
    events); a condition trigger per spell; other moments only in a rain spell."""
    from geotrigger.rules.model import PlaceSelector, WeatherTrigger
    from geotrigger.weather import WeatherAt, WeatherChange, WeatherCondition, WeatherReading
    from geotrigger.weather.reading import WeatherChangeKind

    hot = WeatherReading(observed_at=T0, temperature_c=31.0, condition=WeatherCondition.CLEAR)
    change = WeatherChange(key="cell", at=T0, before=None, after=hot, spell_id="cell:dry:x")
    places = PlaceSelector(tags=frozenset({"tea"}))
    heat = make_rule(
        trigger=WeatherTrigger(
            places=places,
            change=WeatherChangeKind.RISES_ABOVE,
            field="temperature_c",
            threshold=30.0,
        )
    )
    rain = make_rule(
        trigger=WeatherTrigger(places=places, change=WeatherChangeKind.STARTS, condition="wet")
    )
    assert make_candidate(heat, weather_event=change).spell_id == change.event_id
    assert make_candidate(rain, weather_event=change).spell_id == "cell:dry:x"
    dry = WeatherAt(key="cell", reading=hot, spell_id="cell:dry:x")
    assert make_candidate(weather=dry).spell_id is None

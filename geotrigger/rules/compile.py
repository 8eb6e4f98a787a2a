"""Compiling one moments file: check it against the format, merge the file's defaults into
each moment, and build the typed specs of :mod:`geotrigger.rules.model`.

Every problem is reported (file, line, rule id, reason); a moment with an error is left out,
the others are still built so that one run reports everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from geotrigger.errors import RuleError
from geotrigger.model import Place
from geotrigger.rules import format as fmt
from geotrigger.rules.compile_limits import compile_policy, compile_suppression
from geotrigger.rules.compile_when import compile_when, names
from geotrigger.rules.durations import parse_duration
from geotrigger.rules.located import Located, parse_located
from geotrigger.rules.model import (
    Action,
    Mode,
    PlaceSelector,
    PlaceTrigger,
    Policy,
    Relevance,
    Rule,
    SignalTrigger,
    Trigger,
    TriggerKind,
    WeatherTrigger,
)
from geotrigger.rules.report import Report
from geotrigger.rules.selectors import check_selector
from geotrigger.rules.template import compile_template
from geotrigger.weather.reading import WeatherChangeKind

DEFAULT_TTL_S = 600.0  # a moment not given a ttl perishes after 10 minutes
# The first two keys of a problem's path: "when.local_time.from: ..." -> when, local_time.
_PATH = re.compile(r"^([a-z_]+)(?:\.([a-z_]+))?[.:\[]")
_WHOLE = ("trigger", "ttl")  # sections whose parts only make sense together
Places = Mapping[str, Place] | None
_MERGED = ("when", "relevance", "suppression")  # defaults merged key by key inside these


@dataclass(frozen=True, slots=True)
class CompiledFile:
    """What one file gave: its rules (those without errors), its policy and where it is."""

    rules: tuple[Rule, ...]
    policy: Policy | None
    policy_line: int | None


def compile_file(
    text: str, report: Report, places: Mapping[str, Place] | None = None
) -> CompiledFile:
    """Compile the text of one moments file; problems go to ``report``."""
    try:
        doc, repeated = parse_located(text, report.source)
    except RuleError as exc:
        report.error(exc.where.line, exc.reason, code="yaml")
        return CompiledFile((), None, None)
    for twice in repeated:
        report.error(twice, "this key is written twice in the same mapping", code="yaml")
    if doc is None:
        report.error(None, "the file is empty (expected version: 1 and moments)")
        return CompiledFile((), None, None)
    problems: list[tuple[int | None, str]] = []
    fmt.HEAD.check(doc, "", problems)
    for line, message in problems:
        report.error(line, message, code="format")
    if problems and not isinstance(doc.value, dict):
        return CompiledFile((), None, None)
    bad = {m.group(1) for _, text in problems if (m := _PATH.match(text))}
    return _compile_document(doc, report, places, bad=bad)


def _compile_document(
    doc: Located, report: Report, places: Places, *, bad: set[str]
) -> CompiledFile:
    """The moments and the policy of a document whose top level has the right shape, but
    for the ``bad`` top-level keys."""
    # A bad default would be reported again under every moment: it is left out instead.
    defaults = None if "defaults" in bad else doc.get("defaults")
    moments = doc.get("moments")
    rules = []
    for item in moments.value if moments is not None and isinstance(moments.value, list) else []:
        rule = compile_rule(_merged(defaults, item), report, places)
        if rule is not None:
            rules.append(rule)
    policy_loc = doc.get("policy")
    if not rules and moments is None and policy_loc is None:
        report.warning(None, "no moments in the file", code="file-empty")
    policy = None
    if policy_loc is not None and "policy" not in bad:
        policy = compile_policy(policy_loc, report)
    return CompiledFile(tuple(rules), policy, policy_loc.line if policy_loc is not None else None)


def _merged(defaults: Located | None, rule: Located) -> Located:
    """The moment with the file's defaults under it: per key, and inside when, relevance and
    suppression per key too; what the moment says wins."""
    if defaults is None or not isinstance(rule.value, dict):
        return rule
    merged = dict(defaults.value)
    for key, item in rule.value.items():
        under = merged.get(key)
        if (
            key in _MERGED
            and under is not None
            and isinstance(under.value, dict)
            and isinstance(item.value, dict)
        ):
            item = Located({**under.value, **item.value}, item.line)
        merged[key] = item
    return Located(merged, rule.line)


def compile_rule(
    loc: Located, file_report: Report, places: Mapping[str, Place] | None
) -> Rule | None:
    """One moment as a Rule, or None (and errors) when it has problems."""
    id_loc = loc.get("id")
    rule_id = id_loc.value if id_loc is not None and isinstance(id_loc.value, str) else None
    report = file_report.for_rule(rule_id)
    before = report.error_count
    problems: list[tuple[int | None, str]] = []
    fmt.RULE.check(loc, "", problems)
    for line, message in problems:
        report.error(line, message, code="format")
    if problems:
        # The sections without format problems are still compiled, for their own errors.
        _check_sections(loc, problems, report, places)
        return None
    rule = _build(loc, report, places)
    _advise(rule, loc, report)
    return rule if report.error_count == before else None


def _check_sections(
    loc: Located, problems: list[tuple[int | None, str]], report: Report, places: Places
) -> None:
    """Compile the parts of a moment whose shape is right, only to report their errors too."""
    builders: dict[str, Callable[[Located], object]] = {
        "trigger": lambda item: compile_trigger(item, report, places),
        "when": lambda item: compile_when(item, report),
        "suppression": lambda item: compile_suppression(item, report),
        "ttl": lambda item: _ttl(item, report),
        "action": lambda item: compile_action(item, report),
    }
    paths = [m.groups() for _, text in problems if (m := _PATH.match(text))]
    for key, build in builders.items():
        item = loc.get(key)
        if item is None or any(top == key and (sub is None or key in _WHOLE) for top, sub in paths):
            continue
        bad = {sub for top, sub in paths if top == key}
        if key in _WHOLE:
            build(item)
        elif "message" not in bad:  # an action without its message has nothing to compile
            build(Located({k: v for k, v in item.value.items() if k not in bad}, item.line))


def _ttl(loc: Located | None, report: Report) -> float:
    if loc is None:
        return DEFAULT_TTL_S
    ttl = parse_duration(loc.value)
    if ttl <= 0:
        report.error(loc.line, "ttl: a moment needs a time to live longer than 0s")
    return ttl


def _build(loc: Located, report: Report, places: Mapping[str, Place] | None) -> Rule:
    v = loc.value
    ttl = _ttl(loc.get("ttl"), report)
    return Rule(
        id=v["id"].value,
        description=str(v["description"].value) if "description" in v else "",
        priority=int(v["priority"].value) if "priority" in v else 0,
        mode=Mode(v["mode"].value) if "mode" in v else Mode.LIVE,
        trigger=compile_trigger(v["trigger"], report, places),
        conditions=compile_when(loc.get("when"), report),
        relevance=compile_relevance(loc.get("relevance")),
        suppression=compile_suppression(loc.get("suppression"), report),
        ttl_s=ttl,
        action=compile_action(v["action"], report),
        where=report.where(v["id"].line),
    )


def _advise(rule: Rule, loc: Located, report: Report) -> None:
    """Warnings: settings that are allowed but probably not meant."""
    relevance = loc.get("relevance")
    if rule.relevance.min_relevance == 0:
        line = relevance.line if relevance is not None else loc.line
        report.warning(
            line,
            "relevance.min_relevance is 0: the moment fires even for consumers"
            " who dislike the offer",
        )
    if rule.mode == Mode.MONITOR and rule.suppression.holdout > 0:
        holdout = loc.value["suppression"].get("holdout")
        report.warning(
            holdout.line if holdout is not None else loc.line,
            "suppression.holdout does nothing in monitor mode: nothing is sent anyway",
        )


def compile_selector(
    loc: Located, report: Report, places: Mapping[str, Place] | None
) -> PlaceSelector:
    """The places a trigger chooses; checked against ``places`` when they are given."""
    ids, tags, brands = (names(loc.get(k)) for k in ("ids", "tags", "brands"))
    if not (ids or tags or brands):
        report.error(loc.line, "trigger.places: give at least one of ids, tags, brands")
        return PlaceSelector(ids=frozenset({""}))  # never matches; the rule is left out anyway
    if places is not None:
        check_selector(loc, places, report)
    return PlaceSelector(ids=ids, tags=tags, brands=brands)


def compile_trigger(loc: Located, report: Report, places: Mapping[str, Place] | None) -> Trigger:
    """The trigger of a moment."""
    kind = TriggerKind(loc.value["on"].value)
    selector = compile_selector(loc.value["places"], report, places)
    if kind == TriggerKind.SIGNAL:
        change = (
            WeatherChangeKind.RISES_ABOVE
            if "rises_above" in loc.value
            else WeatherChangeKind.FALLS_BELOW
        )
        extra: dict[str, Any] = {}
        if "within_m" in loc.value:
            extra["within_m"] = float(loc.value["within_m"].value)
        return SignalTrigger(
            places=selector,
            signal=str(loc.value["signal"].value),
            change=change,
            threshold=float(loc.value[change.value].value),
            **extra,
        )
    if kind == TriggerKind.WEATHER:
        return _weather_trigger(loc, selector)
    return PlaceTrigger(kind=kind, places=selector)


def _weather_trigger(loc: Located, selector: PlaceSelector) -> WeatherTrigger:
    v = loc.value
    change = next(
        WeatherChangeKind(k) for k in ("starts", "ends", "rises_above", "falls_below") if k in v
    )
    extra: dict[str, Any] = {}
    if "within_m" in v:
        extra["within_m"] = float(v["within_m"].value)
    if "fresh_for" in v:
        extra["fresh_s"] = parse_duration(v["fresh_for"].value)
    crossing = v[change.value].value
    if change in (WeatherChangeKind.STARTS, WeatherChangeKind.ENDS):
        trigger = WeatherTrigger(places=selector, change=change, condition=str(crossing))
    else:
        trigger = WeatherTrigger(
            places=selector,
            change=change,
            field=str(crossing["field"].value),
            threshold=float(crossing["value"].value),
        )
    return replace(trigger, **extra)


def compile_relevance(loc: Located | None) -> Relevance:
    """How the relevance is scored; the model's defaults for what is not given."""
    if loc is None:
        return Relevance()
    extra = {
        k: float(loc.value[k].value) for k in ("min_relevance", "weather_weight") if k in loc.value
    }
    fit = loc.get("weather_fit")
    return Relevance(
        offer_tags=names(loc.get("offer_tags")),
        weather_fit=MappingProxyType(
            {k: float(i.value) for k, i in (fit.value if fit else {}).items()}
        ),
        **extra,
    )


def compile_action(loc: Located, report: Report) -> Action:
    """The channel, the compiled message and the data passed through."""
    message = loc.value["message"]
    try:
        template = compile_template(str(message.value))
    except RuleError as exc:
        report.error(message.line, f"action.{exc.reason}", code="template")
        template = compile_template("")
    data = loc.get("data")
    channel = loc.get("channel")
    return Action(
        channel=str(channel.value) if channel is not None else "push",
        message=template,
        data=MappingProxyType(data.plain() if data is not None else {}),
    )

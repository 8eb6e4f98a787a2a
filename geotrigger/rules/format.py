"""The moments file format, version 1, described once: the checker walks this description
and :mod:`geotrigger.rules.schema` turns it into the JSON Schema editors use.

The compiler (:mod:`geotrigger.rules.compile`) reads only documents this description has
passed, so it can trust every shape and type and checks only what spans keys (``min`` above
``max``, a template's variables, place ids).
"""

from __future__ import annotations

from geotrigger.rules.model import FORMAT_VERSION, Mode, Reentry, Scope, WindowKind
from geotrigger.rules.spec import (
    Anything,
    Bool,
    Clock,
    Const,
    Duration,
    Enum,
    Number,
    Str,
    Timestamp,
)
from geotrigger.rules.structure import Either, Field, ListOf, MapOf, Nullable, Obj, Tagged
from geotrigger.weather.reading import NUMERIC_FIELDS, WeatherCondition

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
CONDITIONS = (*(c.value for c in WeatherCondition), "wet")
CHANNELS = ("push", "sms", "email", "in_app", "webhook")
DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
QUIET_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"

CONDITION = Enum(values=CONDITIONS, doc="a weather condition, or 'wet' for any falling water")
WEATHER_FIELD = Enum(values=NUMERIC_FIELDS, doc="a numeric field of the weather")
NAMES = ListOf(items=Str(), single=True)


def _range(doc: str, minimum: float | None = None) -> Obj:
    bound = Number(minimum=minimum)
    return Obj(fields=(Field("min", bound), Field("max", bound)), doc=doc)


SELECTOR = Obj(
    doc="the places: any place with one of these ids, tags or brands",
    fields=(Field("ids", NAMES), Field("tags", NAMES), Field("brands", NAMES)),
)
THRESHOLD = Obj(
    doc="a numeric weather field crossing a value",
    fields=(Field("field", WEATHER_FIELD, required=True), Field("value", Number(), required=True)),
)
WITHIN = Number(minimum=0, doc="metres from the consumer to the place")


def _place_trigger(on: str) -> tuple[str, Obj]:
    fields = (Field("on", Enum(values=(on,))), Field("places", SELECTOR, required=True))
    return on, Obj(fields=fields, doc=f"the consumer's {on} of a chosen place")


WEATHER_TRIGGER = Obj(
    doc="the weather changes at a chosen place near the consumer",
    fields=(
        Field("on", Enum(values=("weather",))),
        Field("places", SELECTOR, required=True),
        Field("starts", CONDITION),
        Field("ends", CONDITION),
        Field("rises_above", THRESHOLD),
        Field("falls_below", THRESHOLD),
        Field("within_m", WITHIN),
        Field("fresh_for", Duration(doc="how old the consumer's location may be")),
    ),
    exactly_one=("starts", "ends", "rises_above", "falls_below"),
)
SIGNAL_TRIGGER = Obj(
    doc="a device signal (e.g. fatigue) crosses a value near a chosen place",
    fields=(
        Field("on", Enum(values=("signal",))),
        Field("signal", Str(), required=True),
        Field("places", SELECTOR, required=True),
        Field("rises_above", Number()),
        Field("falls_below", Number()),
        Field("within_m", WITHIN),
    ),
    exactly_one=("rises_above", "falls_below"),
)
TRIGGER = Tagged(
    key="on",
    doc="what starts the moment: enter, dwell, exit, weather or signal",
    variants=(
        _place_trigger("enter"),
        _place_trigger("dwell"),
        _place_trigger("exit"),
        ("weather", WEATHER_TRIGGER),
        ("signal", SIGNAL_TRIGGER),
    ),
)

WEATHER_TEST = Obj(
    doc="the weather at the place",
    fields=(
        Field("condition", ListOf(items=CONDITION, single=True)),
        *(Field(name, _range(f"{name} within min and max")) for name in NUMERIC_FIELDS),
        Field("max_age", Duration(doc="the oldest reading that counts")),
    ),
)
TRAIT_TEST = Either(
    other=Anything(scalar=True, doc="the trait equals this"),
    mapping=Obj(
        fields=(
            Field("equals", Anything(scalar=True)),
            Field("one_of", ListOf(items=Anything(scalar=True))),
            Field("none_of", ListOf(items=Anything(scalar=True))),
            Field("min", Number()),
            Field("max", Number()),
        )
    ),
)
WHEN = Obj(
    doc="conditions: all must hold",
    fields=(
        Field("distance_m", _range("metres from the consumer to the place", minimum=0)),
        Field("speed_mps", _range("the consumer's speed, metres per second", minimum=0)),
        Field(
            "local_time",
            Obj(
                doc="the time of day at the place",
                fields=(
                    Field("from", Clock(), required=True),
                    Field("to", Clock(), required=True),
                    Field("days", ListOf(items=Enum(values=DAYS), min_items=1)),
                ),
            ),
        ),
        Field("open_now", Bool(doc="true: the place must be open; false: closed")),
        Field("weather", WEATHER_TEST),
        Field("signals", MapOf(values=_range("the signal's value"), doc="device signals")),
        Field(
            "segments",
            Obj(fields=(Field("any_of", NAMES), Field("all_of", NAMES), Field("none_of", NAMES))),
        ),
        Field("traits", MapOf(values=TRAIT_TEST, doc="traits of the consumer")),
    ),
)
SHARE = Number(minimum=0, maximum=1)
RELEVANCE = Obj(
    doc="how relevant the offer is to the consumer",
    fields=(
        Field("offer_tags", NAMES),
        Field("min_relevance", SHARE),
        Field("weather_fit", MapOf(values=SHARE, keys=CONDITION)),
        Field("weather_weight", SHARE),
    ),
)
CALENDAR = tuple(
    k.value for k in (WindowKind.CALENDAR_DAY, WindowKind.CALENDAR_WEEK, WindowKind.FOREVER)
)
WINDOW = Either(
    other=Enum(values=CALENDAR),
    mapping=Obj(
        fields=(
            Field("rolling", Duration()),
            Field("fixed", Duration()),
            Field("anchor", Timestamp()),
        ),
        exactly_one=("rolling", "fixed"),
    ),
    doc="calendar_day, calendar_week, forever, {rolling: 1h} or {fixed: 1d, anchor: TIME}",
)
CAP = Obj(
    doc="at most max moments per scope within the window",
    fields=(
        Field("scope", Enum(values=tuple(s.value for s in Scope)), required=True),
        Field("max", Number(minimum=0, whole=True), required=True),
        Field("window", WINDOW),
    ),
)
CAPS = ListOf(items=CAP)
SUPPRESSION = Obj(
    doc="when a matching moment is still not sent",
    fields=(
        Field("max_accuracy_m", Number(minimum=0)),
        Field("max_speed_mps", Number(minimum=0)),
        Field("quiet_hours", Nullable(spec=Str(pattern=QUIET_PATTERN, hint="write HH:MM-HH:MM"))),
        Field("cooldown", Duration()),
        Field("reentry", Enum(values=tuple(r.value for r in Reentry))),
        Field("caps", CAPS),
        Field("holdout", Number(minimum=0, below=1, doc="share of consumers held out")),
        Field("daily_budget", Number(minimum=0, whole=True)),
    ),
)
ACTION = Obj(
    doc="what is sent",
    fields=(
        Field("channel", Enum(values=CHANNELS)),
        Field("message", Str(doc="text with variables such as {place.name}"), required=True),
        Field("data", MapOf(values=Anything(), doc="passed through to the channel")),
    ),
)
RULE = Obj(
    doc="one moment",
    fields=(
        Field(
            "id", Str(pattern=ID_PATTERN, hint="lower-case letters, digits, - and _"), required=True
        ),
        Field("description", Str()),
        Field("priority", Number(whole=True, doc="higher wins a conflict")),
        Field("mode", Enum(values=tuple(m.value for m in Mode))),
        Field("trigger", TRIGGER, required=True),
        Field("when", WHEN),
        Field("relevance", RELEVANCE),
        Field("suppression", SUPPRESSION),
        Field("ttl", Duration(doc="never sent later than this after the event")),
        Field("action", ACTION, required=True),
    ),
)
DEFAULT_KEYS = ("description", "priority", "mode", "when", "relevance", "suppression", "ttl")
DEFAULTS = Obj(
    doc="merged under every moment of the file (per key; the moment wins)",
    fields=tuple(f for f in RULE.optional().fields if f.name in DEFAULT_KEYS),
)
POLICY = Obj(
    doc="what applies across all moments (one file of a rule set at most)",
    fields=(
        Field("min_spacing", Duration(doc="least time between two moments to one consumer")),
        Field("budget_timezone", Str(doc="IANA zone whose day daily budgets count in")),
        Field("caps", CAPS),
    ),
)
DOCUMENT = Obj(
    doc="a moments file",
    fields=(
        Field("version", Const(value=FORMAT_VERSION), required=True),
        Field("description", Str()),
        Field("defaults", DEFAULTS),
        Field("policy", POLICY),
        Field("moments", ListOf(items=RULE)),
    ),
)
# The document without descending into moments: each is checked after its defaults merge.
HEAD = DOCUMENT.with_field("moments", ListOf(items=Anything()))

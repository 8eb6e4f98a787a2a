"""Rules (moments) as marketers write them: the YAML format, compiled to typed specs.

The public API::

    load_rules(paths, *, places=None) -> RuleLoadResult
    load_rules_strict(paths, *, places=None) -> RuleSet   # raises RuleError on errors
    moments_schema() -> dict                              # the JSON Schema of the format

and the compiled specs of :mod:`geotrigger.rules.model`.
"""

from geotrigger.rules.loading import RuleLoadResult, load_rules, load_rules_strict
from geotrigger.rules.model import (
    FORMAT_VERSION,
    Action,
    Cap,
    Conditions,
    LocalTimeWindow,
    MessageTemplate,
    Mode,
    NumberRange,
    PlaceSelector,
    PlaceTrigger,
    Policy,
    QuietHours,
    Reentry,
    Relevance,
    Rule,
    RuleSet,
    Scope,
    SegmentTest,
    SignalTrigger,
    Suppression,
    TraitTest,
    Trigger,
    TriggerKind,
    WeatherTest,
    WeatherTrigger,
    Window,
    WindowKind,
)
from geotrigger.rules.schema import moments_schema

__all__ = [
    "FORMAT_VERSION",
    "Action",
    "Cap",
    "Conditions",
    "LocalTimeWindow",
    "MessageTemplate",
    "Mode",
    "NumberRange",
    "PlaceSelector",
    "PlaceTrigger",
    "Policy",
    "QuietHours",
    "Reentry",
    "Relevance",
    "Rule",
    "RuleLoadResult",
    "RuleSet",
    "Scope",
    "SegmentTest",
    "SignalTrigger",
    "Suppression",
    "TraitTest",
    "Trigger",
    "TriggerKind",
    "WeatherTest",
    "WeatherTrigger",
    "Window",
    "WindowKind",
    "load_rules",
    "load_rules_strict",
    "moments_schema",
]

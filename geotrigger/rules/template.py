"""Message templates: ``"{place.name} is {distance_m} m away"``, compiled once at load.

A variable is a name in braces; ``{{`` and ``}}`` are a literal brace. Unknown variables are
compile errors with a 'did you mean'. Rendering never raises: a value that is missing (or
None) renders as an empty string.

The variables (:data:`TEMPLATE_VARIABLES`, plus ``consumer.traits.<any name>``):

=========================  ==============================================================
``place.id``               the place's id
``place.name``             the place's name
``place.brand``            the place's brand (empty when it has none)
``distance_m``             metres from the consumer to the place, rounded to a whole number
``rule.id``                the rule's id
``consumer.id``            the consumer's id
``consumer.traits.NAME``   any trait of the consumer, e.g. ``consumer.traits.first_name``
``weather.condition``      the weather at the place, e.g. ``rain``
``weather.temperature_c``  degrees Celsius
``weather.feels_like_c``   felt temperature, degrees Celsius
``weather.precipitation_mm_h``  rain, millimetres per hour
``local_time``             the time of day at the place, ``HH:MM``
``daypart``                morning, midday, afternoon, evening or night at the place
=========================  ==============================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from geotrigger.errors import RuleError
from geotrigger.suggest import did_you_mean

TEMPLATE_VARIABLES = (
    "place.id",
    "place.name",
    "place.brand",
    "distance_m",
    "rule.id",
    "consumer.id",
    "weather.condition",
    "weather.temperature_c",
    "weather.feels_like_c",
    "weather.precipitation_mm_h",
    "local_time",
    "daypart",
)
TRAIT_PREFIX = "consumer.traits."


@dataclass(frozen=True, slots=True)
class _Var:
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """A compiled message template (the ``MessageTemplate`` protocol of the rule model)."""

    text: str
    parts: tuple[str | _Var, ...]

    @property
    def variables(self) -> frozenset[str]:
        """The variables the template uses."""
        return frozenset(p.name for p in self.parts if isinstance(p, _Var))

    def render(self, values: Mapping[str, object]) -> str:
        """The message with ``values`` filled in; a missing value is an empty string."""
        return "".join(
            p if isinstance(p, str) else _show(p.name, values.get(p.name)) for p in self.parts
        )


def compile_template(text: str) -> Template:
    """Compile ``text``; RuleError naming the first problem (unknown variable, lone brace)."""
    parts: list[str | _Var] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "{}" and text[i : i + 2] == ch * 2:
            literal.append(ch)
            i += 2
        elif ch == "}":
            raise RuleError(f"message: a lone '}}' at character {i + 1} (write '}}}}' for a brace)")
        elif ch == "{":
            end = text.find("}", i)
            if end < 0:
                raise RuleError(f"message: '{{' at character {i + 1} is never closed")
            parts.extend(["".join(literal), _Var(_variable(text[i + 1 : end].strip()))])
            literal, i = [], end + 1
        else:
            literal.append(ch)
            i += 1
    parts.append("".join(literal))
    return Template(text=text, parts=tuple(p for p in parts if p != ""))


def _variable(name: str) -> str:
    """``name`` if it is a known variable; else RuleError with a 'did you mean'."""
    if name in TEMPLATE_VARIABLES:
        return name
    if name.startswith(TRAIT_PREFIX) and name[len(TRAIT_PREFIX) :].strip():
        return name
    known = ", ".join(TEMPLATE_VARIABLES)
    hint = did_you_mean(name, TEMPLATE_VARIABLES)
    raise RuleError(
        f"message: unknown variable {{{name}}}{hint}; known: {known}, consumer.traits.NAME"
    )


def _show(name: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and math.isfinite(value):
        # Distances read best in whole metres; other numbers without trailing zeros.
        return str(round(value)) if name == "distance_m" else f"{value:g}"
    return str(value)

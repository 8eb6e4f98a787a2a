"""Compound kinds of value for the declarative format: mappings with known keys, maps,
lists, alternatives and tagged variants (see :mod:`geotrigger.rules.spec`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from geotrigger.rules.located import Located
from geotrigger.rules.spec import Enum, Problem, Spec, at_path, shown, with_doc
from geotrigger.suggest import did_you_mean


@dataclass(frozen=True)
class Field:
    """A key of a mapping, its kind of value, and whether it must be there."""

    name: str
    spec: Spec
    required: bool = False


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_mapping(loc: Located, path: str, out: list[Problem]) -> bool:
    if isinstance(loc.value, dict):
        return True
    out.append((loc.line, at_path(path, f"must be a mapping of keys, got {shown(loc.value)}")))
    return False


@dataclass(frozen=True)
class Obj(Spec):
    """A mapping with known keys; ``exactly_one`` of some keys may be asked for."""

    fields: tuple[Field, ...] = ()
    exactly_one: tuple[str, ...] = ()
    doc: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The keys, in the order written in the format."""
        return tuple(f.name for f in self.fields)

    def optional(self) -> Obj:
        """The same mapping with no key required (for defaults)."""
        return replace(self, fields=tuple(replace(f, required=False) for f in self.fields))

    def with_field(self, name: str, spec: Spec) -> Obj:
        """The same mapping with key ``name`` taking ``spec`` instead."""
        return replace(
            self, fields=tuple(replace(f, spec=spec) if f.name == name else f for f in self.fields)
        )

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        if not _is_mapping(loc, path, out):
            return
        entries: dict[str, Located] = loc.value
        for key, item in entries.items():
            if key not in self.names:
                hint = did_you_mean(key, self.names)
                out.append((item.line, at_path(_join(path, key), f"unknown key{hint}")))
        for f in self.fields:
            if f.name in entries:
                f.spec.check(entries[f.name], _join(path, f.name), out)
            elif f.required:
                out.append((loc.line, at_path(path, f"{f.name!r} is required")))
        self._check_exactly_one(loc, path, out)

    def _check_exactly_one(self, loc: Located, path: str, out: list[Problem]) -> None:
        if not self.exactly_one:
            return
        given = [k for k in self.exactly_one if k in loc.value]
        if len(given) != 1:
            names = ", ".join(self.exactly_one)
            said = f"got {', '.join(given)}" if given else "got none"
            out.append((loc.line, at_path(path, f"needs exactly one of {names}; {said}")))

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {
            "type": "object",
            "properties": {f.name: f.spec.schema() for f in self.fields},
            "additionalProperties": False,
        }
        required = [f.name for f in self.fields if f.required]
        if required:
            s["required"] = required
        if self.exactly_one:
            s["oneOf"] = [{"required": [k]} for k in self.exactly_one]
        return with_doc(self, s)


@dataclass(frozen=True)
class MapOf(Spec):
    """A mapping of names of the user's choosing (or of ``keys``) to values of one kind."""

    values: Spec = field(default_factory=Spec)
    keys: Enum | None = None
    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        if not _is_mapping(loc, path, out):
            return
        for key, item in loc.value.items():
            if self.keys is not None and key not in self.keys.values:
                hint = did_you_mean(key, self.keys.values)
                known = ", ".join(self.keys.values)
                out.append((item.line, at_path(path, f"{key!r} is not one of {known}{hint}")))
                continue
            self.values.check(item, _join(path, key), out)

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "object", "additionalProperties": self.values.schema()}
        if self.keys is not None:
            s["propertyNames"] = {"enum": list(self.keys.values)}
        return with_doc(self, s)


@dataclass(frozen=True)
class ListOf(Spec):
    """A list of values of one kind; ``single`` also takes one value without a list."""

    items: Spec = field(default_factory=Spec)
    min_items: int = 0
    single: bool = False
    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        if not isinstance(loc.value, list):
            if self.single:
                self.items.check(loc, path, out)
            else:
                out.append((loc.line, at_path(path, f"must be a list, got {shown(loc.value)}")))
            return
        if len(loc.value) < self.min_items:
            out.append((loc.line, at_path(path, f"needs at least {self.min_items} item(s)")))
        for i, item in enumerate(loc.value):
            self.items.check(item, f"{path}[{i}]", out)

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "array", "items": self.items.schema()}
        if self.min_items:
            s["minItems"] = self.min_items
        if self.single:
            return with_doc(self, {"anyOf": [self.items.schema(), s]})
        return with_doc(self, s)


@dataclass(frozen=True)
class Either(Spec):
    """A mapping checked by ``mapping``, anything else by ``other`` (a short form)."""

    other: Spec = field(default_factory=Spec)
    mapping: Spec = field(default_factory=Spec)
    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        chosen = self.mapping if isinstance(loc.value, dict) else self.other
        chosen.check(loc, path, out)

    def schema(self) -> dict[str, Any]:
        return with_doc(self, {"anyOf": [self.other.schema(), self.mapping.schema()]})


@dataclass(frozen=True)
class Nullable(Spec):
    """``null`` (or the word ``none``) or a value of ``spec``."""

    spec: Spec = field(default_factory=Spec)
    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        if loc.value is not None and loc.value != "none":
            self.spec.check(loc, path, out)

    def schema(self) -> dict[str, Any]:
        nothing = [{"type": "null"}, {"const": "none"}]
        return with_doc(self, {"anyOf": [*nothing, self.spec.schema()]})


@dataclass(frozen=True)
class Tagged(Spec):
    """A mapping whose ``key`` (e.g. ``on``) says which of ``variants`` it is."""

    key: str = "on"
    variants: tuple[tuple[str, Obj], ...] = ()
    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        if not _is_mapping(loc, path, out):
            return
        names = tuple(name for name, _ in self.variants)
        tag = loc.get(self.key)
        if tag is None:
            out.append(
                (loc.line, at_path(path, f"{self.key!r} is required (one of {', '.join(names)})"))
            )
            return
        Enum(values=names).check(tag, _join(path, self.key), out)
        variant = dict(self.variants).get(tag.value) if isinstance(tag.value, str) else None
        if variant is not None:
            variant.check(loc, path, out)

    def schema(self) -> dict[str, Any]:
        names = [name for name, _ in self.variants]
        cases = [
            {"if": {"properties": {self.key: {"const": name}}}, "then": v.schema()}
            for name, v in self.variants
        ]
        base = {
            "type": "object",
            "required": [self.key],
            "properties": {self.key: {"enum": names}},
            "allOf": cases,
        }
        return with_doc(self, base)

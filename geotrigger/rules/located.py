"""A YAML document as a tree of values that know their line, so every error can name it.

The document is composed and constructed by :mod:`geotrigger.places.yaml_nodes` (safe
loading, alias budget, merge keys). Each value is then paired with the line of its key (in a
mapping) or of itself (in a list), which is where a marketer looks for it. A plain number is
kept with its text as written: YAML 1.1 reads an unquoted ``11:00`` as the number 660, and
``HH:MM`` fields want the text back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from geotrigger.errors import PlaceError, RuleError, Where
from geotrigger.places import yaml_nodes


@dataclass(frozen=True, slots=True)
class Located:
    """A value and the line it is written on. Mappings hold ``dict[str, Located]``, lists
    ``list[Located]``; ``text`` is the written text of a plain number."""

    value: Any
    line: int | None
    text: str | None = None

    def get(self, key: str) -> Located | None:
        """The entry ``key`` of a mapping, or None."""
        return self.value.get(key) if isinstance(self.value, dict) else None

    def plain(self) -> Any:
        """The value without lines, as YAML gave it."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def parse_located(text: str, source: str) -> tuple[Located | None, list[int]]:
    """The document of ``text`` and the lines of keys written twice in one mapping.

    RuleError (with the line) for bad YAML or aliases past the budget.
    """
    try:
        data, root = yaml_nodes.parse(text, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = f"YAML syntax error: {exc.problem or exc.context or exc}"
        raise RuleError(reason, where=Where(source=source, line=line)) from exc
    except yaml.YAMLError as exc:
        raise RuleError(f"YAML error: {exc}", where=Where(source=source)) from exc
    except PlaceError as exc:  # the alias budget, shared with the places loader
        raise RuleError(exc.reason, where=exc.where) from exc
    if root is None:
        return None, []
    return locate(data, root, yaml_nodes.line_of(root)), _repeated_keys(root)


def locate(value: Any, node: yaml.Node | None, line: int | None) -> Located:
    """``value`` (constructed from ``node``) with lines; ``line`` when the node is unknown
    (a value that came through a merge key is reported at the merge)."""
    if isinstance(value, dict):
        entries = {}
        for key, item in value.items():
            name = _key_text(key, node)
            key_line = yaml_nodes.key_line(node, name) if node is not None else line
            entries[name] = locate(item, yaml_nodes.child(node, name), key_line or line)
        return Located(entries, line)
    if isinstance(value, list):
        kids = node.value if isinstance(node, yaml.SequenceNode) else []
        items = []
        for i, item in enumerate(value):
            kid = kids[i] if i < len(kids) else None
            items.append(locate(item, kid, yaml_nodes.line_of(kid) or line))
        return Located(items, line)
    return Located(value, line, yaml_nodes.scalar_text(node))


def _key_text(key: Any, node: yaml.Node | None) -> str:
    """A key as written: YAML 1.1 reads a plain ``on`` (or ``yes``) as true, the format
    means the word."""
    if isinstance(key, str) or not isinstance(node, yaml.MappingNode):
        return str(key)
    for key_node, _ in node.value:
        if key_node.tag.endswith(":bool") and _BOOLS.get(str(key_node.value).lower()) is key:
            return str(key_node.value)
    return str(key)


_BOOLS = {w: True for w in ("yes", "y", "true", "on")} | {
    w: False for w in ("no", "n", "false", "off")
}


def _repeated_keys(root: yaml.Node) -> list[int]:
    """Lines of keys written a second time in the same mapping (YAML keeps the last one)."""
    lines: list[int] = []
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, item in node.value:
                if key.value in keys and key.value != "<<":
                    lines.append(yaml_nodes.line_of(key) or 0)
                keys.add(key.value)
                stack.append(item)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(lines)

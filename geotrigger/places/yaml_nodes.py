"""The YAML node tree of a places file: composed safely, read as written.

PyYAML composes a document into nodes and then constructs values from them. This module keeps
the nodes useful after construction and keeps construction cheap:

- aliases are counted before anything is built, and a document whose aliases would expand to
  more than :data:`ALIAS_BUDGET` extra values (a "billion laughs") is refused with the line;
- merge keys (``<<: *base``) are rewritten in place by PyYAML's constructor; the nodes are put
  back as written afterwards, so that a local key overriding a merged one is not a repeat;
- scalars can be read as their original text (``id: 0123`` is the id ``0123``, not 83), and
  plain scalars such as ``5e3`` (a float in YAML 1.2, a string in 1.1) as numbers.
"""

from __future__ import annotations

import re
from typing import Any, TypeGuard

import yaml

from geotrigger.errors import PlaceError, Where

# Values that aliases may add on top of those written: generous for shared shapes and lists,
# far below what would take seconds or gigabytes to walk.
ALIAS_BUDGET = 100_000
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster when built
_FLOAT_12 = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def parse(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """The values and the node tree (as written) of one document.

    Raises ``yaml.YAMLError`` for bad syntax and PlaceError for aliases over the budget.
    """
    loader = _LOADER(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        written = [(n, list(n.value)) for n in check_aliases(root, source)]
        data = loader.construct_document(root)
        for node, value in written:
            node.value = value  # undo the constructor's merge-key rewrite
        return data, root
    finally:
        loader.dispose()


def check_aliases(
    root: yaml.Node, source: str, budget: int = ALIAS_BUDGET
) -> list[yaml.MappingNode]:
    """Every mapping node once; PlaceError, naming the line, if aliases expand past ``budget``
    values or into a loop.

    Walks the nodes in document order without descending into a node twice: a node met again
    is an alias, and adds its whole (memoised) size.
    """
    mappings = [root] if isinstance(root, yaml.MappingNode) else []
    sizes: dict[int, int] = {}
    open_ids = {id(root)}
    extra = 0
    stack: list[list[Any]] = [[root, _children(root), 0, 1]]
    while stack:
        frame = stack[-1]
        node, kids, i, _ = frame
        if i == len(kids):
            stack.pop()
            open_ids.discard(id(node))
            sizes[id(node)] = frame[3]
            if stack:
                stack[-1][3] += frame[3]
            continue
        frame[2] += 1
        child, line = kids[i]
        where = Where(source=source, line=line)
        if id(child) in open_ids:
            raise PlaceError("an alias refers to a value that contains it (a loop)", where=where)
        if id(child) in sizes:
            frame[3] += sizes[id(child)]
            extra += sizes[id(child)]
            if extra > budget:
                msg = f"aliases expand to more than {budget:,} values; refusing the file"
                raise PlaceError(msg, where=where)
        else:
            open_ids.add(id(child))
            stack.append([child, _children(child), 0, 1])
            if isinstance(child, yaml.MappingNode):
                mappings.append(child)
    return mappings


def _children(node: yaml.Node) -> list[tuple[yaml.Node, int]]:
    """Child nodes, each with the line an alias among them is best reported at."""
    if isinstance(node, yaml.MappingNode):
        return [(n, line_of(k) or 0) for k, v in node.value for n in (k, v)]
    if isinstance(node, yaml.SequenceNode):
        return [(child, line_of(node) or 0) for child in node.value]
    return []


def scalar_text(node: yaml.Node | None) -> str | None:
    """The text of a plain (unquoted) number as written, e.g. ``0123`` or ``0x1F``; else None."""
    if _is_plain(node) and node.tag in _NUMBER_TAGS:
        return str(node.value)
    return None


def as_number(value: Any, node: yaml.Node | None) -> Any:
    """``value``, or a float when it is a plain scalar that YAML 1.2 reads as one (``5e3``)."""
    if isinstance(value, str) and _is_plain(node) and _FLOAT_12.match(value.strip()):
        return float(value)
    return value


def _is_plain(node: yaml.Node | None) -> TypeGuard[yaml.ScalarNode]:
    # PyYAML spells the plain style None, libyaml ''.
    return isinstance(node, yaml.ScalarNode) and not node.style


def child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node of ``key`` in a mapping node (the last, as PyYAML keeps), or None."""
    if not isinstance(node, yaml.MappingNode):
        return None
    found = [v for k, v in node.value if k.value == key]
    return found[-1] if found else None


def key_line(node: yaml.Node | None, key: str) -> int | None:
    """The line of ``key`` in a mapping node, else the line of the node."""
    if not isinstance(node, yaml.MappingNode):
        return line_of(node)
    return next((line_of(k) for k, _ in node.value if k.value == key), line_of(node))


def line_of(node: yaml.Node | None) -> int | None:
    """The 1-based line where a node starts."""
    return node.start_mark.line + 1 if node is not None else None

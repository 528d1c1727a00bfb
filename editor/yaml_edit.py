"""Round-trip YAML writes: change only what changed, keep comments, key order and the schema line.

ruamel.yaml keeps comments and key order, but re-emits some untouched lines differently (a one-pair
mapping in a flow list loses its braces). So the new text is the old file with only the lines that the
edit changed replaced: every other line stays byte for byte.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

SCHEMA_LINE = "# yaml-language-server: $schema={path}kpi.schema.json"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load_text(text: str) -> Any:
    """The round-trip tree of a YAML text (an empty mapping for an empty text)."""
    data = _yaml().load(text) if text.strip() else None
    return data if data is not None else CommentedMap()


def dump_tree(tree: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(tree, buffer)
    return buffer.getvalue()


def updated_text(original: str, new_data: dict[str, Any]) -> str:
    """`original` with `new_data` applied: unchanged keys keep their text, comments and position."""
    tree = load_text(original)
    base = dump_tree(load_text(original))
    merged = merge(tree, new_data)
    return patch_lines(original, base, dump_tree(merged))


def new_file_text(data: dict[str, Any], schema_prefix: str) -> str:
    """A new file: the schema line, then the keys in the order given, small mappings written inline."""
    header = SCHEMA_LINE.format(path=schema_prefix) + "\n"
    tree = to_yaml(data, top=True)
    if isinstance(tree.get("measure"), CommentedMap):
        tree["measure"].fa.set_block_style()  # `measure:` on its own line, as in every example file
    return header + dump_tree(tree)


def patch_lines(original: str, base: str, new: str) -> str:
    """Apply the line changes between `base` (original re-emitted) and `new` to `original`."""
    orig_lines = original.splitlines(keepends=True)
    base_lines = base.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    if len(orig_lines) != len(base_lines):
        return new  # cannot map lines one to one: the re-emitted text is still equivalent YAML
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=base_lines, b=new_lines, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        out.extend(orig_lines[a1:a2] if op == "equal" else new_lines[b1:b2])
    return "".join(out)


def same(old: Any, new: Any) -> bool:
    """Equal as data (`0.030` is `0.03`, `6` is `6.0`), but `true` is not `1`."""
    if isinstance(old, bool) != isinstance(new, bool):
        return False
    if isinstance(old, dict) and isinstance(new, dict):
        return list(old) == list(new) and all(same(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(same(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, str) and isinstance(new, str):
        return str(old) == new
    if isinstance(old, dict | list | str) or isinstance(new, dict | list | str):
        return False
    return bool(plain_date(old) == plain_date(new))


def merge(old: Any, new: Any) -> Any:
    """`new` written over `old`, reusing `old`'s nodes (and so its comments and styles) where possible."""
    if isinstance(old, dict) and isinstance(new, str) and set(old) == {"event"} and same(old["event"], new):
        return old  # `{event: purchase}` and `purchase` say the same
    if isinstance(old, str) and isinstance(new, dict) and set(new) == {"event"} and same(old, new["event"]):
        return old
    if same(old, new):
        return old
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        for key in [k for k in old if k not in new]:
            del old[key]
        for position, (key, value) in enumerate(new.items()):
            if key in old:
                old[key] = merge(old[key], value)
            else:
                old.insert(_insert_at(old, list(new), position), key, to_yaml(value))
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list) and len(old) == len(new):
        for i, value in enumerate(new):
            old[i] = merge(old[i], value)
        return old
    value = to_yaml(new)
    if isinstance(value, CommentedMap | CommentedSeq) and hasattr(old, "fa") and old.fa.flow_style():
        value.fa.set_flow_style()
    return value


def _insert_at(old: CommentedMap, order: list[str], position: int) -> int:
    """Right after the nearest key that comes before it in the new order (else at the top)."""
    keys = list(old)
    for earlier in reversed(order[:position]):
        if earlier in keys:
            return keys.index(earlier) + 1
    return 0


def to_yaml(value: Any, top: bool = False) -> Any:
    """Plain data as ruamel nodes; small leaf mappings and lists of scalars are written inline."""
    if isinstance(value, dict):
        node = CommentedMap()
        for k, v in value.items():
            node[k] = to_yaml(v)
        if not top and _is_leafy(value):
            node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq(to_yaml(v) for v in value)
        if all(not isinstance(v, dict | list) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value


def _is_leafy(value: dict[str, Any]) -> bool:
    """A mapping of scalars (or of inline lists) short enough for one line."""
    if not value:
        return True
    leaf = all(not isinstance(v, dict) and (not isinstance(v, list) or all(
        not isinstance(x, dict | list) for x in v)) for v in value.values())
    return leaf and len(value) <= 3 and len(repr(value)) <= 90


def plain_date(value: Any) -> Any:
    """Dates as `datetime.date` (ruamel may give a timestamp subclass)."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value

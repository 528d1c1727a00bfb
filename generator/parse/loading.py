"""YAML → documents stamped with file, line and column for every key and value.

Safety first: the YAML is only *composed* (parsed into nodes), never constructed, so no tag can
build an object; aliases are expanded with a budget (no alias bomb); size, depth, encoding, NUL
bytes, tabs and duplicate keys are checked before anything else sees the data.

Speed: ruamel.yaml's pure-Python scanner costs about 2 ms per KPI file. When PyYAML's libyaml binding is
installed, its C *parser* emits the events and a small loop here composes them into the same ruamel nodes,
resolved with ruamel's YAML 1.2 rules (about 20x faster, same data, same line numbers). Anything the fast
path does not handle exactly (errors, directives, several documents, anchors, tabs) is re-read by ruamel,
so every message about broken YAML comes from one place and both paths give the same result.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..issues import Issue, Level, SourceLocation
from .bounded_read import MAX_FILE_BYTES, FileTooLarge, InputFileError, read_regular_file

try:  # optional accelerator, see the module docstring
    from yaml import YAMLError as _LibyamlError
    from yaml import events as _ev
    from yaml._yaml import CParser as _LibyamlParser
except ImportError:  # pragma: no cover - depends on the environment
    _LibyamlParser = None

MAX_VALUES = 50_000
MAX_DEPTH = 64

KeyPath = tuple[str | int, ...]

_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {f"{_STD}{t}" for t in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp")}


@dataclass
class Document:
    """One YAML file as plain data, with the source position of every key path."""

    path: str
    data: Any
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, key_path: Iterable[str | int] = ()) -> SourceLocation:
        """The location of the deepest known prefix of `key_path` (1-based line and column)."""
        parts = tuple(key_path)
        for end in range(len(parts), -1, -1):
            prefix = parts[:end]
            if prefix in self.positions:
                line, col = self.positions[prefix]
                return SourceLocation(self.path, line, col, dotted(parts))
        return SourceLocation(self.path, 1, 1, dotted(parts))


def dotted(parts: Iterable[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


class KpiFileError(Exception):
    """A file that cannot be read as KPI YAML; carries a ready-made Issue."""

    def __init__(self, issue: Issue):
        super().__init__(issue.message)
        self.issue = issue


def _fail(path: str, code: str, message: str, hint: str, line: int = 1, column: int = 1) -> KpiFileError:
    return KpiFileError(Issue(code, Level.ERROR, message, SourceLocation(path, line, column), hint))


def load_document(path: Path, display: str | None = None) -> Document:
    """Read and parse one YAML file; raise KpiFileError with a located, readable issue."""
    name = display or str(path)
    try:
        raw = read_regular_file(path, MAX_FILE_BYTES)
    except InputFileError as exc:
        code = "KB101" if isinstance(exc, FileTooLarge) else "KB100"
        raise _fail(name, code, f"cannot read the file: {exc}.", "KPI files are small YAML text files (at most "
                    "1 MB); check that this path is really a KPI file.") from None
    except OSError as exc:
        raise _fail(name, "KB100", f"cannot read the file: {exc.strerror or exc}.", "Check the path and permissions.") from None
    return parse_document(raw, name)


def parse_document(raw: bytes, name: str) -> Document:
    """Parse YAML bytes into a Document (see module docstring for the safety checks)."""
    if len(raw) > MAX_FILE_BYTES:
        raise _fail(name, "KB101", f"the file is {len(raw) / 1e6:.1f} MB; KPI files are small (at most 1 MB).",
                    "Split it, or check that this is really a KPI file.")
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, col = _line_col(raw, nul)
        raise _fail(name, "KB102", "the file contains a NUL byte, so it looks binary, not YAML text.",
                    "Save the file as plain UTF-8 text.", line, col)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col = _line_col(raw, exc.start)
        raise _fail(name, "KB102", f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be read).",
                    "Save the file with UTF-8 encoding (most editors: File → Save with encoding → UTF-8).",
                    line, col) from None
    if not text.strip() or all(ln.lstrip().startswith("#") or not ln.strip() for ln in text.splitlines()):
        raise _fail(name, "KB103", "the file is empty.", "Add a KPI definition, or delete the file.")
    tab = re.search(r"^[ ]*\t", text, flags=re.MULTILINE)
    if tab:
        line = text.count("\n", 0, tab.start()) + 1
        col = tab.end() - tab.start()
        raise _fail(name, "KB104", "a tab character is used for indentation; YAML needs spaces.",
                    "Replace the tab with spaces (two per level is usual).", line, col)
    deep = _flow_too_deep(text)
    if deep is not None:
        raise _fail(name, "KB106", "the file is nested far too deeply to be a KPI file.",
                    "Check for runaway brackets `[` or `{`.", text.count("\n", 0, deep) + 1,
                    deep - text.rfind("\n", 0, deep))
    node: AnyNode | None
    try:
        node = _compose_fast(text)
    except _NotFast:
        node = _compose_ruamel(text, name)
    if node is None:
        raise _fail(name, "KB103", "the file is empty.", "Add a KPI definition, or delete the file.")
    converter = _Converter(name)
    data = converter.convert(node, (), 0)
    if not isinstance(data, dict):
        raise _fail(name, "KB107", "the file must be a set of `key: value` lines (a mapping), not a "
                    f"{_kind(data)}.", "Start with `version: 1` and `kpi: your_kpi_id` on their own lines.",
                    *_pos(node))
    return Document(name, data, converter.positions)


def _compose_ruamel(text: str, name: str) -> Node | None:
    """Compose with ruamel.yaml (pure Python): the reference path, and the one that words YAML errors."""
    yaml = YAML(typ="rt", pure=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. a reused anchor: the later one wins, as YAML says
            return yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 1
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        opened = exc.context_mark
        if exc.context and "flow" in exc.context and opened is not None and opened.line + 1 != line:
            # An unclosed bracket is found lines later; point at the bracket, which is what needs fixing.
            bracket = "[" if "sequence" in exc.context else "{"
            raise _fail(name, "KB105", f"this is not valid YAML: the `{bracket}` opened here is not closed "
                        f"({problem} on line {line}).", _yaml_hint(problem), opened.line + 1, opened.column + 1) from None
        raise _fail(name, "KB105", f"this is not valid YAML: {problem}.", _yaml_hint(problem), line, col) from None
    except RecursionError:
        raise _fail(name, "KB106", "the file is nested far too deeply to be a KPI file.",
                    "Check for runaway brackets or indentation.") from None
    except YAMLError as exc:
        raise _fail(name, "KB105", f"this is not valid YAML: {exc}.", "Check the syntax near the start of the file.") from None
    except Exception as exc:  # noqa: BLE001 - a reader bug on odd input must still end as a located issue
        raise _fail(name, "KB105", f"this is not valid YAML (the YAML reader gave up: {type(exc).__name__}).",
                    "Check the brackets, quotes and indentation; compare with an example in kpis/.") from None


class _NotFast(Exception):
    """The fast path declines this text; ruamel reads it instead."""


_RESOLVER = YAML(typ="rt", pure=True).resolver
_STR, _MAP, _SEQ = f"{_STD}str", f"{_STD}map", f"{_STD}seq"


@functools.lru_cache(maxsize=8192)
def _resolve_plain(value: str) -> str:
    """The tag YAML 1.2 gives an untagged, unquoted scalar (ruamel's own resolver, cached)."""
    return str(_RESOLVER.resolve(ScalarNode, value, (True, False)))


class _Light:
    """A node composed by the fast path: its tag, value and 1-based (line, column), nothing else."""

    __slots__ = ("tag", "value", "pos")

    def __init__(self, tag: str, value: Any, pos: tuple[int, int]):
        self.tag = tag
        self.value = value
        self.pos = pos


class _LightMap(_Light):
    __slots__ = ()


class _LightSeq(_Light):
    __slots__ = ()


class _LightScalar(_Light):
    __slots__ = ()


AnyNode = Node | _Light


def _compose_fast(text: str) -> AnyNode | None:
    """Compose one YAML document from libyaml's events, without recursion (see the module docstring)."""
    if _LibyamlParser is None or "%YAML" in text or "%TAG" in text or "\t" in text:
        raise _NotFast
    parser = _LibyamlParser(text)
    try:
        return _compose_events(parser)
    except _NotFast:
        raise
    except (_LibyamlError, RecursionError, MemoryError, ValueError, TypeError):
        raise _NotFast from None
    finally:
        parser.dispose()


def _compose_events(parser: Any) -> AnyNode | None:
    parser.get_event()  # stream start
    if isinstance(parser.peek_event(), _ev.StreamEndEvent):
        return None
    parser.get_event()  # document start
    stack: list[tuple[_Light, list[_Light]]] = []
    root: _Light | None = None
    scalar, mapping_start, sequence_start = _ev.ScalarEvent, _ev.MappingStartEvent, _ev.SequenceStartEvent
    collection_end = (_ev.MappingEndEvent, _ev.SequenceEndEvent)
    while True:
        event = parser.get_event()
        cls = type(event)
        node: _Light
        if cls is scalar:
            if event.anchor is not None:
                raise _NotFast  # anchors and aliases: libyaml and ruamel differ in the names they accept
            tag = event.tag
            if tag is None or tag == "!":
                tag = _resolve_plain(event.value) if event.implicit[0] else _STR
            mark = event.start_mark
            node = _LightScalar(tag, event.value, (mark.line + 1, mark.column + 1))
        elif cls is mapping_start or cls is sequence_start:
            if event.anchor is not None:
                raise _NotFast
            tag = event.tag
            if tag is None or tag == "!":
                tag = _MAP if cls is mapping_start else _SEQ
            mark = event.start_mark
            stack.append(((_LightMap if cls is mapping_start else _LightSeq)(tag, None, (mark.line + 1, mark.column + 1)), []))
            continue
        elif cls in collection_end:
            node, items = stack.pop()
            node.value = list(zip(items[::2], items[1::2], strict=True)) if type(node) is _LightMap else items
        elif cls is _ev.DocumentEndEvent:
            break
        else:
            raise _NotFast  # an alias, or something unexpected
        if stack:
            stack[-1][1].append(node)
        else:
            root = node
    if type(parser.get_event()) is not _ev.StreamEndEvent:
        raise _NotFast  # several documents: ruamel words the error
    return root


_FLOW_TOKENS = re.compile(r"""[\[\]{}]|(?<![^\s\[{,:])(?:'(?:[^']|'')*'|"(?:[^"\\]|\\.)*")|(?<!\S)#[^\n]*""")


def _flow_too_deep(text: str) -> int | None:
    """Offset of the first bracket nested deeper than MAX_DEPTH, or None.

    Checked before composing: ruamel's pure-Python scanner slows down quadratically with bracket depth
    (20,000 levels take minutes), so runaway brackets are refused up front, on both paths alike.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    for match in _FLOW_TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                return match.start()
        elif token in ("]", "}"):
            depth = max(0, depth - 1)
    return None


def _line_col(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    col = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return line, col


def _yaml_hint(problem: str) -> str:
    if "flow" in problem or "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        return "A bracket `[` or `{` is not closed, or a comma is missing between items."
    if "mapping values are not allowed" in problem:
        return "A value contains `: `; put the whole value in quotes, e.g. title: \"Revenue: total\"."
    if "found character" in problem and "cannot start any token" in problem:
        return "Put values that start with special characters (@, `, %) in quotes."
    return "Check the indentation (spaces only, same depth for keys of one block) and the quotes."


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "single text value"
    return "single value"


class _Converter:
    """Turn composed nodes into plain Python, recording positions; enforce the budgets."""

    def __init__(self, name: str):
        self.name = name
        self.positions: dict[KeyPath, tuple[int, int]] = {}
        self.count = 0

    def convert(self, node: AnyNode, path: KeyPath, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            # Aliased nodes carry their anchor's position; the top-level key being expanded is where to look.
            at = self.positions.get(path[:1]) or _pos(node)
            raise _fail(self.name, "KB106", f"the file expands to more than {MAX_VALUES:,} values "
                        "(anchors and aliases repeated many times?).",
                        "KPI files are small; remove the repeated `*alias` references.", *at)
        if depth > MAX_DEPTH:
            raise _fail(self.name, "KB106", "the file is nested far too deeply to be a KPI file.",
                        "Check for runaway brackets or indentation.", *_pos(node))
        self.positions.setdefault(path, _pos(node))
        tag = node.tag if isinstance(node, _Light) else (str(node.tag) if node.tag is not None else "")
        if tag and tag not in _ALLOWED_TAGS:
            raise _fail(self.name, "KB108", f"the YAML tag `{tag.replace(_STD, '!!')}` is not allowed.",
                        "Remove the tag (the word starting with `!`); KPI files hold plain values only.",
                        *_pos(node))
        if isinstance(node, MappingNode | _LightMap):
            return self._mapping(node, path, depth)
        if isinstance(node, SequenceNode | _LightSeq):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        value = _scalar(node.value, tag)
        return self._whole_characters(value, node) if isinstance(value, str) else value

    def _whole_characters(self, text: str, node: AnyNode) -> str:
        """`text` with each character beyond U+FFFF that JSON's escapes spell in two halves (`"\\ud83d\\ude00"`:
        YAML reads each `\\u` alone) made whole, as JSON reads it; a half alone is no character at all, and
        nothing downstream (a pattern, a file, the warehouse) could store it."""
        if not _SURROGATE.search(text):
            return text
        try:
            return text.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            code = f"\\u{ord(_lone_half(text)):04x}"
            raise _fail(self.name, "KB102", f"the text holds `{code}`, half of a character escape with no other "
                        "half, which is no character at all.",
                        "Write the character itself, or its whole code as `\\U` and eight hex digits "
                        "(`\\U0001F600` for 😀); an escape from `\\ud800` to `\\udbff` needs one from "
                        "`\\udc00` to `\\udfff` right after it.",
                        *_pos(node)) from None

    def _mapping(self, node: MappingNode | _LightMap, path: KeyPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode | _LightScalar):
                raise _fail(self.name, "KB105", "a key must be a plain word, not a list or mapping.",
                            "Write keys as `name: value`.", *_pos(key_node))
            key = self._whole_characters(str(key_node.value), key_node)
            if key in seen:
                first = seen[key][0]
                raise _fail(self.name, "KB109", f"the key `{key}` appears twice in the same block "
                            f"(first on line {first}).", "Keep one of them and delete the other.", *_pos(key_node))
            seen[key] = _pos(key_node)
            child = (*path, key)
            self.positions[child] = _pos(key_node)
            out[key] = self.convert(value_node, child, depth + 1)
        return out


def _pos(node: AnyNode) -> tuple[int, int]:
    if isinstance(node, _Light):
        return node.pos
    return node.start_mark.line + 1, node.start_mark.column + 1


_SURROGATE = re.compile("[\ud800-\udfff]")  # half of a UTF-16 pair: what a lone `\\ud800` escape reads as


def _lone_half(text: str) -> str:
    """The first half of a UTF-16 pair in `text` that has no other half beside it."""
    at = 0
    while at < len(text):
        high = "\ud800" <= text[at] <= "\udbff"
        if high and at + 1 < len(text) and "\udc00" <= text[at + 1] <= "\udfff":
            at += 2
            continue
        if _SURROGATE.match(text[at]):
            return text[at]
        at += 1
    return "\ufffd"


def _scalar(value: str, tag: str) -> Any:
    if tag == f"{_STD}int":
        cleaned = value.replace("_", "")
        for base in (0, 10):  # base 0 reads 0x1F and 0o17; base 10 reads 010 (YAML 1.2: decimal)
            try:
                return int(cleaned, base)
            except ValueError:
                continue
        return value
    if tag == f"{_STD}float":
        lowered = value.lower().replace("_", "")
        if lowered in (".inf", "+.inf"):
            return float("inf")
        if lowered == "-.inf":
            return float("-inf")
        if lowered == ".nan":
            return float("nan")
        try:
            return float(lowered)
        except ValueError:
            return value
    if tag == f"{_STD}bool":
        return value.lower() in ("true", "yes", "on", "y")
    if tag == f"{_STD}null":
        return None
    if tag == f"{_STD}timestamp":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value

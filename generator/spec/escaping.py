"""Marketer text → each output language, safely: JS/TS literals, code comments, Markdown, HTML-inlined JSON.

HTML itself is escaped by Jinja2's autoescape (see tracking_plan.py). Everything here assumes the text
is hostile: `</script>`, `<!--`, quotes, backticks, `${...}`, `*/` and line breaks must never end a
string, a comment or a script block, wherever the output is pasted.
"""

from __future__ import annotations

import json
import re
from typing import Any

# JS line terminators are \n, \r, U+2028 and U+2029; \s also covers them and other oddities.
_SPACE_RUN = re.compile(r"\s+")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_HTML_SENSITIVE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def one_line(text: str) -> str:
    """Collapse every run of whitespace (including line breaks) to one space."""
    return _SPACE_RUN.sub(" ", text).strip()


def js_literal(value: Any) -> str:
    """A JS/TS literal through JSON encoding; `<`, `>`, `&`, U+2028/9 escaped so it is safe in a <script>."""
    encoded = json.dumps(value, ensure_ascii=False)
    return "".join(_HTML_SENSITIVE.get(ch, ch) for ch in encoded)


def js_key(name: str) -> str:
    """An object key or interface property: bare when it is an identifier, else a JSON string."""
    return name if _IDENTIFIER.match(name) else js_literal(name)


def comment_text(text: str) -> str:
    """Text for a `//` line or a `/** */` block: one line, cannot close the comment or a <script>."""
    flat = one_line(text)
    return flat.replace("*/", "*\\/").replace("</", "<\\/").replace("<!--", "<!\\--")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def md_text(text: str) -> str:
    """Marketer text as Markdown (also valid inside a GFM table cell): no HTML, no table break, no code."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MD_SPECIAL.sub(r"\\\1", escaped)
    lines = escaped.splitlines()  # every Unicode line break, U+2028 included
    return "<br>".join(ln for ln in lines if ln.strip())


def md_code(text: str, table: bool = True) -> str:
    """An inline code span for a name, pattern or value (`table`: escape `|` for a GFM table cell)."""
    flat = one_line(str(text))
    if table:
        flat = flat.replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def md_fenced(code: str, info: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run inside (so text cannot close it)."""
    longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    body = code if code.endswith("\n") else code + "\n"
    return f"{fence}{info}\n{body}{fence}"

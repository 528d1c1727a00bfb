"""Marketer-written text on the dashboard is text: never Markdown, HTML, a link or an image.

Titles, descriptions, objectives, teams, owners and tags come from the KPI files, which anyone with
write access to `kpis/` may edit. Streamlit renders Markdown (and GitHub's extensions: autolinked URLs and
addresses, `:colour[…]` and `:material/…:` directives, `$…$` maths) in `st.markdown`, `st.caption`,
`st.title`, metric labels and help tooltips, so a description such as `![x](https://tracker/?u=1)` would
make every viewer's browser fetch that image. Every such string goes through `md_text` (or `md_owner`)
before it reaches one of those calls; `st.dataframe` cells and select-box options are plain text already.
"""

from __future__ import annotations

import re

# Escaped wherever they are: emphasis, code, links and images (`[`), HTML (`<`), entities (`&`), tables
# (`|`), strikethrough (`~`), maths (`$`), and what GFM autolinks or Streamlit reads as a directive or an
# icon (`:` in `https://`, `:red[`, `:material/…:`; `@` in addresses).
_ALWAYS = frozenset("\\`*_[]<>&|~$:@")
# Escaped at the start of a line only (headings, lists, quotes, ordered lists like `1.` or `1)`).
_LINE_START = re.compile(r"^(\s*)([-+#>=]|\d+[.)])", re.MULTILINE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}")
MAX_CHARS = 2_000


def md_text(value: object, *, one_line: bool = True, limit: int = MAX_CHARS) -> str:
    """`value` as Markdown source that renders exactly as the text (on one line unless `one_line=False`)."""
    text = "" if value is None else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())  # no control or bidi-override chars
    text = re.sub(r"\s+", " ", text) if one_line else re.sub(r"[ \t]+", " ", text)
    out = "".join("\\" + ch if ch in _ALWAYS else ch for ch in text)
    out = _LINE_START.sub(lambda m: m[1] + m[2][:-1] + "\\" + m[2][-1], out)
    out = re.sub(r"(?i)(www)\.", r"\1\\.", out)  # GFM autolinks `www.example.com` without a scheme
    return out.replace("\n", "  \n") if not one_line else out


def is_email(value: object) -> bool:
    """Whether `value` is one plain e-mail address (nothing around it)."""
    return isinstance(value, str) and _EMAIL.fullmatch(value) is not None


def md_owner(value: object) -> str:
    """The owner: a `mailto:` link when it is a valid address, else the escaped text."""
    if is_email(value):
        return f"[{md_text(value)}](mailto:{value})"
    return md_text(value)


def md_code(value: object) -> str:
    """An id or a name as an inline code span (rendered literally); backticks and line breaks dropped."""
    text = " ".join(str(value).replace("`", "").split())
    return f"`{text}`" if text else ""

"""Issue 12 §4: every marketer-written string on the dashboard is text: no Markdown, HTML, link or image.

A hostile corpus goes into every text field of the serving copy's definitions (title, description,
objective, team, owner, tags, plain words); every page is run under AppTest, and every
Markdown string Streamlit would render (titles, markdown, captions, metric labels and tooltips, alerts,
page links) is rendered with a CommonMark parser: no link, image or HTML may come out, and each hostile
text must appear literally. The owner is a `mailto:` link only when it is one valid address.
"""

from __future__ import annotations

import re

import duckdb
import pytest
from fixture_warehouse import build_serving_db
from markdown_it import MarkdownIt

from dashboards.text import is_email, md_owner, md_text

HOSTILE = [
    "![pixel](https://tracker.example/p.gif?viewer=1)",
    "[click me](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "<script>alert('x')</script>",
    "**bold** _it_ `code` ~~gone~~",
    "# Heading\n- list\n> quote",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "visit www.evil.example or https://evil.example/x",
    "mail spy@evil.example now",
    ":red[alarm] :material/warning: $x^2$",
    "<https://autolink.example>",
    "a\\*b\\]c \\ end",
    "\u202eevil\u202c bidi and \x07 bell",
    "&lt;amp&gt; &copy;",
]
RENDERER = MarkdownIt("commonmark").enable("table").enable("strikethrough")
UNESCAPED_LINKISH = re.compile(r"www\.|(?<!\\):(?=/)|(?<!\\)@")  # what GFM would autolink


def markdown_strings(at) -> list[str]:
    """Everything on the page that Streamlit renders as Markdown."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    for metric in at.metric:
        out += [str(metric.label), str(metric.proto.help or "")]
    for link in at.get("page_link"):
        out.append(str(link.proto.label))
    return out


def hostile_serving(tmp_path):
    fixture = build_serving_db(tmp_path / "warehouse.serving.duckdb")
    with duckdb.connect(str(fixture.path)) as con:
        ids = [r[0] for r in con.execute("SELECT kpi_id FROM kpi_definitions ORDER BY kpi_id").fetchall()]
        for i, kpi_id in enumerate(ids):
            text = HOSTILE[i % len(HOSTILE)]
            other = HOSTILE[(i + 3) % len(HOSTILE)]
            con.execute("""
                UPDATE kpi_definitions SET title = $t, description = $o, objective = $o, team = $t,
                       owner = $owner, tags = [$t, $o], plain_words = $o
                WHERE kpi_id = $k
            """, {"t": f"{text} {i}", "o": other, "owner": "ana@shop.example" if i == 0 else f"{text} x@y.example",
                  "k": kpi_id})
    return fixture, ids


def assert_text_only(strings: list[str]) -> None:
    for source in strings:
        html = RENDERER.render(source)
        mailto_only = re.sub(r'<a href="mailto:[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+">[^<]*</a>', "", html)
        assert "<a " not in mailto_only, source
        assert "<img" not in html and "<script" not in html and "<h1" not in html and "<table" not in html, source
        without_mailto = re.sub(r"\]\(mailto:[^)]*\)", "]", source)
        assert not UNESCAPED_LINKISH.search(without_mailto), source


def test_every_page_shows_the_hostile_corpus_as_text(tmp_path, app):
    fixture, ids = hostile_serving(tmp_path)
    at = app(fixture.path).run()
    assert not at.exception
    pages = [markdown_strings(at)]
    for kpi_id in ids:
        at.query_params["kpi"] = kpi_id
        at.switch_page("app_pages/kpi.py").run()
        assert not at.exception, kpi_id
        pages.append(markdown_strings(at))
    for strings in pages:
        assert_text_only(strings)
    kpi_page = " ".join(pages[1])
    assert md_text(f"{HOSTILE[0]} 0") in kpi_page  # the title, literally
    assert "[ana\\@shop.example](mailto:ana@shop.example)" in kpi_page  # a valid owner is a mailto: link
    for strings, kpi_id in zip(pages[2:], ids[1:], strict=True):
        assert "mailto:" not in " ".join(strings), kpi_id  # an owner with more than an address is not


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_renders_back_to_the_text(text):
    html = RENDERER.render(md_text(text))
    assert "<a " not in html and "<img" not in html and "<script" not in html
    plain = re.sub(r"<[^>]+>", "", html).strip()
    import html as html_lib

    expected = " ".join("".join(c for c in text if c.isprintable() or c in "\n\t").split())
    assert html_lib.unescape(plain) == expected


def test_owner_is_a_mailto_link_only_when_it_is_one_valid_address():
    assert md_owner("ana@shop.example") == "[ana\\@shop.example](mailto:ana@shop.example)"
    for owner in ("Ana Lopez", "ana@shop", "ana@shop.example)](javascript:x", "a@b.example c@d.example",
                  "ana@shop.example\n", "<ana@shop.example>"):
        assert not is_email(owner)
        assert "mailto:" not in md_owner(owner)

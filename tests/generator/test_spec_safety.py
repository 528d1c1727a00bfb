"""Marketer text is hostile: `<script>`, `</script>`, `<!--`, quotes, backticks, `${...}`, `*/`, U+2028 and
newlines in triggers, descriptions, titles, owners and enum values. Nothing executes, nothing breaks out,
and every generated JS / TS / JSON file still parses."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from jinja2 import StrictUndefined

from generator.rules.validate import validate_paths
from generator.spec.escaping import comment_text, js_literal, md_code, md_fenced, md_text
from generator.targets import tracking_plan
from generator.targets.build import build_artifacts

HOSTILE = ('Evil </script><script>document.title="PWNED"</script> <!-- x --> \' " ` ${alert(1)} */ \u2028 '
           '<img src=x onerror="document.title=\'PWNED\'">\nsecond line | pipe *bold* [a](javascript:alert(1)) ```')
ENUM_VALUE = 'a"b</script>${x}`\u2028'
NODE = shutil.which("node")
CHROMIUM = shutil.which("chromium")


def write_hostile_catalog(root: Path) -> Path:
    kpis = root / "kpis"
    kpis.mkdir(parents=True)
    h, e = json.dumps(HOSTILE), json.dumps(ENUM_VALUE)
    (kpis / "events.yaml").write_text(f"""version: 1
events:
  hostile_event:
    trigger: {h}
    description: {h}
    key_event: true
    params:
      evil_param: {{type: string, required: true, enum: [{e}, plain], description: {h}, example: {e}}}
      amount: {{type: number, description: {h}}}
""", encoding="utf-8")
    (kpis / "hostile_kpi.yaml").write_text(f"""version: 1
kpi: hostile_kpi
title: {json.dumps("Evil </script> ` ${x} title")}
description: {h}
objective: {h}
owner: {json.dumps("<b>owner</b>@example.com ` ${x} </script>")}
team: {json.dumps("team </script>")}
measure:
  sum: {{event: hostile_event, param: amount}}
breakdowns: [{{param: evil_param}}]
target: 10
""", encoding="utf-8")
    return kpis


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    kpis = write_hostile_catalog(tmp_path_factory.mktemp("hostile"))
    validated = validate_paths([kpis])
    assert not validated.report.errors, [i.message for i in validated.report.errors]
    return {a.path: a.content for a in build_artifacts(validated.catalog)}


def test_html_escapes_everything(hostile: dict[str, str]) -> None:
    html = hostile["spec/index.html"]
    assert html.count("<script") == 1 and html.count("</script>") == 1, "only the page's own static script"
    assert "<img" not in html and "<b>" not in html and "<!-- x" not in html
    assert "&lt;/script&gt;&lt;script&gt;" in html


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_nothing_executes_in_a_browser(hostile: dict[str, str], tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text(hostile["spec/index.html"], encoding="utf-8")
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=2000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "<title>Tracking spec · KPI Bridge</title>" in dom
    assert "PWNED</title>" not in dom and "<img" not in dom


def _js_files(hostile: dict[str, str]) -> dict[str, str]:
    return {p: c for p, c in hostile.items() if p.endswith(".js")}


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_snippets_parse_and_carry_the_value_intact(hostile: dict[str, str], tmp_path: Path) -> None:
    files = _js_files(hostile)
    assert len(files) == 2
    for path, code in files.items():
        f = tmp_path / Path(path).name
        f.write_text(code, encoding="utf-8")
        subprocess.run([NODE, "--check", str(f)], check=True, capture_output=True)
        run = ("const vm=require('vm'),fs=require('fs');const c=[],x={window:{},gtag:(...a)=>c.push(a)};"
               "vm.createContext(x);vm.runInContext(fs.readFileSync(process.argv[1],'utf8'),x);"
               "process.stdout.write(JSON.stringify([c,x.window.dataLayer||null]))")
        calls, data_layer = json.loads(subprocess.run([NODE, "-e", run, str(f)], check=True, capture_output=True,
                                                      text=True).stdout)
        sent = calls[0][2] if calls else data_layer[-1]
        assert sent["evil_param"] == ENUM_VALUE, "the literal round-trips exactly"
        assert "</script" not in code and "<!--" not in code, "safe to paste into an inline <script>"


@functools.cache
def tsc() -> list[str] | None:
    """TypeScript's compiler through npx, if it is cached or installs within two minutes."""
    npx = shutil.which("npx")
    if npx is None:
        return None
    for flag in ("--no-install", "--yes"):
        try:
            probe = subprocess.run([npx, flag, "-p", "typescript@5", "tsc", "--version"], capture_output=True,
                                   timeout=120)
        except subprocess.TimeoutExpired:
            continue
        if probe.returncode == 0:
            return [npx, flag, "-p", "typescript@5", "tsc"]
    return None


@pytest.mark.slow
def test_tracking_ts_compiles(hostile: dict[str, str], tmp_path: Path, example_kpis_dir: Path) -> None:
    compiler = tsc()
    if compiler is None:
        pytest.skip("TypeScript (npx typescript@5) is not available")
    examples = {a.path: a.content for a in build_artifacts(validate_paths([example_kpis_dir]).catalog)}
    for name, source in (("hostile", hostile["spec/tracking.ts"]), ("examples", examples["spec/tracking.ts"])):
        f = tmp_path / f"{name}.ts"
        f.write_text(source, encoding="utf-8")
        done = subprocess.run([*compiler, "--noEmit", "--strict", "--target", "es2020", str(f)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr


def test_tracking_ts_literals_are_json_and_comments_stay_closed(hostile: dict[str, str]) -> None:
    ts = hostile["spec/tracking.ts"]
    assert "\u2028" not in ts and "</script" not in ts
    for block in re.findall(r"/\*\*.*?\*/", ts, flags=re.S):
        assert block.count("*/") == 1
    code = "\n".join(ln for ln in ts.splitlines() if not ln.lstrip().startswith(("//", "/*", "*")))
    for literal in re.findall(r'"(?:[^"\\\n]|\\.)*"', code):
        json.loads(literal)
    assert 'export type HostileEventEvilParam = "a\\"b\\u003c/script\\u003e${x}`\\u2028" | "plain";' in ts


def test_json_files_parse_and_keep_the_text(hostile: dict[str, str]) -> None:
    for path, content in hostile.items():
        if path.endswith(".json"):
            json.loads(content)
    schema = json.loads(hostile["spec/events/hostile_event.schema.json"])
    assert schema["$defs"]["params"]["properties"]["evil_param"]["enum"] == [ENUM_VALUE, "plain"]
    admin = json.loads(hostile["spec/ga4-admin.json"])
    [dim] = admin["custom_dimensions"]
    assert len(dim["admin_api"]["description"]) <= 150


def _outside_fences(md: str) -> str:
    out, fence = [], None
    for line in md.splitlines():
        m = re.match(r"^(`{3,})", line)
        if m and (fence is None or m.group(1) == fence):
            fence = None if fence else m.group(1)
            continue
        if fence is None:
            out.append(line)
    return "\n".join(out)


def test_markdown_escapes_html_pipes_and_fences(hostile: dict[str, str]) -> None:
    md = hostile["spec/tracking-plan.md"]
    assert "````js" in md, "a fence longer than the ``` inside the text"
    prose = _outside_fences(md)
    assert "<script" not in prose and "<img" not in prose and "<b>" not in prose
    assert not re.search(r"(?<!\\)\]\(javascript:", prose), "brackets escaped: no link"
    for line in prose.splitlines():
        if line.startswith("| ") and "---" not in line:
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            assert len(cells) in (2, 4, 5, 7), line


def test_escaping_helpers() -> None:
    assert js_literal("</script><!--\u2028") == '"\\u003c/script\\u003e\\u003c!--\\u2028"'
    assert comment_text("a */ b\nc </script> <!-- d") == "a *\\/ b c <\\/script> <!\\-- d"
    assert md_text("a|b\n<i>`c`") == "a\\|b<br>&lt;i&gt;\\`c\\`"
    assert md_code("x`|y") == "``x`\\|y``"
    assert md_code("`x", table=False) == "`` `x ``"
    assert md_fenced("a ```` b", "js").startswith("`````js\n")


def test_templates_are_strict_and_html_autoescaped() -> None:
    assert tracking_plan.HTML.undefined is StrictUndefined and tracking_plan.TEXT.undefined is StrictUndefined
    assert tracking_plan.HTML.autoescape is True
    with pytest.raises(Exception, match="undefined"):
        tracking_plan.HTML.from_string("{{ missing }}").render()

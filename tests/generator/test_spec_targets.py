"""The spec targets over the example KPIs: schemas are valid draft 2020-12 and accept exactly the right
events, snippets parse and send schema-valid events, tracking.ts compiles, the admin manifest fits GA4."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from generator.rules.validate import validate_paths
from generator.spec.model import EventEntry, SpecModel, build_spec
from generator.targets.build import build_artifacts

NODE = shutil.which("node")
RUN_SNIPPET = r"""
const vm = require("vm"), fs = require("fs");
const calls = [], ctx = { window: {}, gtag: (...a) => calls.push(a) };
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(process.argv[1], "utf8"), ctx);
process.stdout.write(JSON.stringify({ calls, dataLayer: ctx.window.dataLayer || null }));
"""


@pytest.fixture(scope="module")
def example(example_kpis_dir: Path) -> tuple[SpecModel, dict[str, str]]:
    validated = validate_paths([example_kpis_dir])
    assert not validated.report.errors
    artifacts = {a.path: a.content for a in build_artifacts(validated.catalog)}
    return build_spec(validated.catalog), artifacts


def schema_of(artifacts: dict[str, str], e: EventEntry) -> dict[str, Any]:
    return json.loads(artifacts[f"spec/events/{e.file_stem}.schema.json"])


def sample_params(e: EventEntry) -> dict[str, Any]:
    return {p.name: copy.deepcopy(p.placeholder) for p in e.params}


def mp_event(e: EventEntry, params: dict[str, Any]) -> dict[str, Any]:
    return {"name": e.name, "params": params}


def push(e: EventEntry, params: dict[str, Any]) -> dict[str, Any]:
    return {"event": e.name, "ecommerce": params} if e.ecommerce else {"event": e.name, **params}


def test_every_event_schema_is_valid_draft_2020_12(example: tuple[SpecModel, dict[str, str]]) -> None:
    spec, artifacts = example
    assert spec.events
    for e in spec.events:
        schema = schema_of(artifacts, e)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def test_sample_events_are_valid_as_mp_event_and_as_datalayer_push(example: tuple[SpecModel, dict[str, str]]) -> None:
    spec, artifacts = example
    for e in spec.events:
        v = Draft202012Validator(schema_of(artifacts, e))
        params = sample_params(e)
        assert not list(v.iter_errors(mp_event(e, params))), e.name
        assert not list(v.iter_errors(push(e, params))), e.name
        required_only = {p.name: copy.deepcopy(p.placeholder) for p in e.params if p.required}
        assert not list(v.iter_errors(mp_event(e, required_only))), e.name


def _mutations(e: EventEntry) -> list[tuple[str, dict[str, Any]]]:
    """(what is wrong, params) pairs, each breaking exactly one rule of the event."""
    base = sample_params(e)
    out: list[tuple[str, dict[str, Any]]] = []
    for p in e.params:
        if p.required:
            out.append((f"{p.name} missing", {k: v for k, v in base.items() if k != p.name}))
        wrong: Any = 12345 if p.type in ("string", "items") else "not a number"
        out.append((f"{p.name} wrong type", {**base, p.name: wrong}))
        if p.enum:
            out.append((f"{p.name} outside enum", {**base, p.name: "definitely_not_allowed"}))
        if p.pattern:
            out.append((f"{p.name} breaks pattern", {**base, p.name: "lower case & spaces!"}))
        if p.max_length:
            out.append((f"{p.name} too long", {**base, p.name: "x" * (p.max_length + 1)}))
        if p.min is not None:
            out.append((f"{p.name} below min", {**base, p.name: p.min - 1}))
        if p.type == "items" and p.required:
            out.append(("items empty", {**base, p.name: []}))
            out.append(("item without id or name", {**base, p.name: [{"price": 1, "quantity": 1}]}))
    out.append(("26 params", {**base, **{f"extra_{i}": "x" for i in range(26)}}))
    out.append(("bad param name", {**base, "bad-name": "x"}))
    out.append(("reserved param prefix", {**base, "ga_thing": "x"}))
    return out


def test_schemas_reject_each_invalid_sample(example: tuple[SpecModel, dict[str, str]]) -> None:
    spec, artifacts = example
    for e in spec.events:
        v = Draft202012Validator(schema_of(artifacts, e))
        for what, params in _mutations(e):
            assert list(v.iter_errors(mp_event(e, params))), f"{e.name}: {what} (MP) accepted"
            assert list(v.iter_errors(push(e, params))) or what == "26 params", f"{e.name}: {what} (push) accepted"


def test_schema_rejects_other_event_names_and_unwrapped_ecommerce(example: tuple[SpecModel, dict[str, str]]) -> None:
    spec, artifacts = example
    for e in spec.events:
        v = Draft202012Validator(schema_of(artifacts, e))
        params = sample_params(e)
        assert list(v.iter_errors({"name": e.name + "_x", "params": params}))
        assert list(v.iter_errors({"event": e.name + "_x", **params}))
        if e.ecommerce:
            assert list(v.iter_errors({"event": e.name, **params})), "ecommerce params must sit under `ecommerce`"


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_snippets_parse_and_send_schema_valid_events(example: tuple[SpecModel, dict[str, str]], tmp_path: Path) -> None:
    spec, artifacts = example
    checked = 0
    for e in spec.to_implement:
        v = Draft202012Validator(schema_of(artifacts, e))
        for kind in ("gtag", "datalayer"):
            path = tmp_path / f"{e.file_stem}.{kind}.js"
            path.write_text(artifacts[f"spec/snippets/{e.file_stem}.{kind}.js"], encoding="utf-8")
            subprocess.run([NODE, "--check", str(path)], check=True, capture_output=True)
            ran = json.loads(subprocess.run([NODE, "-e", RUN_SNIPPET, str(path)], check=True,
                                            capture_output=True, text=True).stdout)
            if kind == "gtag":
                [(command, name, params)] = ran["calls"]
                assert (command, name) == ("event", e.name)
                sent = {"name": name, "params": params}
            else:
                pushes = ran["dataLayer"]
                if e.ecommerce:
                    assert pushes[0] == {"ecommerce": None}, "clear the previous ecommerce object first"
                sent = pushes[-1]
            assert not list(v.iter_errors(sent)), f"{e.name} {kind}: {[x.message for x in v.iter_errors(sent)]}"
            stamped = sent["params"] if kind == "gtag" else (sent["ecommerce"] if e.ecommerce else sent)
            assert stamped["kb_spec"] == e.spec_version, "every event carries its spec version"
            checked += 1
    assert checked >= 2


def test_tracking_ts_string_literals_are_json(example: tuple[SpecModel, dict[str, str]]) -> None:
    _, artifacts = example
    code_lines = [ln for ln in artifacts["spec/tracking.ts"].splitlines()
                  if not ln.lstrip().startswith(("//", "/*", "*"))]
    literals = re.findall(r'"(?:[^"\\\n]|\\.)*"', "\n".join(code_lines))
    assert literals
    for lit in literals:
        json.loads(lit)


def test_tracking_ts_has_one_typed_function_per_event(example: tuple[SpecModel, dict[str, str]]) -> None:
    spec, artifacts = example
    ts = artifacts["spec/tracking.ts"]
    assert ts.count("export function track") == len(spec.to_implement)
    for e in spec.to_implement:
        ecommerce = "true" if e.ecommerce else "false"
        assert f'sendEvent("{e.name}", {{ ...params, kb_spec: "{e.spec_version}" }}, {ecommerce});' in ts
        assert re.fullmatch(r"[0-9a-f]{8}", e.spec_version)
        for p in e.params:
            if p.name == "kb_spec":  # the function sends the stamp itself: not a param of its interface
                assert not re.search(r"\n  kb_spec\??: ", ts)
                continue
            if p.enum:
                assert " | ".join(json.dumps(v) for v in p.enum) in ts
            assert re.search(rf"\n  {p.name}{'' if p.required else '[?]'}: ", ts), (e.name, p.name)


def test_ga4_admin_manifest_fits_ga4(example: tuple[SpecModel, dict[str, str]]) -> None:
    spec, artifacts = example
    admin = json.loads(artifacts["spec/ga4-admin.json"])
    defs = admin["custom_dimensions"] + admin["custom_metrics"]
    assert len(admin["custom_dimensions"]) == len(spec.custom_dimensions)
    for d in defs:
        body = d["admin_api"]
        assert len(body["displayName"]) <= 82 and re.match(r"^[A-Za-z][A-Za-z0-9_ ]*$", body["displayName"])
        assert len(body["description"]) <= 150
        assert body["scope"] == "EVENT"
        assert d["kpis"] and all(k["owner"] for k in d["kpis"])
    for k in admin["key_events"]:
        assert k["admin_api"]["countingMethod"] in ("ONCE_PER_EVENT", "ONCE_PER_SESSION")
        assert k["kpis"]
    q = admin["quota"]["event_scoped_dimensions"]
    assert q == {"used": len(admin["custom_dimensions"]), "limit": 50,
                 "text": f"{len(admin['custom_dimensions'])} / 50 event-scoped custom dimensions"}


def test_html_page_is_self_contained(example: tuple[SpecModel, dict[str, str]]) -> None:
    spec, artifacts = example
    html = artifacts["spec/index.html"]
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I), "no network requests"
    assert "<link" not in html and "@import" not in html and "url(" not in html
    for e in spec.events:
        assert f'id="event-{e.name}"' in html
    for k in spec.kpis:
        assert k.id in html and k.owner in html
    assert "2 / 50" in html or f"{len(spec.custom_dimensions)} / 50" in html
    assert html.count("data-copy>") == 2 * len(spec.to_implement)


def test_every_param_row_says_who_needs_it(example: tuple[SpecModel, dict[str, str]]) -> None:
    spec, artifacts = example
    md = artifacts["spec/tracking-plan.md"]
    rows = [ln for ln in md.splitlines() if ln.startswith("| `") and ln.count("|") >= 8]
    assert len(rows) == sum(len(e.params) for e in spec.events)
    for row in rows:
        last = row.rstrip(" |").rsplit("|", 1)[-1]
        assert "@" in last or "part of the event" in last or "optional GA4 param" in last, row


def test_the_readme_snippet_is_real(repo_root: Path, example: tuple[SpecModel, dict[str, str]]) -> None:
    _, artifacts = example
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    snippet = readme.split("```js\n", 1)[1].split("```", 1)[0]
    assert snippet in artifacts["spec/snippets/sign_up.datalayer.js"]

"""`spec/gtm-container.json` against GTM's export format (a JSON Schema the tests hold), its tags and
variables against what the dataLayer snippets and `tracking.ts` really push, with only GTM on the page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from test_spec_safety import tsc

from generator.rules.validate import validate_paths
from generator.spec.model import SpecModel, build_spec
from generator.targets.build import build_artifacts

NODE = shutil.which("node")
SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "gtm" / "container-export.schema.json"
BUILT_IN = {"_event", "Event"}
ALL_PAGES = "2147479553"
RUN_SNIPPET = r"""
const vm = require("vm"), fs = require("fs");
const ctx = { window: {} };
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(process.argv[1], "utf8"), ctx);
process.stdout.write(JSON.stringify(ctx.window.dataLayer));
"""
# tracking.ts compiled to CommonJS, run where only GTM's dataLayer exists (no gtag): call every function
RUN_TRACKING = r"""
const vm = require("vm"), fs = require("fs");
const ctx = { exports: {}, dataLayer: [] };
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(process.argv[1], "utf8"), ctx);
const calls = JSON.parse(process.argv[2]);
const out = {};
for (const [fn, params] of Object.entries(calls)) {
  ctx.dataLayer.length = 0;
  ctx.exports[fn](params);
  out[fn] = JSON.parse(JSON.stringify(ctx.dataLayer));
}
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def built(example_kpis_dir: Path) -> tuple[SpecModel, dict[str, str]]:
    validated = validate_paths([example_kpis_dir])
    return build_spec(validated.catalog), {a.path: a.content for a in build_artifacts(validated.catalog)}


@pytest.fixture(scope="module")
def gtm(built) -> dict[str, Any]:
    return json.loads(built[1]["spec/gtm-container.json"])


def resolve(push: dict[str, Any], path: str) -> Any:
    """What GTM's Data Layer Variable (version 2) reads at a dotted path."""
    value: Any = push
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def table(tag: dict[str, Any]) -> dict[str, str]:
    rows = next(p["list"] for p in tag["parameter"] if p["key"] == "eventSettingsTable")
    return {m["map"][0]["value"]: m["map"][1]["value"] for m in rows}


def param(tag: dict[str, Any], key: str) -> str:
    return next(p["value"] for p in tag["parameter"] if p.get("key") == key)


def test_the_container_is_a_gtm_export(gtm) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    errors = sorted(Draft202012Validator(schema).iter_errors(gtm), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_schema_rejects_what_gtm_would_not_import(gtm) -> None:
    validator = Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    broken = json.loads(json.dumps(gtm))
    broken["containerVersion"]["tag"][1]["firingTriggerId"] = []
    broken["containerVersion"]["trigger"][0].pop("customEventFilter")
    broken["containerVersion"]["variable"][0]["parameter"][0]["type"] = "STRING"
    assert len(list(validator.iter_errors(broken))) == 3


def test_ids_names_and_references_hold_together(gtm) -> None:
    cv = gtm["containerVersion"]
    variables = {v["name"] for v in cv["variable"]}
    triggers = {t["triggerId"] for t in cv["trigger"]}
    for kind, key in (("tag", "tagId"), ("trigger", "triggerId"), ("variable", "variableId")):
        assert len({x[key] for x in cv[kind]}) == len(cv[kind]), f"{kind} ids are unique"
        assert len({x["name"] for x in cv[kind]}) == len(cv[kind]), f"{kind} names are unique"
    for tag in cv["tag"]:
        assert set(tag["firingTriggerId"]) <= triggers | {ALL_PAGES}
    refs = set(re.findall(r"\{\{([^{}]+)\}\}", json.dumps(cv)))
    assert refs <= variables | BUILT_IN, refs - variables - BUILT_IN
    used = set(re.findall(r"\{\{([^{}]+)\}\}", json.dumps(cv["tag"])))
    assert variables <= used, "no variable is left unused"


def test_one_ga4_event_tag_per_event_reading_what_the_snippet_pushes(built, gtm, tmp_path: Path) -> None:
    spec, artifacts = built
    cv = gtm["containerVersion"]
    tags = {param(t, "eventName"): t for t in cv["tag"] if t["type"] == "gaawe"}
    assert sorted(tags) == sorted(e.name for e in spec.to_implement)
    triggers = {t["triggerId"]: t for t in cv["trigger"]}
    paths = {v["name"]: param(v, "name") for v in cv["variable"] if v["type"] == "v"}
    for e in spec.to_implement:
        tag = tags[e.name]
        [trigger_id] = tag["firingTriggerId"]
        condition = triggers[trigger_id]["customEventFilter"][0]["parameter"]
        assert [c["value"] for c in condition] == ["{{_event}}", e.name]
        assert param(tag, "sendEcommerceData") == ("true" if e.ecommerce else "false")
        assert e.spec_version in tag["notes"]
        expected = {p.name for p in e.snippet_params if p.type != "items"}
        assert set(table(tag)) == expected and "kb_spec" in expected
        consent = tag["consentSettings"]["consentStatus"]
        assert consent == ("NOT_SET" if e.before_consent else "NEEDED")
        if NODE is None:
            continue
        snippet = tmp_path / f"{e.file_stem}.js"
        snippet.write_text(artifacts[f"spec/snippets/{e.file_stem}.datalayer.js"], encoding="utf-8")
        push = json.loads(subprocess.run([NODE, "-e", RUN_SNIPPET, str(snippet)], check=True,
                                         capture_output=True, text=True).stdout)[-1]
        for name, ref in table(tag).items():
            value = resolve(push, paths[ref.strip("{}")])
            assert value is not None, f"{e.name}.{name}: the variable {ref} reads nothing the snippet pushes"
        assert resolve(push, paths[table(tag)["kb_spec"].strip("{}")]) == e.spec_version


@pytest.mark.slow
@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_tracking_ts_with_only_gtm_pushes_what_the_container_reads(built, gtm, tmp_path: Path) -> None:
    compiler = tsc()
    if compiler is None:
        pytest.skip("TypeScript (npx typescript@5) is not available")
    spec, artifacts = built
    source = tmp_path / "tracking.ts"
    source.write_text(artifacts["spec/tracking.ts"], encoding="utf-8")
    done = subprocess.run([*compiler, "--strict", "--target", "es2020", "--module", "commonjs", "--outDir",
                           str(tmp_path / "out"), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    names = dict(re.findall(r"export function (track\w+)\(.*?\n  sendEvent\((\"[^\"]+\")", artifacts["spec/tracking.ts"]))
    calls = {fn: {p.name: p.placeholder for p in spec.event(json.loads(ev)).snippet_params if p.name != "kb_spec"}
             for fn, ev in names.items()}
    ran = json.loads(subprocess.run([NODE, "-e", RUN_TRACKING, str(tmp_path / "out" / "tracking.js"),
                                     json.dumps(calls)], check=True, capture_output=True, text=True).stdout)
    cv = gtm["containerVersion"]
    tags = {param(t, "eventName"): t for t in cv["tag"] if t["type"] == "gaawe"}
    paths = {v["name"]: param(v, "name") for v in cv["variable"] if v["type"] == "v"}
    schemas = {e.name: Draft202012Validator(json.loads(artifacts[f"spec/events/{e.file_stem}.schema.json"]))
               for e in spec.to_implement}
    assert len(ran) == len(spec.to_implement)
    for fn, pushes in ran.items():
        event = json.loads(names[fn])
        e = spec.event(event)
        if e.ecommerce:
            assert pushes[0] == {"ecommerce": None}
        push = pushes[-1]
        assert push["event"] == event
        assert not list(schemas[event].iter_errors(push)), [x.message for x in schemas[event].iter_errors(push)]
        for name, ref in table(tags[event]).items():
            assert resolve(push, paths[ref.strip("{}")]) is not None, (event, name)
        assert resolve(push, paths[table(tags[event])["kb_spec"].strip("{}")]) == e.spec_version

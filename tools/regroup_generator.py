"""Issue 11 §4: move generator/'s top-level modules into stage packages and rewrite every reference.

Run from a repo root: python tools/regroup_generator.py . -- on a branch made before the move (e.g. i13-periods),
then merge main: both sides made the same moves and import rewrites. Then `ruff check --fix .`.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

MOVES = {
    # parse: KPI files -> documents with source locations -> catalog
    "loading": "parse.loading",
    "bounded_read": "parse.bounded_read",
    "validation_errors": "parse.validation_errors",
    "catalog": "parse.catalog",
    "git_revisions": "parse.git_revisions",
    "measures": "parse.measures",
    # rules: issues found in the catalog
    "validate": "rules.validate",
    "regex": "rules.regex",
    "pii_values": "rules.pii_values",
    # plan: what to compute
    "plan": "plan.queries",
    "api_plan": "plan.api_plan",
    "formula": "plan.formula",
    # spec: what IT implements
    "spec_model": "spec.model",
    "spec_snapshot": "spec.snapshot",
    "spec_stamp": "spec.stamp",
    "diff": "spec.diff",
    "diff_live": "spec.diff_live",
    "check_events": "spec.check_events",
    "placeholders": "spec.placeholders",
    "plain_words": "spec.plain_words",
    "custom_definitions": "spec.custom_definitions",
    # targets: files written by `kpi generate`
    "build": "targets.build",
    "escaping": "spec.escaping",
    "schema": "targets.file_schema",
    # cli: the commands
    "cli": "cli.commands",
    "cli_compile": "cli.compile_or_exit",
    "cli_explain": "cli.explain_command",
    "explain": "cli.explain",
    "report_formats": "cli.report_formats",
}
PACKAGES = {"parse": "KPI files → documents stamped with file:line → the catalog.",
            "plan": "The catalog → the QueryPlan (SQL's input) and the GA4 Data API plan.",
            "spec": "The catalog → the tracking spec IT implements, its snapshot, stamp and diff.",
            "cli": "The generator's `kpi` commands: validate, schema, generate, diff, check-events, explain."}
SKIP_DIRS = {".git", ".hypothesis", ".cache", "node_modules", "test-artifacts", "__pycache__", "kpibridge.egg-info", ".venv"}
TEXT_EXT = {".py", ".md", ".toml", ".cfg", ".txt", ".yaml", ".yml", ".j2", ".sh", ".json", ".ini"}

def new_name(mod: str) -> str:
    """generator.<old>[.rest] -> generator.<new>[.rest]"""
    parts = mod.split(".")
    if len(parts) >= 2 and parts[0] == "generator" and parts[1] in MOVES:
        return ".".join(["generator", *MOVES[parts[1]].split("."), *parts[2:]])
    return mod

def package_of(path: Path, root: Path) -> list[str]:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    return parts[:-1] if parts[-1] != "__init__" else parts[:-1]

REL = re.compile(r"^(\s*from\s+)(\.+)([\w.]*)(\s+import\b)", re.M)

def rewrite_relative(text: str, old_pkg: list[str], new_pkg: list[str]) -> str:
    def repl(m: re.Match[str]) -> str:
        dots, mod = len(m.group(2)), m.group(3)
        base = old_pkg[: len(old_pkg) - (dots - 1)]
        target = ".".join(base + ([mod] if mod else []))
        target = new_name(target).split(".")
        if not mod:  # from . import x: package itself
            target = base
        common = 0
        while common < min(len(new_pkg), len(target)) and new_pkg[common] == target[common]:
            common += 1
        up = len(new_pkg) - common
        rest = ".".join(target[common:])
        return f"{m.group(1)}{'.' * (up + 1)}{rest}{m.group(4)}"
    return REL.sub(repl, text)

OLD = "|".join(sorted(MOVES, key=len, reverse=True))
DOTTED = re.compile(rf"\bgenerator\.({OLD})\b(?!\.py)")
SLASHED = re.compile(rf"\bgenerator/({OLD})\.py\b")
FROM_PKG = re.compile(rf"^(\s*)from generator import ({OLD})(\s+as\s+\w+)?\s*$", re.M)

def rewrite_absolute(text: str) -> str:
    def from_pkg(m: re.Match[str]) -> str:
        new = MOVES[m.group(2)].split(".")
        alias = m.group(3) or f" as {m.group(2)}"
        if new[-1] == m.group(2) and not m.group(3):
            alias = ""
        return f"{m.group(1)}from generator.{'.'.join(new[:-1])} import {new[-1]}{alias}"
    text = DOTTED.sub(lambda m: "generator." + MOVES[m.group(1)], text)
    text = FROM_PKG.sub(from_pkg, text)  # after DOTTED, whose pattern would map its output again
    return SLASHED.sub(lambda m: "generator/" + MOVES[m.group(1)].replace(".", "/") + ".py", text)

def main(root: Path) -> None:
    gen = root / "generator"
    # 1. relative imports inside generator/, resolved against each file's old and new package
    for path in gen.rglob("*.py"):
        if any(p in SKIP_DIRS for p in path.parts):
            continue
        old_pkg = package_of(path, root)
        stem = path.stem
        if len(old_pkg) == 1 and stem in MOVES:
            new_pkg = ["generator", *MOVES[stem].split(".")[:-1]]
        else:
            new_pkg = old_pkg
        text = path.read_text()
        new = rewrite_relative(text, old_pkg, new_pkg)
        if new != text:
            path.write_text(new)
    # 2. absolute references everywhere (code, docs, config)
    for path in root.rglob("*"):
        if not path.is_file() or (path.suffix not in TEXT_EXT and path.name not in {"Makefile", "run"}) or path.name == "CHANGELOG.md" or any(p in SKIP_DIRS for p in path.parts):
            continue
        if path.resolve() == Path(__file__).resolve():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        new = rewrite_absolute(text)
        if new != text:
            path.write_text(new)
    # 3. the moves
    for pkg, doc in PACKAGES.items():
        init = gen / pkg / "__init__.py"
        if not init.exists():
            init.parent.mkdir(exist_ok=True)
            init.write_text(f'"""{doc}"""\n')
            subprocess.run(["git", "add", str(init)], cwd=root, check=True)
    for old, new in MOVES.items():
        src = gen / f"{old}.py"
        if src.exists():
            dst = gen / (new.replace(".", "/") + ".py")
            subprocess.run(["git", "mv", str(src), str(dst)], cwd=root, check=True)

if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())

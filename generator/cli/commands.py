"""`kpi validate`, `kpi schema`, `kpi generate`, `kpi diff`, `kpi check-events`, `kpi explain`."""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from ..sql.export_shape import ERA_HELP, ERAS, NEWEST
from .compile_or_exit import compiled_or_exit
from .report_formats import print_text

if TYPE_CHECKING:
    from ..compile import Compiled
    from ..issues import Issue
    from ..parse.catalog import KpiCatalog

# The KPI files' models, rules and targets are imported inside the commands: `kpi --help` needs none of them.


class ReportFormat(enum.StrEnum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


def validate_command(
    paths: list[Path] = typer.Argument(None, help="KPI files or folders (default: kpis/)."),
    format: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f", help="Output format."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
    db: Path | None = typer.Option(None, "--db", help="Also check every filter and breakdown value against the data "
                                   "loaded in this warehouse, and that every KPI computes something."),
) -> None:
    """Check KPI files and the events catalog: every problem at once, each with file:line and a fix."""
    from ..compile import compile_paths
    from ..rules import code_titles
    from ..rules.data_values import superseded
    from .report_formats import to_github, to_json, to_sarif

    targets = paths or [Path("kpis")]
    missing = [p for p in targets if not p.exists()]
    if missing:
        Console(stderr=True).print(f"[red]No such file or folder: {', '.join(map(str, missing))}[/]. "
                                   "Run `kpi validate` in your project folder, or pass the path to kpis/.")
        raise typer.Exit(2)
    result = compile_paths(targets)
    report = result.report
    if not result.catalog.kpis and not report.errors and all(p.is_dir() for p in targets):
        _explain_no_kpis(targets)
        raise typer.Exit(1)
    if db is not None and _data_check is not None:
        found = _data_check(result.catalog, db)
        if isinstance(found, str):
            Console(stderr=True, highlight=False).print(f"[red]{escape(found)}[/]")
            raise typer.Exit(2)
        report.issues = [*superseded(report.issues, found), *found]
    if format is ReportFormat.json:
        sys.stdout.write(to_json(report) + "\n")
    elif format is ReportFormat.github:
        sys.stdout.write(to_github(report) + "\n")
    elif format is ReportFormat.sarif:
        sys.stdout.write(to_sarif(report, code_titles()) + "\n")
    else:
        print_text(report, Console())
    raise typer.Exit(1 if report.has_errors(strict) else 0)


def _explain_no_kpis(paths: list[Path]) -> None:
    """Nothing to check is not "✓ 0 files": say where we looked and how to write the first KPI."""
    where = ", ".join(escape(str(p)) for p in paths)
    Console(stderr=True, highlight=False).print(
        f"[red]✗ No KPI files in {where}[/]: found no `*.yaml` file holding a KPI (`id:`, `title:`, `measure:`).\n"
        "  Write one per KPI, e.g. kpis/sessions.yaml (the authoring guide, kpis/README.md, has an example "
        "for every kind of measure), or pass the folder that holds them: `kpi validate path/to/kpis`."
    )


def schema_command(
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Print the JSON Schema of KPI files and the events catalog (editors use it to autocomplete)."""
    from ..targets.file_schema import json_schema_text

    text = json_schema_text()
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        Console(stderr=True).print(f"[red]Cannot write {out}: {exc.strerror or exc}[/]")
        raise typer.Exit(2) from None
    Console(stderr=True).print(f"Wrote the JSON Schema to {out}.")


# --- kpi generate, kpi diff, kpi check-events (the tracking spec) -------------------------------------

ExportEra = enum.StrEnum("ExportEra", {era: era for era in ERAS})  # type: ignore[misc]


def generate_command(
    kpis: Path = typer.Option(Path("kpis"), "--kpis", help="The folder of KPI files."),
    out: Path = typer.Option(Path("build"), "--out", help="The build folder to write."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when the build folder is stale (CI)."),
    export_era: ExportEra = typer.Option(ExportEra(NEWEST.era), "--export-era", help="The GA4 export the SQL is "
                                         f"written for: {ERA_HELP}."),
) -> None:
    """Generate the tracking spec for IT (build/spec/) from the KPI files; refuses while they have errors."""
    generate(compiled_or_exit(kpis, "Not generating", missing_exit=2), kpis, out, check, export_era.value)


def generate(compiled: Compiled, kpis: Path, out: Path, check: bool, era: str = NEWEST.era) -> None:
    """`kpi generate` from KPI files already compiled (`kpi demo` calls it too)."""
    from ..targets.build import build_artifacts, read_previous_build, write_artifacts
    from ..targets.ga4_requests import request_summary

    err = Console(stderr=True)
    report = compiled.report
    if not compiled.catalog.kpis:
        _explain_no_kpis([kpis])
        raise typer.Exit(1)
    with err.status(f"Rendering {out}/…"):
        artifacts = build_artifacts(compiled.catalog, read_previous_build(out), export=ERAS[era], plan=compiled.plan,
                                    api=compiled.api_plan)
        result = write_artifacts(out, artifacts, check=check)
    console = Console(highlight=False, soft_wrap=True)
    shown = escape(str(out))
    if check:
        for path in result.written:
            console.print(f"  would write   {shown}/{escape(path)}")
        for path in result.removed:
            console.print(f"  would remove  {shown}/{escape(path)}")
        if result.changed:
            n = len(result.written) + len(result.removed)
            console.print(f"[red]✗ {shown}/ is stale: {n} file{'s' if n != 1 else ''} would change.[/] Run `kpi generate`.")
            raise typer.Exit(1)
        console.print(f"[green]✓ {shown}/ is up to date ({len(artifacts)} files).[/]")
        return
    warn = f" ({len(report.warnings)} warnings: see `kpi validate`)" if report.warnings else ""
    console.print(f"[green]✓ {shown}/: {len(artifacts)} files, {len(result.written)} written, "
                  f"{len(result.unchanged)} unchanged, {len(result.removed)} stale removed.[/]{warn} "
                  f"Open {shown}/spec/index.html.")
    console.print(f"  Queries: {request_summary(compiled.api_plan, len(compiled.plan.kpis))}; SQL for DuckDB and "
                  f"BigQuery in {shown}/queries/sql/, for GA4 exports of the era `{era}` "
                  "(--export-era; each file's header lists the export columns it reads).")


class DiffFormat(enum.StrEnum):
    markdown = "markdown"
    json = "json"


def diff_command(
    old: str = typer.Argument(..., help="Folder or git revision (branch, tag, commit), e.g. main."),
    new: str = typer.Argument(..., help="Folder or git revision, e.g. HEAD."),
    format: DiffFormat = typer.Option(DiffFormat.markdown, "--format", "-f", help="Output format."),
    fail_on_breaking: bool = typer.Option(False, "--fail-on-breaking", help="Exit 1 on a change breaking for IT."),
    kpis_subdir: str = typer.Option("kpis", "--kpis-subdir", help="Where the KPI files are in a folder or revision."),
) -> None:
    """What changed between two versions of the KPI files, breaking changes for IT first (for a PR comment)."""
    from ..compile import compile_paths
    from ..parse.git_revisions import RevisionError, kpis_at
    from ..spec.diff import diff_snapshots, to_json, to_markdown
    from ..spec.snapshot import snapshot_of

    err = Console(stderr=True)
    snapshots = []
    for label in (old, new):
        try:
            with kpis_at(label, kpis_subdir) as source:
                validated = compile_paths([source.kpis_dir], relative_to=source.root)
        except RevisionError as exc:
            err.print(f"[red]{escape(str(exc))}[/]")
            raise typer.Exit(2) from None
        if validated.report.errors:
            err.print(f"[yellow]! {escape(label)}: {len(validated.report.errors)} error(s) in the KPI files; "
                      "the diff compares what could be read.[/]")
        snapshots.append(snapshot_of(validated.catalog))
    diff = diff_snapshots(snapshots[0], snapshots[1])
    render = to_json if format is DiffFormat.json else to_markdown
    sys.stdout.write(render(diff, old, new).rstrip("\n") + "\n")
    raise typer.Exit(1 if fail_on_breaking and diff.breaking else 0)


class EventsFormat(enum.StrEnum):
    text = "text"
    json = "json"


MAX_EVENTS_BYTES = 200_000_000  # sample events, not a whole export


def check_events_command(
    file: Path = typer.Argument(..., help="NDJSON of Measurement Protocol payloads or dataLayer pushes (- for stdin)."),
    kpis: Path = typer.Option(Path("kpis"), "--kpis", help="The folder of KPI files."),
    format: EventsFormat = typer.Option(EventsFormat.text, "--format", "-f", help="Output format."),
) -> None:
    """Check sample events against the spec: each problem with its line number; exit 1 on violations."""
    import json

    from ..spec.check_events import check_events, format_text
    from ..spec.model import build_spec

    err = Console(stderr=True)
    validated = compiled_or_exit(kpis, "Nothing was checked", missing_exit=2, errors_exit=2)
    from ..parse.bounded_read import InputFileError, read_regular_file, read_stream

    try:
        raw = (read_stream(sys.stdin.buffer, MAX_EVENTS_BYTES) if str(file) == "-"
               else read_regular_file(file, MAX_EVENTS_BYTES))
    except InputFileError as exc:
        err.print(f"[red]Cannot check {escape(str(file))}: {escape(str(exc))}.[/] Give a file of sample events "
                  f"(NDJSON, at most {MAX_EVENTS_BYTES // 1_000_000} MB; split larger samples).")
        raise typer.Exit(2) from None
    except OSError as exc:
        err.print(f"[red]Cannot read {escape(str(file))}: {escape(exc.strerror or str(exc))}.[/]")
        raise typer.Exit(2) from None
    report = check_events(raw.split(b"\n"), str(file), build_spec(validated.catalog), validated.catalog)
    if format is EventsFormat.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        console = Console(highlight=False, soft_wrap=True)
        for line in format_text(report):
            console.print(escape(line), style="red" if line.startswith("✗") else ("green" if line.startswith("✓") else None))
    raise typer.Exit(0 if report.ok else 1)


DataCheck = Callable[["KpiCatalog", Path], "list[Issue] | str"]
"""`kpi validate --db`: the KPI files against a warehouse's data (the warehouse provides it; generator/ has no
database), giving the issues found or a sentence saying why the warehouse cannot be read."""

_data_check: DataCheck | None = None


def register(app: typer.Typer, data_check: DataCheck | None = None) -> None:
    """Add the generator's commands to the `kpi` app; `data_check` enables `kpi validate --db`."""
    global _data_check
    _data_check = data_check
    app.command("validate")(validate_command)
    app.command("schema")(schema_command)
    app.command("generate")(generate_command)
    app.command("diff")(diff_command)
    app.command("check-events")(check_events_command)

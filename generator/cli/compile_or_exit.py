"""What every command that reads the KPI files does first: compile them, or say why not and exit.

One helper for `kpi generate`, `explain`, `check-events`, `refresh`, `values --grain`, `prune`, `load ga4-api`,
`apply` and `demo` (`kpi validate` and `kpi diff` print the report themselves: it is what they are for).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from .report_formats import print_text

if TYPE_CHECKING:
    from ..compile import Compiled


def compiled_or_exit(kpis: Path, stopped: str, *, missing_exit: int = 1, errors_exit: int = 1,
                     console: Console | None = None, sources: Mapping[Path, bytes | None] | None = None) -> Compiled:
    """The KPI files of the folder `kpis`, compiled; or the problem and exit: `missing_exit` when there is no such
    folder, `errors_exit` when the files have errors (their report, then `stopped`: what the command did not do,
    e.g. "Nothing was computed"). The report goes to `console` (default stderr). `sources`: the folder's files as
    the caller read them (their bytes; None: one it could not read), compiled instead of the folder as it is now:
    a file added since is not compiled."""
    from ..compile import compile_paths

    err = console or Console(stderr=True, highlight=False)
    if not kpis.exists():
        err.print(f"[red]No KPI folder at {escape(str(kpis))}[/]: run this in your project folder or pass --kpis.")
        raise typer.Exit(missing_exit)
    with err.status("Validating the KPI files…"):
        if sources is None:
            compiled = compile_paths([kpis])
        else:  # a file the caller could not read is read here (its problem said), one gone since is not
            texts = {path: data for path, data in sources.items() if data is not None}
            compiled = compile_paths([p for p, data in sources.items() if data is not None or p.exists()], texts=texts)
    if compiled.report.errors:
        print_text(compiled.report, err)
        err.print(f"[red]{escape(stopped)}: fix the errors above first[/] (`kpi validate` lists the same).")
        raise typer.Exit(errors_exit)
    return compiled

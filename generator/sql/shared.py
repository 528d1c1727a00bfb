"""What the KPIs of a batch statement share: two reads of the events, the session tables, the roll-up.

The events are read twice at most, each time with the filters of what reads them pushed into the scan, and
never stored whole:

- in full by the session roll-up (`rollup.py`), which also carries what the session table is built from;
- for the events the other KPIs read (`event_rows`: usually few, purchases, leads, first visits), stored once.

A scope is the days a KPI reads: up to `end_date`, or a few days more for a conversion whose window can end
after it. Both reads cover the widest scope; each scope sees its days through a filter (NOT MATERIALIZED, so
DuckDB pushes its readers' filters through it) and gets its own session table and deduplicated purchases,
built exactly as the KPI's own statement builds them over its own days (and the transaction ids seen before
`start_date`, `transactions.py`, read once for all).
"""

from __future__ import annotations

from sqlglot import exp

from .attribution import PRIOR_CTES
from .build import KEPT, PURCHASE, MeasureParts, kept_events, last_day
from .ctes import Cte, rename_tables
from .rollup import RolledUp, Rollup, rolls_up
from .scan import SCANNED, EventColumns
from .sessions import SESSIONS, firsts_from_partials, session_ctes
from .transactions import earlier_transactions

EVENT_ROWS = "event_rows"


def tag(extension: int) -> str:
    """The suffix of a scope's CTEs: none for the days up to `end_date`."""
    return f"_plus_{extension}d" if extension else ""


def scope_names(extension: int, widest: int) -> dict[str, str]:
    """Standard CTE name → the CTE a KPI of this scope reads instead."""
    rows = EVENT_ROWS if extension == widest else f"{EVENT_ROWS}_to_end{tag(extension)}"
    return {SCANNED: rows, SESSIONS: f"{SESSIONS}{tag(extension)}", KEPT: f"{KEPT}{tag(extension)}"}


def shared_ctes(cols: EventColumns, event_columns: list[str], kpis: dict[str, MeasureParts],
                inline: list[str], event_rows: bool = False, click_ids: bool = False,
                ) -> tuple[list[Cte], dict[str, exp.Query]]:
    """(the shared CTEs, the `aggregated` of each KPI counted from the roll-up, by prefix) for `kpis` by prefix.

    The names of CTEs that must not be stored go into `inline`. `event_rows`: the scan has each event's `event_row`,
    from which the session tables read their clicks (`sessions.session_ctes`); `click_ids`: they read them by
    their ids from the warehouse's kept records instead (`sessions.KEPT_CLICKS`).
    """
    by_rows = event_rows or click_ids  # the session tables' clicks are references (rows or ids)
    widest = max((p.extension for p in kpis.values()), default=0)
    rolling = [RolledUp(prefix, p) for prefix, p in kpis.items() if rolls_up(p)]
    others = [p for p in kpis.values() if not rolls_up(p)]
    read = _events_read(others)
    session_scopes = sorted({p.extension for p in kpis.values() if p.reads_sessions})
    # the transaction ids seen before `start_date`, read once for every scope's deduplicated purchases
    out: list[Cte] = [earlier_transactions()] if any(p.dedupe for p in kpis.values()) else []

    rollup = None
    if rolling or session_scopes:
        # the roll-up's purchases (few) come from `event_rows` when it has them, saving a scan
        purchases = EVENT_ROWS if others and (read is None or PURCHASE in read) else SCANNED
        rollup = Rollup(rolling, SCANNED, event_columns, cols.session_columns if session_scopes else None,
                        purchases, upto=last_day(0) if widest else None, rows=by_rows, ids=click_ids)
    if others:
        # only the columns its readers use: it is stored, and the scan computes only what it stores
        used = {c.name for p in others for c in p.rows.find_all(exp.Column)}
        used |= {"event_date", "event_name", "event_timestamp", "transaction_id"}
        if rollup is not None and purchases == EVENT_ROWS:
            used |= set(rollup.reads)
        rows = exp.select(*(c for c in event_columns if c in used)).from_(SCANNED)
        if read is not None:
            rows = rows.where(exp.column("event_name").isin(*(exp.Literal.string(n) for n in sorted(read))))
        out.append((EVENT_ROWS, rows))
    if rollup is not None:
        out += rollup.shared

    days: dict[int, str] = {}  # scope → the roll-up's groups of its days
    for extension in sorted({*([0] if rolling else []), *session_scopes}):
        assert rollup is not None
        days[extension] = rollup.days
        if extension != widest:
            days[extension] = f"{rollup.days}_to_end{tag(extension)}"
            out.append((days[extension], _upto(rollup.days, "event_day", extension)))
            inline.append(days[extension])
    for extension in session_scopes:
        firsts = firsts_from_partials(cols.session_columns, days[extension], by_rows)
        own = session_ctes(cols.session_columns, firsts, channel_per_source=True, batch=True, rows=by_rows,
                           ids=click_ids)
        renamed = {name: name if name in PRIOR_CTES else f"{name}{tag(extension)}" for name, _ in own}
        # the sessions before `start_date` are the same for every scope: read once
        known = {n for n, _ in out}
        out += [(renamed[name], rename_tables(body, renamed)) for name, body in own
                if not (name in PRIOR_CTES and name in known)]
    aggregated: dict[str, exp.Query] = {}
    if rollup is not None and rolling:
        out += rollup.rows(scope_names(0, widest)[SESSIONS], days[0])
        aggregated = rollup.aggregated()

    for extension in sorted({p.extension for p in others}):
        names = scope_names(extension, widest)
        if extension != widest:
            out.append((names[SCANNED], _upto(EVENT_ROWS, "event_date", extension)))
            inline.append(names[SCANNED])
        deduped = [p for p in others if p.dedupe and p.extension == extension]
        if deduped:
            out.append((names[KEPT], kept_events(_events_read(deduped), source=names[SCANNED])))
            inline.append(names[KEPT])
    return out, aggregated


def _upto(source: str, column: str, extension: int) -> exp.Select:
    """The rows of `source` up to the scope's last day (`column`: the YYYYMMDD `event_date` or the DATE `event_day`)."""
    bound = last_day(extension)
    if column == "event_day":
        bound = exp.StrToDate(this=bound, format=exp.Literal.string("%Y%m%d"))
    return exp.select("*").from_(source).where(exp.LTE(this=exp.column(column), expression=bound))


def _events_read(parts: list[MeasureParts]) -> set[str] | None:
    reads = [p.events for p in parts]
    return None if any(r is None for r in reads) else set().union(*reads)  # type: ignore[arg-type]

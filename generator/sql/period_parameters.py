"""The ranges a periods statement counts (`periods.spread_over_periods`): grouped into statements that fit in
memory, and given to each statement as its parameters, so the statement's text is the same every day."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from .attribution import LOOKBACK_DAYS

RANGES = "period_ranges"  # the parameters (`period_parameters`)
PERIOD_DAYS = "period_days"  # a CTE and the parameter it reads
LOOKBACK_DAYS_TABLE = "lookback_days"  # likewise
HISTORY_END = "history_end"
LOOKBACK_FROM = "lookback_from"
LOOKBACK_TO = "lookback_to"
DAY_FORMAT = "%Y%m%d"
KEY_ORIGIN = dt.date(1900, 1, 1)  # the ranges' keys: this day on (no day of any data)

Period = tuple[dt.date, dt.date]
K = TypeVar("K")


def range_key(n: int) -> dt.date:
    """The key of a statement's `n`-th range (from 0): a DATE of no day of any data, distinct per range, so two
    ranges sharing a first day (the previous 90 days and the previous quarter to date), or one range counted twice
    (as of two last days: `caps`), go in one statement."""
    return KEY_ORIGIN + dt.timedelta(days=n)


def keyed(items: Iterable[K]) -> dict[dt.date, K]:
    """`items` (ranges, or what stands for one) by key (`range_key`), in their order."""
    return {range_key(n): item for n, item in enumerate(items)}


def in_statements(ranges: Mapping[K, Period], events: Callable[[dt.date], int], budget: int,
                  reach: int, spreads: Callable[[K], int] | None = None) -> list[list[K]]:
    """The keys of `ranges` in groups, one statement each: at most `budget` events spread over a group's ranges,
    where `events(day)` is that day's events and a range spreads the events of its days and the `reach` days
    after it (a range spreading more than `budget` is alone).

    A statement holds every event it spreads in its sessions' working tables at once: past DuckDB's memory
    limit it spills to disk, which costs more than reading the events again (at 5M events under a 1 GiB limit,
    the dashboard's ten ranges took 31 CPU s in one statement and 24 s in statements of at most 2.7M spread
    events). The ranges are packed largest first, each into the first group it fits, and a group is cut where its
    ranges' reads do not meet (`apart`). `spreads`: the events each range spreads, when the caller knows better
    than `events` (a range counting some of its users only)."""
    def spread(key: K) -> int:
        if spreads is not None:
            return spreads(key)
        start, end = ranges[key]
        return sum(events(start + dt.timedelta(days=n)) for n in range((end - start).days + reach + 1))

    packed: list[tuple[int, list[K]]] = []
    for size, key in sorted(((spread(k), k) for k in ranges), key=lambda sk: (-sk[0], ranges[sk[1]], sk[1])):
        at = next((i for i, (used, _) in enumerate(packed) if used + size <= budget), None)
        if at is None:
            packed.append((size, [key]))
        else:
            packed[at] = (packed[at][0] + size, [*packed[at][1], key])
    return [run for _, keys in packed for run in apart(keys, ranges, reach)]


def apart(keys: list[K], ranges: Mapping[K, Period], reach: int) -> list[list[K]]:
    """The keys of one statement, in their ranges' order, cut where the reads do not meet. A statement reads
    the events from its first range's start to its last range's end (and `reach` days after), and the clicks of
    the `LOOKBACK_DAYS` before each range up to the last range's start: the same period last year and the last
    7 days in one statement read the whole year between them. Each run of ranges whose reads (lookback, days,
    reach) meet or touch is a statement of its own; ranges of a history under a year meet, and stay together."""
    out: list[list[K]] = []
    reads_to = dt.date.min
    for key in sorted(keys, key=lambda k: (ranges[k], k)):
        start, end = ranges[key]
        if out and start - dt.timedelta(days=LOOKBACK_DAYS) <= reads_to + dt.timedelta(days=1):
            out[-1].append(key)
        else:
            out.append([key])
        reads_to = max(reads_to, end + dt.timedelta(days=reach))
    return out


def _date(day: dt.date) -> str:
    return day.strftime(DAY_FORMAT)


def period_parameters(ranges: Mapping[dt.date, Period], reach: int,
                      caps: Mapping[dt.date, dt.date] | None = None) -> dict[str, object]:
    """The parameters of the periods statement (`spread_over_periods`) counting `ranges` (key → range, any
    distinct DATEs as keys: `keyed`), each row of the statement's result dated with its range's
    key; `reach`: the days after a range's end its scan reads (the widest conversion window of the statement's
    KPIs, `statement_reach`); `caps`: for some keys, the last day their range reads (counted as if no later day
    were loaded: a stored range as the last refresh counted it, `warehouse/period_shift.py`). Pass a statement
    only those it reads (`parameters_in`).

    - `period_ranges`: per range its key (`period_day`) and its first and last days (YYYYMMDD: `period_start`,
      `period_end`);
    - `period_days`: per range, each day it reads (YYYYMMDD, and as a DATE: `day`) with the `event_day` its
      events get there (its key; NULL after its end) and its `period_end`: an equality join spreads the events
      (a range join costs more);
    - `lookback_days`: per range, each of the `LOOKBACK_DAYS` days before it;
    - `history_end`: the latest start (the history before every range is read once, up to the day before it),
      `lookback_from` / `lookback_to`: the days of every range's lookback;
    - `start_date` / `end_date`: the first start and the last end.
    """
    by_key = dict(ranges)
    if not by_key:
        raise ValueError("no range to count")
    caps = caps or {}
    first_start = min(start for start, _ in by_key.values())
    last_start = max(start for start, _ in by_key.values())
    days = []
    for key, (start, end) in sorted(by_key.items(), key=lambda kv: (kv[1], kv[0])):
        for n in range((end - start).days + reach + 1):
            day = start + dt.timedelta(days=n)
            if key in caps and day > caps[key]:
                break
            days.append({"event_date": _date(day), "period_day": key, "event_day": key if day <= end else None,
                         "period_end": _date(end), "day": day})
    lookback = [{"event_date": _date(start - dt.timedelta(days=n)), "period_day": key}
                for key, (start, _) in by_key.items() for n in range(1, LOOKBACK_DAYS + 1)]
    return {"start_date": _date(first_start), "end_date": _date(max(end for _, end in by_key.values())),
            RANGES: [{"period_day": key, "period_start": _date(start), "period_end": _date(end)}
                     for key, (start, end) in by_key.items()],
            PERIOD_DAYS: days, LOOKBACK_DAYS_TABLE: lookback, HISTORY_END: _date(last_start),
            LOOKBACK_FROM: _date(first_start - dt.timedelta(days=LOOKBACK_DAYS)),
            LOOKBACK_TO: _date(last_start - dt.timedelta(days=1))}


def keyed_parameters(ranges: dict[dt.date, Period], first_day: dt.date) -> dict[str, object]:
    """The parameters of the `keyed` periods statement (`spread_over_periods`) counting each of `ranges` (key →
    its first and last day; any distinct DATEs as keys) over the users `period_users` puts in it: users with
    no event outside it and no transaction id another user carries, so nothing before it counts (no lookback
    and no history are read: both end before `first_day`, the first loaded day)."""
    nothing = _date(first_day - dt.timedelta(days=1))
    return {"start_date": _date(min(start for start, _ in ranges.values())),
            "end_date": _date(max(end for _, end in ranges.values())),
            RANGES: [{"period_day": key, "period_start": _date(start), "period_end": _date(end)}
                     for key, (start, end) in ranges.items()],
            LOOKBACK_DAYS_TABLE: [{"event_date": nothing, "period_day": dt.date(1, 1, 1)}],  # joins no range
            HISTORY_END: _date(first_day), LOOKBACK_FROM: _date(first_day), LOOKBACK_TO: nothing}


def parameters_in(sql: str, parameters: dict[str, object]) -> dict[str, object]:
    """The `parameters` the DuckDB statement `sql` reads (`$name`): DuckDB refuses any other."""
    return {name: value for name, value in parameters.items() if re.search(rf"\${name}\b", sql)}

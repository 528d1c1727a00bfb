"""Which attribution columns a GA4 export has: they arrived over the years and are never backfilled (ga4.md §11).

The generated SQL reads them through `dialects.ExportColumn`; for an export era without a column, the SQL
reads a typed NULL in its place, so the same statement runs (and attributes sessions by the older method).
The warehouse keeps every column (NULL on days exported before it existed), so it reads the newest shape,
plus the event params it flattened at load (`flat_params`: plain columns the SQL reads instead of searching
the nested `event_params` list; `warehouse/flat_params.py`).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

Fields = tuple[tuple[str, "str | Fields"], ...]  # (name, DuckDB scalar type or the fields of a nested STRUCT)

PARAM_VALUE_FIELDS: Fields = (
    ("string_value", "VARCHAR"),
    ("int_value", "BIGINT"),
    ("float_value", "DOUBLE"),
    ("double_value", "DOUBLE"),
)
"""An event param's `value` record."""
COLLECTED_TRAFFIC_SOURCE: Fields = (
    ("manual_campaign_name", "VARCHAR"),
    ("manual_source", "VARCHAR"),
    ("manual_medium", "VARCHAR"),
    ("gclid", "VARCHAR"),
)
_MANUAL_CAMPAIGN: Fields = (("campaign_id", "VARCHAR"), ("campaign_name", "VARCHAR"), ("source", "VARCHAR"),
                            ("medium", "VARCHAR"), ("term", "VARCHAR"), ("content", "VARCHAR"))
_GOOGLE_ADS_CAMPAIGN: Fields = (("customer_id", "VARCHAR"), ("account_name", "VARCHAR"), ("campaign_id", "VARCHAR"),
                                ("campaign_name", "VARCHAR"), ("ad_group_id", "VARCHAR"), ("ad_group_name", "VARCHAR"))
CROSS_CHANNEL_CAMPAIGN: Fields = (("campaign_id", "VARCHAR"), ("campaign_name", "VARCHAR"), ("source", "VARCHAR"),
                                  ("medium", "VARCHAR"), ("source_platform", "VARCHAR"),
                                  ("default_channel_group", "VARCHAR"), ("primary_channel_group", "VARCHAR"))
LAST_CLICK: Fields = (("manual_campaign", _MANUAL_CAMPAIGN), ("google_ads_campaign", _GOOGLE_ADS_CAMPAIGN),
                      ("cross_channel_campaign", CROSS_CHANNEL_CAMPAIGN))


def struct_type(fields: Fields) -> str:
    """The DuckDB type of a STRUCT with these fields."""
    return "STRUCT(" + ", ".join(f"{name} {kind if isinstance(kind, str) else struct_type(kind)}"
                                 for name, kind in fields) + ")"


LISTED = "kl_"
"""The prefix of a flat column holding the event's params of one name (`[1].value` is the first one's record),
not the record itself: for a param KPIs read on a few events only, such a column is mostly empty lists, which a
load writes for about half of what a column of mostly NULL records costs (`warehouse/flat_params.py`)."""


CLICK_COLUMN = "kc_"
"""The prefix of a flat column holding one field of the click an event collected (`click_key`): plain text the
load computes once from `collected_traffic_source` and the UTM / gclid of `page_location`, where every statement
would otherwise search each event's URL (`warehouse/flat_params.py`)."""


FIELD_COLUMN = "kf_"
"""The prefix of a flat column holding one event-scoped field of the export (`device.category`, `geo.country`,
`platform`: `dimensions.EVENT_FIELDS`), key `field_key(path)`: the warehouse keeps as columns only the fields
its KPI files break down or filter by, not whole records (`warehouse/flat_params.py`)."""


LAST_CLICK_COLUMN = "lc_"
"""The prefix of a column holding one field (source, medium, campaign, channel) of GA4's last click of the
event's session, as `attribution.last_click_values` reads it from `session_traffic_source_last_click`: the
warehouse keeps those four columns, not the nested record (`warehouse/slim_events.py`)."""


FIRST_PURCHASES = "kb_first_purchases"
"""Each transaction id's first purchase, one row per id in the columns of the events the purchases' history reads
(`event_date`: its first day, `event_name`: purchase, `ecommerce.transaction_id`): the ids a purchase carried
before a day, and each one's first day, are the same read from it as from every purchase, which a history of
180 days holds about 50 times over (`ExportShape.first_purchases`; made by `warehouse/first_seen.py`)."""


CLICK = ("source", "medium", "campaign", "gclid")
"""The fields of the click an event collected (`attribution.click_values`)."""


def click_key(field: str) -> str:
    """The `flat_params` key of the click field `field` (source, medium, campaign, gclid): no GA4 param name
    holds a colon, so it is never a param's. After `VERSION_MARK`, a hash of how the load computes it
    (`_click_version`): a column computed by other code is another key, which the warehouse makes again from the
    raw files and reads instead (`warehouse/flat_params.register`), never a stale one."""
    return f"click:{field}{VERSION_MARK}{_click_version()}"


VERSION_MARK = "@"
"""In a `flat_params` key, what comes before it names what the column holds, what comes after how it is computed:
a key whose name part equals another's supersedes it (`warehouse/flat_params.register`)."""


@functools.cache
def _click_version() -> str:
    """12 hex digits of SHA-256 over the SQL a load fills the click columns with (`attribution.click_computed`,
    lowered for DuckDB), from a `page_location` record."""
    # imported on first use: attribution reads this module, and `kpi --help` imports it without sqlglot
    from sqlglot import exp

    from .attribution import click_computed
    from .dialects import lower
    from .params import as_string

    computed = click_computed(as_string(exp.column("page_location")), exp.column("collected_traffic_source"))
    text = "\n".join(lower(computed[field], "duckdb").sql("duckdb") for field in CLICK)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


SESSION_COLUMN = "ks_"
"""The prefix of a flat column holding a session param as every statement reads it (key `session_value_key`):
`ga_session_id` as a whole number (BIGINT, the session key's half), whether `session_engaged` is '1' (BOOLEAN),
computed once at load (`params.session_value`) where a statement read the param's four-field record on every
event and computed it there; writing the records cost a 5M-event load 0.67 and 0.89 CPU s
(`warehouse/flat_params.py`)."""

SESSION_PARAMS = {"ga_session_id": "BIGINT", "session_engaged": "BOOLEAN"}
"""The session params whose value a warehouse keeps as a column (`SESSION_COLUMN`), with its DuckDB type."""


def session_value_key(param: str) -> str:
    """The `flat_params` key of the value of the session param `param` (`SESSION_PARAMS`), ending in a hash of the
    code computing it after `VERSION_MARK`, as a click's (`click_key`)."""
    return f"session:{param}{VERSION_MARK}{_session_version()}"


@functools.cache
def _session_version() -> str:
    """12 hex digits of SHA-256 over the SQL a load fills the session value columns with (`params.session_value`,
    lowered for DuckDB)."""
    from sqlglot import exp  # imported on first use, as `_click_version`'s

    from .dialects import lower
    from .params import session_value

    text = "\n".join(lower(session_value(p, exp.column(p)), "duckdb").sql("duckdb") for p in SESSION_PARAMS)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


FIELD_KEY = "field:"


def field_key(path: str) -> str:
    """The `flat_params` key of the export field `path` (`device.category`, `platform`): `FIELD_KEY` and the path."""
    return FIELD_KEY + path


@dataclass(frozen=True)
class ExportShape:
    """The attribution columns an export has (`era` names the shape, see `ERAS`)."""

    era: str
    collected_traffic_source: bool = True
    session_traffic_source_last_click: bool = True
    cross_channel_campaign: bool = True
    # (param key, column): params the events relation also holds as a column of their own: a `kp_<n>` column
    # holds the param's `value` record, a `kl_<n>` column (`LISTED`) the event's params of that name, in order;
    # and a `kc_<n>` column (`CLICK_COLUMN`, key `click_key(field)`) a field of the click the event collected
    flat_params: tuple[tuple[str, str], ...] = ()
    # the events relation numbers its events (`event_row`, unique: the warehouse's view gives each its row id),
    # so a session's click is found as the row of its first event with one and read from that row only
    # (`sessions.session_ctes`), not carried as a record through every grouping (DuckDB's batch statement)
    event_rows: bool = False
    # the events relation holds GA4's last click as four columns (`LAST_CLICK_COLUMN`), not the nested record
    last_click_columns: bool = False
    # the events relation holds `event_params`; without it (the warehouse's `events`), every param the SQL
    # reads must be one of `flat_params`
    event_params: bool = True
    # the events relation holds the event-scoped records and columns (`device`, `geo`, `platform`); without them
    # (the warehouse's `events`), every such field the SQL reads must be one of `flat_params` (`field_key`)
    event_fields: bool = True
    # the events relation holds `collected_traffic_source`, which a click is computed from with `page_location`;
    # without it (the warehouse's `events`), every click field the SQL reads must be one of `flat_params`
    # (`click_key`), and what a `ClickInput` selects is a typed NULL where all four are
    click_inputs: bool = True
    # the statement runs beside `FIRST_PURCHASES`, each transaction id's first purchase (a warehouse refresh:
    # `warehouse/first_seen.py`), which the purchases' history reads instead of every purchase
    # (`transactions.earlier_transactions`)
    first_purchases: bool = False

    def flat_column(self, key: str) -> str | None:
        """The column holding the event param `key` (its `value` record, or its params: `LISTED`), if any."""
        return dict(self.flat_params).get(key)

    def has(self, path: str) -> bool:
        """Whether the export has the column (or `column.field`) `path`."""
        return bool(getattr(self, path.split(".")[-1], True))

    @staticmethod
    def column_type(path: str) -> str:
        """The DuckDB type of the column (or `column.field`) `path` (for the typed NULL of an absent one)."""
        return struct_type(_TYPES[path])

    def needed_columns(self) -> list[str]:
        """The attribution columns the SQL reads from the export in this shape."""
        out = ["collected_traffic_source"] if self.collected_traffic_source else []
        if self.session_traffic_source_last_click:
            out.append("session_traffic_source_last_click"
                       + (" (with cross_channel_campaign)" if self.cross_channel_campaign else ""))
        return out


_TYPES: dict[str, Fields] = {
    "collected_traffic_source": COLLECTED_TRAFFIC_SOURCE,
    "session_traffic_source_last_click": LAST_CLICK,
    "session_traffic_source_last_click.cross_channel_campaign": CROSS_CHANNEL_CAMPAIGN,
}
ERAS: dict[str, ExportShape] = {
    "legacy": ExportShape("legacy", False, False, False),  # before mid-2023: UTM in page_location only
    "collected": ExportShape("collected", True, False, False),  # mid-2023 on: collected_traffic_source
    "last_click": ExportShape("last_click", True, True, False),  # July 2024 on: session_traffic_source_last_click
    "cross_channel": ExportShape("cross_channel", True, True, True),  # 2024-10-10 on: GA4's channel group
}
NEWEST = ERAS["cross_channel"]
ERA_HELP = ("legacy (before mid-2023), collected (collected_traffic_source, mid-2023 on), last_click "
            "(session_traffic_source_last_click, July 2024 on), cross_channel (with GA4's channel group, "
            "October 2024 on; the default)")


def shape_of(columns: dict[str, set[str]]) -> ExportShape:
    """The era of an export whose columns are `columns` (top-level name → the names of its fields), e.g. read
    from a BigQuery table's schema: the newest era whose attribution columns it all has."""
    flags = ("collected_traffic_source" in columns, "session_traffic_source_last_click" in columns,
             "cross_channel_campaign" in columns.get("session_traffic_source_last_click", set()))
    for shape in reversed(ERAS.values()):
        wanted = (shape.collected_traffic_source, shape.session_traffic_source_last_click, shape.cross_channel_campaign)
        if all(have or not want for have, want in zip(flags, wanted, strict=True)):
            return shape
    return ERAS["legacy"]

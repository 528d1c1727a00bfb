"""Hand-written GA4 export rows (the store's Arrow shape) and the `kpi` commands that load and refresh them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from generator.sql.export_shape import ERAS
from kpibridge.cli import app
from warehouse.schema.events import ARROW_SCHEMA


def param(key: str, string: str | None = None, integer: int | None = None) -> dict:
    return {"key": key, "value": {"string_value": string, "int_value": integer, "float_value": None,
                                  "double_value": None}}


def last_click(source: str, medium: str, channel: str | None) -> dict:
    manual = {"campaign_id": None, "campaign_name": None, "source": source, "medium": medium, "term": None,
              "content": None}
    cross = None if channel is None else {"campaign_id": None, "campaign_name": None, "source": source,
                                          "medium": medium, "source_platform": None, "default_channel_group": channel,
                                          "primary_channel_group": channel}
    return {"manual_campaign": manual, "google_ads_campaign": None, "cross_channel_campaign": cross}


def event(day: str, second: int, name: str, user: str | None, session: int | str | None, *, url: str | None = None,
          tid: str | None = None, collected: tuple[str, str] | None = None, click: dict | None = None,
          era: str = "cross_channel") -> dict:
    """One event; `era` (export_shape.ERAS) drops the attribution columns that era's export lacks."""
    shape = ERAS[era]
    ts = (int(datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC).timestamp()) + second) * 1_000_000
    params = [param("page_location", url or "https://shop.example/")]
    if isinstance(session, int):
        params.append(param("ga_session_id", integer=session))
    elif isinstance(session, str):
        params.append(param("ga_session_id", string=session))  # a badly written tag: the id as text
    cts = None
    if collected and shape.collected_traffic_source:
        cts = {"manual_campaign_name": None, "manual_source": collected[0], "manual_medium": collected[1],
               "gclid": None}
    lc = None
    if click and shape.session_traffic_source_last_click:
        lc = dict(click) if shape.cross_channel_campaign else {**click, "cross_channel_campaign": None}
    return {"event_date": day, "event_timestamp": ts, "event_name": name, "event_params": params,
            "user_pseudo_id": user, "collected_traffic_source": cts, "session_traffic_source_last_click": lc,
            "ecommerce": {"transaction_id": tid, "purchase_revenue": 10.0, "total_item_quantity": 1} if tid is not None
            else None, "platform": "WEB"}


def load_and_refresh(rows: list[dict], folder: Path, kpis: Path) -> tuple[Path, str]:
    """The rows as one Parquet file per day, loaded with `kpi load ga4-export` and refreshed; (store, output)."""
    export = folder / "export"
    export.mkdir(parents=True)
    for day in sorted({r["event_date"] for r in rows}):
        pq.write_table(pa.Table.from_pylist([r for r in rows if r["event_date"] == day], schema=ARROW_SCHEMA),
                       export / f"events_{day}.parquet")
    db = folder / "warehouse.duckdb"
    runner = CliRunner()
    loaded = runner.invoke(app, ["load", "ga4-export", str(export / "events_*.parquet"), "--db", str(db)])
    assert loaded.exit_code == 0, loaded.output
    refreshed = runner.invoke(app, ["refresh", "--db", str(db), "--kpis", str(kpis)])
    assert refreshed.exit_code == 0, refreshed.output
    return db, refreshed.output

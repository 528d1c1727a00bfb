"""Data quality: per event, how many arrived in the period and which checks they failed.

Breakdowns link here when they group "invalid values": the values themselves are never shown (they may
be personal data); this page says which events and checks produced them, for IT to fix the tracking.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.components import context

ctx = context.current()
period, warehouse = ctx.period, ctx.warehouse

st.title("Data quality")
st.caption(
    f"**{period.label}**: {period.describe()}. Events checked against the tracking spec from the data itself "
    "(the same checks as `kpi status`). Values are never shown here: they may be personal data."
)
quality = data.event_quality_checks(ctx.path, period.start, period.end)
if quality.empty:
    st.info("No event quality data for this period. Run `kpi refresh` after loading data.")
    st.stop()
st.dataframe(
    quality.rename(columns={
        "event_name": "Event", "events": "Events", "invalid_events": "Invalid", "missing_required": "Missing "
        "required param", "wrong_type": "Wrong type", "out_of_range": "Value not allowed",
        "pii_suspect": "Looks like personal data", "in_spec": "In spec",
        "duplicate_transactions": "Duplicate transaction id", "no_session_id": "No ga_session_id",
        "cookieless": "Cookieless (no consent)", "bad_event_name": "Name GA4 rejects",
    }),
    hide_index=True,
    column_config={"Events": st.column_config.NumberColumn(format="localized")},
)
worst = quality[quality["invalid_events"] > 0]
if len(worst):
    lines = [f"- `{row.event_name}`: {int(row.invalid_events):,} of {int(row.events):,} invalid"
             for row in worst.itertuples(index=False)]
    st.markdown("\n".join(lines))
st.caption(pd.Timestamp.now().strftime("Shown %Y-%m-%d %H:%M") + ". Fix the tracking, then `kpi refresh`.")

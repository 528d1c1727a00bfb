"""The attribution-method statement (which branch gave each day's sessions their channel) runs on every GA4 export
era and names the method the era allows; the era builders and events are those of test_sql_attribution_eras.

Expected counts worked out by hand from those events: on day 1, a (UTM), d (gclid) and e (carries a click of 10
days before) are derived from UTM, f (its click is 40 days old) has none, and c is whatever the era says of GA4's
last click; on day 2, a carries its day-1 click and b has none."""

from __future__ import annotations

import duckdb
import pytest
from test_sql_attribution_eras import DAY1, DAY2, SHAPES, _insert

from generator.sql.attribution import METHODS
from generator.sql.attribution_methods import render_methods_sql
from generator.sql.export_shape import ERAS

D1, D2 = "2024-06-01", "2024-06-02"
C_BY_ERA = {"legacy": "none", "collected": "none", "last_click": "last_click", "cross_channel": "ga4_channel_group"}


@pytest.mark.parametrize("era", list(SHAPES))
def test_each_era_counts_sessions_by_the_method_it_allows(era: str) -> None:
    con = duckdb.connect()
    _insert(con)
    con.execute(f"CREATE VIEW events AS {SHAPES[era]}")
    rows = con.execute(render_methods_sql("duckdb", ERAS[era]), {"start_date": DAY1, "end_date": DAY2}).fetchall()
    got = {(str(d), m): n for d, m, n in rows}
    want = {(D1, "derived_from_utm"): 3, (D1, "none"): 1, (D2, "derived_from_utm"): 1, (D2, "none"): 1}
    want[(D1, C_BY_ERA[era])] = want.get((D1, C_BY_ERA[era]), 0) + 1
    assert got == want
    assert {m for _, m in got} <= set(METHODS)

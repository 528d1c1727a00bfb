"""Which attribution method gave each day's sessions their channel (issue 10 §1), on an export whose days are of
different eras (export_shape.ERAS): counted per day by `kpi refresh`, shown by `kpi refresh`, `kpi status` and
the dashboard's KPI page, with a loud warning for a day without any session-level source.

The expected counts are worked out here in plain Python over the same rows, following GA4's rules (ga4.md §11):
GA4's own channel group where `cross_channel_campaign` has one, else GA4's last click, else a click of the
session or the user's previous one within 30 days from the UTM / gclid, else none."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from ga4_rows import event, last_click, load_and_refresh
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dashboards.data import SERVING_ENV
from kpibridge.cli import app

REPO = Path(__file__).resolve().parents[2]
UTM = "https://shop.example/?utm_source=newsletter&utm_medium=email"
GCLID = "https://shop.example/?gclid=abc"
# (day, era): the eras in the order GA4 added the columns; day 2 is legacy with no UTM at all
DAYS = [("20240601", "legacy"), ("20240602", "legacy"), ("20240603", "collected"), ("20240604", "last_click"),
        ("20240605", "cross_channel")]
LOOKBACK_SECONDS = 30 * 86_400


def crafted() -> list[dict]:
    (d1, e1), (d2, e2), (d3, e3), (d4, e4), (d5, e5) = DAYS
    return [
        # day 1, legacy: UTM in the URL (derived), gclid in the URL (derived), nothing (none)
        event(d1, 100, "page_view", "u1", 1, url=UTM, era=e1), event(d1, 160, "page_view", "u1", 1, era=e1),
        event(d1, 200, "page_view", "u2", 1, url=GCLID, era=e1),
        event(d1, 300, "page_view", "u3", 1, era=e1),
        # day 2, legacy, no source anywhere: the loud warning
        event(d2, 100, "page_view", "u4", 1, era=e2), event(d2, 200, "page_view", "u5", 1, era=e2),
        # day 3, collected: u1 comes back direct (carries its day-1 click), u6 collected only, u7 nothing
        event(d3, 100, "page_view", "u1", 2, era=e3),
        event(d3, 200, "page_view", "u6", 1, collected=("facebook", "paid_social"), era=e3),
        event(d3, 300, "page_view", "u7", 1, era=e3),
        # day 4, last click (no cross_channel_campaign yet, even where the row has one)
        event(d4, 100, "page_view", "u8", 1, click=last_click("google", "cpc", "Paid Search"), era=e4),
        event(d4, 200, "page_view", "u9", 1, click=last_click("(direct)", "(none)", None), era=e4),
        event(d4, 300, "page_view", "u10", 1, era=e4),
        # day 5, cross channel: GA4's group; a last click without a group; a UTM only
        event(d5, 100, "page_view", "u11", 1, click=last_click("google", "cpc", "Paid Search"), era=e5),
        event(d5, 160, "page_view", "u11", 1, click=last_click("google", "cpc", "Paid Search"), era=e5),
        event(d5, 200, "page_view", "u12", 1, click=last_click("bing", "cpc", None), era=e5),
        event(d5, 300, "page_view", "u13", 1, url=UTM, era=e5),
    ]


def expected(rows: list[dict]) -> dict[str, Counter]:
    """Per day (YYYY-MM-DD): sessions per method, by GA4's rules, by hand."""
    sessions: dict[tuple[str, int], list[dict]] = {}
    for r in rows:
        sid = next(p["value"]["int_value"] for p in r["event_params"] if p["key"] == "ga_session_id")
        sessions.setdefault((r["user_pseudo_id"], sid), []).append(r)

    def click(events: list[dict]) -> bool:
        for r in events:
            url = next(p["value"]["string_value"] for p in r["event_params"] if p["key"] == "page_location")
            cts = r["collected_traffic_source"] or {}
            if cts.get("manual_source") or cts.get("manual_medium") or re.search(r"[?&](utm_\w+|gclid)=", url):
                return True
        return False

    clicks = {key: (min(r["event_timestamp"] for r in evs) // 1_000_000, click(evs)) for key, evs in sessions.items()}
    out: dict[str, Counter] = {}
    for (user, sid), evs in sessions.items():
        lcs = [r["session_traffic_source_last_click"] for r in evs if r["session_traffic_source_last_click"]]
        started = clicks[(user, sid)][0]
        carried = any(u == user and has and started - LOOKBACK_SECONDS <= at <= started
                      for (u, _), (at, has) in clicks.items())
        if any(lc["cross_channel_campaign"] and lc["cross_channel_campaign"]["default_channel_group"] for lc in lcs):
            method = "ga4_channel_group"
        elif lcs:
            method = "last_click"
        elif carried:
            method = "derived_from_utm"
        else:
            method = "none"
        day = evs[0]["event_date"]
        out.setdefault(f"{day[:4]}-{day[4:6]}-{day[6:]}", Counter())[method] += 1
    return out


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> tuple[Path, str]:
    return load_and_refresh(crafted(), tmp_path_factory.mktemp("eras"), REPO / "kpis")


def test_each_day_counts_its_sessions_by_the_method_of_its_era(refreshed: tuple[Path, str]) -> None:
    db, _ = refreshed
    want = expected(crafted())
    assert want["2024-06-02"] == Counter(none=2) and want["2024-06-03"]["derived_from_utm"] == 2
    result = CliRunner().invoke(app, ["status", "--db", str(db), "--attribution", "--format", "json"])
    assert result.exit_code == 0, result.output
    got = {r["date"]: Counter({m: r[m] for m in ("ga4_channel_group", "last_click", "derived_from_utm", "none")
                               if r[m]}) for r in json.loads(result.stdout)}
    assert got == want
    assert all(r["sessions"] == sum(want[r["date"]].values()) for r in json.loads(result.stdout))


def test_refresh_and_status_say_it_and_warn_loudly_about_a_day_without_source(refreshed: tuple[Path, str]) -> None:
    db, output = refreshed
    total = sum(sum(c.values()) for c in expected(crafted()).values())
    assert f"Channel attribution of {total} sessions over 5 days:" in output
    warning = "No session on 2024-06-02 has any session-level source"
    assert warning in " ".join(output.split())
    assert "tag campaign links with utm_source and utm_medium" in " ".join(output.split())
    status = CliRunner().invoke(app, ["status", "--db", str(db)], env={"COLUMNS": "200"})
    assert "How sessions got their channel" in status.stdout
    assert warning in " ".join(status.stderr.split())


def test_kpi_page_shows_the_method_for_a_kpi_by_channel(refreshed: tuple[Path, str], monkeypatch) -> None:
    db, _ = refreshed
    want = Counter()
    for counts in expected(crafted()).values():
        want.update(counts)
    total = sum(want.values())
    monkeypatch.setenv(SERVING_ENV, str(db.with_name("warehouse.serving.duckdb")))
    at = AppTest.from_file(str(REPO / "dashboards" / "streamlit_app.py"), default_timeout=30)
    at.query_params["kpi"] = "sessions"  # broken down by channel
    at.query_params["period"] = "custom"
    at.query_params["from"] = "2024-06-01"
    at.query_params["to"] = "2024-06-05"
    at.run()
    at.switch_page("app_pages/kpi.py").run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption).replace("\\", "")
    shares = f"GA4's channel group {want['ga4_channel_group'] / total:.0%}"
    assert f"Channel attribution in this period: {shares}" in captions, captions
    assert f"no source (Direct) {want['none'] / total:.0%} of {total} sessions" in captions
    assert any("No session on 2024-06-02" in w.value.replace("\\", "") for w in at.warning)


# by hand, from crafted() and GA4's default channel rules (ga4.md §7): sessions per (day, channel)
CHANNELS_BY_HAND = {
    # legacy: u1's UTM newsletter / email; u2's gclid is google / cpc; u3 nothing
    ("2024-06-01", "Email"): 1, ("2024-06-01", "Paid Search"): 1, ("2024-06-01", "Direct"): 1,
    # legacy, no source at all
    ("2024-06-02", "Direct"): 2,
    # collected: u1 comes back direct and inherits its e-mail click of day 1 (inside the 30-day lookback);
    # u6 facebook / paid_social; u7 nothing
    ("2024-06-03", "Email"): 1, ("2024-06-03", "Paid Social"): 1, ("2024-06-03", "Direct"): 1,
    # last click: u8 google / cpc by the rules (this era has no GA4 group); u9 GA4's (direct); u10 nothing
    ("2024-06-04", "Paid Search"): 1, ("2024-06-04", "Direct"): 2,
    # cross channel: u11 GA4's own group; u12 bing / cpc by the rules; u13 UTM newsletter / email
    ("2024-06-05", "Paid Search"): 2, ("2024-06-05", "Email"): 1,
}


def test_refreshed_sessions_by_channel_on_every_era_equal_the_hand_count(refreshed: tuple[Path, str]) -> None:
    """`kpi refresh` on days of each export era: sessions by channel, direct sessions inheriting a campaign."""
    import duckdb

    db, _ = refreshed
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT date::VARCHAR, breakdown_value, value FROM kpi_values WHERE kpi_id = 'sessions' "
                           "AND breakdown = 'channel' AND value <> 0").fetchall()
    assert {(day, channel): value for day, channel, value in rows} == CHANNELS_BY_HAND


def _status_methods(db: Path) -> dict[str, Counter]:
    result = CliRunner().invoke(app, ["status", "--db", str(db), "--attribution", "--format", "json"])
    assert result.exit_code == 0, result.output
    return {r["date"]: Counter({m: r[m] for m in ("ga4_channel_group", "last_click", "derived_from_utm", "none")
                                if r[m]}) for r in json.loads(result.stdout)}


def test_the_kpi_statement_counted_them_from_its_own_sessions(refreshed: tuple[Path, str]) -> None:
    """The example KPIs build the session table of their days (sessions by channel), so the refresh counted the
    methods in the same statement (`render_plan_sql(..., methods=…)`): the methods' own statement, which groups
    the events by session again, was never even written (the store keeps every statement text it ran)."""
    import duckdb

    db, _ = refreshed
    with duckdb.connect(str(db), read_only=True) as con:
        texts = [t for (t,) in con.execute("SELECT sql FROM sql_texts").fetchall()]
    assert any("session_day_values" in t and "kpi_id" in t for t in texts)
    assert not any("session_day_values" in t and "kpi_id" not in t for t in texts)


def test_kpis_without_a_session_table_leave_them_to_their_own_statement(tmp_path: Path) -> None:
    """No KPI reads the sessions of the days asked for (page views; a conversion by channel reads those of the
    days its window reaches too): the methods' own statement counts them, the same counts by hand, with the
    channels a day (the conversion is by channel) of the hand count of the eras."""
    import duckdb

    kpis = tmp_path / "kpis"
    kpis.mkdir()
    (kpis / "events.yaml").write_text((REPO / "kpis" / "events.yaml").read_text())
    (kpis / "page_views.yaml").write_text(
        "version: 1\nkpi: page_views\ntitle: Page views\ndescription: Pages viewed.\nobjective: Grow reach\n"
        "owner: web@shop.example\nteam: web\nmeasure:\n  count: {event: page_view}\ndirection: up\ntarget: 100\n"
        "breakdowns: [device_category]\n")
    (kpis / "by_channel.yaml").write_text(
        "version: 1\nkpi: view_to_cart\ntitle: View to cart\ndescription: Views followed by a cart.\n"
        "objective: Grow reach\nowner: web@shop.example\nteam: web\nmeasure:\n  conversion:\n"
        "    from: view_item\n    to: add_to_cart\n    within: 1d\n    per: user\nformat: percent\n"
        "direction: up\ntarget: 0.3\nbreakdowns: [channel]\n")
    db, _ = load_and_refresh(crafted(), tmp_path / "run", kpis)
    assert _status_methods(db) == expected(crafted())
    with duckdb.connect(str(db), read_only=True) as con:
        texts = [t for (t,) in con.execute("SELECT sql FROM sql_texts").fetchall()]
        channels = con.execute("SELECT event_date, value FROM observed_day_values WHERE subject LIKE '%|channel'"
                               ).fetchall()
    assert any("session_day_values" in t and "kpi_id" not in t for t in texts)
    by_hand = {(f"{d[:4]}{d[5:7]}{d[8:]}", c) for d, c in CHANNELS_BY_HAND}
    assert set(channels) == by_hand

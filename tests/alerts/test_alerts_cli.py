"""`kpi alerts` on warehouses built from the demo property: the expected KPIs, each reason, exit codes."""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
from conftest import ADD_TO_CART_STOPS, DATA_END, TODAY, kpi

WINDOW_END = DATA_END - timedelta(days=3)  # the last 3 days are provisional
WINDOW = (WINDOW_END - timedelta(days=6), WINDOW_END)
BEFORE = (WINDOW[0] - timedelta(days=7), WINDOW[0] - timedelta(days=1))
# The documented defaults: -20 % and at least this much in the KPI's units; 5 % invalid events.
ABSOLUTE = {"number": 50, "percent": 0.005, "currency": 100, "duration": 10}
RELATIVE, VIOLATIONS = 0.2, 0.05


def expected_conditions(serving) -> set[tuple[str, str, str]]:
    """(kpi, kind, key) worked out here, in plain SQL and Python over the serving copy's tables."""
    con = duckdb.connect(str(serving), read_only=True)
    out = set()
    kpis = con.execute("SELECT kpi_id, format, direction, aggregation, warn_threshold, critical_threshold, events, "
                       "time_grain, target_per FROM kpi_definitions WHERE status = 'active'").fetchall()
    for kid, fmt, direction, aggregation, warn, critical, events, grain, per in kpis:
        days_per_target = {"day": 1, "week": 7}[per or grain]  # what the fixtures use

        def value(start, end, kid=kid, aggregation=aggregation):
            n, num, den, mean = con.execute(
                "SELECT count(*), sum(numerator), sum(denominator), avg(value) FROM kpi_values "
                "WHERE kpi_id = ? AND breakdown = '' AND date BETWEEN ? AND ?", [kid, start, end]).fetchone()
            if aggregation == "sum":
                return float(con.execute("SELECT coalesce(sum(value), 0) FROM kpi_values WHERE kpi_id = ? AND "
                                         "breakdown = '' AND date BETWEEN ? AND ?", [kid, start, end]).fetchone()[0])
            if aggregation == "ratio":
                return num / den if den else None
            return mean

        now, then = value(*WINDOW), value(*BEFORE)
        target = con.execute("SELECT value FROM kpi_targets WHERE kpi_id = ? AND valid_from <= ? "
                             "ORDER BY valid_from DESC LIMIT 1", [kid, WINDOW[0]]).fetchone()
        # an amount per day (or week) over the 7 days judged; a rate stays a rate
        scale = 7 / days_per_target if aggregation == "sum" else 1
        sign = 1 if direction == "up" else -1
        if now is not None and target is not None and sign * now < sign * target[0] * scale:
            if critical is not None and sign * now < sign * critical * scale:
                out.add((kid, "status", "critical"))
            elif warn is not None and sign * now < sign * warn * scale:
                out.add((kid, "status", "warning"))
        if now is not None and then is not None:
            diff = now - then
            relative = abs(diff) / abs(then) if then else float("inf")
            if sign * diff < 0 and abs(diff) >= ABSOLUTE[fmt] and relative >= RELATIVE:
                out.add((kid, "change", "down" if diff < 0 else "up"))
        for event in events:
            seen, invalid = con.execute(
                "SELECT coalesce(sum(events), 0), coalesce(sum(invalid_events), 0) FROM event_quality "
                "WHERE event_name = ? AND date BETWEEN ? AND ?", [event, *WINDOW]).fetchone()
            if seen == 0:
                before = con.execute("SELECT count(*) FROM event_quality WHERE event_name = ? AND events > 0 "
                                     "AND date <= ?", [event, WINDOW_END]).fetchone()[0]
                out.add((kid, "event_stopped" if before else "event_missing", event))
            elif invalid / seen > VIOLATIONS:
                out.add((kid, "violation_rate", event))
    con.close()
    return out


def reported(payload: dict) -> set[tuple[str, str, str]]:
    return {(a["kpi"], r["kind"], r["key"]) for a in payload["alerts"] for r in a["reasons"]}


def test_known_drop_lists_exactly_the_expected_kpis_and_exits_1(dropped):
    result = kpi("alerts", "--format", "json", "--db", dropped.db, "--kpis", dropped.kpis, "--today", TODAY)
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    want = expected_conditions(dropped.serving)
    # The known drops are among them: half the users gone, add_to_cart stopped on 18 Mar.
    assert ("sessions", "change", "down") in want
    assert ("add_to_cart_rate", "event_stopped", "add_to_cart") in want
    assert reported(payload) == want
    assert sorted(a["kpi"] for a in payload["alerts"]) == sorted({k for k, _, _ in want})
    assert payload["final_data_to"] == WINDOW_END.isoformat()
    by_kpi = {a["kpi"]: a for a in payload["alerts"]}
    stopped = next(r for r in by_kpi["add_to_cart_rate"]["reasons"] if r["kind"] == "event_stopped")
    last = date.fromisoformat(ADD_TO_CART_STOPS[:4] + "-" + ADD_TO_CART_STOPS[4:6] + "-" + ADD_TO_CART_STOPS[6:])
    assert f"last seen {(last - timedelta(days=1)):%-d %b %Y}" in stopped["text"]
    sessions = by_kpi["sessions"]
    assert sessions["owner"] == "acquisition-lead@shop.example"
    assert sessions["link"] == "http://localhost:8501/kpi?kpi=sessions"
    assert sessions["window"] == {"start": WINDOW[0].isoformat(), "end": WINDOW[1].isoformat()}


def test_provisional_days_alone_trigger_nothing(dropped):
    # sign_up vanished in the 3 provisional days only: no alert names it.
    result = kpi("alerts", "--format", "json", "--db", dropped.db, "--kpis", dropped.kpis, "--today", TODAY)
    texts = [r["text"] for a in json.loads(result.stdout)["alerts"] for r in a["reasons"]]
    assert texts and not any("`sign_up`" in text for text in texts)
    con = duckdb.connect(str(dropped.serving), read_only=True)
    provisional = con.execute("SELECT coalesce(sum(events), 0) FROM event_quality WHERE event_name = 'sign_up' "
                              "AND date > ?", [WINDOW_END]).fetchone()[0]
    assert provisional == 0  # …although it did vanish there


def test_second_run_with_the_state_file_sends_nothing(dropped, tmp_path):
    state = tmp_path / "alerts-state.json"
    args = ("alerts", "--format", "json", "--db", dropped.db, "--kpis", dropped.kpis, "--today", TODAY,
            "--state", state)
    first = kpi(*args)
    assert first.exit_code == 1 and json.loads(first.stdout)["count"] > 0
    assert state.is_file()
    second = kpi(*args)
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["alerts"] == []


def test_since_keeps_only_conditions_that_started_on_or_after_the_day(dropped):
    base = ("alerts", "--format", "json", "--db", dropped.db, "--kpis", dropped.kpis, "--today", TODAY)
    everything = json.loads(kpi(*base).stdout)["alerts"]
    recent = json.loads(kpi(*base, "--since", WINDOW_END.isoformat()).stdout)["alerts"]
    starts = [r["since"] for a in everything for r in a["reasons"]]
    kept = [r["since"] for a in recent for r in a["reasons"]]
    assert sorted(kept) == sorted(s for s in starts if s >= WINDOW_END.isoformat())
    assert len(kept) < len(starts)


def test_late_data_is_reported(quiet):
    late = (DATA_END + timedelta(days=5)).isoformat()
    result = kpi("alerts", "--format", "json", "--db", quiet.db, "--kpis", quiet.kpis, "--today", late)
    assert result.exit_code == 1
    (alert,) = json.loads(result.stdout)["alerts"]
    assert alert["kpi"] is None and alert["reasons"][0]["kind"] == "late_data"
    assert "31 Mar 2026, 5 days ago" in alert["reasons"][0]["text"]


def test_quiet_property_exits_0(quiet):
    result = kpi("alerts", "--db", quiet.db, "--kpis", quiet.kpis, "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert "nothing to report" in result.stdout
    assert expected_conditions(quiet.serving) == set()


def test_markdown_names_each_kpi_with_its_link(dropped):
    result = kpi("alerts", "--format", "markdown", "--db", dropped.db, "--kpis", dropped.kpis, "--today", TODAY)
    assert result.exit_code == 1
    assert result.stdout.startswith("## KPI alerts: ")
    assert "[Sessions](http://localhost:8501/kpi?kpi=sessions) (`sessions`)" in result.stdout

"""The data-health light: events missing, stopped, or invalid beyond the limit."""

from datetime import date

from dashboards.health import DataHealth, EventHealth, assess

END = date(2026, 10, 28)


def test_healthy_events_light_nothing():
    health = assess(["a"], {"a": EventHealth("a", 1000, 10, END)}, END)
    assert health.ok and health.badge is None


def test_invalid_beyond_the_limit():
    health = assess(["a"], {"a": EventHealth("a", 1000, 60, END)}, END)
    assert health.invalid == (("a", 0.06),)
    assert health.badge.startswith(":orange-badge")
    assert "6% of `a` events invalid" in health.explain()


def test_absent_or_stopped_events_are_missing():
    events = {"stopped": EventHealth("stopped", 500, 0, date(2026, 10, 1))}
    health = assess(["never", "stopped"], events, END)
    assert health.missing == ("never", "stopped")
    assert health.badge.startswith(":red-badge")
    assert "`stopped` not seen since 1 Oct 2026" in health.explain()


def test_explain_when_healthy():
    assert DataHealth().explain() == "all events arriving and valid"

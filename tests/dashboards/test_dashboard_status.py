"""Status from direction, target and thresholds."""

import pytest

from dashboards.status import Status, evaluate_status


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.035, Status.ON_TRACK),
        (0.030, Status.ON_TRACK),
        (0.029, Status.BELOW_TARGET),
        (0.024, Status.WARN),
        (0.019, Status.CRITICAL),
    ],
)
def test_higher_is_better(value, expected):
    assert evaluate_status(value, 0.030, "up", warn=0.025, critical=0.020) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.35, Status.ON_TRACK),
        (0.40, Status.ON_TRACK),
        (0.42, Status.BELOW_TARGET),
        (0.47, Status.WARN),
        (0.55, Status.CRITICAL),
    ],
)
def test_lower_is_better_mirrors_it(value, expected):
    assert evaluate_status(value, 0.40, "down", warn=0.45, critical=0.50) is expected


def test_without_thresholds_anything_short_of_target_is_off_target():
    assert evaluate_status(1.0, 100.0, "up") is Status.BELOW_TARGET


def test_missing_value_or_target():
    assert evaluate_status(None, 1.0, "up") is Status.NO_DATA
    assert evaluate_status(1.0, None, "up") is Status.NO_TARGET


def test_bad_direction_is_an_error():
    with pytest.raises(ValueError, match="direction"):
        evaluate_status(1.0, 2.0, "sideways")


def test_off_track_statuses_sort_first():
    ordered = sorted(Status, key=lambda s: s.value)
    assert [s.off_track for s in ordered] == [True, True, True, False, False, False]
    assert Status.CRITICAL.colour == "red" and Status.ON_TRACK.colour == "green"
    assert Status.WARN.badge == ":orange[:material/warning:]"

"""Cells of the serving file as the pages want them: lists as tuples, dates as `date`, NULL as None."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd


def as_tuple(value) -> tuple:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ()
    return tuple(str(item) for item in value)


def as_date(value) -> date | None:
    if value is None or (not isinstance(value, date | datetime) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    return value


def as_day(value) -> date:
    """`as_date` for a NOT NULL column: a null there is a broken serving file, not a missing value."""
    day = as_date(value)
    if day is None:
        raise ValueError("a NOT NULL date column holds a null")
    return day

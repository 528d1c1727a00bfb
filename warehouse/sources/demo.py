"""A demo GA4 property: realistic export-shaped events for a small web shop, one day at a time.

Vectorised with numpy (a Python loop per day, never per event) and deterministic for a seed. Users come
back across days; sessions carry their source in `collected_traffic_source`; a funnel with drop-offs,
sign-ups, leads, duplicate purchases and a small share of malformed events make the data worth checking.
The world it draws from (channels, devices, rates, a session's event blocks) is in `demo_shop.py`; what each
event carries (page, params) is in `demo_params.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.sql.attribution import LOOKBACK_DAYS

from ..schema import ARROW_SCHEMA
from ..store import insert_events
from . import demo_shop as shop
from .demo_arrow import format_numbers, strings, struct_column
from .demo_params import event_params

_MIN_SESSION_EVENTS = 2.5

_B = {f"{name}:{kind}": i for i, (name, kind) in enumerate(shop.BLOCKS)}
B_SESSION_START, B_LANDING_VIEW = _B["session_start:landing"], _B["page_view:landing"]
B_SIGN_UP = _B["sign_up:sign_up"]

@dataclass
class _Users:
    """Everyone who visited so far: one array entry per user, grown each day."""

    rand: np.ndarray  # the random half of user_pseudo_id
    first_us: np.ndarray  # user_first_touch_timestamp
    model: np.ndarray  # index into DEVICE_MODELS
    place: np.ndarray  # country * 2 + city
    acquired: np.ndarray  # index into TRAFFIC of the first session
    sessions: np.ndarray
    registered: np.ndarray
    last_click: np.ndarray  # index into TRAFFIC of the user's last non-direct session (-1: none yet)
    last_click_at: np.ndarray  # its start, in seconds

    @classmethod
    def empty(cls) -> _Users:
        i = np.zeros(0, dtype=np.int64)
        return cls(i, i, i, i, i, i, np.zeros(0, dtype=bool), i, i)

    def __len__(self) -> int:
        return len(self.rand)


@dataclass(frozen=True)
class _Day:
    """One day's setting: its date, volume and whether the campaign runs."""

    day: date
    events: int
    campaign: bool
    intraday: bool = False  # the last day comes from today's intraday table: no attribution records yet

    @property
    def start_seconds(self) -> int:
        return int(datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC).timestamp())


def generate_demo_events(events: int, days: int, seed: int, end_date: date) -> pa.Table:
    """All demo events in one table in the `ga4_events` shape (small sizes; load with `iter_demo_days`)."""
    return pa.concat_tables([table for _, table in iter_demo_days(events, days, seed, end_date)])


def iter_demo_days(events: int, days: int, seed: int, end_date: date) -> Iterator[tuple[str, pa.Table]]:
    """Yield (`YYYYMMDD`, that day's events) from the first day to `end_date`; `events` in total, exactly."""
    if days < 1:
        raise ValueError("The demo needs at least 1 day (--days).")
    if events < days:
        raise ValueError(f"The demo needs at least one event per day: --events {events} is below --days {days}.")
    plan = _plan_days(events, days, end_date)
    users = _Users.empty()
    next_transaction = [1]
    for i, day in enumerate(plan):
        rng = np.random.default_rng([seed, i])
        yield day.day.strftime("%Y%m%d"), _generate_day(rng, day, users, next_transaction)


class DemoSource:
    """The demo generator as a load source: the same insert path as export files."""

    source = "demo"

    def __init__(self, events: int, days: int, seed: int, end_date: date) -> None:
        self.detail = f"demo property: {events} events over {days} days to {end_date.isoformat()}, seed {seed}"
        planned = _plan_days(events, days, end_date)
        self._days = [d.day.strftime("%Y%m%d") for d in planned]
        # the last day comes from the intraday table: provisional in the store (warehouse/day_tables.py)
        self.day_tables = {d.day.strftime("%Y%m%d"): "intraday" if d.intraday else "daily" for d in planned}
        self._tables = iter_demo_days(events, days, seed, end_date)

    def plan(self, con: duckdb.DuckDBPyConnection) -> list[list[str]]:
        return [[day] for day in self._days]  # one day at a time: memory stays bounded at any size

    def insert(self, con: duckdb.DuckDBPyConnection, days: list[str]) -> None:
        for day in days:
            generated_day, table = next(self._tables)
            assert generated_day == day, "days are loaded in the order they were planned"
            insert_events(con, table)


def _plan_days(events: int, days: int, end_date: date) -> list[_Day]:
    """Split `events` over the days by weekday volume and the campaign's extra traffic (largest remainder)."""
    first = end_date - timedelta(days=days - 1)
    dates = [first + timedelta(days=i) for i in range(days)]
    campaign = [days // 3 <= i < 2 * days // 3 for i in range(days)]
    lift = 1 + shop.TRAFFIC[shop.PAID_SOCIAL].share_new * (shop.CAMPAIGN_SHARE_LIFT - 1)
    weights = np.array([shop.WEEKDAY_VOLUME[d.weekday()] * (lift if c else 1.0) for d, c in zip(dates, campaign, strict=True)])
    exact = events * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(-(exact - counts), kind="stable")[: events - counts.sum()]] += 1
    counts = np.maximum(counts, 1)  # every day has data; take the excess back from the busiest days
    while counts.sum() > events:
        counts[np.argmax(counts)] -= 1
    return [_Day(d, int(n), c, intraday=i == days - 1) for i, (d, n, c) in enumerate(zip(dates, counts, campaign,
                                                                                          strict=True))]


def _generate_day(rng: np.random.Generator, day: _Day, users: _Users, next_transaction: list[int]) -> pa.Table:
    n = int(day.events / _MIN_SESSION_EVENTS) + 8
    while True:
        s = _draw_sessions(rng, n, day, users)
        per_session = s["blocks"].sum(axis=1)
        if per_session.sum() >= day.events:
            break
        n *= 2
    # Keep the sessions needed for exactly day.events events; the last one may lose its tail.
    kept = int(np.searchsorted(np.cumsum(per_session), day.events) + 1)
    s = {key: value[:kept] for key, value in s.items()}
    _assign_users(s, users)
    return _build_table(rng, day, s, users, next_transaction)


def _draw_sessions(rng: np.random.Generator, n: int, day: _Day, users: _Users) -> dict[str, np.ndarray]:
    """Draw n sessions of the day: arrival, who, device, place, behaviour (block counts)."""
    weekday = day.day.weekday()
    hour = rng.choice(len(shop.HOUR_WEIGHTS), size=n, p=shop.HOUR_WEIGHTS / shop.HOUR_WEIGHTS.sum())
    start = day.start_seconds + hour * 3600 + rng.integers(0, 3600, size=n)
    is_new = rng.random(n) >= shop.P_RETURNING if len(users) else np.ones(n, dtype=bool)
    # Returning visitors are mostly recent ones.
    back = (len(users) - 1 - np.floor(len(users) * rng.beta(1.0, 3.0, size=n))).clip(0).astype(np.int64)
    returning_user = np.where(is_new, -1, back)
    model = np.where(is_new, _draw_models(rng, n), users.model[back] if len(users) else 0)
    place = np.where(is_new, _draw_places(rng, n), users.place[back] if len(users) else 0)
    traffic = _draw_traffic(rng, n, is_new, weekday, day.campaign)

    category = np.array([m[0] for m in shop.DEVICE_MODELS])[model]
    browse = np.array([t.browse for t in shop.TRAFFIC])[traffic] * shop.DEVICE_BROWSE[category]
    buy = np.array([t.buy for t in shop.TRAFFIC])[traffic] * shop.DEVICE_BUY[category]
    bounced = rng.random(n) < shop.DEVICE_BOUNCE[category] * np.array([t.bounce for t in shop.TRAFFIC])[traffic]
    extra_views = np.where(bounced, 0, np.minimum(rng.geometric(shop.EXTRA_PAGE_VIEWS_P, n), shop.MAX_EXTRA_PAGE_VIEWS))
    viewed = ~bounced & (rng.random(n) < shop.P_VIEW_ITEM * browse)
    carted = viewed & (rng.random(n) < shop.P_ADD_TO_CART * np.sqrt(shop.DEVICE_BUY[category]))
    checkout = carted & (rng.random(n) < shop.P_BEGIN_CHECKOUT)
    bought = checkout & (rng.random(n) < np.minimum(0.95, shop.P_PURCHASE * buy))
    again = bought & (rng.random(n) < shop.P_DUPLICATE_PURCHASE)
    signed = ~bounced & (rng.random(n) < np.where(is_new, shop.P_SIGN_UP_NEW, shop.P_SIGN_UP_RETURNING))
    lead = ~bounced & (rng.random(n) < shop.P_LEAD * np.where(traffic == shop.EMAIL, 2.0, 1.0))
    engaged = ~bounced | (rng.random(n) < shop.P_BOUNCED_BUT_ENGAGED)

    ones = np.ones(n, dtype=np.int64)
    counts = [is_new, ones, ones, extra_views, viewed, viewed, carted, checkout, checkout,
              bought, bought, again, again, signed, signed, lead, lead, engaged]  # fmt: skip
    return {
        "start": start,
        "is_new": is_new,
        "returning_user": returning_user,
        "model": model,
        "place": place,
        "traffic": traffic,
        "engaged": engaged,
        "blocks": np.stack(counts, axis=1).astype(np.int64),
        "product": rng.integers(0, shop.N_PRODUCTS, size=n),
        "quantity": 1 + (rng.random(n) < 0.25) + (rng.random(n) < 0.08),
        "extra_item": np.where(rng.random(n) < shop.P_EXTRA_ITEM, rng.integers(0, shop.N_PRODUCTS, size=n), -1),
        "method": rng.choice(len(shop.SIGN_UP_METHODS), size=n, p=shop.SIGN_UP_METHOD_SHARE),
        "lead_source": rng.choice(len(shop.LEAD_SOURCES), size=n, p=shop.LEAD_SOURCE_SHARE),
        "gclid": rng.integers(10**11, 10**12, size=n),
    }


def _draw_models(rng: np.random.Generator, n: int) -> np.ndarray:
    models = shop.DEVICE_MODELS
    p = np.array([shop.DEVICE_SHARE[cat] * share for cat, _, _, share in models])
    return rng.choice(len(models), size=n, p=p / p.sum())


def _draw_places(rng: np.random.Generator, n: int) -> np.ndarray:
    p = np.array([c[3] for c in shop.COUNTRIES])
    return rng.choice(len(p), size=n, p=p / p.sum()) * 2 + (rng.random(n) < 0.35)


def _draw_traffic(
    rng: np.random.Generator, n: int, is_new: np.ndarray, weekday: int, campaign: bool
) -> np.ndarray:
    def shares(new: bool) -> np.ndarray:
        p = np.array([t.share_new if new else t.share_returning for t in shop.TRAFFIC])
        if weekday in shop.EMAIL_WEEKDAYS:
            p[shop.EMAIL] *= shop.EMAIL_WEEKDAY_LIFT
        if campaign:
            p[shop.CAMPAIGN_TRAFFIC], p[shop.PAID_SOCIAL] = p[shop.PAID_SOCIAL] * shop.CAMPAIGN_SHARE_LIFT, 0.0
        return np.cumsum(p / p.sum())

    u = rng.random(n)
    picked = np.where(is_new, np.searchsorted(shares(True), u), np.searchsorted(shares(False), u))
    return np.minimum(picked, len(shop.TRAFFIC) - 1)


def _assign_users(s: dict[str, np.ndarray], users: _Users) -> None:
    """Give new sessions new users and number every session per user (ga_session_number)."""
    is_new = s["is_new"]
    user = s["returning_user"].copy()
    user[is_new] = len(users) + np.arange(int(is_new.sum()))
    order = np.lexsort((s["start"], user))
    sorted_user = user[order]
    group_start = np.r_[True, sorted_user[1:] != sorted_user[:-1]]
    first = np.maximum.accumulate(np.where(group_start, np.arange(len(order)), 0))
    prior = np.zeros(len(user), dtype=np.int64)
    prior[~is_new] = users.sessions[user[~is_new]]
    number = np.empty(len(user), dtype=np.int64)
    number[order] = prior[order] + np.arange(len(order)) - first + 1
    s["user"], s["session_number"] = user, number
    s["registered"] = np.zeros(len(user), dtype=bool)
    s["registered"][~is_new] = users.registered[user[~is_new]]


def _build_table(
    rng: np.random.Generator, day: _Day, s: dict[str, np.ndarray], users: _Users, next_transaction: list[int]
) -> pa.Table:
    # Lay out events: session-major, blocks in order; cut to exactly day.events.
    n_sessions, n_blocks = s["blocks"].shape
    cell_counts = s["blocks"].ravel()
    cell = np.repeat(np.arange(cell_counts.size), cell_counts)[: day.events]
    sess, block = cell // n_blocks, cell % n_blocks
    n = len(sess)
    first_of_session = np.r_[True, sess[1:] != sess[:-1]]
    first_index = np.flatnonzero(first_of_session)
    session_first = first_index[np.cumsum(first_of_session) - 1]

    # Time: session_start at the session's second, then gaps of a few seconds to two minutes.
    gap_ms = np.minimum(rng.exponential(20_000, n) + 2_000, 110_000).astype(np.int64)
    gap_ms[first_of_session] = 0
    gap_ms[block == B_SESSION_START] = 0  # logged together with first_visit
    gap_ms[block == B_LANDING_VIEW] = rng.integers(200, 1_500, size=int((block == B_LANDING_VIEW).sum()))
    elapsed = np.cumsum(gap_ms)
    offset_ms = elapsed - elapsed[session_first]
    timestamp = (s["start"][sess] * 1000 + offset_ms) * 1000 + rng.integers(0, 1000, size=n)

    _remember_users(s, users, timestamp[first_index], block, sess)
    attributed = _last_non_direct_clicks(s, users)
    user = s["user"][sess]
    names = np.array([shop.EVENT_NAMES.index(name) for name, _ in shop.BLOCKS])[block]
    params, ecommerce = event_params(rng, s, sess, block, names, gap_ms, next_transaction)

    models, places, traffic = shop.DEVICE_MODELS, shop.COUNTRIES, shop.TRAFFIC
    language = [c[2] for c in places for _ in range(2)]
    model_of_event = users.model[user]
    place_of_event = users.place[user]
    first_events = block <= B_LANDING_VIEW
    collected = s["traffic"][sess]
    has_collected = first_events & (collected != shop.DIRECT)
    is_gclid = has_collected & np.array([t.gclid for t in traffic])[collected]
    columns: dict[str, Any] = {
        "event_date": strings(np.zeros(n, dtype=np.int64), pa.array([day.day.strftime("%Y%m%d")])),
        "event_timestamp": pa.array(timestamp, pa.int64()),
        "event_name": strings(names, pa.array(shop.EVENT_NAMES)),
        "event_params": params,
        "user_id": format_numbers("crm-", user, width=7, mask=~s["registered"][sess]),
        "user_pseudo_id": pc.binary_join_element_wise(
            format_numbers("", users.rand[user]), format_numbers("", users.first_us[user] // 1_000_000), "."
        ),
        "user_first_touch_timestamp": pa.array(users.first_us[user], pa.int64()),
        "device": struct_column(ARROW_SCHEMA.field("device").type, model_of_event, {
            "category": [shop.DEVICE_CATEGORIES[m[0]] for m in models],
            "operating_system": [m[1] for m in models],
            "browser": [m[2] for m in models],
        }, extra={"language": strings(place_of_event, pa.array(language))}),  # fmt: skip
        "geo": struct_column(ARROW_SCHEMA.field("geo").type, place_of_event, {
            "continent": [c[1] for c in places for _ in range(2)],
            "country": [c[0] for c in places for _ in range(2)],
            "region": [city[0] for c in places for city in c[4]],
            "city": [city[1] for c in places for city in c[4]],
        }),  # fmt: skip
        "traffic_source": struct_column(ARROW_SCHEMA.field("traffic_source").type, users.acquired[user], {
            "name": [t.campaign or ("(direct)" if t.source is None else f"({t.medium})") for t in traffic],
            "medium": [t.medium or "(none)" for t in traffic],
            "source": [t.source or "(direct)" for t in traffic],
        }),  # fmt: skip
        "collected_traffic_source": struct_column(
            ARROW_SCHEMA.field("collected_traffic_source").type, collected, {
                "manual_campaign_name": [t.campaign for t in traffic],
                "manual_source": [t.source for t in traffic],
                "manual_medium": [t.medium for t in traffic],
            },
            extra={"gclid": format_numbers("EAIaIQobChMI", s["gclid"][sess], mask=~is_gclid)},
            mask=~has_collected,
        ),  # fmt: skip
        "session_traffic_source_last_click": _last_click_column(attributed[sess], day.intraday),
        "ecommerce": ecommerce,
        "privacy_info": struct_column(ARROW_SCHEMA.field("privacy_info").type, np.zeros(n, dtype=np.int64), {
            "analytics_storage": ["Yes"], "ads_storage": ["Yes"], "uses_transient_token": ["No"]}),
        "platform": strings(np.zeros(n, dtype=np.int64), pa.array(["WEB"])),
    }
    table = pa.Table.from_arrays([columns[f.name] for f in ARROW_SCHEMA], schema=ARROW_SCHEMA)
    return table.take(np.argsort(timestamp, kind="stable"))


def _last_non_direct_clicks(s: dict[str, np.ndarray], users: _Users) -> np.ndarray:
    """Per session, the TRAFFIC GA4 attributes it to: its own, or (direct) the user's last click in the lookback."""
    attributed = s["traffic"].copy()
    lookback = LOOKBACK_DAYS * 86_400
    for i in np.argsort(s["start"], kind="stable"):
        user, own, start = s["user"][i], s["traffic"][i], s["start"][i]
        if own != shop.DIRECT:
            users.last_click[user], users.last_click_at[user] = own, start
        elif users.last_click[user] >= 0 and start - users.last_click_at[user] <= lookback:
            attributed[i] = users.last_click[user]
    return attributed


def _last_click_column(traffic_of_event: np.ndarray, intraday: bool) -> pa.StructArray:
    """`session_traffic_source_last_click` as GA4 writes it today (absent from intraday tables)."""
    kind = ARROW_SCHEMA.field("session_traffic_source_last_click").type
    traffic = shop.TRAFFIC
    names = [t.campaign or ("(direct)" if t.source is None else f"({t.medium})") for t in traffic]
    sources = [t.source or "(direct)" for t in traffic]
    media = [t.medium or "(none)" for t in traffic]
    none = [None] * len(traffic)
    manual = struct_column(kind.field("manual_campaign").type, traffic_of_event, {
        "campaign_id": none, "campaign_name": names, "source": sources, "medium": media, "term": none,
        "content": none})  # fmt: skip
    ads = struct_column(kind.field("google_ads_campaign").type, traffic_of_event, {
        "customer_id": ["123-456-7890" if t.gclid else None for t in traffic], "account_name": none,
        "campaign_id": ["2071" if t.gclid else None for t in traffic], "campaign_name": names,
        "ad_group_id": none, "ad_group_name": none,
    }, mask=~np.array([t.gclid for t in traffic])[traffic_of_event])  # fmt: skip
    cross = struct_column(kind.field("cross_channel_campaign").type, traffic_of_event, {
        "campaign_id": none, "campaign_name": names, "source": sources, "medium": media, "source_platform": none,
        "default_channel_group": [t.channel for t in traffic], "primary_channel_group": [t.channel for t in traffic],
    })  # fmt: skip
    return pa.StructArray.from_arrays([manual, ads, cross], fields=list(kind),
                                      mask=pa.array(np.full(len(traffic_of_event), intraday), pa.bool_()))


def _remember_users(
    s: dict[str, np.ndarray], users: _Users, session_first_us: np.ndarray, block: np.ndarray, sess: np.ndarray
) -> None:
    """Add today's new users and count today's sessions and sign-ups (kept events only)."""
    is_new = s["is_new"]
    users.rand = np.concatenate([users.rand, 10**8 + (s["user"][is_new] * 7_919_993 + 104_729) % (2 * 10**9)])
    users.first_us = np.concatenate([users.first_us, session_first_us[is_new]])
    users.model = np.concatenate([users.model, s["model"][is_new]])
    users.place = np.concatenate([users.place, s["place"][is_new]])
    users.acquired = np.concatenate([users.acquired, s["traffic"][is_new]])
    users.sessions = np.concatenate([users.sessions, np.zeros(int(is_new.sum()), dtype=np.int64)])
    users.registered = np.concatenate([users.registered, np.zeros(int(is_new.sum()), dtype=bool)])
    users.last_click = np.concatenate([users.last_click, np.full(int(is_new.sum()), -1, dtype=np.int64)])
    users.last_click_at = np.concatenate([users.last_click_at, np.zeros(int(is_new.sum()), dtype=np.int64)])
    np.add.at(users.sessions, s["user"], 1)
    signed_up = np.unique(s["user"][sess[block == B_SIGN_UP]])
    users.registered[signed_up] = True

"""What each demo event carries: its page and its `event_params` (and `ecommerce` for purchases)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..schema import ARROW_SCHEMA
from . import demo_shop as shop
from .demo_arrow import EventParams, format_cents, format_numbers

_B = {f"{name}:{kind}": i for i, (name, kind) in enumerate(shop.BLOCKS)}
B_LANDING_VIEW = _B["page_view:landing"]

# Page vocabulary: traffic landings, categories, products, then fixed pages and PII pages.
_CATEGORIES = ("/category/jackets", "/category/shoes", "/category/accessories", "/category/sale")
_FIXED = ("/checkout", "/checkout/thank-you", "/account/signup", *shop.LEAD_PAGES)
PAGES = (
    [t.landing for t in shop.TRAFFIC]
    + list(_CATEGORIES)
    + [f"/product/p-{i:03d}" for i in range(1, shop.N_PRODUCTS + 1)]
    + list(_FIXED)
    + list(shop.PII_PAGES)
)
_CATEGORY0 = len(shop.TRAFFIC)
_PRODUCT0 = _CATEGORY0 + len(_CATEGORIES)
_FIXED0 = _PRODUCT0 + shop.N_PRODUCTS
_PAGE = {path: _FIXED0 + i for i, path in enumerate(_FIXED)}
_PII0 = _FIXED0 + len(_FIXED)
PAGE_VOCAB = pa.array([shop.SITE + p for p in PAGES])


def event_params(
    rng: np.random.Generator,
    s: dict[str, np.ndarray],
    sess: np.ndarray,
    block: np.ndarray,
    names: np.ndarray,
    gap_ms: np.ndarray,
    next_transaction: list[int],
) -> tuple[pa.Array, pa.Array]:
    """event_params for every event, and the ecommerce column of purchases.

    `s` holds the day's sessions (one array entry per session); `sess` and `block` say, per event, which
    session and which block of `BLOCKS` it belongs to; `names` indexes `EVENT_NAMES`.
    """
    n = len(sess)
    every = np.arange(n)
    p = EventParams(n)
    p.add_int("ga_session_id", every, s["start"][sess])
    p.add_int("ga_session_number", every, s["session_number"][sess])
    p.add_vocab("page_location", every, _page_codes(rng, s, sess, block), PAGE_VOCAB)
    p.add_int("engagement_time_msec", every, gap_ms)
    engaged = np.flatnonzero(s["engaged"][sess] & (block >= B_LANDING_VIEW))
    p.add_vocab("session_engaged", engaged, np.zeros(len(engaged), dtype=np.int64), pa.array(["1"]))

    name = np.array(shop.EVENT_NAMES)[names]
    product_price = shop.PRICES[np.arange(shop.N_PRODUCTS) % len(shop.PRICES)]
    item = product_price[s["product"]]
    basket = item * s["quantity"] + np.where(s["extra_item"] >= 0, product_price[s["extra_item"]], 0.0)
    lead_source = s["lead_source"]
    value = np.select(
        [name == "view_item", name == "add_to_cart", np.isin(name, ["begin_checkout", "purchase"])],
        [item[sess], (item * s["quantity"])[sess], basket[sess]],
        default=shop.LEAD_VALUE[lead_source[sess]],
    ).round(2)
    with_value = np.flatnonzero(np.isin(name, ["view_item", "add_to_cart", "begin_checkout", "purchase", "generate_lead"]))
    p.add_vocab("currency", with_value, np.zeros(len(with_value), dtype=np.int64), pa.array([shop.CURRENCY]))
    cents = np.rint(value[with_value] * 100).astype(np.int64)
    as_string = rng.random(len(with_value)) < shop.P_VALUE_AS_STRING  # malformed: "49.90"
    whole = (cents % 100 == 0) & ~as_string  # like real exports: whole numbers arrive in int_value
    p.add_int("value", with_value[whole], cents[whole] // 100)
    p.add_double("value", with_value[~whole & ~as_string], value[with_value[~whole & ~as_string]])
    p.add_strings("value", with_value[as_string], format_cents(cents[as_string]))

    purchases = np.flatnonzero(name == "purchase")
    buyers, first_purchase = np.unique(sess[purchases], return_inverse=True)
    number = next_transaction[0] + first_purchase  # a reloaded page repeats its session's transaction id
    next_transaction[0] += len(buyers)
    transaction = format_numbers("T", number, width=8)
    missing = rng.random(len(purchases)) < shop.P_MISSING_TRANSACTION_ID  # malformed: no transaction_id
    p.add_strings("transaction_id", purchases[~missing], transaction.filter(pa.array(~missing)))
    # from the order number, not the random stream, so every other demo value stays as it was
    payment = np.asarray(shop.PAYMENT_BY_ORDER)[number % len(shop.PAYMENT_BY_ORDER)]
    p.add_vocab("payment_type", purchases, payment, pa.array(shop.PAYMENT_TYPES))

    signups = np.flatnonzero(name == "sign_up")
    p.add_vocab("method", signups, s["method"][sess[signups]], pa.array(shop.SIGN_UP_METHODS))
    leads = np.flatnonzero(name == "generate_lead")
    pii = rng.random(len(leads)) < shop.P_PII_LEAD_SOURCE  # malformed: an email address in lead_source
    codes = np.where(pii, len(shop.LEAD_SOURCES), lead_source[sess[leads]])
    p.add_vocab("lead_source", leads, codes, pa.array([*shop.LEAD_SOURCES, shop.PII_LEAD_SOURCE]))

    quantity = s["quantity"] + (s["extra_item"] >= 0)
    ecommerce_type = ARROW_SCHEMA.field("ecommerce").type
    revenue = np.full(n, np.nan)
    revenue[purchases] = value[purchases]
    tid = np.full(n, None, dtype=object)
    tid[purchases[~missing]] = transaction.filter(pa.array(~missing)).to_pylist()
    is_purchase = name == "purchase"
    ecommerce = pa.StructArray.from_arrays(
        [
            pa.array(tid, pa.string()),
            pa.array(revenue, pa.float64(), mask=~is_purchase),
            pa.array(quantity[sess], pa.int64(), mask=~is_purchase),
        ],
        fields=list(ecommerce_type),
        mask=pa.array(~is_purchase),
    )
    return p.build(), ecommerce


def _page_codes(rng: np.random.Generator, s: dict[str, np.ndarray], sess: np.ndarray, block: np.ndarray) -> np.ndarray:
    kind = np.array([k for _, k in shop.BLOCKS])[block]
    n = len(sess)
    product_page = _PRODUCT0 + s["product"][sess]
    codes = np.select(
        [kind == "landing", kind == "product", kind == "checkout", kind == "thank_you", kind == "sign_up", kind == "lead"],
        [
            s["traffic"][sess],
            product_page,
            _PAGE["/checkout"],
            _PAGE["/checkout/thank-you"],
            _PAGE["/account/signup"],
            _PAGE[shop.LEAD_PAGES[0]] + s["lead_source"][sess],
        ],
        default=rng.integers(_CATEGORY0, _FIXED0, size=n),  # browsing: categories and products
    )
    views = block == B_LANDING_VIEW
    views |= np.array([name == "page_view" for name, _ in shop.BLOCKS])[block]
    pii = views & (rng.random(n) < shop.P_PII_PAGE_VIEW)  # malformed: an email address in the URL
    return np.where(pii, _PII0 + rng.integers(0, len(shop.PII_PAGES), size=n), codes)

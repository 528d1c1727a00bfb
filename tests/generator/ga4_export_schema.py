"""GA4's BigQuery export schema (events_YYYYMMDD), as documented (shared/reference/ga4.md §7, §11).

The real export, not the warehouse's subset: including `collected_traffic_source` and
`session_traffic_source_last_click` with `cross_channel_campaign`, so generated SQL reading them is checked
against the names GA4 really uses. Types are GoogleSQL's.
"""

from __future__ import annotations

Field = tuple[str, "str | list[Field]", bool]  # name, scalar type or sub-fields, repeated

_PARAM_VALUE = [("string_value", "STRING", False), ("int_value", "INT64", False),
                ("float_value", "FLOAT64", False), ("double_value", "FLOAT64", False)]
_MANUAL = [(n, "STRING", False) for n in ("campaign_id", "campaign_name", "source", "medium", "term", "content",
                                          "source_platform", "creative_format", "marketing_tactic")]
_ADS = [("customer_id", "STRING", False), ("account_name", "STRING", False), ("campaign_id", "STRING", False),
        ("campaign_name", "STRING", False), ("ad_group_id", "STRING", False), ("ad_group_name", "STRING", False)]
_CROSS_CHANNEL = [(n, "STRING", False) for n in ("campaign_id", "campaign_name", "source", "medium",
                                                 "source_platform", "default_channel_group", "primary_channel_group")]
_ITEM = ([(n, "STRING", False) for n in ("item_id", "item_name", "item_brand", "item_variant", "item_category",
                                         "item_category2", "item_category3", "item_category4", "item_category5",
                                         "coupon", "affiliation", "location_id", "item_list_id", "item_list_name",
                                         "item_list_index", "promotion_id", "promotion_name", "creative_name",
                                         "creative_slot")]
         + [(n, "FLOAT64", False) for n in ("price_in_usd", "price", "item_revenue_in_usd", "item_revenue",
                                            "item_refund_in_usd", "item_refund")]
         + [("quantity", "INT64", False),
            ("item_params", [("key", "STRING", False), ("value", _PARAM_VALUE, False)], True)])

EVENTS: list[Field] = [
    ("event_date", "STRING", False),
    ("event_timestamp", "INT64", False),
    ("event_name", "STRING", False),
    ("event_params", [("key", "STRING", False), ("value", _PARAM_VALUE, False)], True),
    ("event_previous_timestamp", "INT64", False),
    ("event_value_in_usd", "FLOAT64", False),
    ("event_bundle_sequence_id", "INT64", False),
    ("event_server_timestamp_offset", "INT64", False),
    ("user_id", "STRING", False),
    ("user_pseudo_id", "STRING", False),
    ("privacy_info", [("analytics_storage", "STRING", False), ("ads_storage", "STRING", False),
                      ("uses_transient_token", "STRING", False)], False),
    ("user_properties", [("key", "STRING", False), ("value", [*_PARAM_VALUE, ("set_timestamp_micros", "INT64", False)],
                                                    False)], True),
    ("user_first_touch_timestamp", "INT64", False),
    ("user_ltv", [("revenue", "FLOAT64", False), ("currency", "STRING", False)], False),
    ("device", [(n, "STRING", False) for n in ("category", "mobile_brand_name", "mobile_model_name",
                                               "mobile_marketing_name", "mobile_os_hardware_model",
                                               "operating_system", "operating_system_version", "vendor_id",
                                               "advertising_id", "language", "is_limited_ad_tracking", "browser",
                                               "browser_version")]
     + [("time_zone_offset_seconds", "INT64", False),
        ("web_info", [("browser", "STRING", False), ("browser_version", "STRING", False),
                      ("hostname", "STRING", False)], False)], False),
    ("geo", [(n, "STRING", False) for n in ("city", "country", "continent", "region", "sub_continent", "metro")],
     False),
    ("app_info", [(n, "STRING", False) for n in ("id", "version", "install_store", "firebase_app_id",
                                                 "install_source")], False),
    ("traffic_source", [("name", "STRING", False), ("medium", "STRING", False), ("source", "STRING", False)], False),
    ("stream_id", "STRING", False),
    ("platform", "STRING", False),
    ("event_dimensions", [("hostname", "STRING", False)], False),
    ("ecommerce", [("total_item_quantity", "INT64", False), ("purchase_revenue_in_usd", "FLOAT64", False),
                   ("purchase_revenue", "FLOAT64", False), ("refund_value_in_usd", "FLOAT64", False),
                   ("refund_value", "FLOAT64", False), ("shipping_value_in_usd", "FLOAT64", False),
                   ("shipping_value", "FLOAT64", False), ("tax_value_in_usd", "FLOAT64", False),
                   ("tax_value", "FLOAT64", False), ("unique_items", "INT64", False),
                   ("transaction_id", "STRING", False)], False),
    ("items", _ITEM, True),
    ("collected_traffic_source", [(n, "STRING", False) for n in (
        "manual_campaign_id", "manual_campaign_name", "manual_source", "manual_medium", "manual_term",
        "manual_content", "manual_source_platform", "manual_creative_format", "manual_marketing_tactic", "gclid",
        "dclid", "srsltid")], False),
    ("is_active_user", "BOOL", False),
    ("batch_event_index", "INT64", False),
    ("batch_page_id", "INT64", False),
    ("batch_ordering_id", "INT64", False),
    ("session_traffic_source_last_click", [
        ("manual_campaign", _MANUAL, False),
        ("google_ads_campaign", _ADS, False),
        ("cross_channel_campaign", _CROSS_CHANNEL, False),
    ], False),
    ("_TABLE_SUFFIX", "STRING", False),  # the wildcard table's pseudo-column
]

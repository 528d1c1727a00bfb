"""Arrow building blocks for the demo generator: vectorised strings, structs and `event_params` lists."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema.events import ARROW_PARAM


def strings(codes: np.ndarray, vocab: pa.Array, mask: np.ndarray | None = None) -> pa.Array:
    """Look codes up in a vocabulary of strings (a dictionary decode, no Python loop)."""
    indices = pa.array(np.asarray(codes, dtype=np.int32), pa.int32(), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, vocab).cast(pa.string())


def format_numbers(prefix: str, numbers: np.ndarray, width: int = 0, mask: np.ndarray | None = None) -> pa.Array:
    """`prefix` + number, zero-padded to `width` digits: ("T", 42, 8) → "T00000042"."""
    text = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64), pa.int64(), mask=mask), pa.string())
    if width:
        text = pc.utf8_lpad(text, width=width, padding="0")
    return pc.binary_join_element_wise(prefix, text, "") if prefix else text


def format_cents(cents: np.ndarray) -> pa.Array:
    """Amounts in cents as the strings a careless tag sends: 4990 → "49.90"."""
    units = format_numbers("", cents // 100)
    fraction = format_numbers("", cents % 100, width=2)
    return pc.binary_join_element_wise(units, fraction, ".")


def struct_column(
    struct_type: pa.StructType,
    codes: np.ndarray,
    vocabs: dict[str, list[Any]],
    extra: dict[str, pa.Array] | None = None,
    mask: np.ndarray | None = None,
) -> pa.StructArray:
    """A STRUCT column whose fields are looked up by one code per row (or given whole in `extra`)."""
    extra = extra or {}
    children = [
        extra[field.name] if field.name in extra else strings(codes, pa.array(vocabs[field.name], pa.string()))
        for field in struct_type
    ]
    return pa.StructArray.from_arrays(
        children, fields=list(struct_type), mask=None if mask is None else pa.array(mask, pa.bool_())
    )


class EventParams:
    """Collects (event index, key, typed value) triples and builds the `event_params` list column."""

    def __init__(self, n_events: int) -> None:
        self.n_events = n_events
        self._events: list[np.ndarray] = []
        self._keys: list[str] = []
        self._strings: list[pa.Array] = []
        self._ints: list[np.ndarray] = []
        self._doubles: list[np.ndarray] = []
        self._kinds: list[str] = []

    def add_int(self, key: str, events: np.ndarray, values: np.ndarray) -> None:
        self._add(key, events, "int", ints=np.asarray(values, dtype=np.int64))

    def add_double(self, key: str, events: np.ndarray, values: np.ndarray) -> None:
        self._add(key, events, "double", doubles=np.asarray(values, dtype=np.float64))

    def add_strings(self, key: str, events: np.ndarray, values: pa.Array) -> None:
        self._add(key, events, "string", text=values)

    def add_vocab(self, key: str, events: np.ndarray, codes: np.ndarray, vocab: pa.Array) -> None:
        self._add(key, events, "string", text=strings(codes, vocab))

    def _add(
        self,
        key: str,
        events: np.ndarray,
        kind: str,
        *,
        ints: np.ndarray | None = None,
        doubles: np.ndarray | None = None,
        text: pa.Array | None = None,
    ) -> None:
        n = len(events)
        self._events.append(np.asarray(events, dtype=np.int64))
        self._keys.append(key)
        self._kinds.append(kind)
        self._ints.append(ints if ints is not None else np.zeros(n, dtype=np.int64))
        self._doubles.append(doubles if doubles is not None else np.zeros(n, dtype=np.float64))
        self._strings.append(text if text is not None else pa.nulls(n, pa.string()))

    def build(self) -> pa.ListArray:
        """One list per event, params in the order they were added."""
        events = np.concatenate(self._events)
        order = np.argsort(events, kind="stable")
        sizes = [len(e) for e in self._events]
        key_names = list(dict.fromkeys(self._keys))
        key_codes = np.repeat([key_names.index(k) for k in self._keys], sizes)[order]
        kinds = np.repeat(np.array(self._kinds), sizes)[order]
        int_values = np.concatenate(self._ints)[order]
        double_values = np.concatenate(self._doubles)[order]
        text = pa.concat_arrays(self._strings).take(pa.array(order))
        value = pa.StructArray.from_arrays(
            [
                text,
                pa.array(int_values, pa.int64(), mask=kinds != "int"),
                pa.nulls(len(order), pa.float64()),
                pa.array(double_values, pa.float64(), mask=kinds != "double"),
            ],
            fields=list(ARROW_PARAM.field("value").type),
        )
        params = pa.StructArray.from_arrays([strings(key_codes, pa.array(key_names)), value], fields=list(ARROW_PARAM))
        offsets = np.concatenate([[0], np.cumsum(np.bincount(events, minlength=self.n_events))]).astype(np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), params, type=pa.list_(ARROW_PARAM))

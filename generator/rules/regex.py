"""Catalog patterns compiled the way DuckDB runs them: RE2, linear time, no backtracking.

DuckDB's `regexp_full_match` is RE2, so `kpi validate` and `kpi check-events` use RE2 too (PyPI
`google-re2`): a pattern that passes validate runs in the warehouse, and no pattern can hang a check
(`^(a+)+$` takes time linear in the value, not exponential).
"""

from __future__ import annotations

import functools

import re2

MAX_PATTERN_LENGTH = 1_000


class PatternError(ValueError):
    """A pattern RE2 cannot compile; the message says why in RE2's words."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print each rejected pattern to stderr itself
    options.max_mem = 8 << 20  # a pattern whose program needs more is rejected, not run
    return options


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re2._Regexp:
    """The compiled pattern; raises PatternError when RE2 rejects it (or it is absurdly long)."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"it is {len(pattern):,} characters long (at most {MAX_PATTERN_LENGTH:,})")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(str(reason)) from None


def search(pattern: str, value: str) -> bool:
    """Whether `pattern` matches somewhere in `value` (what JSON Schema's `pattern` means)."""
    return compile_pattern(pattern).search(value) is not None

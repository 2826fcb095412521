"""Timestamp rules decided once per column, so that one row cannot move a rollout.

* **The epoch unit of a numeric column** (seconds, milliseconds, microseconds or
  nanoseconds) is decided once, from the column's median magnitude: below 1e11 seconds
  (before the year 5138), below 1e14 milliseconds, below 1e17 microseconds, else
  nanoseconds. A row in another unit is then far from the rest, and rejected (below).
  ISO 8601 text is parsed as a time and never rescaled: a year-9999 date stays in 9999.
* **The time range of the log**: rows more than :data:`SPAN` from the column's median time,
  or later than :data:`FUTURE` after the current clock, are ``timestamp_out_of_range``.
  Such a row would otherwise become the rollout's start (the default origin is the first
  timestamp) or stretch a blue/green window by years.

Both are decided from a sample of the column (the engine's first rows) at plan time, and
written into the plan as :class:`TimeRules` (data), so that pandas and SQL apply the same
numbers to every row; a plan without them (the incremental monitor's batches) decides from
the frame it is given.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FUTURE", "SPAN", "TimeRules", "epoch_scale", "rules_from_seconds", "seconds",
           "time_rules"]

#: rows further than this from the column's median time are out of range (seconds)
SPAN = 366 * 86400.0
#: rows later than this after the current clock are out of range (seconds)
FUTURE = 86400.0

_UNIT_NAMES = {1.0: "s", 1e-3: "ms", 1e-6: "us", 1e-9: "ns"}


@dataclass(frozen=True)
class TimeRules:
    """``scale`` multiplies numeric timestamps into epoch seconds (1, 1e-3, 1e-6, 1e-9);
    rows whose time is outside ``[low, high]`` (epoch seconds) are out of range."""

    scale: float = 1.0
    low: float = -np.inf
    high: float = np.inf

    @property
    def unit(self) -> str:
        return _UNIT_NAMES.get(self.scale, f"x{self.scale:g}")


def epoch_scale(numbers: np.ndarray) -> float:
    """The factor that turns a column of epoch numbers into seconds, from its median
    magnitude (1.0 when there are none)."""
    x = np.abs(numbers[np.isfinite(numbers)])
    if len(x) == 0:
        return 1.0
    mid = float(np.median(x))
    if mid < 1e11:
        return 1.0
    if mid < 1e14:
        return 1e-3
    if mid < 1e17:
        return 1e-6
    return 1e-9


def _epoch(t: pd.Series) -> pd.Series:
    """Epoch seconds of a datetime Series (NaT -> NaN), in microseconds so that years up
    to 9999 do not overflow."""
    t = pd.to_datetime(t, utc=True).dt.tz_localize(None)
    a = t.to_numpy(dtype="datetime64[us]")
    return pd.Series(np.where(np.isnat(a), np.nan, a.astype("int64") / 1e6), index=t.index)


def _split(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(numbers, ISO seconds) of a column as pandas holds it (NaN where not that kind)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return pd.Series(np.nan, index=s.index), _epoch(s)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype("float64"), pd.Series(np.nan, index=s.index)
    text = s.astype(object).where(s.notna(), None).map(
        lambda v: None if v is None else str(v).strip())
    num = pd.to_numeric(text, errors="coerce").astype("float64")
    iso = pd.Series(np.nan, index=s.index)
    rest = num.isna() & text.notna() & (text != "")
    if rest.any():
        iso[rest] = _epoch(pd.to_datetime(text[rest], utc=True, errors="coerce",
                                          format="ISO8601"))
    return num, iso


def seconds(s: pd.Series, scale: float | None = None) -> tuple[pd.Series, float]:
    """(epoch seconds, NaN where unparseable; the scale used) of a timestamp column."""
    num, iso = _split(s)
    if scale is None:
        scale = epoch_scale(num.to_numpy(dtype=float))
    out = (num * scale).where(num.notna(), iso)
    return out.where(np.isfinite(out)), scale


def rules_from_seconds(t: np.ndarray, scale: float, now: float | None = None) -> TimeRules:
    """The rules for a column whose parsed times (epoch seconds) are ``t``."""
    x = t[np.isfinite(t)]
    now = _time.time() if now is None else now
    if len(x) == 0:
        return TimeRules(scale, -np.inf, now + FUTURE)
    mid = float(np.median(x))
    return TimeRules(scale, mid - SPAN, min(mid + SPAN, now + FUTURE))


def time_rules(sample: pd.Series, now: float | None = None) -> TimeRules:
    """The rules for a timestamp column, from a sample of it."""
    t, scale = seconds(sample)
    return rules_from_seconds(t.to_numpy(dtype=float), scale, now)

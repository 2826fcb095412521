"""Shared pieces of the blue/green analysis: constants, small formatting and test helpers, and
:class:`TimeWindow`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..stats.compare import Estimand
from ..stats.results import ConfidenceInterval, EffectEstimate

#: green's share of the rows after the detected switch below which the switch is called
#: gradual (diagnostic ``NO_CLEAR_SWITCH``)
SWITCH_SHARE = 0.9
#: share of green's after-window rows that must fall in hour bins where blue has >= 2 rows
#: before the matched-hours comparison is reported as available
MATCHED_MIN_SHARE = 0.8
#: blue history (seconds before the switch) from which hour-of-week matching is tried
WEEK = 7 * 86400.0
#: at most this many early looks (the look interval is widened beyond it: ``LOOKS_CAPPED``)
MAX_LOOKS = 5000
SUPPORTED_KINDS = ("mean", "proportion", "count")
MATCH_MODES = ("auto", "hour-of-day", "hour-of-week")
EARLY_REFERENCES = ("auto", "matched-hours", "before-window")

_MEAN = Estimand("mean", (0,))
_ROUNDING = 1e-13  # a per-row sd below this fraction of the values is rounding noise

TIME_CONFOUNDING_WARNING = (
    "Blue/green compares green after the switch with blue before it: different times. "
    "Traffic mix, hour of day, day of week, marketing events and upstream changes all differ "
    "between the two windows, and any of them can look like a regression or hide one. "
    "Only a smoke-test window, where both ran at the same time, is free of this. The "
    "matched-hours comparison removes a daily (or weekly) pattern, not a trend; the placebo "
    "checks show how much blue moves against itself over the same span."
)


def _iso(t: float | None) -> str | None:
    if t is None or not math.isfinite(t):
        return None
    from ..fmt import fmt_time

    try:
        return fmt_time(t)  # to the second
    except (OverflowError, OSError, ValueError):
        return None


def _hm(t: float) -> str:
    s = _iso(t)
    return s[11:19] + " UTC" if s else f"{t:.0f}"


def _f(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _clean(obj: Any) -> Any:
    """Recursively replace non-finite floats by ``None`` (JSON-safe)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (np.floating,)):
        return _clean(float(obj))
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Mapping):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _g(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _p(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.1e}" if x < 0.001 else f"{x:.3f}"


def _t_interval(est: float, se: float, df: float | None, level: float) -> EffectEstimate:
    """Two-sided t (``df``) or normal (``df=None``) interval and p-value; se == 0 is a point."""
    from scipy import special as sp

    if se == 0.0:
        return EffectEstimate(est, 0.0, ConfidenceInterval(est, est), 1.0 if est == 0 else 0.0,
                              df, None)
    stat = est / se
    q = 0.5 + level / 2
    if df is None:
        crit, p = float(sp.ndtri(q)), float(2 * sp.ndtr(-abs(stat)))
    else:
        crit, p = float(sp.stdtrit(df, q)), float(2 * sp.stdtr(df, -abs(stat)))
    return EffectEstimate(est, se, ConfidenceInterval(est - crit * se, est + crit * se),
                          min(max(p, 0.0), 1.0), df, stat)


def _one_sided_p(excess: float, se: float | None, df: float | None) -> float | None:
    """P(T >= excess / se) for the harm's excess over a margin: small when harm > margin."""
    from scipy import special as sp

    if se is None:
        return None
    if se == 0.0:
        return 0.0 if excess > 0 else 1.0
    z = excess / se
    p = sp.ndtr(-z) if df is None else sp.stdtr(df, -z)
    return float(min(max(p, 0.0), 1.0))


@dataclass(frozen=True)
class TimeWindow:
    """A time window ``[start, end]`` (epoch seconds, UTC) and its rows per variant.

    ``end`` is exclusive for blue's windows (they stop at the switch) and inclusive for
    green's after-window (its last row is in it); ``closed`` says which.
    """

    label: str
    start: float | None
    end: float | None
    rows: Mapping[str, int]
    closed: str = "left"  # "left": [start, end); "both": [start, end]

    @property
    def seconds(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "start": _f(self.start), "end": _f(self.end),
                "start_iso": _iso(self.start), "end_iso": _iso(self.end),
                "seconds": _f(self.seconds), "closed": self.closed,
                "rows": {str(k): int(v) for k, v in self.rows.items()}}

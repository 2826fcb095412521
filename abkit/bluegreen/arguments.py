"""Validation of the arguments of :func:`abkit.bluegreen.analyze_bluegreen`.
"""

from __future__ import annotations

import math

import pandas as pd

from ..spec import MetricSpec
from ._common import EARLY_REFERENCES, MATCH_MODES, SUPPORTED_KINDS

def _check_args(frame, time, variant, blue, green, metrics, alpha, switch_at, window, exclude,
                look_every, tightest_at, min_rows, match, early_reference) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    _check_cell_args(blue, green, metrics, alpha, switch_at, window, exclude, look_every,
                     tightest_at, min_rows, match, early_reference, frame, time, variant)


def _check_cell_args(blue, green, metrics, alpha, switch_at, window, exclude, look_every,
                     tightest_at, min_rows, match, early_reference, frame=None, time=None,
                     variant=None) -> None:
    """The checks of :func:`_check_args`; the column checks only with a ``frame``."""
    a = float(alpha)
    if not 0.0 < a < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if blue == green:
        raise ValueError(f"blue and green must be different labels, got {blue!r} twice")
    for name, col in (("time", time), ("variant", variant)) if frame is not None else ():
        if col not in frame.columns:
            raise ValueError(f"{name} column {col!r} is not in the frame (columns: "
                             f"{', '.join(map(str, frame.columns))})")
    names = set()
    for m in metrics:
        if not isinstance(m, MetricSpec):
            raise TypeError(f"metrics must be MetricSpec objects, got {type(m).__name__}")
        if m.name in names:
            raise ValueError(f"metric name {m.name!r} appears twice")
        names.add(m.name)
        if m.kind not in SUPPORTED_KINDS:
            raise ValueError(f"metric {m.name!r}: kind {m.kind!r} is not supported for "
                             f"blue/green (supported: {', '.join(SUPPORTED_KINDS)})")
        if frame is not None and (m.column is None or m.column not in frame.columns):
            raise ValueError(f"metric {m.name!r}: column {m.column!r} is not in the frame")
        if m.good not in ("increase", "decrease"):
            raise ValueError(f"metric {m.name!r}: good must be increase or decrease")
    for name, v, lo_open in (("exclude", exclude, False), ("look_every", look_every, True)):
        fv = float(v)
        if not math.isfinite(fv) or fv < 0 or (lo_open and fv == 0):
            raise ValueError(f"{name} must be a finite number {'>' if lo_open else '>='} 0, "
                             f"got {v}")
    if window is not None and not (math.isfinite(float(window)) and float(window) > 0):
        raise ValueError(f"window must be a positive finite number of seconds, got {window}")
    if switch_at is not None and not math.isfinite(float(switch_at)):
        raise ValueError(f"switch_at must be finite epoch seconds, got {switch_at}")
    for name, v, lo in (("tightest_at", tightest_at, 1), ("min_rows", min_rows, 2)):
        if isinstance(v, bool) or int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if match not in MATCH_MODES:
        raise ValueError(f"match must be one of {', '.join(MATCH_MODES)}, got {match!r}")
    if early_reference not in EARLY_REFERENCES:
        raise ValueError(f"early_reference must be one of {', '.join(EARLY_REFERENCES)}, "
                         f"got {early_reference!r}")

"""Input checks and shared constants of the sequential tests."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

Harmful = Literal["increase", "decrease"]
_OVERFLOW = ("the values are out of double-precision range (sums or squares overflow); "
             "rescale the metric (e.g. to thousands)")


# --------------------------------------------------------------------------- validation


def _check_positive(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0.0) or not math.isfinite(v * v) or v * v == 0.0:
        raise ValueError(f"{name} must be a positive finite number (with a finite, non-zero "
                         f"square), got {value}")
    return v


def _check_count(name: str, value: int) -> int:
    try:
        ok = not isinstance(value, bool) and int(value) == value and value >= 0
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _check_harmful(harmful: str) -> str:
    if harmful not in ("increase", "decrease"):
        raise ValueError(f"harmful must be 'increase' or 'decrease', got {harmful!r}")
    return harmful


def _scalar_or_array(x: np.ndarray) -> float | np.ndarray:
    return float(x) if np.ndim(x) == 0 else x

"""Shared helpers of the latency package: default levels, argument checks, ranks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._checks import check_unit_interval

DEFAULT_QUANTILES: tuple[float, ...] = (0.5, 0.95, 0.99)


# --------------------------------------------------------------------------- validation


def _check_level(confidence_level: float) -> float:
    return check_unit_interval("confidence_level", confidence_level)


def _check_q(q: float) -> float:
    return check_unit_interval("q", q, " (0.99 for p99)")


def _as_1d(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {a.shape}")
    if a.dtype.kind not in "biuf":
        try:
            a = a.astype(float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must hold numbers") from None
    return a.astype(float, copy=False)


def _k(n: int, q: float) -> int:
    """1-based rank of the inverted-CDF sample quantile."""
    return max(1, math.ceil(n * q))

"""Defaults and input checks of the mixture tests."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

DEFAULT_TAU = math.log(1.5)
"""Default scale of the normal prior on ``log(theta / theta0)`` for event-rate ratios:
the log of the 1.5x rate ratio the canary gate should catch quickly."""

DEFAULT_SRM_TAU = 0.1
"""Default prior scale for the sequential SRM test (on each variant's log odds ratio of
observed to intended share): near-optimal for 5-20 % relative shortfalls or excesses of
units in a variant in the simulations quoted in :class:`SequentialSRM`."""

DEFAULT_GRID_STEP = 0.001
"""Grid step on ``log(theta)``: 0.1 % relative resolution of the confidence bounds."""

DEFAULT_MAX_RATIO = 1000.0
"""The grid covers ``theta`` in ``[1 / max_ratio, max_ratio]``."""

_PRIOR_SDS = 8.0  # the normal prior is truncated at 8 tau (dropped mass ~1e-15)
_BLOCK = 64  # grid points evaluated at once when scanning for a two-sided bound


# --------------------------------------------------------------------------- validation


def _check_positive(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}") from None
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def _counts(name: str, value: Any) -> np.ndarray:
    """Non-negative integer counts (scalars or 1-D) as an int64 array."""
    arr = np.asarray(value)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be non-negative integers, got {value!r}")
    if arr.dtype.kind == "f":
        if not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
            raise ValueError(f"{name} must be non-negative integers, got {value!r}")
        if arr.size and np.abs(arr).max() > 2.0**53:
            raise ValueError(f"{name} is too large to be an exact count")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must be non-negative integers, got {value!r}")
    return arr.astype(np.int64)


def _exposures(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be non-negative finite numbers, got {value!r}") from None
    if not (np.isfinite(arr).all() and (arr >= 0).all()):
        raise ValueError(f"{name} must be non-negative finite numbers, got {value!r}")
    return arr


def _shares(et: np.ndarray, ec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(e_t / (e_t + e_c), e_c / (e_t + e_c))`` computed without overflow; 0 where both are 0."""
    m = np.maximum(et, ec)
    safe = np.where(m > 0, m, 1.0)
    a, b = et / safe, ec / safe
    tot = a + b
    tot = np.where(tot > 0, tot, 1.0)
    return a / tot, b / tot

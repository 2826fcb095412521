"""Shared helpers of the drift measures: input cleaning, edge-case checks, category counts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..results import Diagnostic
from .thresholds import DEFAULT_THRESHOLDS, DriftResult, DriftThresholds


# --------------------------------------------------------------------------- input cleaning


@dataclass(frozen=True)
class _Clean:
    values: np.ndarray
    n_raw: int
    n_missing: int


def _check_1d(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {a.shape}")
    return a


def _clean_numeric(x: Any, name: str) -> _Clean:
    a = _check_1d(x, name)
    if a.dtype.kind not in "biuf":
        try:
            a = np.array([np.nan if v is None else v for v in a], dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} holds non-numeric values; pass the feature as categorical"
            ) from None
    a = a.astype(float, copy=False)
    keep = np.isfinite(a)
    return _Clean(a[keep], int(a.size), int(a.size - keep.sum()))


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, (float, np.floating)):
        return math.isnan(v)
    return type(v).__name__ in ("NAType", "NaTType")


def _float_labels(v: np.ndarray) -> np.ndarray:
    """Labels of float categories; integral values as integers, so that 1.0 and 1 agree."""
    if v.size and np.all(np.isfinite(v)) and np.all(v == np.round(v)) and \
            np.all(np.abs(v) < 2.0**53):
        return v.astype(np.int64).astype(str)
    return v.astype(str)


def _label(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _clean_categorical(x: Any, name: str) -> _Clean:
    a = _check_1d(x, name)
    if a.dtype.kind in "US":
        return _Clean(a.astype(str), int(a.size), 0)
    if a.dtype.kind == "f":
        keep = ~np.isnan(a)
        return _Clean(_float_labels(a[keep]), int(a.size), int(a.size - keep.sum()))
    if a.dtype.kind in "biu":
        return _Clean(a.astype(str), int(a.size), 0)
    fast = _text_categories(a)
    if fast is not None:
        return fast
    keep = np.fromiter((not _is_missing(v) for v in a), dtype=bool, count=a.size)
    labels = np.array([_label(v) for v in a[keep]], dtype=str) if keep.any() else \
        np.array([], dtype=str)
    return _Clean(labels, int(a.size), int(a.size - keep.sum()))


def _text_categories(a: np.ndarray) -> _Clean | None:
    """The common object array, text with missing values, cleaned without a Python loop
    over every value (the same labels as the loop: a text's label is itself); None when
    some value is not text or a missing value is one the loop would keep."""
    import pandas as pd

    miss = pd.isna(a)
    kept = a[~miss]
    if kept.size and pd.api.types.infer_dtype(kept, skipna=False) != "string":
        return None
    if not all(_is_missing(v) for v in a[miss]):
        return None
    return _Clean(kept.astype(str), int(a.size), int(miss.sum()))


def _missing_note(ref: _Clean, cur: _Clean) -> list[Diagnostic]:
    if ref.n_missing == 0 and cur.n_missing == 0:
        return []
    return [Diagnostic(
        "MISSING_VALUES",
        f"{ref.n_missing} of {ref.n_raw} reference and {cur.n_missing} of {cur.n_raw} current "
        "values are missing or non-finite and were left out",
    )]


def _empty_check(ref: _Clean, cur: _Clean) -> Diagnostic | None:
    for label, c in (("reference", ref), ("current", cur)):
        if c.values.size == 0:
            if c.n_raw == 0:
                return Diagnostic("EMPTY_SAMPLE",
                                  f"the {label} sample is empty; nothing to compare")
            return Diagnostic("ALL_MISSING", f"all {c.n_raw} {label} values are missing; "
                              "nothing to compare")
    return None


def _constant_check(ref: _Clean, cur: _Clean, categorical: bool) -> Diagnostic | None:
    r0 = ref.values[0]
    if np.all(ref.values == r0) and np.all(cur.values == r0):
        if categorical:
            return Diagnostic("ONE_CATEGORY", f"both samples hold the single category {r0!s}; "
                              "there is no distribution to compare")
        return Diagnostic("CONSTANT_FEATURE", f"the feature is constant ({float(r0):g}) in both "
                          "samples; there is no distribution to compare")
    return None


def _undefined(method: str, thr: DriftThresholds, ref: _Clean, cur: _Clean,
               diags: list[Diagnostic], feature: str | None) -> DriftResult:
    return DriftResult(method, None, None, thr.threshold(method), None, int(ref.values.size),
                       int(cur.values.size), tuple(diags), feature=feature)


def _prepare(method: str, reference: Any, current: Any, categorical: bool,
             thr: DriftThresholds, feature: str | None
             ) -> tuple[_Clean, _Clean, list[Diagnostic], DriftResult | None]:
    clean = _clean_categorical if categorical else _clean_numeric
    ref, cur = clean(reference, "reference"), clean(current, "current")
    diags = _missing_note(ref, cur)
    bad = _empty_check(ref, cur) or _constant_check(ref, cur, categorical)
    if bad is not None:
        diags.append(bad)
        return ref, cur, diags, _undefined(method, thr, ref, cur, diags, feature)
    return ref, cur, diags, None


def _thresholds(t: DriftThresholds | None) -> DriftThresholds:
    if t is None:
        return DEFAULT_THRESHOLDS
    if not isinstance(t, DriftThresholds):
        raise TypeError("thresholds must be a DriftThresholds instance")
    return t


def _check_bins(bins: int) -> int:
    if isinstance(bins, bool) or int(bins) != bins or bins < 2:
        raise ValueError(f"bins must be an integer >= 2, got {bins!r}")
    return int(bins)


def _small_sample(method: str, expected: float, threshold: float, n_r: int, n_c: int
                  ) -> list[Diagnostic]:
    if threshold > 0 and expected >= 0.5 * threshold:
        return [Diagnostic(
            "SMALL_SAMPLE",
            f"with {n_r} reference and {n_c} current values the {method} statistic averages "
            f"about {expected:.3g} with no drift at all (threshold {threshold:g}); use larger "
            "windows or a test with a p-value (ks, chi2)",
        )]
    return []


def _category_counts(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Categories (sorted union) and a 2 x K count table."""
    cats, inv = np.unique(np.concatenate([ref, cur]), return_inverse=True)
    k = cats.size
    table = np.zeros((2, k), dtype=float)
    table[0] = np.bincount(inv[: ref.size], minlength=k)
    table[1] = np.bincount(inv[ref.size:], minlength=k)
    return cats, table

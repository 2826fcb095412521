"""Drift tests with a p-value: Kolmogorov-Smirnov (:func:`ks_drift`) and chi-square
(:func:`chi2_drift`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..results import Diagnostic
from ._common import _category_counts, _prepare, _thresholds, _undefined
from .thresholds import _TOL, OTHER, DriftResult, DriftThresholds


# --------------------------------------------------------------------------- KS


def ks_drift(
    reference: Any, current: Any, *, thresholds: DriftThresholds | None = None,
    feature: str | None = None,
) -> DriftResult:
    """Two-sample Kolmogorov-Smirnov drift test of a numeric feature.

    ``statistic`` is ``D = sup_x |F_ref(x) - F_cur(x)|`` and ``pvalue`` its two-sided p-value,
    both from :func:`scipy.stats.ks_2samp` (``method="auto"``: exact distribution for small
    samples, Kolmogorov's asymptotic one otherwise; Hodges 1958). ``drifted`` when
    ``pvalue < thresholds.alpha`` (0.01) and ``D >= thresholds.ks_min_statistic`` (0.1).
    """
    from scipy import stats

    thr = _thresholds(thresholds)
    ref, cur, diags, bad = _prepare("ks", reference, current, False, thr, feature)
    if bad is not None:
        return bad
    res = stats.ks_2samp(ref.values, cur.values)
    d, p = float(res.statistic), float(min(max(res.pvalue, 0.0), 1.0))
    sig = p < thr.alpha
    big = d >= thr.ks_min_statistic - _TOL
    if sig and not big:
        diags.append(Diagnostic(
            "BELOW_EFFECT_FLOOR",
            f"the shift is significant (p = {p:.3g}) but D = {d:.3g} is below the floor "
            f"{thr.ks_min_statistic:g}; not flagged",
        ))
    return DriftResult("ks", d, p, thr.alpha, bool(sig and big), int(ref.values.size),
                       int(cur.values.size), tuple(diags), d, thr.ks_min_statistic, None, feature)


# --------------------------------------------------------------------------- chi-square


def _pool_sparse(cats: np.ndarray, table: np.ndarray, min_expected: float
                 ) -> tuple[list[str], np.ndarray, int]:
    """Pool columns whose smaller expected count is below ``min_expected`` into ``<other>``."""
    rows = table.sum(axis=1)
    total = rows.sum()
    min_row_share = rows.min() / total
    col = table.sum(axis=0)
    # expected count of column j in the smaller row is col_j * min_row / total
    order = np.argsort(col, kind="stable")
    small = [j for j in order if col[j] * min_row_share < min_expected]
    if not small:
        return [str(c) for c in cats], table, 0
    pooled = set(small)
    other = table[:, small].sum(axis=1)
    keep = [j for j in order if j not in pooled]  # ascending column totals
    while keep and other.sum() * min_row_share < min_expected:
        j = keep.pop(0)
        pooled.add(j)
        other = other + table[:, j]
    keep_sorted = sorted(keep)
    names = [str(cats[j]) for j in keep_sorted] + [OTHER]
    new = np.column_stack([table[:, keep_sorted], other]) if keep_sorted else other[:, None]
    return names, new, len(pooled)


def chi2_drift(
    reference: Any, current: Any, *, min_expected: float = 5.0,
    thresholds: DriftThresholds | None = None, feature: str | None = None,
) -> DriftResult:
    """Pearson chi-square test of homogeneity of a categorical feature's shares.

    Builds the 2 x K table of counts (reference, current) over the categories seen in either
    sample, pools sparse categories (every expected count ``>= min_expected``, default 5,
    after Cochran 1954; see the module docstring), and computes
    ``X^2 = sum (O - E)^2 / E`` with ``(rows - 1)(K - 1) = K - 1`` degrees of freedom, without
    Yates' correction. Reference: ``scipy.stats.chi2_contingency(table, correction=False)``.
    ``drifted`` when ``pvalue < thresholds.alpha`` (0.01) and the total variation distance of
    the pooled shares is ``>= thresholds.chi2_min_tv`` (0.1).
    """
    from scipy import special as sp

    if not (math.isfinite(min_expected) and min_expected > 0):
        raise ValueError(f"min_expected must be a positive number, got {min_expected!r}")
    thr = _thresholds(thresholds)
    ref, cur, diags, bad = _prepare("chi2", reference, current, True, thr, feature)
    if bad is not None:
        return bad
    cats, table = _category_counts(ref.values, cur.values)
    names, table, n_pooled = _pool_sparse(cats, table, min_expected)
    if n_pooled:
        diags.append(Diagnostic(
            "SPARSE_CATEGORIES_POOLED",
            f"{n_pooled} of {cats.size} categories had an expected count below {min_expected:g} "
            f"and were pooled into '{OTHER}' ({len(names)} columns tested)",
        ))
    if table.shape[1] < 2:
        diags.append(Diagnostic(
            "TOO_FEW_CATEGORIES",
            f"after pooling sparse categories only one column is left ({cats.size} categories, "
            f"{int(table.sum())} values); the samples are too small for a chi-square test",
        ))
        return _undefined("chi2", thr, ref, cur, diags, feature)
    rows = table.sum(axis=1, keepdims=True)
    cols = table.sum(axis=0, keepdims=True)
    expected = rows * cols / table.sum()
    stat = float(((table - expected) ** 2 / expected).sum())
    df = table.shape[1] - 1
    p = float(min(max(sp.chdtrc(df, stat), 0.0), 1.0))
    shares = table / rows
    tv = float(0.5 * np.abs(shares[0] - shares[1]).sum())
    sig = p < thr.alpha
    big = tv >= thr.chi2_min_tv - _TOL
    if sig and not big:
        diags.append(Diagnostic(
            "BELOW_EFFECT_FLOOR",
            f"the shift is significant (p = {p:.3g}) but the total variation distance "
            f"{tv:.3g} is below the floor {thr.chi2_min_tv:g}; not flagged",
        ))
    return DriftResult("chi2", stat, p, thr.alpha, bool(sig and big), int(ref.values.size),
                       int(cur.values.size), tuple(diags), tv, thr.chi2_min_tv, None, feature)

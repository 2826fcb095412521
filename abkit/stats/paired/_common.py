"""Shared pieces of :mod:`abkit.stats.paired`: constants, JSON helpers, argument validation,
midranks and the one-sample t interval.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from ..results import ConfidenceInterval, Diagnostic, EffectEstimate


#: probabilities are clipped to ``[LOG_LOSS_EPS, 1 - LOG_LOSS_EPS]`` before taking logs
#: (the convention of scikit-learn's ``log_loss`` before version 1.5)
LOG_LOSS_EPS = 1e-15
#: quantile levels reported by :func:`score_differences`
QUANTILE_LEVELS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
#: McNemar's test is exact (binomial) when the number of discordant pairs is below this
MCNEMAR_EXACT_BELOW = 25

Loss = Literal["log_loss", "squared_error", "absolute_error"]
_LOSSES = ("log_loss", "squared_error", "absolute_error")


# --------------------------------------------------------------------------- JSON helpers


def _num(x: Any) -> float | None:
    """A finite Python float, or ``None``."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _ci_dict(ci: ConfidenceInterval | None) -> dict[str, float | None] | None:
    return None if ci is None else {"low": _num(ci.low), "high": _num(ci.high)}


def _ee_dict(e: EffectEstimate | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {
        "estimate": _num(e.estimate),
        "se": _num(e.se),
        "ci": _ci_dict(e.ci),
        "pvalue": _num(e.pvalue),
        "df": _num(e.df),
        "statistic": _num(e.statistic),
    }


def _diag_list(diags: tuple[Diagnostic, ...]) -> list[dict[str, str]]:
    return [d.to_dict() for d in diags]


_NONE_EE = EffectEstimate(None, None, None, None)


# --------------------------------------------------------------------------- validation


def _check_confidence(confidence_level: float) -> float:
    try:
        c = float(confidence_level)
    except (TypeError, ValueError):
        c = float("nan")
    if not 0.0 < c < 1.0:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level!r}")
    return c


def _check_threshold(threshold: float) -> float:
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        t = float("nan")
    if not math.isfinite(t):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    return t


def _check_margin(margin: float) -> float:
    try:
        m = float(margin)
    except (TypeError, ValueError):
        m = float("nan")
    if not (math.isfinite(m) and m >= 0.0):
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    return m


def _as_1d(name: str, x: Any) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a one-dimensional array of numbers ({exc})") from None
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    return a


def _scores(s_live: Any, s_cand: Any) -> tuple[np.ndarray, np.ndarray]:
    a, b = _as_1d("s_live", s_live), _as_1d("s_cand", s_cand)
    if a.shape != b.shape:
        raise ValueError(f"s_live and s_cand differ in length ({a.size} and {b.size}); "
                         "they must hold one element per matched request")
    return a, b


def _labels(y: Any, n: int, binary: bool = True) -> np.ndarray:
    v = _as_1d("y", y)
    if v.size != n:
        raise ValueError(f"y has {v.size} elements but the scores have {n}; "
                         "they must hold one element per matched request")
    if binary:
        known = v[~np.isnan(v)]
        bad = known[(known != 0.0) & (known != 1.0)]
        if bad.size:
            raise ValueError(f"y must hold 0 / 1 labels (NaN for unlabelled pairs); found "
                             f"{bad.size} other value(s), e.g. {bad[0]!r}")
    return v


def _drop_non_finite(
    arrays: list[np.ndarray], diags: list[Diagnostic]
) -> list[np.ndarray]:
    ok = np.ones(arrays[0].size, dtype=bool)
    for a in arrays:
        ok &= np.isfinite(a)
    dropped = int(ok.size - ok.sum())
    if dropped:
        diags.append(Diagnostic(
            "NON_FINITE_DROPPED",
            f"{dropped} pair(s) with a non-finite score were left out",
        ))
        return [a[ok] for a in arrays]
    return arrays


def _labelled(
    y: Any, s_live: Any, s_cand: Any | None, diags: list[Diagnostic], binary: bool = True
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Validate, drop non-finite scores (counted) and unlabelled pairs (counted)."""
    if s_cand is None:
        s = [_as_1d("s", s_live)]
    else:
        s = list(_scores(s_live, s_cand))
    v = _labels(y, s[0].size, binary)
    unlabelled = np.isnan(v)
    n_unl = int(unlabelled.sum())
    if n_unl:
        diags.append(Diagnostic(
            "UNLABELLED_PAIRS",
            f"{n_unl} pair(s) have no label (y is NaN) and are left out of the label-based "
            "statistics",
        ))
        keep = ~unlabelled
        v = v[keep]
        s = [a[keep] for a in s]
    out = _drop_non_finite([v, *s], diags)
    return out[0], out[1:]


def _z(confidence_level: float) -> float:
    from scipy import special as sp

    return float(sp.ndtri(0.5 + confidence_level / 2.0))


def _tie_average(xs: np.ndarray) -> np.ndarray:
    """The midranks of sorted values, in their sorted order."""
    n = xs.size
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], n]
    return np.repeat((starts + ends + 1) / 2.0, ends - starts)


def _midranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given the average of the ranks they span (``rankdata`` "average")."""
    order = np.argsort(x)  # ties share one rank, so their order does not matter
    ranks = np.empty(x.size)
    ranks[order] = _tie_average(x[order])
    return ranks


def _midranks_by_group(x: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(midranks of ``x`` among all values, midranks within its own group), both in the order
    of ``x``, from one sort: a group's values, taken in the sorted order of all, are sorted.
    ``group`` is boolean (two groups)."""
    order = np.argsort(x)
    xs = x[order]
    overall = np.empty(x.size)
    overall[order] = _tie_average(xs)
    within = np.empty(x.size)
    g = group[order]
    for sel in (g, ~g):
        within[order[sel]] = _tie_average(xs[sel])
    return overall, within


def _t_interval(
    values: np.ndarray, cl: float, null: float = 0.0
) -> tuple[EffectEstimate, str | None]:
    """One-sample t: estimate, se, interval and two-sided p-value for ``mean - null``.

    Returns a reason code instead of the uncertainty when it is undefined.
    """
    from scipy import special as sp

    n = values.size
    if n == 0:
        return _NONE_EE, "NO_PAIRS"
    mean = float(values.mean())
    if n < 2:
        return EffectEstimate(mean, None, None, None), "TOO_FEW_PAIRS"
    sd = float(values.std(ddof=1))
    # spread at the rounding level of the values is the noise of a constant, not spread
    scale = float(np.abs(values).max())
    if not sd > 1e-13 * scale:
        return EffectEstimate(mean, 0.0, None, None, float(n - 1), None), "ZERO_VARIANCE"
    se = sd / math.sqrt(n)
    df = float(n - 1)
    crit = float(sp.stdtrit(df, 0.5 + cl / 2.0))
    stat = (mean - null) / se
    p = min(max(float(2.0 * sp.stdtr(df, -abs(stat))), 0.0), 1.0)
    return EffectEstimate(mean, se, ConfidenceInterval(mean - crit * se, mean + crit * se), p,
                          df, stat), None


_REASONS = {
    "NO_PAIRS": "there are no pairs",
    "TOO_FEW_PAIRS": "fewer than 2 pairs: no standard deviation, so no interval or p-value",
    "ZERO_VARIANCE": "the values do not vary (e.g. identical models), so the t statistic is "
                     "0/0: no interval or p-value",
}

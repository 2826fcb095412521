"""One sample quantile with a distribution-free order-statistic interval (:func:`quantile_ci`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..results import ConfidenceInterval, Diagnostic, HasDiagnostics
from ._common import _as_1d, _check_level, _check_q, _k


# --------------------------------------------------------------------------- order statistics


def min_n_for_quantile_ci(q: float, confidence_level: float = 0.95) -> int:
    """Smallest sample size for which :func:`quantile_ci` gives an interval.

    The equal-tailed interval ``[x_(l), x_(u)]`` needs ``P(Bin(n, q) <= 0) = (1 - q)^n <=
    alpha / 2`` (so that ``l >= 1``) and ``P(Bin(n, q) >= n) = q^n <= alpha / 2`` (so that
    ``u <= n``), i.e. ``n >= ln(alpha / 2) / ln(max(q, 1 - q))``: 6 for the median, 72 for
    p95 and 368 for p99 at 95 %. (The often-quoted "about 300 for p99" is
    ``ln(alpha) / ln(0.99) = 299``, the size at which ``[min, max]`` first covers with 95 %,
    all of the error probability then sitting in the upper tail.)
    """
    q = _check_q(q)
    alpha = 1.0 - _check_level(confidence_level)
    n = math.ceil(math.log(alpha / 2.0) / math.log(max(q, 1.0 - q)))
    while (1.0 - q) ** n > alpha / 2.0 or q ** n > alpha / 2.0:
        n += 1
    while n > 1 and (1.0 - q) ** (n - 1) <= alpha / 2.0 and q ** (n - 1) <= alpha / 2.0:
        n -= 1
    return n


def _os_ranks(n: int, q: float, level: float) -> tuple[int, int, float] | None:
    """1-based ranks ``(l, u)`` of the equal-tailed order-statistic interval and its coverage."""
    from scipy import special as sp
    from scipy import stats

    a2 = (1.0 - level) / 2.0
    k_lo = int(stats.binom.ppf(a2, n, q))  # smallest k with P(B <= k) >= a2
    low = k_lo if sp.bdtr(k_lo, n, q) > a2 else k_lo + 1  # P(B <= l - 1) <= a2
    up = int(stats.binom.ppf(1.0 - a2, n, q)) + 1  # P(B <= u - 1) >= 1 - a2
    if low < 1 or up > n:
        return None
    cov = float(sp.bdtr(up - 1, n, q) - sp.bdtr(low - 1, n, q))
    return low, up, cov


@dataclass(frozen=True)
class QuantileEstimate(HasDiagnostics):
    """A sample quantile with its order-statistic confidence interval.

    Attributes
    ----------
    q : float
        The quantile level (0.99 for p99).
    estimate : float or None
        ``x_(ceil(n q))``; ``None`` for an empty sample.
    ci : ConfidenceInterval or None
        ``[x_(l), x_(u)]``; ``None`` when ``n < min_n_for_quantile_ci(q, level)``.
    ranks : (int, int) or None
        The 1-based ranks ``(l, u)``.
    coverage : float or None
        The exact coverage ``P(l <= Bin(n, q) < u)`` of the interval for a continuous
        distribution (at least ``confidence_level``; for data with ties the closed interval
        covers at least as often).
    """

    q: float
    estimate: float | None
    ci: ConfidenceInterval | None
    confidence_level: float
    n: int
    ranks: tuple[int, int] | None = None
    coverage: float | None = None
    method: str = "order-statistic"
    unit: str | None = None
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "q": self.q, "estimate": self.estimate,
            "ci": self.ci.to_dict() if self.ci else None,
            "confidence_level": self.confidence_level, "n": self.n,
            "ranks": list(self.ranks) if self.ranks else None, "coverage": self.coverage,
            "method": self.method, "unit": self.unit,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def _finite_values(x: np.ndarray, name: str) -> tuple[np.ndarray, list[Diagnostic]]:
    keep = np.isfinite(x)
    dropped = int(x.size - keep.sum())
    if dropped == 0:
        return x, []
    return x[keep], [Diagnostic("NON_FINITE_DROPPED", f"{dropped} of {x.size} {name} values "
                                "are missing or non-finite and were left out")]


def _quantile_from_sorted_or_partition(x: np.ndarray, ranks: Sequence[int]) -> list[float]:
    """Order statistics ``x_(r)`` (1-based) by partial sorting."""
    idx = sorted({r - 1 for r in ranks})
    part = np.partition(x, idx)
    return [float(part[r - 1]) for r in ranks]


def _quantile_ci_clean(x: np.ndarray, q: float, level: float, unit: str | None,
                       diags: list[Diagnostic], sorted_x: np.ndarray | None = None
                       ) -> QuantileEstimate:
    n = int(x.size)
    if n == 0:
        diags.append(Diagnostic("EMPTY_SAMPLE", "no values; the quantile is undefined"))
        return QuantileEstimate(q, None, None, level, 0, unit=unit, diagnostics=tuple(diags))
    k = _k(n, q)
    r = _os_ranks(n, q, level)

    def order_stats(ranks: Sequence[int]) -> list[float]:
        if sorted_x is not None:
            return [float(sorted_x[i - 1]) for i in ranks]
        return _quantile_from_sorted_or_partition(x, ranks)

    if r is None:
        need = min_n_for_quantile_ci(q, level)
        diags.append(Diagnostic(
            "TOO_FEW_FOR_INTERVAL",
            f"n = {n} is too small for a {level:.0%} distribution-free interval of the "
            f"{q:g} quantile: the equal-tailed order-statistic interval needs "
            f"n >= ln(alpha/2)/ln(max(q, 1-q)) = {need}",
        ))
        (est,) = order_stats([k])
        return QuantileEstimate(q, est, None, level, n, unit=unit, diagnostics=tuple(diags))
    low, up, cov = r
    est, lo, hi = order_stats([k, low, up])
    return QuantileEstimate(q, est, ConfidenceInterval(lo, hi), level, n, (low, up), cov,
                            unit=unit, diagnostics=tuple(diags))


def quantile_ci(
    x: Any, q: float, confidence_level: float = 0.95, *, unit: str | None = None
) -> QuantileEstimate:
    """Sample ``q``-quantile with a distribution-free order-statistic interval.

    Method (Conover 1999, *Practical Nonparametric Statistics*, 3rd ed., ch. 3, the quantile
    test and its confidence interval for a quantile; Hahn & Meeker 1991, *Statistical
    Intervals*, ch. 5, distribution-free intervals for a percentile): for i.i.d. draws from
    a continuous distribution with ``q``-quantile ``xi``, the number of observations below
    ``xi`` is ``Bin(n, q)``, so ``P(x_(l) <= xi <= x_(u)) = P(l <= Bin(n, q) <= u - 1)``.
    The ranks are equal-tailed: ``l`` the largest with ``P(Bin <= l - 1) <= alpha/2`` and
    ``u`` the smallest with ``P(Bin <= u - 1) >= 1 - alpha/2``; the coverage is at least
    ``confidence_level`` whatever the distribution. The interval equals
    ``scipy.stats.quantile_test(x, p=q).confidence_interval(confidence_level)``.

    When ``n < min_n_for_quantile_ci(q, confidence_level)`` (6 for p50, 72 for p95, 368 for
    p99 at 95 %) no such interval exists: ``ci`` is ``None`` with ``TOO_FEW_FOR_INTERVAL``.
    Non-finite values are left out (``NON_FINITE_DROPPED``). Cost: one partial sort, O(n).

    Parameters
    ----------
    x : array of float
        The sample (e.g. per-request latencies).
    q : float
        Quantile level in (0, 1): 0.5, 0.95, 0.99.
    confidence_level : float
        Default 0.95.
    unit : str, optional
        Carried into the result (no conversion).
    """
    q = _check_q(q)
    level = _check_level(confidence_level)
    a, diags = _finite_values(_as_1d(x, "x"), "x")
    return _quantile_ci_clean(a, q, level, unit, diags)


# --------------------------------------------------------------------------- bootstrap engine

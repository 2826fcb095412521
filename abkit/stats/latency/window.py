"""The quantile of a whole window from CloudWatch per-period aggregates (:func:`window_quantile`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..results import ConfidenceInterval, Diagnostic, HasDiagnostics
from ._common import _check_q
from .periods import PeriodSummary, _PeriodCDF, _period_cdf


@dataclass(frozen=True)
class WindowQuantile(HasDiagnostics):
    """The ``q``-quantile of a whole window, from per-period aggregates.

    Attributes
    ----------
    estimate : float or None
        Quantile of the sample-count-weighted mixture of the periods' interpolated CDFs.
    bracket : ConfidenceInterval or None
        A deterministic (not statistical) bound: the window's exact ``q``-quantile lies in
        ``[low, high]`` whenever the periods' percentiles are exact inverted-CDF quantiles of
        their periods (widened by ``relative_error`` when they are approximate). ``None`` when
        a period with requests has no usable statistics.
    max_error : float or None
        ``max(estimate - low, high - estimate)``: the guaranteed bound on the estimate's error.
    naive_mean : float or None
        The unweighted mean of the periods' ``q``-percentiles (when every period has it) for
        comparison only: it is *not* the window's quantile.
    """

    q: float
    estimate: float | None
    bracket: ConfidenceInterval | None
    max_error: float | None
    sample_count: float
    n_periods: int
    n_periods_used: int
    naive_mean: float | None
    method: str = "count-weighted mixture of per-period CDFs"
    unit: str | None = None
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "q": self.q, "estimate": self.estimate,
            "bracket": self.bracket.to_dict() if self.bracket else None,
            "max_error": self.max_error, "sample_count": self.sample_count,
            "n_periods": self.n_periods, "n_periods_used": self.n_periods_used,
            "naive_mean": self.naive_mean, "method": self.method, "unit": self.unit,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }



def window_quantile(
    periods: Iterable[PeriodSummary | Mapping[str, Any]],
    q: float,
    *,
    interpolation: Literal["log-probit", "linear"] = "log-probit",
    relative_error: float = 0.0,
    unit: str | None = None,
) -> WindowQuantile:
    """Quantile of a whole window from CloudWatch per-period statistics.

    Averaging per-period percentiles is wrong: a window's p99 is not the mean of its minutes'
    p99s (busy minutes hold more requests, and quantiles do not average). The window's CDF is
    the sample-count-weighted mixture ``F(x) = sum_j n_j F_j(x) / sum_j n_j`` of the periods'
    CDFs, and ``estimate`` solves ``F(x) = q`` (Brent's method).

    Each ``F_j`` is known at the period's percentiles, ``F_j(x_{j,p}) = p``, and is
    interpolated between them, monotone:

    * ``interpolation="log-probit"`` (default): linear in ``(log x, Phi^-1(p))``, i.e. each
      segment is a piece of a lognormal CDF (exact for lognormal periods; latency is
      right-skewed and close to lognormal). ``Minimum`` / ``Maximum`` bound the support and
      enter as knots at levels ``1 / (2n)`` and ``1 - 1 / (2n)`` (the position of the extreme
      order statistics); without them the outermost segment is extended, which gives a
      lognormal tail. Periods with a value <= 0 fall back to linear
      (``LINEAR_INTERPOLATION``).
    * ``interpolation="linear"``: linear in ``(x, p)``, Minimum / Maximum at levels 0 and 1.

    It needs at least two known points per period; fetch for example p50, p90, p99, p99.9,
    Minimum and Maximum.

    Guaranteed bracket. Let ``Q_j`` be period ``j``'s exact (inverted-CDF) ``q``-quantile. For
    ``x < min_j Q_j`` every ``F_j(x) < q``, so ``F(x) < q``; at ``x = max_j Q_j`` every
    ``F_j(x) >= q``, so ``F(x) >= q``: the window's quantile lies in ``[min_j Q_j, max_j Q_j]``.
    When ``q`` is not one of a period's levels, ``Q_j`` is only known to lie between the
    period's nearest known points below and above ``q`` (Minimum and Maximum count as levels 0
    and 1), and the bracket uses those. The argument needs each reported percentile to be an
    exact quantile of its period in the inverted-CDF sense (for an interpolating definition it
    can fail: two periods ``{0, 10}`` have a type-7 p90 of 9 each while the pooled type-7 p90
    is 10). CloudWatch does not document the accuracy of its percentiles; if they are
    approximate to a relative error ``e``, pass ``relative_error=e`` and the bracket is
    widened to ``[low - e |low|, high + e |high|]``. The estimate lies in the bracket (the
    same argument applied to the interpolated CDFs, which pass through the known points).
    ``max_error`` is the guaranteed bound on the estimate's error; the typical error is much
    smaller (a few per cent in the simulations of ``tests/stats/test_latency.py``).

    Periods with ``SampleCount == 0`` are skipped. A period with requests but without a known
    point on each side of ``q`` leaves the bracket unbounded (``None``,
    ``MISSING_PERIOD_STATISTICS``); a period with fewer than two known points is left out of
    the estimate (``TOO_FEW_PERCENTILES``, and then ``max_error`` is ``None``: the estimate no
    longer describes every request).

    Parameters
    ----------
    periods : iterable of PeriodSummary or mapping
        Mappings use CloudWatch names (``SampleCount``, ``p99``, ``Minimum``, ...).
    q : float
        Level in (0, 1), e.g. 0.99.
    interpolation : {"log-probit", "linear"}
        Within-period interpolation (default ``"log-probit"``).
    relative_error : float
        Relative accuracy of the reported percentiles (default 0: taken as exact).
    unit : str, optional
        Carried into the result (CloudWatch's ``ModelLatency`` is in microseconds).
    """
    from scipy import optimize

    q = round(_check_q(q), 10)
    if interpolation not in ("log-probit", "linear"):
        raise ValueError(f"interpolation must be 'log-probit' or 'linear', got {interpolation!r}")
    if not (math.isfinite(relative_error) and 0.0 <= relative_error < 1.0):
        raise ValueError(f"relative_error must be in [0, 1), got {relative_error!r}")
    ps = [p if isinstance(p, PeriodSummary) else PeriodSummary.from_cloudwatch(p)
          for p in periods]
    method = f"count-weighted mixture of per-period CDFs ({interpolation} interpolation)"
    diags: list[Diagnostic] = []
    active = [p for p in ps if p.sample_count > 0]
    total = float(sum(p.sample_count for p in active))
    if not active:
        diags.append(Diagnostic("EMPTY_WINDOW", "no period has requests; the quantile is "
                                "undefined"))
        return WindowQuantile(q, None, None, None, total, len(ps), 0, None, method, unit,
                              tuple(diags))

    # the guaranteed bracket
    lows, highs, unbounded = [], [], 0
    for p in active:
        below = [v for lev, v in p.percentiles if lev <= q and math.isfinite(v)]
        above = [v for lev, v in p.percentiles if lev >= q and math.isfinite(v)]
        if p.minimum is not None and math.isfinite(p.minimum):
            below.append(p.minimum)
        if p.maximum is not None and math.isfinite(p.maximum):
            above.append(p.maximum)
        if not below or not above:
            unbounded += 1
            continue
        lows.append(max(below))
        highs.append(min(above))
    bracket = None
    if unbounded:
        diags.append(Diagnostic(
            "MISSING_PERIOD_STATISTICS",
            f"{unbounded} of {len(active)} periods with requests have no known point at or "
            f"below or at or above {q:g} (percentile, Minimum or Maximum); the window's "
            "quantile has no guaranteed bracket",
        ))
    else:
        lo, hi = min(lows), max(highs)
        bracket = ConfidenceInterval(lo - relative_error * abs(lo), hi + relative_error * abs(hi))

    at_q = [dict(p.percentiles).get(q) for p in active]
    naive = float(np.mean(at_q)) if all(v is not None for v in at_q) else None
    missing_level = sum(v is None for v in at_q)
    if missing_level:
        diags.append(Diagnostic(
            "LEVEL_NOT_FETCHED",
            f"{missing_level} of {len(active)} periods have no p{100 * q:g}: there the estimate "
            "interpolates between neighbouring levels (less accurate, and blind to a second "
            f"mode between them); fetch p{100 * q:g} to tighten the estimate and the bracket",
        ))

    cdfs: list[tuple[float, _PeriodCDF]] = []
    fixed = too_few = fallback = 0
    for p in active:
        c, f, fb = _period_cdf(p, interpolation)
        fixed += f
        fallback += fb
        if c is None:
            too_few += 1
        else:
            cdfs.append((p.sample_count, c))
    if fixed:
        diags.append(Diagnostic("NONMONOTONE_PERCENTILES", f"{fixed} periods report percentiles "
                                "that decrease with the level; they were made monotone"))
    if fallback:
        diags.append(Diagnostic("LINEAR_INTERPOLATION", f"{fallback} periods have values <= 0 "
                                "and were interpolated linearly instead of on the log scale"))
    if too_few:
        diags.append(Diagnostic(
            "TOO_FEW_PERCENTILES",
            f"{too_few} of {len(active)} periods have fewer than two known points (percentiles, "
            "Minimum, Maximum), so their distribution cannot be interpolated"
            + ("; no estimate" if not cdfs else "; the estimate leaves them out"),
        ))
    if not cdfs:
        return WindowQuantile(q, None, bracket, None, total, len(ps), 0, naive, method, unit,
                              tuple(diags))
    w = np.array([n for n, _ in cdfs])
    w = w / w.sum()

    def mix(t: float) -> float:
        return float(sum(wi * c.cdf(t) for wi, (_, c) in zip(w, cdfs))) - q

    per_q = [c.quantile(q) for _, c in cdfs]
    a, b = min(per_q), max(per_q)
    # F(a) < q <= F(b) in exact arithmetic; the sums may round either side of q
    if a == b or mix(a) >= 0.0:
        est = a
    elif mix(b) <= 0.0:
        est = b
    else:
        est = float(optimize.brentq(mix, a, b, xtol=1e-12 * max(1.0, abs(b)), rtol=1e-12,
                                    maxiter=200))
    max_err = None
    if bracket is not None and not too_few:
        est = min(max(est, bracket.low), bracket.high)  # rounding only
        max_err = float(max(est - bracket.low, bracket.high - est))
    return WindowQuantile(q, float(est), bracket, max_err, total, len(ps), len(cdfs), naive,
                          method, unit, tuple(diags))

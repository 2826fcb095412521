"""Candidate / live latency quantile ratios with confidence intervals (:func:`compare_latency`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..results import ConfidenceInterval, Diagnostic, HasDiagnostics
from ._common import DEFAULT_QUANTILES, _as_1d, _check_level, _check_q
from .bootstrap import _weighted_bootstrap_quantiles
from .quantiles import QuantileEstimate, _finite_values, _quantile_ci_clean, min_n_for_quantile_ci


# --------------------------------------------------------------------------- latency ratio


@dataclass(frozen=True)
class QuantileRatio(HasDiagnostics):
    """One quantile of each variant and the candidate / live ratio.

    Attributes
    ----------
    q : float
        Quantile level.
    live, candidate : QuantileEstimate
        Each variant's quantile with its own order-statistic interval.
    ratio : float or None
        ``candidate.estimate / live.estimate``; ``None`` if the live quantile is <= 0.
    ci : ConfidenceInterval or None
        Interval for the ratio of the population quantiles.
    """

    q: float
    live: QuantileEstimate
    candidate: QuantileEstimate
    ratio: float | None
    ci: ConfidenceInterval | None
    confidence_level: float
    method: str
    paired: bool
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "q": self.q, "live": self.live.to_dict(), "candidate": self.candidate.to_dict(),
            "ratio": self.ratio, "ci": self.ci.to_dict() if self.ci else None,
            "confidence_level": self.confidence_level, "method": self.method,
            "paired": self.paired, "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


@dataclass(frozen=True)
class LatencyComparison(HasDiagnostics):
    """Per-variant quantiles and candidate / live ratios for several quantile levels."""

    quantiles: tuple[QuantileRatio, ...]
    n_live: int
    n_candidate: int
    paired: bool
    method: str
    confidence_level: float
    n_resamples: int | None
    seed: int | None
    unit: str | None
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def __getitem__(self, q: float) -> QuantileRatio:
        for r in self.quantiles:
            if math.isclose(r.q, q):
                return r
        raise KeyError(q)

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantiles": [r.to_dict() for r in self.quantiles], "n_live": self.n_live,
            "n_candidate": self.n_candidate, "paired": self.paired, "method": self.method,
            "confidence_level": self.confidence_level, "n_resamples": self.n_resamples,
            "seed": self.seed, "unit": self.unit,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


Method = Literal["bootstrap", "order-statistics"]


def compare_latency(
    live: Any,
    candidate: Any,
    *,
    paired: bool = False,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    confidence_level: float = 0.95,
    method: Method = "bootstrap",
    n_resamples: int = 2000,
    seed: int = 0,
    unit: str | None = None,
    weights: Literal["exponential", "poisson"] = "exponential",
) -> LatencyComparison:
    """p50/p95/p99 of each variant and candidate / live ratios with confidence intervals.

    Each variant's quantile comes with its own order-statistic interval (:func:`quantile_ci`).
    The ratio ``Q_cand(q) / Q_live(q)`` of the *marginal* quantiles gets an interval by one of:

    ``method="bootstrap"`` (default)
        Percentile interval (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*,
        ch. 13) of the ratio over ``n_resamples`` (default 2000) weighted-bootstrap replicates
        drawn with ``numpy.random.default_rng(seed)`` (default seed 0, so results are
        reproducible). ``weights="exponential"`` (default): Bayesian bootstrap, i.i.d.
        ``Exp(1)`` weights per request (Rubin 1981); ``"poisson"``: Poisson bootstrap
        (``Poisson(1)`` weights, Hanley & MacGibbon 2006), closer to Efron's resampling and
        3-5 times slower; both gave the same coverage in the simulations. Independent samples
        (``paired=False``, blue/green: different requests) are reweighted separately; paired
        samples (``paired=True``, shadow: ``live[i]`` and ``candidate[i]`` are the latencies
        of the same request) share one weight per request, so the correlation between the
        two variants' latencies narrows the interval (most at the median; little at p99,
        where the two variants' tail events are only weakly dependent). Only the requests
        near each quantile are weighted one by one (``_weighted_bootstrap_quantiles``), so
        10^6 requests per variant take about 1.2 s.
    ``method="order-statistics"``
        Distribution-free and conservative: ``[L_c / U_l, U_c / L_l]`` from the two variants'
        order-statistic intervals, each at level ``sqrt(confidence_level)`` for independent
        samples (both cover with probability >= ``confidence_level``) or
        ``1 - (1 - confidence_level) / 2`` for paired samples (Bonferroni, valid under any
        dependence). No resampling; about twice as wide as the bootstrap interval and it
        covered in 300 of 300 simulated runs.

    Coverage of the bootstrap interval, by seeded simulation (lognormal latencies, candidate
    ``LN(3.05, 0.6)`` against live ``LN(3, 0.5)``, 1,000 runs, 1,000 resamples; Monte Carlo
    standard error 0.007), p50 / p95 / p99:

    ==========================================  =====================
    500 per variant, independent                0.947 / 0.970 / 0.967
    500 per variant, paired (log-corr. 0.8)     0.958 / 0.966 / 0.971
    400 per variant, independent                0.949 / 0.965 / 0.965
    400 per variant, paired                     0.956 / 0.974 / 0.967
    1,000 per variant, independent              0.954 / 0.970 / 0.956
    80 per variant, independent (p99 only)      0.88 (400 runs): why the minimum n
    ==========================================  =====================

    The ratio's interval is ``None`` (``TOO_FEW_FOR_INTERVAL``) when a variant has fewer
    values than ``min_n_for_quantile_ci(q, level)`` (368 for p99 at 95 %; for
    ``order-statistics`` at the per-variant level): below that the bootstrap distribution of
    an extreme quantile is a handful of order statistics and the percentile interval
    undercovers. Each level's interval is marginal (no multiplicity correction across the
    quantiles).

    Parameters
    ----------
    live, candidate : array of float
        Per-request latencies (same unit). With ``paired=True`` they must have equal length;
        a pair with a non-finite value in either variant is left out.
    paired : bool
        ``True`` for shadow tests (the same requests).
    quantiles : sequence of float
        Levels in (0, 1); default (0.5, 0.95, 0.99).
    confidence_level : float
        Default 0.95.
    method : {"bootstrap", "order-statistics"}
        See above.
    n_resamples, seed, weights
        Bootstrap settings (defaults 2000, 0, ``"exponential"``).
    unit : str, optional
        Carried into the results, e.g. ``"ms"`` (see the module docstring).
    """
    level = _check_level(confidence_level)
    qs = [_check_q(q) for q in quantiles]
    if not qs:
        raise ValueError("quantiles must not be empty")
    if method not in ("bootstrap", "order-statistics"):
        raise ValueError(f"method must be 'bootstrap' or 'order-statistics', got {method!r}")
    if method == "bootstrap" and (isinstance(n_resamples, bool) or int(n_resamples) != n_resamples
                                  or n_resamples < 100):
        raise ValueError(f"n_resamples must be an integer >= 100, got {n_resamples!r}")
    if weights not in ("exponential", "poisson"):
        raise ValueError(f"weights must be 'exponential' or 'poisson', got {weights!r}")
    x_l, x_c = _as_1d(live, "live"), _as_1d(candidate, "candidate")
    diags: list[Diagnostic] = []
    if paired:
        if x_l.size != x_c.size:
            raise ValueError(f"paired samples must have equal length, got {x_l.size} and "
                             f"{x_c.size}")
        keep = np.isfinite(x_l) & np.isfinite(x_c)
        dropped = int(x_l.size - keep.sum())
        if dropped:
            diags.append(Diagnostic("NON_FINITE_DROPPED", f"{dropped} of {x_l.size} pairs have a "
                                    "missing or non-finite latency and were left out"))
        x_l, x_c = x_l[keep], x_c[keep]
    else:
        x_l, d1 = _finite_values(x_l, "live")
        x_c, d2 = _finite_values(x_c, "candidate")
        diags += d1 + d2
    o_l, o_c = np.argsort(x_l, kind="stable"), np.argsort(x_c, kind="stable")
    s_l, s_c = x_l[o_l], x_c[o_c]
    n_l, n_c = int(x_l.size), int(x_c.size)

    if method == "order-statistics":
        arm_level = math.sqrt(level) if not paired else 1.0 - (1.0 - level) / 2.0
        mname = "order-statistics (" + ("Bonferroni" if paired else "product") + ")"
    else:
        arm_level = level
        mname = f"{weights}-weight bootstrap percentile" + (" (paired)" if paired else "")

    boot: np.ndarray | None = None
    clamped = 0
    need_boot = method == "bootstrap" and n_l > 0 and n_c > 0
    if need_boot:
        rng = np.random.default_rng(seed)
        if paired:
            b, clamped = _weighted_bootstrap_quantiles([o_l, o_c], [s_l, s_c], qs,
                                                       int(n_resamples), rng, weights=weights)
        else:
            b_l, c1 = _weighted_bootstrap_quantiles([o_l], [s_l], qs, int(n_resamples), rng,
                                                    weights=weights)
            b_c, c2 = _weighted_bootstrap_quantiles([o_c], [s_c], qs, int(n_resamples), rng,
                                                    weights=weights)
            b, clamped = np.concatenate([b_l, b_c], axis=1), c1 + c2
        boot = b
        if clamped:
            diags.append(Diagnostic("BOOTSTRAP_WINDOW_EXCEEDED", f"{clamped} bootstrap quantiles "
                                    "fell outside their rank window and were clamped"))

    results = []
    for j, q in enumerate(qs):
        est_l = _quantile_ci_clean(x_l, q, level, unit, [], s_l)
        est_c = _quantile_ci_clean(x_c, q, level, unit, [], s_c)
        rd: list[Diagnostic] = []
        ratio = ci = None
        if est_l.estimate is None or est_c.estimate is None:
            which = " and ".join(w for w, e in (("live", est_l), ("candidate", est_c))
                                 if e.estimate is None)
            rd.append(Diagnostic("EMPTY_SAMPLE", f"no {which} latencies; no ratio"))
        elif est_l.estimate <= 0.0:
            rd.append(Diagnostic("NONPOSITIVE_QUANTILE", f"the live {q:g} quantile is "
                                 f"{est_l.estimate:g}; the ratio is undefined"))
        else:
            ratio = est_c.estimate / est_l.estimate
            need = min_n_for_quantile_ci(q, arm_level if method == "order-statistics" else level)
            if min(n_l, n_c) < need:
                rd.append(Diagnostic(
                    "TOO_FEW_FOR_INTERVAL",
                    f"the ratio's interval needs at least {need} values per variant for the "
                    f"{q:g} quantile (live {n_l}, candidate {n_c})",
                ))
            elif method == "order-statistics":
                a_l = _quantile_ci_clean(x_l, q, arm_level, unit, [], s_l).ci
                a_c = _quantile_ci_clean(x_c, q, arm_level, unit, [], s_c).ci
                assert a_l is not None and a_c is not None
                if a_l.low <= 0.0:
                    rd.append(Diagnostic("NONPOSITIVE_QUANTILE", "the live quantile's lower "
                                         "bound is <= 0; the ratio's interval is unbounded"))
                else:
                    ci = ConfidenceInterval(a_c.low / a_l.high, a_c.high / a_l.low)
            else:
                assert boot is not None
                bl, bc = boot[:, 0, j], boot[:, 1, j]
                if np.any(bl <= 0.0):
                    rd.append(Diagnostic("NONPOSITIVE_QUANTILE", "some bootstrap live quantiles "
                                         "are <= 0; the ratio's interval is undefined"))
                else:
                    lo, hi = np.quantile(bc / bl, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
                    ci = ConfidenceInterval(float(lo), float(hi))
        results.append(QuantileRatio(q, est_l, est_c, ratio, ci, level, mname, paired,
                                     tuple(rd)))
    return LatencyComparison(
        tuple(results), n_l, n_c, paired, mname, level,
        int(n_resamples) if method == "bootstrap" else None,
        int(seed) if method == "bootstrap" else None, unit, tuple(diags),
    )

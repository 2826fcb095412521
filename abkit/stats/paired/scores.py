"""Distribution of the score difference ``s_cand - s_live`` and rank correlations."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..results import Diagnostic, EffectEstimate, HasDiagnostics
from ._common import (
    _NONE_EE,
    _REASONS,
    QUANTILE_LEVELS,
    _check_confidence,
    _diag_list,
    _drop_non_finite,
    _ee_dict,
    _midranks,
    _num,
    _scores,
    _t_interval,
)


# --------------------------------------------------------------------------- score differences


@dataclass(frozen=True)
class Correlation:
    """A rank correlation coefficient and its two-sided p-value (``None`` when undefined)."""

    method: str
    estimate: float | None
    pvalue: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "estimate": _num(self.estimate),
                "pvalue": _num(self.pvalue)}


@dataclass(frozen=True)
class ScoreDifferenceResult(HasDiagnostics):
    """Distribution of the per-request score difference ``d = s_cand - s_live``.

    Attributes
    ----------
    mean : EffectEstimate
        Mean difference with a one-sample t interval and the p-value of ``mean = 0`` (the
        paired t-test, ``scipy.stats.ttest_rel(s_cand, s_live)``).
    mean_abs, max_abs : float or None
        Mean and largest absolute difference.
    quantiles : dict
        ``{"p01": ..., "p05": ..., ..., "p99": ...}`` of ``d`` (numpy's default linear
        interpolation, Hyndman & Fan type 7).
    spearman, kendall : Correlation
        Rank correlation of the two models' scores (Spearman's rho, Kendall's tau-b).
    """

    n: int
    mean: EffectEstimate
    mean_abs: float | None
    quantiles: dict[str, float] | None
    max_abs: float | None
    spearman: Correlation
    kendall: Correlation
    confidence_level: float
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": int(self.n),
            "mean": _ee_dict(self.mean),
            "mean_abs": _num(self.mean_abs),
            "quantiles": None if self.quantiles is None
            else {k: _num(v) for k, v in self.quantiles.items()},
            "max_abs": _num(self.max_abs),
            "spearman": self.spearman.to_dict(),
            "kendall": self.kendall.to_dict(),
            "confidence_level": _num(self.confidence_level),
            "diagnostics": _diag_list(self.diagnostics),
        }


def _spearman(x: np.ndarray, y: np.ndarray) -> Correlation:
    """Pearson correlation of midranks; p-value from Student's t with n - 2 df.

    The same statistic and p-value as ``scipy.stats.spearmanr`` (which uses
    ``t = r sqrt((n - 2) / ((1 + r)(1 - r)))``).
    """
    from scipy import special as sp

    n = x.size
    rx, ry = _midranks(x), _midranks(y)
    rx -= rx.mean()
    ry -= ry.mean()
    r = float(rx @ ry / math.sqrt(float(rx @ rx) * float(ry @ ry)))
    r = min(max(r, -1.0), 1.0)
    if abs(r) == 1.0:
        return Correlation("spearman", r, 0.0)
    t = r * math.sqrt((n - 2) / ((1.0 + r) * (1.0 - r)))
    return Correlation("spearman", r, min(float(2.0 * sp.stdtr(n - 2, -abs(t))), 1.0))


def _kendall(x: np.ndarray, y: np.ndarray) -> Correlation:
    """Kendall's tau-b with scipy's p-value (``scipy.stats.kendalltau`` defaults)."""
    from scipy import stats

    res = stats.kendalltau(x, y)
    tau, p = _num(res.statistic), _num(res.pvalue)
    if tau is not None:
        tau = min(max(tau, -1.0), 1.0)
    return Correlation("kendall-tau-b", tau, None if p is None else min(max(p, 0.0), 1.0))


def _rank_correlations(
    s_live: np.ndarray, s_cand: np.ndarray, diags: list[Diagnostic]
) -> tuple[Correlation, Correlation]:
    none = (Correlation("spearman", None, None), Correlation("kendall-tau-b", None, None))
    n = s_live.size
    if n < 3:
        diags.append(Diagnostic("TOO_FEW_PAIRS_FOR_CORRELATION",
                                f"{n} pair(s): rank correlations need at least 3"))
        return none
    const = [name for name, v in (("live", s_live), ("candidate", s_cand))
             if float(v.max()) == float(v.min())]
    if const:
        diags.append(Diagnostic(
            "CONSTANT_SCORES",
            f"the {' and '.join(const)} scores are constant: rank correlation is undefined",
        ))
        return none
    return _spearman(s_live, s_cand), _kendall(s_live, s_cand)


def score_differences(
    s_live: Any, s_cand: Any, confidence_level: float = 0.95
) -> ScoreDifferenceResult:
    """Distribution of ``s_cand - s_live`` over matched pairs, and rank correlation.

    * mean with a one-sample Student t interval (the paired t-test; its p-value is that of
      ``scipy.stats.ttest_rel(s_cand, s_live)``);
    * mean absolute difference, largest absolute difference;
    * quantiles at 1, 5, 25, 50, 75, 95 and 99 % (numpy's linear interpolation);
    * Spearman's rho (Pearson correlation of midranks, p-value from Student's t with
      ``n - 2`` df, as ``scipy.stats.spearmanr``) and Kendall's tau-b (computed by
      ``scipy.stats.kendalltau`` with its defaults: exact p-value for small samples without
      ties, normal approximation with the tie-corrected variance otherwise).

    Works for probabilities and regression outputs alike. Undefined parts are ``None`` with a
    diagnostic: no pairs (``NO_PAIRS``), one pair (``TOO_FEW_PAIRS``: no interval), no spread
    in the differences, e.g. identical models (``ZERO_VARIANCE``), fewer than 3 pairs or a
    constant score on either side (``TOO_FEW_PAIRS_FOR_CORRELATION``, ``CONSTANT_SCORES``).

    Parameters
    ----------
    s_live, s_cand : array_like
        Scores of the two models, one element per matched request.
    confidence_level : float, default 0.95
        Level of the interval of the mean.
    """
    cl = _check_confidence(confidence_level)
    diags: list[Diagnostic] = []
    a, b = _drop_non_finite(list(_scores(s_live, s_cand)), diags)
    n = int(a.size)
    if n == 0:
        diags.append(Diagnostic("NO_PAIRS", "there are no pairs: nothing to summarise"))
        sp_, kt = Correlation("spearman", None, None), Correlation("kendall-tau-b", None, None)
        return ScoreDifferenceResult(0, _NONE_EE, None, None, None, sp_, kt, cl, tuple(diags))
    with np.errstate(over="ignore", invalid="ignore"):
        d = b - a
    if not np.isfinite(d).all():
        diags.append(Diagnostic("NUMERIC_OVERFLOW", "score differences overflow double "
                                "precision; rescale the scores"))
        sp_, kt = _rank_correlations(a, b, diags)
        return ScoreDifferenceResult(n, _NONE_EE, None, None, None, sp_, kt, cl, tuple(diags))
    mean, reason = _t_interval(d, cl)
    if reason is not None:
        diags.append(Diagnostic(reason, "mean difference: " + _REASONS[reason]))
    ad = np.abs(d)
    qs = np.quantile(d, QUANTILE_LEVELS)
    quantiles = {f"p{round(q * 100):02d}": float(v) for q, v in zip(QUANTILE_LEVELS, qs)}
    sp_, kt = _rank_correlations(a, b, diags)
    return ScoreDifferenceResult(n, mean, float(ad.mean()), quantiles, float(ad.max()), sp_, kt,
                                 cl, tuple(diags))

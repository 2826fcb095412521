"""Paired AUC comparison by DeLong's method (fast algorithm of Sun & Xu)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..results import ConfidenceInterval, Diagnostic, EffectEstimate, HasDiagnostics
from ._common import (
    _NONE_EE,
    _check_confidence,
    _check_margin,
    _diag_list,
    _ee_dict,
    _labelled,
    _midranks_by_group,
    _num,
    _z,
)


# --------------------------------------------------------------------------- AUC (DeLong)


def _delong_components(
    y: np.ndarray, scores: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-model AUC and structural components (Sun & Xu 2014, fast DeLong).

    ``y`` is boolean (True = positive). For model ``r`` with positives ``X`` (m) and negatives
    ``Y`` (n), with midranks ``T_z`` over all scores, ``T_x`` within positives and ``T_y``
    within negatives::

        V10_i = (T_z(X_i) - T_x(X_i)) / n        (share of negatives below X_i, ties 1/2)
        V01_j = 1 - (T_z(Y_j) - T_y(Y_j)) / m    (share of positives above Y_j, ties 1/2)
        AUC = mean_i V10_i

    Returns ``auc`` (k,), ``v10`` (k, m), ``v01`` (k, n).
    """
    pos, neg = y, ~y
    m, n = int(pos.sum()), int(neg.sum())
    k = len(scores)
    auc = np.empty(k)
    v10 = np.empty((k, m))
    v01 = np.empty((k, n))
    for r, s in enumerate(scores):
        tz, tw = _midranks_by_group(s, pos)  # T_z, and T_x or T_y
        v10[r] = (tz[pos] - tw[pos]) / n
        v01[r] = 1.0 - (tz[neg] - tw[neg]) / m
        auc[r] = v10[r].mean()
    return auc, v10, v01


def _auc_estimate(auc: float, var: float | None, cl: float) -> EffectEstimate:
    """AUC with a Wald interval clipped to [0, 1]; ``var=None`` -> no interval."""
    if var is None or not var > 0.0:
        return EffectEstimate(auc, None if var is None else 0.0, None, None)
    se = math.sqrt(var)
    z = _z(cl)
    return EffectEstimate(auc, se, ConfidenceInterval(max(auc - z * se, 0.0),
                                                      min(auc + z * se, 1.0)), None)


@dataclass(frozen=True)
class DeLongResult(HasDiagnostics):
    """Paired comparison of two AUCs on the same labelled pairs (DeLong's test).

    Attributes
    ----------
    auc_live, auc_candidate : EffectEstimate
        Each model's AUC, its DeLong standard error and a Wald interval clipped to ``[0, 1]``
        (``pvalue`` is ``None``: no test of the single AUC is made).
    difference : EffectEstimate
        ``auc_candidate - auc_live`` with its standard error (from the covariance of the two
        AUC estimates), Wald interval, z statistic and two-sided p-value of ``H0: diff = 0``.
    correlation : float or None
        Correlation between the two AUC estimates (the reason the paired test is sharper).
    margin, noninferiority_pvalue :
        One-sided p-value of ``H0: auc_candidate - auc_live <= -margin`` against
        ``H1: auc_candidate - auc_live > -margin`` (small p: the candidate is non-inferior).
    """

    n: int
    n_positive: int
    n_negative: int
    auc_live: EffectEstimate
    auc_candidate: EffectEstimate
    difference: EffectEstimate
    correlation: float | None
    margin: float
    noninferiority_pvalue: float | None
    confidence_level: float
    alternative: str = "two-sided"
    method: str = "delong"
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": int(self.n),
            "n_positive": int(self.n_positive),
            "n_negative": int(self.n_negative),
            "auc_live": _ee_dict(self.auc_live),
            "auc_candidate": _ee_dict(self.auc_candidate),
            "difference": _ee_dict(self.difference),
            "correlation": _num(self.correlation),
            "margin": _num(self.margin),
            "noninferiority_pvalue": _num(self.noninferiority_pvalue),
            "confidence_level": _num(self.confidence_level),
            "alternative": self.alternative,
            "method": self.method,
            "diagnostics": _diag_list(self.diagnostics),
        }


def _class_check(y: np.ndarray, diags: list[Diagnostic]) -> bool:
    """True when both classes have >= 1 member; adds NO_LABELLED_PAIRS / ONE_CLASS."""
    n = y.size
    m = int((y == 1).sum())
    if n == 0:
        diags.append(Diagnostic("NO_LABELLED_PAIRS", "there are no labelled pairs"))
        return False
    if m == 0 or m == n:
        cls = "positive" if m == n else "negative"
        diags.append(Diagnostic("ONE_CLASS", f"all {n} labelled pair(s) are {cls}: AUC is "
                                "undefined"))
        return False
    return True


def delong_test(
    y: Any,
    s_live: Any,
    s_cand: Any,
    margin: float = 0.0,
    confidence_level: float = 0.95,
) -> DeLongResult:
    """Paired AUC difference by DeLong's method, with a non-inferiority p-value.

    DeLong, DeLong & Clarke-Pearson (1988), "Comparing the areas under two or more correlated
    receiver operating characteristic curves: a nonparametric approach", Biometrics
    44:837-845: each AUC is the Mann-Whitney statistic ``mean psi(X_i, Y_j)`` with the kernel
    ``psi = 1`` if ``X > Y``, ``1/2`` if ``X = Y`` (ties), ``0`` otherwise; the covariance of the
    two AUC estimates is ``S10 / m + S01 / n``, where ``S10`` (``S01``) is the sample covariance
    matrix (denominator ``m - 1``, ``n - 1``) of the per-positive (per-negative) structural
    components ``V10_i = mean_j psi(X_i, Y_j)`` (``V01_j = mean_i psi(X_i, Y_j)``). The
    components are computed with midranks in ``O(N log N)`` (Sun & Xu 2014, "Fast
    implementation of DeLong's algorithm for comparing the areas under correlated receiver
    operating characteristic curves", IEEE Signal Processing Letters 21(11):1389-1393).

    The difference ``theta_c - theta_l`` has variance ``var(V10_c - V10_l) / m +
    var(V01_c - V01_l) / n``; the z statistic gives the Wald interval and the two-sided
    p-value, and ``1 - Phi((diff + margin) / se)`` the non-inferiority p-value for
    ``H0: diff <= -margin``. Each single AUC gets a Wald interval clipped to ``[0, 1]``.

    Needs both classes (otherwise ``ONE_CLASS`` / ``NO_LABELLED_PAIRS``: everything ``None``)
    and at least 2 of each for a variance (``TOO_FEW_PER_CLASS``: AUCs only). When the two
    models rank the labelled pairs identically the difference is exactly 0 with no
    sampling variance: ``se = 0``, interval and p-values ``None``, ``ZERO_VARIANCE``.

    Parameters
    ----------
    y : array_like
        0 / 1 labels, NaN for unlabelled pairs (left out, counted in ``UNLABELLED_PAIRS``).
    s_live, s_cand : array_like
        Scores (any monotone score works: only ranks matter).
    margin : float, default 0.0
        Non-inferiority margin on the AUC scale (>= 0), e.g. 0.005.
    confidence_level : float, default 0.95
        Level of the two-sided intervals.
    """
    from scipy import special as sp

    cl = _check_confidence(confidence_level)
    mg = _check_margin(margin)
    diags: list[Diagnostic] = []
    yy, (a, b) = _labelled(y, s_live, s_cand, diags)
    n_all = int(yy.size)
    m = int((yy == 1).sum())
    nn = n_all - m

    def done(al=_NONE_EE, ac=_NONE_EE, diff=_NONE_EE, corr=None, ni=None) -> DeLongResult:
        return DeLongResult(n_all, m, nn, al, ac, diff, corr, mg, ni, cl, "two-sided", "delong",
                            tuple(diags))

    if not _class_check(yy, diags):
        return done()
    auc, v10, v01 = _delong_components(yy == 1, [a, b])
    al, ac = float(auc[0]), float(auc[1])
    diff = ac - al
    if m < 2 or nn < 2:
        diags.append(Diagnostic(
            "TOO_FEW_PER_CLASS",
            f"{m} positive and {nn} negative labelled pair(s): DeLong's variance needs at "
            "least 2 of each, so there are no intervals or p-values",
        ))
        return done(EffectEstimate(al, None, None, None), EffectEstimate(ac, None, None, None),
                    EffectEstimate(diff, None, None, None))
    s10 = np.cov(v10)
    s01 = np.cov(v01)
    cov = s10 / m + s01 / nn
    var_l, var_c, cov_lc = float(cov[0, 0]), float(cov[1, 1]), float(cov[0, 1])
    est_l, est_c = _auc_estimate(al, var_l, cl), _auc_estimate(ac, var_c, cl)
    for name, v in (("live", var_l), ("candidate", var_c)):
        if not v > 0.0:
            diags.append(Diagnostic(
                "AUC_ZERO_VARIANCE",
                f"the {name} model's AUC has zero DeLong variance (perfect separation or "
                "constant scores): no interval for it",
            ))
    corr = cov_lc / math.sqrt(var_l * var_c) if var_l > 0.0 and var_c > 0.0 else None
    if corr is not None:
        corr = min(max(corr, -1.0), 1.0)
    w10, w01 = v10[1] - v10[0], v01[1] - v01[0]
    var_d = float(w10.var(ddof=1)) / m + float(w01.var(ddof=1)) / nn
    # rounding-level spread (models that rank identically up to float noise) is no spread
    if not var_d > 1e-24:
        diags.append(Diagnostic(
            "ZERO_VARIANCE",
            "the two models rank the labelled pairs identically: the AUC difference is "
            "exactly 0 and has no sampling variance, so there is no interval or p-value",
        ))
        return done(est_l, est_c, EffectEstimate(diff, 0.0, None, None), corr)
    se = math.sqrt(var_d)
    zc = _z(cl)
    stat = diff / se
    p = min(float(2.0 * sp.ndtr(-abs(stat))), 1.0)
    ni = min(max(float(sp.ndtr(-(diff + mg) / se)), 0.0), 1.0)
    de = EffectEstimate(diff, se, ConfidenceInterval(diff - zc * se, diff + zc * se), p, None,
                        stat)
    return done(est_l, est_c, de, corr, ni)

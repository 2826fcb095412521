"""Paired comparison of two models that scored the same inputs (shadow tests).

In a shadow test the live model and the candidate answer the *same* inputs. After the join,
each element ``i`` of the input arrays is one request: ``s_live[i]`` and ``s_cand[i]`` are the two
models' scores (probabilities in ``[0, 1]`` for the label-based metrics; any real values for the
score-difference functions) and ``y[i]`` the ground-truth label when one arrived (``NaN`` when it
did not). A prediction is *positive* when ``score >= threshold``. Because both models see the
same inputs, their errors are correlated, and every comparison here uses the pairing: the
paired statistics are much more precise than two-sample ones on the same data (a two-sample AUC
comparison on highly correlated scores is far too conservative, see ``tests/test_paired.py``).

Functions (each returns a frozen dataclass with ``to_dict()`` giving JSON-safe values):

* :func:`agreement` -- agreement at the threshold and flips in each direction, Wilson intervals.
* :func:`score_differences` -- ``s_cand - s_live``: mean (t interval), mean absolute difference,
  quantiles, max absolute difference; Spearman and Kendall tau-b rank correlations.
* :func:`model_metrics` -- one model against the labels: AUC (DeLong interval), accuracy
  (Wilson), Brier score, log loss, calibration-in-the-large and the observed/expected ratio.
* :func:`mcnemar_test` -- McNemar's test on per-request correctness, and the accuracy difference
  with Newcombe's (1998) paired score interval.
* :func:`delong_test` -- paired AUC difference by DeLong's method (fast algorithm of Sun & Xu),
  with a two-sided p-value and a one-sided non-inferiority p-value.
* :func:`paired_loss_test` -- paired t-test on per-request loss differences (log loss, squared
  or absolute error), with a one-sided non-inferiority p-value.
* :func:`paired_comparison` -- all of the above in one result, with a ``quality`` table.
* :func:`wilson_interval`, :func:`newcombe_paired_interval` -- the interval building blocks.

Data problems never raise and never produce NaN: pairs with a non-finite score are dropped and
counted (``NON_FINITE_DROPPED``), unlabelled pairs (``y`` is NaN) are left out of the
label-based analyses and counted (``UNLABELLED_PAIRS``), and every quantity that cannot be
computed is ``None`` with a :class:`~abkit.stats.results.Diagnostic` saying why. ``ValueError``
is raised only for invalid arguments: arrays that are not one-dimensional or differ in length,
labels other than 0 / 1, a confidence level outside ``(0, 1)``, a negative margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .results import ConfidenceInterval, Diagnostic, EffectEstimate, HasDiagnostics

__all__ = [
    "LOG_LOSS_EPS",
    "MCNEMAR_EXACT_BELOW",
    "QUANTILE_LEVELS",
    "AgreementResult",
    "Correlation",
    "DeLongResult",
    "LossDifferenceResult",
    "McNemarResult",
    "ModelMetrics",
    "PairedComparison",
    "Proportion",
    "ScoreDifferenceResult",
    "agreement",
    "delong_test",
    "mcnemar_test",
    "model_metrics",
    "newcombe_paired_interval",
    "paired_comparison",
    "paired_loss_test",
    "score_differences",
    "wilson_interval",
]

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


# --------------------------------------------------------------------------- building blocks


def wilson_interval(
    count: int, n: int, confidence_level: float = 0.95
) -> ConfidenceInterval | None:
    """Wilson (1927) score interval for a binomial proportion ``count / n``.

    ``center +/- half`` with ``center = (p + z^2 / 2n) / (1 + z^2 / n)`` and
    ``half = z sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n)``, clipped to ``[0, 1]``: the
    same as ``statsmodels.stats.proportion.proportion_confint(count, n, alpha, method="wilson")``.
    Returns ``None`` when ``n == 0``.
    """
    cl = _check_confidence(confidence_level)
    if n <= 0:
        return None
    z = _z(cl)
    p = count / n
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    return ConfidenceInterval(min(max(center - half, 0.0), 1.0), min(max(center + half, 0.0), 1.0))


def newcombe_paired_interval(
    n11: int, n10: int, n01: int, n00: int, confidence_level: float = 0.95
) -> ConfidenceInterval | None:
    """Newcombe's (1998) method 10 interval for a difference of *paired* proportions.

    For pairs ``(u_i, v_i)`` of 0/1 outcomes with cell counts ``n11`` (both 1), ``n10``
    (``u = 1, v = 0``), ``n01`` and ``n00``, the interval is for ``p_u - p_v`` with
    ``p_u = (n11 + n10) / n`` and ``p_v = (n11 + n01) / n``. Square-and-add of the two Wilson
    intervals ``(l_u, u_u)`` and ``(l_v, u_v)`` with a correlation correction::

        low  = d - sqrt((p_u - l_u)^2 - 2 phi (p_u - l_u)(u_v - p_v) + (u_v - p_v)^2)
        high = d + sqrt((p_v - l_v)^2 - 2 phi (p_v - l_v)(u_u - p_u) + (u_u - p_u)^2)

    where ``phi`` estimates the correlation of the pair: with ``A = n11 n00 - n10 n01``,
    ``phi = (A - n/2) / sqrt(row and column totals)`` when ``A > n/2``, ``0`` when
    ``0 <= A <= n/2`` and ``A / sqrt(...)`` when ``A < 0`` (and 0 when a margin is empty).

    Source: Newcombe RG (1998), "Improved confidence intervals for the difference between
    binomial proportions based on paired data", Statistics in Medicine 17:2635-2650, method
    10; the ``phi`` rule as given in Fagerland, Lydersen & Laake (2017), "Statistical Analysis
    of Contingency Tables", ch. 8 (the Newcombe square-and-add interval), whose worked example
    (Cavo et al. 2012, table ``[[59, 6], [16, 80]]``: -0.0621, 95 % CI -0.1186 to -0.0046) is
    reproduced in the tests. Unlike the Wald interval it stays informative with no discordant
    pairs. Returns ``None`` when ``n == 0``.
    """
    cl = _check_confidence(confidence_level)
    n = n11 + n10 + n01 + n00
    if n <= 0:
        return None
    pu, pv = (n11 + n10) / n, (n11 + n01) / n
    ci_u = wilson_interval(n11 + n10, n, cl)
    ci_v = wilson_interval(n11 + n01, n, cl)
    assert ci_u is not None and ci_v is not None
    row1, row0, col1, col0 = n11 + n10, n01 + n00, n11 + n01, n10 + n00
    phi = 0.0
    if min(row1, row0, col1, col0) > 0:
        a = float(n11) * n00 - float(n10) * n01
        root = math.sqrt(float(row1) * row0 * col1 * col0)
        if a > n / 2.0:
            phi = (a - n / 2.0) / root
        elif a < 0.0:
            phi = a / root
    d = pu - pv
    lo_u, hi_v = pu - ci_u.low, ci_v.high - pv
    lo_v, hi_u = pv - ci_v.low, ci_u.high - pu
    low = d - math.sqrt(max(lo_u * lo_u - 2.0 * phi * lo_u * hi_v + hi_v * hi_v, 0.0))
    high = d + math.sqrt(max(lo_v * lo_v - 2.0 * phi * lo_v * hi_u + hi_u * hi_u, 0.0))
    return ConfidenceInterval(max(low, -1.0), min(high, 1.0))


@dataclass(frozen=True)
class Proportion:
    """``count / n`` with its Wilson interval (``estimate`` and ``ci`` are ``None`` if n = 0)."""

    count: int
    n: int
    estimate: float | None
    ci: ConfidenceInterval | None

    def to_dict(self) -> dict[str, Any]:
        return {"count": int(self.count), "n": int(self.n), "estimate": _num(self.estimate),
                "ci": _ci_dict(self.ci)}


def _proportion(count: int, n: int, cl: float) -> Proportion:
    if n <= 0:
        return Proportion(0, 0, None, None)
    return Proportion(int(count), int(n), count / n, wilson_interval(count, n, cl))


def _midranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given the average of the ranks they span (``rankdata`` "average")."""
    n = x.size
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], n]
    ranks = np.empty(n)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


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


# --------------------------------------------------------------------------- agreement


@dataclass(frozen=True)
class AgreementResult(HasDiagnostics):
    """Agreement of the two models' decisions at ``threshold`` on the same inputs.

    Attributes
    ----------
    n : int
        Pairs used.
    agreement : Proportion
        Share of pairs where both decisions are equal.
    neg_to_pos, pos_to_neg : Proportion
        Flips: live negative and candidate positive, and live positive and candidate negative,
        as counts and as shares of *all* pairs.
    live_positive, candidate_positive : Proportion
        Each model's positive-prediction rate.
    """

    n: int
    threshold: float
    agreement: Proportion
    neg_to_pos: Proportion
    pos_to_neg: Proportion
    live_positive: Proportion
    candidate_positive: Proportion
    confidence_level: float
    method: str = "wilson"
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": int(self.n),
            "threshold": _num(self.threshold),
            "agreement": self.agreement.to_dict(),
            "flips": {"neg_to_pos": self.neg_to_pos.to_dict(),
                      "pos_to_neg": self.pos_to_neg.to_dict()},
            "live_positive": self.live_positive.to_dict(),
            "candidate_positive": self.candidate_positive.to_dict(),
            "confidence_level": _num(self.confidence_level),
            "method": self.method,
            "diagnostics": _diag_list(self.diagnostics),
        }


def agreement(
    s_live: Any, s_cand: Any, threshold: float = 0.5, confidence_level: float = 0.95
) -> AgreementResult:
    """Agreement at ``threshold`` and flips in each direction, with Wilson intervals.

    A prediction is positive when ``score >= threshold``. ``neg_to_pos`` counts pairs the
    live model calls negative and the candidate positive; ``pos_to_neg`` the reverse; both are
    also given as shares of all pairs. Every share has a Wilson (1927) score interval
    (:func:`wilson_interval`, equal to statsmodels' ``proportion_confint(method="wilson")``).

    Parameters
    ----------
    s_live, s_cand : array_like
        Scores of the live and candidate models, one element per matched request.
    threshold : float, default 0.5
        Decision threshold.
    confidence_level : float, default 0.95
        Level of the intervals.
    """
    cl = _check_confidence(confidence_level)
    thr = _check_threshold(threshold)
    diags: list[Diagnostic] = []
    a, b = _drop_non_finite(list(_scores(s_live, s_cand)), diags)
    n = int(a.size)
    pl, pc = a >= thr, b >= thr
    if n == 0:
        diags.append(Diagnostic("NO_PAIRS", "there are no pairs: agreement and flips are "
                                "undefined"))
    return AgreementResult(
        n, thr,
        _proportion(int((pl == pc).sum()), n, cl),
        _proportion(int((~pl & pc).sum()), n, cl),
        _proportion(int((pl & ~pc).sum()), n, cl),
        _proportion(int(pl.sum()), n, cl),
        _proportion(int(pc.sum()), n, cl),
        cl, "wilson", tuple(diags),
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
        x, z = s[pos], s[neg]
        tz = _midranks(np.concatenate([x, z]))
        v10[r] = (tz[:m] - _midranks(x)) / n
        v01[r] = 1.0 - (tz[m:] - _midranks(z)) / m
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


# --------------------------------------------------------------------------- per-model metrics


@dataclass(frozen=True)
class ModelMetrics(HasDiagnostics):
    """One model's quality on the labelled pairs.

    Attributes
    ----------
    auc : EffectEstimate
        AUC (Mann-Whitney, ties 1/2) with DeLong's standard error and a Wald interval clipped
        to ``[0, 1]``.
    accuracy : Proportion
        Share of correct decisions at ``threshold`` (Wilson interval).
    brier : float or None
        Mean of ``(p - y)^2``.
    log_loss : float or None
        ``-mean(y log p + (1 - y) log(1 - p))`` with ``p`` clipped to
        ``[log_loss_clip, 1 - log_loss_clip]``.
    mean_prediction, base_rate : float or None
        Mean predicted probability and observed share of positives.
    calibration_in_the_large : EffectEstimate
        ``mean(p) - mean(y)`` (positive: over-prediction), t interval over ``p_i - y_i``.
    observed_expected_ratio : float or None
        ``mean(y) / mean(p)`` (``None`` when ``mean(p) = 0``).
    """

    n: int
    n_positive: int
    n_negative: int
    threshold: float
    auc: EffectEstimate
    accuracy: Proportion
    brier: float | None
    log_loss: float | None
    log_loss_clip: float
    mean_prediction: float | None
    base_rate: float | None
    calibration_in_the_large: EffectEstimate
    observed_expected_ratio: float | None
    confidence_level: float
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": int(self.n),
            "n_positive": int(self.n_positive),
            "n_negative": int(self.n_negative),
            "threshold": _num(self.threshold),
            "auc": _ee_dict(self.auc),
            "accuracy": self.accuracy.to_dict(),
            "brier": _num(self.brier),
            "log_loss": _num(self.log_loss),
            "log_loss_clip": _num(self.log_loss_clip),
            "mean_prediction": _num(self.mean_prediction),
            "base_rate": _num(self.base_rate),
            "calibration_in_the_large": _ee_dict(self.calibration_in_the_large),
            "observed_expected_ratio": _num(self.observed_expected_ratio),
            "confidence_level": _num(self.confidence_level),
            "diagnostics": _diag_list(self.diagnostics),
        }


def _is_probability(s: np.ndarray) -> bool:
    return bool(s.size == 0 or (float(s.min()) >= 0.0 and float(s.max()) <= 1.0))


def _per_request_loss(y: np.ndarray, p: np.ndarray, loss: str) -> np.ndarray:
    if loss == "log_loss":
        q = np.clip(p, LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS)
        return -(y * np.log(q) + (1.0 - y) * np.log1p(-q))
    if loss == "squared_error":
        return (p - y) ** 2
    return np.abs(p - y)


def _clip_note(name: str, p: np.ndarray, diags: list[Diagnostic]) -> None:
    k = int(((p < LOG_LOSS_EPS) | (p > 1.0 - LOG_LOSS_EPS)).sum())
    if k:
        diags.append(Diagnostic(
            "LOG_LOSS_CLIPPED",
            f"{k} {name}probabilit{'y was' if k == 1 else 'ies were'} clipped to "
            f"[{LOG_LOSS_EPS:g}, 1 - {LOG_LOSS_EPS:g}] for the log loss",
        ))


def model_metrics(
    y: Any, s: Any, threshold: float = 0.5, confidence_level: float = 0.95
) -> ModelMetrics:
    """AUC, accuracy, Brier score, log loss and calibration-in-the-large of one model.

    * AUC: Mann-Whitney statistic with ties counted 1/2, DeLong (1988) standard error, Wald
      interval clipped to ``[0, 1]`` (see :func:`delong_test`); needs both classes.
    * accuracy: share of ``(s >= threshold) == y`` with a Wilson interval.
    * Brier score ``mean((s - y)^2)`` (Brier 1950).
    * log loss ``-mean(y log s + (1 - y) log(1 - s))``, ``s`` clipped to
      ``[1e-15, 1 - 1e-15]`` (:data:`LOG_LOSS_EPS`) so that a confident mistake costs
      ``-log(1e-15) = 34.5`` instead of infinity; ``LOG_LOSS_CLIPPED`` counts clipped values.
    * calibration-in-the-large ``mean(s) - mean(y)`` with a t interval over ``s_i - y_i``
      (positive = over-prediction), and the observed/expected ratio ``mean(y) / mean(s)``
      (Steyerberg, "Clinical Prediction Models", 2nd ed. 2019, ch. 15).

    Brier score, log loss and calibration need probabilities: with scores outside ``[0, 1]``
    they are ``None`` (``NOT_PROBABILITIES``). Unlabelled pairs (``y`` NaN) are left out.
    """
    cl = _check_confidence(confidence_level)
    thr = _check_threshold(threshold)
    diags: list[Diagnostic] = []
    yy, (p,) = _labelled(y, s, None, diags)
    n = int(yy.size)
    m = int((yy == 1).sum())
    auc = _NONE_EE
    if _class_check(yy, diags):
        a, v10, v01 = _delong_components(yy == 1, [p])
        if m < 2 or n - m < 2:
            diags.append(Diagnostic(
                "TOO_FEW_PER_CLASS", f"{m} positive and {n - m} negative labelled pair(s): "
                "the AUC's variance needs at least 2 of each"))
            auc = EffectEstimate(float(a[0]), None, None, None)
        else:
            var = float(v10[0].var(ddof=1)) / m + float(v01[0].var(ddof=1)) / (n - m)
            auc = _auc_estimate(float(a[0]), var, cl)
            if not var > 0.0:
                diags.append(Diagnostic("AUC_ZERO_VARIANCE", "the AUC has zero DeLong variance "
                                        "(perfect separation or constant scores): no interval"))
    acc = _proportion(int(((p >= thr) == (yy == 1)).sum()), n, cl)
    brier = ll = mean_p = base = oe = None
    citl = _NONE_EE
    if n:
        base = float(yy.mean())
        if not _is_probability(p):
            diags.append(Diagnostic("NOT_PROBABILITIES", "scores outside [0, 1]: Brier score, "
                                    "log loss and calibration are undefined"))
        else:
            mean_p = float(p.mean())
            brier = float(_per_request_loss(yy, p, "squared_error").mean())
            _clip_note("", p, diags)
            ll = float(_per_request_loss(yy, p, "log_loss").mean())
            citl, reason = _t_interval(p - yy, cl)
            if reason is not None:
                diags.append(Diagnostic(reason, "calibration-in-the-large: " + _REASONS[reason]))
            if mean_p > 0.0:
                oe = base / mean_p
            else:
                diags.append(Diagnostic("OE_UNDEFINED", "the mean prediction is 0: the "
                                        "observed/expected ratio is undefined"))
    return ModelMetrics(n, m, n - m, thr, auc, acc, brier, ll, LOG_LOSS_EPS, mean_p, base, citl,
                        oe, cl, tuple(diags))


# --------------------------------------------------------------------------- McNemar


@dataclass(frozen=True)
class McNemarResult(HasDiagnostics):
    """McNemar's test of equal accuracy on the same labelled pairs.

    Convention: ``b`` = live correct and candidate wrong, ``c`` = live wrong and candidate
    correct (so ``c > b`` favours the candidate). ``method`` is ``"exact"`` (two-sided
    binomial test of ``b ~ Bin(b + c, 1/2)``) or ``"chi2-continuity"``. The accuracy
    difference is ``candidate - live = (c - b) / n`` with Newcombe's paired interval.
    """

    n: int
    b: int
    c: int
    both_correct: int
    both_wrong: int
    method: str | None
    exact_below: int
    statistic: float | None
    pvalue: float | None
    accuracy_live: Proportion
    accuracy_candidate: Proportion
    accuracy_difference: float | None
    accuracy_difference_ci: ConfidenceInterval | None
    threshold: float
    confidence_level: float
    convention: str = "b = live correct & candidate wrong; c = live wrong & candidate correct"
    accuracy_difference_method: str = "newcombe-1998-method-10"
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": int(self.n),
            "b": int(self.b),
            "c": int(self.c),
            "both_correct": int(self.both_correct),
            "both_wrong": int(self.both_wrong),
            "convention": self.convention,
            "method": self.method,
            "exact_below": int(self.exact_below),
            "statistic": _num(self.statistic),
            "pvalue": _num(self.pvalue),
            "accuracy_live": self.accuracy_live.to_dict(),
            "accuracy_candidate": self.accuracy_candidate.to_dict(),
            "accuracy_difference": _num(self.accuracy_difference),
            "accuracy_difference_ci": _ci_dict(self.accuracy_difference_ci),
            "accuracy_difference_method": self.accuracy_difference_method,
            "threshold": _num(self.threshold),
            "confidence_level": _num(self.confidence_level),
            "diagnostics": _diag_list(self.diagnostics),
        }


def _mcnemar_p(b: int, c: int, exact: bool) -> tuple[float, float]:
    """(statistic, two-sided p-value) of McNemar's test for ``b + c > 0`` discordant pairs."""
    from scipy import special as sp

    if exact:
        k = min(b, c)
        return float(k), min(1.0, 2.0 * float(sp.bdtr(k, b + c, 0.5)))
    # Edwards' continuity correction, floored at 0 so that b == c gives p = 1
    stat = max(abs(b - c) - 1.0, 0.0) ** 2 / (b + c)
    return stat, float(sp.chdtrc(1, stat))


def mcnemar_test(
    y: Any,
    s_live: Any,
    s_cand: Any,
    threshold: float = 0.5,
    exact_below: int = MCNEMAR_EXACT_BELOW,
    confidence_level: float = 0.95,
) -> McNemarResult:
    """McNemar's (1947) test on per-request correctness, and the paired accuracy difference.

    Decisions are ``score >= threshold``; each labelled request is correct or wrong under each
    model. Convention: ``b`` = live correct & candidate wrong, ``c`` = live wrong & candidate
    correct. Under ``H0`` (equal accuracy) ``b ~ Bin(b + c, 1/2)`` given ``b + c``:

    * ``b + c < exact_below`` (default 25): exact two-sided binomial p-value
      ``min(1, 2 P(Bin(b + c, 1/2) <= min(b, c)))``, statistic ``min(b, c)`` -- as
      ``statsmodels.stats.contingency_tables.mcnemar(table, exact=True)``;
    * otherwise: chi-square with 1 df on ``(|b - c| - 1)^2 / (b + c)`` (Edwards' 1948
      continuity correction) -- as ``mcnemar(table, exact=False, correction=True)``, except
      that ``|b - c| - 1`` is floored at 0, so ``b == c`` gives statistic 0 and p = 1
      (statsmodels reports ``1 / (b + c)`` there).

    With no discordant pairs (``b + c = 0``, e.g. identical models) the test has no
    information: ``pvalue`` is ``None`` with ``NO_DISCORDANT_PAIRS``. The accuracy difference
    ``candidate - live = (c - b) / n`` gets Newcombe's (1998) method-10 interval for paired
    proportions (:func:`newcombe_paired_interval`), which stays informative in that case.

    Parameters
    ----------
    y : array_like
        0 / 1 labels, NaN for unlabelled pairs.
    s_live, s_cand : array_like
        Scores (or 0 / 1 class predictions with the default threshold).
    threshold : float, default 0.5
    exact_below : int, default 25
        Use the exact binomial test when ``b + c`` is below this.
    confidence_level : float, default 0.95
    """
    cl = _check_confidence(confidence_level)
    thr = _check_threshold(threshold)
    if isinstance(exact_below, bool) or int(exact_below) != exact_below or exact_below < 0:
        raise ValueError(f"exact_below must be a non-negative integer, got {exact_below!r}")
    diags: list[Diagnostic] = []
    yy, (a, bb) = _labelled(y, s_live, s_cand, diags)
    n = int(yy.size)
    pos = yy == 1
    ok_l = (a >= thr) == pos
    ok_c = (bb >= thr) == pos
    n11 = int((ok_l & ok_c).sum())
    b = int((ok_l & ~ok_c).sum())
    c = int((~ok_l & ok_c).sum())
    n00 = n - n11 - b - c
    method = stat = p = diff = None
    ci = None
    if n == 0:
        diags.append(Diagnostic("NO_LABELLED_PAIRS", "there are no labelled pairs"))
    else:
        diff = (c - b) / n
        ci = newcombe_paired_interval(n11, c, b, n00, cl)  # (candidate, live) order
        if b + c == 0:
            diags.append(Diagnostic(
                "NO_DISCORDANT_PAIRS",
                "the two models are right and wrong on exactly the same inputs: McNemar's "
                "test has no information (no p-value); see the accuracy difference interval",
            ))
        else:
            exact = (b + c) < int(exact_below)
            method = "exact" if exact else "chi2-continuity"
            stat, p = _mcnemar_p(b, c, exact)
    return McNemarResult(
        n, b, c, n11, n00, method, int(exact_below), stat, p,
        _proportion(n11 + b, n, cl), _proportion(n11 + c, n, cl), diff, ci, thr, cl,
        diagnostics=tuple(diags),
    )


# --------------------------------------------------------------------------- paired loss test


@dataclass(frozen=True)
class LossDifferenceResult(HasDiagnostics):
    """Paired t-test on per-request loss differences ``loss_cand_i - loss_live_i``.

    Positive differences mean the candidate is worse. ``noninferiority_pvalue`` tests
    ``H0: mean difference >= margin`` (the candidate is worse by at least ``margin``) against
    ``H1: mean difference < margin``.
    """

    loss: str
    n: int
    mean_live: float | None
    mean_candidate: float | None
    difference: EffectEstimate
    margin: float
    noninferiority_pvalue: float | None
    confidence_level: float
    log_loss_clip: float | None
    alternative: str = "two-sided"
    method: str = "paired-t"
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "n": int(self.n),
            "mean_live": _num(self.mean_live),
            "mean_candidate": _num(self.mean_candidate),
            "difference": _ee_dict(self.difference),
            "margin": _num(self.margin),
            "noninferiority_pvalue": _num(self.noninferiority_pvalue),
            "confidence_level": _num(self.confidence_level),
            "log_loss_clip": _num(self.log_loss_clip),
            "alternative": self.alternative,
            "method": self.method,
            "diagnostics": _diag_list(self.diagnostics),
        }


def paired_loss_test(
    y: Any,
    s_live: Any,
    s_cand: Any,
    loss: Loss = "log_loss",
    margin: float = 0.0,
    confidence_level: float = 0.95,
) -> LossDifferenceResult:
    """Paired t-test on per-request loss differences, with a non-inferiority p-value.

    For each labelled request ``d_i = L(y_i, s_cand_i) - L(y_i, s_live_i)`` with ``L`` one of

    * ``"log_loss"``: ``-(y log p + (1 - y) log(1 - p))``, ``p`` clipped to
      ``[1e-15, 1 - 1e-15]`` (binary ``y``, probabilities);
    * ``"squared_error"``: ``(s - y)^2`` (the per-request Brier score for binary ``y``; any
      real ``y`` for regression);
    * ``"absolute_error"``: ``|s - y|`` (any real ``y``).

    The mean of ``d`` gets a Student t interval with ``n - 1`` df and the two-sided p-value of
    ``mean = 0`` (identical to ``scipy.stats.ttest_rel(loss_cand, loss_live)``); the
    non-inferiority p-value ``P(T_{n-1} <= (mean - margin) / se)`` tests
    ``H0: mean >= margin`` (the candidate's loss is higher by at least ``margin``), as
    ``scipy.stats.ttest_1samp(d, margin, alternative="less")``. Per-request losses are
    averages of independent pairs, so the t-test is valid by the central limit theorem; its
    validity for very skewed log-loss differences needs a few hundred pairs.

    Undefined parts are ``None`` with a diagnostic: no labelled pairs, one pair
    (``TOO_FEW_PAIRS``), identical losses (``ZERO_VARIANCE``), scores outside ``[0, 1]`` for
    the log loss (``NOT_PROBABILITIES``).

    Parameters
    ----------
    loss : {"log_loss", "squared_error", "absolute_error"}, default "log_loss"
    margin : float, default 0.0
        Non-inferiority margin in loss units (>= 0).
    confidence_level : float, default 0.95
    """
    from scipy import special as sp

    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {', '.join(_LOSSES)}, got {loss!r}")
    cl = _check_confidence(confidence_level)
    mg = _check_margin(margin)
    diags: list[Diagnostic] = []
    yy, (a, b) = _labelled(y, s_live, s_cand, diags, binary=(loss == "log_loss"))
    n = int(yy.size)
    clip = LOG_LOSS_EPS if loss == "log_loss" else None

    def done(ml=None, mc=None, diff=_NONE_EE, ni=None) -> LossDifferenceResult:
        return LossDifferenceResult(loss, n, ml, mc, diff, mg, ni, cl, clip, "two-sided",
                                    "paired-t", tuple(diags))

    if n == 0:
        diags.append(Diagnostic("NO_LABELLED_PAIRS", "there are no labelled pairs"))
        return done()
    if loss == "log_loss":
        if not (_is_probability(a) and _is_probability(b)):
            diags.append(Diagnostic("NOT_PROBABILITIES", "scores outside [0, 1]: the log loss "
                                    "is undefined"))
            return done()
        _clip_note("live ", a, diags)
        _clip_note("candidate ", b, diags)
    with np.errstate(over="ignore", invalid="ignore"):
        ll, lc = _per_request_loss(yy, a, loss), _per_request_loss(yy, b, loss)
        d = lc - ll
    if not (np.isfinite(d).all() and np.isfinite(ll).all() and np.isfinite(lc).all()):
        diags.append(Diagnostic("NUMERIC_OVERFLOW", "losses overflow double precision; "
                                "rescale the values"))
        return done()
    est, reason = _t_interval(d, cl)
    ni = None
    if reason is not None:
        diags.append(Diagnostic(reason, "loss difference: " + _REASONS[reason]))
    else:
        assert est.se is not None and est.df is not None and est.estimate is not None
        ni = min(max(float(sp.stdtr(est.df, (est.estimate - mg) / est.se)), 0.0), 1.0)
    return done(float(ll.mean()), float(lc.mean()), est, ni)


# --------------------------------------------------------------------------- all in one


@dataclass(frozen=True)
class PairedComparison(HasDiagnostics):
    """Everything :func:`paired_comparison` computes; label-based parts are ``None`` without
    labels.

    ``to_dict()["quality"]`` is one row per metric (``auc``, ``accuracy``, ``brier``,
    ``log_loss``) with ``live``, ``candidate``, ``diff`` (candidate - live), ``ci`` (of the
    difference), ``pvalue`` (two-sided test of no difference), ``noninferiority_pvalue`` and
    ``margin`` (where a margin applies), ``higher_is_better`` and the ``method``.
    """

    agreement: AgreementResult
    scores: ScoreDifferenceResult
    live: ModelMetrics | None
    candidate: ModelMetrics | None
    mcnemar: McNemarResult | None
    delong: DeLongResult | None
    log_loss: LossDifferenceResult | None
    brier: LossDifferenceResult | None
    n_pairs: int
    n_labelled: int
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def quality(self) -> dict[str, dict[str, Any]]:
        if self.live is None or self.candidate is None:
            return {}
        lv, cd = self.live, self.candidate
        out: dict[str, dict[str, Any]] = {}
        if self.delong is not None:
            d = self.delong.difference
            out["auc"] = {
                "live": _num(lv.auc.estimate), "candidate": _num(cd.auc.estimate),
                "diff": _num(d.estimate), "ci": _ci_dict(d.ci), "pvalue": _num(d.pvalue),
                "margin": _num(self.delong.margin),
                "noninferiority_pvalue": _num(self.delong.noninferiority_pvalue),
                "higher_is_better": True, "method": "delong",
            }
        if self.mcnemar is not None:
            mc = self.mcnemar
            out["accuracy"] = {
                "live": _num(lv.accuracy.estimate), "candidate": _num(cd.accuracy.estimate),
                "diff": _num(mc.accuracy_difference), "ci": _ci_dict(mc.accuracy_difference_ci),
                "pvalue": _num(mc.pvalue), "margin": None, "noninferiority_pvalue": None,
                "higher_is_better": True, "method": f"mcnemar-{mc.method}+newcombe-10"
                if mc.method else "newcombe-10",
            }
        for key, res, lval, cval in (("brier", self.brier, lv.brier, cd.brier),
                                     ("log_loss", self.log_loss, lv.log_loss, cd.log_loss)):
            if res is None:
                continue
            d = res.difference
            out[key] = {
                "live": _num(lval), "candidate": _num(cval), "diff": _num(d.estimate),
                "ci": _ci_dict(d.ci), "pvalue": _num(d.pvalue), "margin": _num(res.margin),
                "noninferiority_pvalue": _num(res.noninferiority_pvalue),
                "higher_is_better": False, "method": "paired-t",
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        opt = lambda r: None if r is None else r.to_dict()
        return {
            "pairs": int(self.n_pairs),
            "labelled_pairs": int(self.n_labelled),
            "agreement": self.agreement.to_dict(),
            "scores": self.scores.to_dict(),
            "live": opt(self.live),
            "candidate": opt(self.candidate),
            "mcnemar": opt(self.mcnemar),
            "delong": opt(self.delong),
            "log_loss": opt(self.log_loss),
            "brier": opt(self.brier),
            "quality": self.quality(),
            "diagnostics": _diag_list(self.diagnostics),
        }


def paired_comparison(
    s_live: Any,
    s_cand: Any,
    y: Any | None = None,
    *,
    threshold: float = 0.5,
    confidence_level: float = 0.95,
    auc_margin: float = 0.0,
    log_loss_margin: float = 0.0,
    brier_margin: float = 0.0,
    exact_below: int = MCNEMAR_EXACT_BELOW,
) -> PairedComparison:
    """Run every paired comparison of this module on one set of matched pairs.

    Label-free: :func:`agreement` and :func:`score_differences` on all pairs. With ``y``
    (NaN for unlabelled pairs): :func:`model_metrics` for each model, :func:`mcnemar_test`,
    :func:`delong_test` (``auc_margin``) and :func:`paired_loss_test` for the log loss
    (``log_loss_margin``) and the squared error, i.e. the Brier score (``brier_margin``), on
    the labelled pairs. The log loss and Brier comparisons are skipped (``None``, with
    ``NOT_PROBABILITIES``) when a score lies outside ``[0, 1]``. Margins are absolute, in the
    metric's units, and default to 0.
    """
    cl = _check_confidence(confidence_level)
    a, b = _scores(s_live, s_cand)
    diags: list[Diagnostic] = []
    agr = agreement(a, b, threshold, cl)
    sd = score_differences(a, b, cl)
    if y is None:
        return PairedComparison(agr, sd, None, None, None, None, None, None, agr.n, 0,
                                tuple(diags))
    v = _labels(y, a.size)
    lab = ~np.isnan(v) & np.isfinite(a) & np.isfinite(b)
    n_lab = int(lab.sum())
    live = model_metrics(v, a, threshold, cl)
    cand = model_metrics(v, b, threshold, cl)
    mc = mcnemar_test(v, a, b, threshold, exact_below, cl)
    dl = delong_test(v, a, b, auc_margin, cl)
    ll = br = None
    fin = np.isfinite(a) & np.isfinite(b)
    if _is_probability(a[fin]) and _is_probability(b[fin]):
        ll = paired_loss_test(v, a, b, "log_loss", log_loss_margin, cl)
        br = paired_loss_test(v, a, b, "squared_error", brier_margin, cl)
    else:
        _check_margin(log_loss_margin)
        _check_margin(brier_margin)
        diags.append(Diagnostic("NOT_PROBABILITIES", "scores outside [0, 1]: log-loss and "
                                "Brier comparisons skipped"))
    return PairedComparison(agr, sd, live, cand, mc, dl, ll, br, agr.n, n_lab, tuple(diags))

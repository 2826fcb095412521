"""Two-sample comparison of a metric between a control and a treatment arm.

One delta-method core serves every metric kind. An arm is a :class:`MomentStats` over per-unit
variables; a metric is a smooth function of the arm's mean vector (a plain mean, or a ratio of
two means), optionally adjusted by a covariate function (CUPED):

    effect = (f(t) - f(c)) - theta * (g(t) - g(c))

with ``theta = grad_f' S grad_g / grad_g' S grad_g`` over the pooled units of both arms, which
reduces to ``cov(Y, X) / var(X)`` for a mean metric with covariate ``X``. Each arm's variance is
``h' S_arm h / n_arm`` with ``h = grad_f - theta * grad_g`` at the arm's means: for a mean metric
this is exactly the variance of ``Y - theta * X``, so the mean test is Welch's t-test (with
Welch-Satterthwaite degrees of freedom) on the adjusted values.

The relative effect ``effect / f(c)`` is the delta method over both arms' means (for a plain
mean metric ``se = sqrt(v_t/(n_t m_c^2) + m_t^2 v_c/(n_c m_c^4))``), with the absolute effect's
reference distribution (Student t with the same Welch df for ``test="welch"``, normal for
``"z"``). Where that symmetric interval would reach -100 % or below while the estimate is above
-100 %, the interval is taken on the log scale instead: ``log(1 + rel) +/- crit * se / (1 +
rel)`` (the delta method for ``log(f(t) / f(c))``), transformed back, so it stays above -100 %
(diagnostic ``LOG_RELATIVE_INTERVAL``). Elsewhere the delta interval is kept: it is the usual
one, and the two agree to first order.

0/1 metrics with few events (an arm with fewer than 10 events or non-events, no covariate) are
tested exactly instead (:mod:`abkit.stats.exact`): Boschloo's test, Newcombe's interval for the
difference and the Miettinen-Nurminen score interval for the rate ratio (diagnostic
``FEW_EVENTS``, ``method = "boschloo"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .exact import FEW_EVENTS as FEW
from .exact import binary_events
from .moments import MomentStats
from .results import ConfidenceInterval, Diagnostic, EffectEstimate, HasDiagnostics

__all__ = ["Estimand", "Comparison", "compare", "noninferiority_pvalue"]

Test = Literal["welch", "z"]


@dataclass(frozen=True)
class Estimand:
    """A function of an arm's mean vector: ``mean`` of variable ``idx[0]`` or ``ratio`` of two."""

    form: Literal["mean", "ratio"]
    idx: tuple[int, ...]

    def value(self, mu: np.ndarray) -> float | None:
        if self.form == "mean":
            return float(mu[self.idx[0]])
        den = float(mu[self.idx[1]])
        if den == 0.0:
            return None
        return float(mu[self.idx[0]]) / den

    def grad(self, mu: np.ndarray) -> np.ndarray:
        g = np.zeros(len(mu))
        if self.form == "mean":
            g[self.idx[0]] = 1.0
        else:
            num, den = float(mu[self.idx[0]]), float(mu[self.idx[1]])
            g[self.idx[0]] = 1.0 / den
            g[self.idx[1]] = -(num / den) / den
        return g


@dataclass(frozen=True)
class Comparison(HasDiagnostics):
    """Treatment versus control for one metric.

    Attributes
    ----------
    control_value, treatment_value : float or None
        Unadjusted per-arm metric values (means, or ratios of means).
    absolute : EffectEstimate
        ``treatment - control`` (CUPED-adjusted when a covariate is given).
    relative : EffectEstimate
        ``absolute / control_value``; ``estimate`` is ``None`` when the control value is <= 0.
    method : str
        ``"welch"`` (t-test, Welch-Satterthwaite df) or ``"delta-z"`` (normal, delta method).
    theta, variance_reduction : float or None
        CUPED coefficient and ``1 - var(adjusted effect) / var(unadjusted effect)``.
    events : (int, int) or None
        ``(control, treatment)`` event counts when the exact few-events test was used
        (``method = "boschloo"``); :func:`noninferiority_pvalue` then uses a score test.
    """

    n_control: int
    n_treatment: int
    control_value: float | None
    treatment_value: float | None
    absolute: EffectEstimate
    relative: EffectEstimate
    method: str
    confidence_level: float
    alternative: str = "two-sided"
    theta: float | None = None
    variance_reduction: float | None = None
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)
    events: tuple[int, int] | None = None


_NONE = EffectEstimate(None, None, None, None)
_OVERFLOW = ("the values are out of double-precision range (sums or squares overflow); "
             "rescale the metric (e.g. to thousands)")
# a per-unit standard deviation below this fraction of the metric's size is rounding noise
_SE_ROUNDING = 1e-13


def _quad(h: np.ndarray, stats: MomentStats) -> float:
    cov = stats.cov()
    assert cov is not None
    with np.errstate(over="ignore", invalid="ignore"):
        q = float(h @ cov @ h)
    return q if not q < 0.0 else 0.0  # keeps inf/nan visible to the caller's range check


def _t_or_z(
    estimate: float, se: float, df: float | None, confidence_level: float
) -> EffectEstimate:
    """Two-sided interval and p-value; ``df=None`` means normal."""
    from scipy import special as sp  # scipy.special imports ~4x faster than scipy.stats

    if se == 0.0:
        # Degenerate but defined: no spread at all. Equal values -> p = 1, otherwise p = 0.
        p = 1.0 if estimate == 0.0 else 0.0
        return EffectEstimate(estimate, 0.0, ConfidenceInterval(estimate, estimate), p, df, None)
    stat = estimate / se
    q = 0.5 + confidence_level / 2
    if df is None:
        crit = float(sp.ndtri(q))
        p = float(2 * sp.ndtr(-abs(stat)))
    else:
        crit = float(sp.stdtrit(df, q))
        p = float(2 * sp.stdtr(df, -abs(stat)))
    p = min(max(p, 0.0), 1.0)
    return EffectEstimate(
        estimate, se, ConfidenceInterval(estimate - crit * se, estimate + crit * se), p, df, stat
    )


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _welch_df(s_t: float, s_c: float, n_t: int, n_c: int) -> float | None:
    """Welch-Satterthwaite df, computed on shares of the variance (no overflow)."""
    total = s_t + s_c
    if total == 0.0:
        return None
    a, b = s_t / total, s_c / total
    return 1.0 / (a * a / (n_t - 1) + b * b / (n_c - 1))


def compare(
    control: MomentStats,
    treatment: MomentStats,
    metric: Estimand,
    covariate: Estimand | None = None,
    *,
    test: Test = "welch",
    confidence_level: float = 0.95,
    binary: bool | None = None,
) -> Comparison:
    """Compare ``metric`` between two arms.

    Parameters
    ----------
    control, treatment : MomentStats
        Per-unit variable moments of each arm (the same variables in the same order).
    metric : Estimand
        The metric as a function of the arm means.
    covariate : Estimand, optional
        Pre-period covariate for CUPED; ``theta`` is estimated on both arms pooled.
    test : {"welch", "z"}
        ``"welch"``: Student t with Welch-Satterthwaite df (use for mean metrics);
        ``"z"``: normal (use for ratio metrics).
    confidence_level : float
        Level of the two-sided intervals.
    binary : bool, optional
        Whether the metric is a 0/1 variable (a proportion). ``None`` (default) infers it from
        the moments (:func:`abkit.stats.exact.binary_counts`); ``False`` never uses the exact
        few-events test; ``True`` requires 0/1 moments (``ValueError`` otherwise).
    """
    diags: list[Diagnostic] = []
    method = "welch" if test == "welch" else "delta-z"
    mu_c, mu_t = control.mean_array, treatment.mean_array
    n_c, n_t = control.n, treatment.n

    def done(cv=None, tv=None, ab=_NONE, rel=_NONE, theta=None, vr=None, events=None):
        return Comparison(
            n_c, n_t, _finite(cv), _finite(tv), ab, rel, method, confidence_level, "two-sided",
            theta, vr, tuple(diags), events,
        )

    if n_c == 0 or n_t == 0:
        which = "control" if n_c == 0 else "treatment"
        diags.append(Diagnostic("EMPTY_ARM", f"the {which} arm has no units; nothing to compare"))
        cv = _finite(metric.value(mu_c)) if n_c else None
        tv = _finite(metric.value(mu_t)) if n_t else None
        return done(cv, tv)

    if not all(np.isfinite(x).all() for x in (mu_c, mu_t, np.asarray(control.m2),
                                               np.asarray(treatment.m2))):
        diags.append(
            Diagnostic("NUMERIC_OVERFLOW", _OVERFLOW)
        )
        return done()

    f_c, f_t = metric.value(mu_c), metric.value(mu_t)
    if f_c is None or f_t is None:
        which = " and ".join(a for a, v in (("control", f_c), ("treatment", f_t)) if v is None)
        diags.append(
            Diagnostic(
                "ZERO_DENOMINATOR",
                f"the ratio's denominator has mean 0 in the {which} arm; the ratio is undefined",
            )
        )
        return done(f_c, f_t)

    raw = f_t - f_c
    if n_c < 2 or n_t < 2:
        diags.append(
            Diagnostic(
                "TOO_FEW_UNITS",
                f"an arm has fewer than 2 units (control {n_c}, treatment {n_t}); "
                "no variance, so no interval or p-value",
            )
        )
        return done(f_c, f_t, EffectEstimate(raw, None, None, None))

    counts = binary_events(control, treatment, metric, binary)
    if counts is not None and min(counts[0], n_c - counts[0], counts[1], n_t - counts[1]) < FEW:
        from .exact import exact_effects

        method = "boschloo"
        x_c, x_t = counts
        ab, rel, msg = exact_effects(x_t, n_t, x_c, n_c, confidence_level)
        diags.append(Diagnostic("FEW_EVENTS", msg))
        if covariate is not None:
            diags.append(Diagnostic("COVARIATE_NOT_APPLIED", "few events: the exact test "
                                    "compares the unadjusted proportions; CUPED not applied "
                                    "(theta = 0)"))
        if rel is None:
            diags.append(Diagnostic("ZERO_CONTROL_MEAN", f"the control value is {f_c:g}; a "
                                    "relative effect is undefined, use the absolute effect"))
        return done(f_c, f_t, ab, rel or _NONE, 0.0 if covariate is not None else None,
                    events=counts)

    theta: float | None = None
    g_c = g_t = 0.0
    grad_gc = grad_gt = np.zeros(len(mu_c))
    if covariate is not None:
        pooled = control + treatment
        pmu, pcov = pooled.mean_array, pooled.cov()
        assert pcov is not None
        gp = covariate.grad(pmu) if covariate.value(pmu) is not None else None
        gc_val, gt_val = covariate.value(mu_c), covariate.value(mu_t)
        if gp is None or gc_val is None or gt_val is None or metric.value(pmu) is None:
            diags.append(
                Diagnostic(
                    "COVARIATE_UNDEFINED",
                    "the covariate's denominator has mean 0; CUPED not applied (theta = 0)",
                )
            )
            theta = 0.0
        else:
            var_g = float(gp @ pcov @ gp)
            if var_g <= 0.0:
                diags.append(
                    Diagnostic(
                        "COVARIATE_ZERO_VARIANCE",
                        "the covariate does not vary; CUPED not applied (theta = 0)",
                    )
                )
                theta = 0.0
            else:
                theta = float(metric.grad(pmu) @ pcov @ gp) / var_g
                g_c, g_t = gc_val, gt_val
                grad_gc, grad_gt = covariate.grad(mu_c), covariate.grad(mu_t)

    th = theta or 0.0
    effect = raw - th * (g_t - g_c)
    grad_fc, grad_ft = metric.grad(mu_c), metric.grad(mu_t)
    h_c, h_t = grad_fc - th * grad_gc, grad_ft - th * grad_gt
    s_c, s_t = _quad(h_c, control) / n_c, _quad(h_t, treatment) / n_t
    se = math.sqrt(s_c + s_t)
    # a per-unit spread at the rounding level of the values is the noise of a (linearised)
    # constant, not spread; compare per-unit sd (not se, which shrinks with n) to the values
    if math.sqrt(max(s_c * n_c, s_t * n_t)) <= _SE_ROUNDING * max(abs(f_c), abs(f_t)):
        se = s_c = s_t = 0.0
    df = _welch_df(s_t, s_c, n_t, n_c) if test == "welch" else None

    vr = None
    if theta is not None:
        s0 = _quad(grad_fc, control) / n_c + _quad(grad_ft, treatment) / n_t
        vr = 1.0 - (s_c + s_t) / s0 if s0 > 0 else 0.0

    if not (math.isfinite(se) and math.isfinite(effect)):
        diags.append(Diagnostic("NUMERIC_OVERFLOW", _OVERFLOW))
        return done(f_c, f_t, EffectEstimate(effect if math.isfinite(effect) else None,
                                             None, None, None), theta=_finite(theta))
    if se == 0.0:
        if abs(effect) <= _SE_ROUNDING * max(abs(f_c), abs(f_t)):
            effect = 0.0  # equal constants whose means differ only by rounding
        diags.append(
            Diagnostic(
                "ZERO_VARIANCE",
                "the metric has zero variance in both arms; the p-value is 1 if the arms are "
                "equal and 0 otherwise, and the interval is a point",
            )
        )
    absolute = _t_or_z(effect, se, df, confidence_level)

    if f_c <= 0.0:
        code = "ZERO_CONTROL_MEAN" if f_c == 0.0 else "NEGATIVE_CONTROL_MEAN"
        diags.append(
            Diagnostic(
                code,
                f"the control value is {f_c:g}; a relative effect is undefined, "
                "use the absolute effect",
            )
        )
        relative = _NONE
    else:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            rel = effect / f_c
            r_t = h_t / f_c
            r_c = -h_c / f_c - (rel * grad_fc) / f_c
            rse = math.sqrt(_quad(r_t, treatment) / n_t + _quad(r_c, control) / n_c)
        if math.isfinite(rse) and math.isfinite(rel):
            relative = _t_or_z(rel, rse, df, confidence_level)
            if relative.ci is not None and relative.ci.low <= -1.0 < rel:
                relative = _log_relative(rel, rse, df, confidence_level)
                diags.append(Diagnostic(
                    "LOG_RELATIVE_INTERVAL",
                    "the symmetric (delta-method) relative interval would reach -100 % or "
                    "below; the relative interval and p-value are on the log scale "
                    "(log of the ratio of means), which stays above -100 %"
                    + ("" if relative.ci else "; its upper end overflows (a ratio above "
                       "e^700), so no interval is given")))
        else:
            diags.append(Diagnostic("NUMERIC_OVERFLOW", "the relative effect is out of "
                                    "floating-point range; use the absolute effect"))
            relative = _NONE

    return done(f_c, f_t, absolute, relative, _finite(theta), _finite(vr))


def _log_relative(rel: float, rse: float, df: float | None, level: float) -> EffectEstimate:
    """Relative interval on the log scale: ``log(1 + rel)`` with delta se ``rse / (1 + rel)``,
    the same reference distribution as the absolute effect, transformed back."""
    u, su = math.log1p(rel), rse / (1.0 + rel)
    r = _t_or_z(u, su, df, level)
    assert r.ci is not None
    if r.ci.high > 700.0:  # a ratio beyond e^700: no finite interval to show
        return EffectEstimate(rel, rse, None, r.pvalue, df, r.statistic)
    return EffectEstimate(rel, rse, ConfidenceInterval(math.expm1(r.ci.low),
                                                       math.expm1(r.ci.high)),
                          r.pvalue, df, r.statistic)


def noninferiority_pvalue(
    comparison: Comparison, margin_abs: float, harmful: Literal["increase", "decrease"]
) -> float | None:
    """One-sided p-value for "the treatment is worse by more than ``margin_abs``".

    Tests ``H0: harm <= margin_abs`` against ``H1: harm > margin_abs``, where harm is the
    effect signed so that positive is bad, using the comparison's own standard error and
    degrees of freedom; a few-events proportion comparison (``comparison.events`` set) uses
    the Farrington-Manning score test instead (:func:`abkit.stats.exact.score_pvalue`), which
    needs no standard error at the observed rates (0 vs 0 events has none). Returns ``None``
    when the comparison has no standard error (or the score test no variance).
    """
    from scipy import special as sp

    ab = comparison.absolute
    if comparison.events is not None:
        from .exact import score_pvalue

        x_c, x_t = comparison.events
        # harm > margin: p_t - p_c > margin (increase) or p_t - p_c < -margin (decrease)
        value = margin_abs if harmful == "increase" else -margin_abs
        value = min(max(value, -1.0 + 1e-12), 1.0 - 1e-12)
        return score_pvalue(x_t, comparison.n_treatment, x_c, comparison.n_control, value,
                            "greater" if harmful == "increase" else "less")
    if ab.estimate is None or ab.se is None:
        return None
    harm = ab.estimate if harmful == "increase" else -ab.estimate
    excess = harm - margin_abs
    if ab.se == 0.0:
        return 0.0 if excess > 0 else 1.0
    stat = excess / ab.se
    p = sp.ndtr(-stat) if ab.df is None else sp.stdtr(ab.df, -stat)
    return float(min(max(p, 0.0), 1.0))

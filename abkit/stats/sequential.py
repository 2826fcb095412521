"""Anytime-valid inference for canary and linear rollout gates.

A rollout gate looks at its metrics again and again (every few minutes, for as long as the
rollout runs) and stops at the first look that shows harm. A fixed-horizon test re-applied at
every look rejects a true null far more often than ``alpha`` (22-39 % of the time over 100
looks at ``alpha = 0.05`` in the simulations of ``bench/SEQUENTIAL.md``). The sequences here are valid *uniformly over time*: the
probability that the sequence ever excludes the true value, at any look, however many looks,
is at most ``alpha`` (asymptotically, see below).

Asymptotic confidence sequence (Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas,
"Time-uniform central limit theory and asymptotic confidence sequences", Annals of
Statistics 52(6), 2024; arXiv:2103.06476, Theorem 2.2, the i.i.d. "AsympCS" for a mean; the
displayed boundary is the paper's equation (9) in the arXiv numbering that GrowthBook's
documentation cites -- the numbering was not checked against the journal version).
For the running mean ``m_n`` of ``n`` observations with (estimated) variance ``v``::

    two-sided:  m_n +/- sqrt(v) * sqrt( 2 (n rho^2 + 1) / (n^2 rho^2)
                                         * log( sqrt(n rho^2 + 1) / alpha ) )

It is Robbins' normal-mixture boundary for a standard Brownian motion (mixing the exponential
martingale ``exp(l S_n - l^2 n / 2)`` over ``l ~ N(0, rho^2)`` and applying Ville's
inequality), applied to the Gaussian process that strongly approximates the partial sums;
``rho > 0`` is a free tuning parameter that sets the sample size at which the boundary is
tightest (:func:`rho_for`). Two-sided at level ``alpha`` as written: the symmetric mixture
already controls both tails, so there is no ``alpha / 2``.

One-sided sequences mix over a half-normal ``l >= 0`` (or ``l <= 0``) instead, which gives
the mixture ``2 / sqrt(1 + n rho^2) * exp(b^2 / 2) * Phi(b)`` with
``b = rho S_n / sqrt(1 + n rho^2)``. That has no closed-form inverse; with the bound
``1 - Phi(b) <= exp(-b^2 / 2) / 2`` (b >= 0) it is at least ``1 / alpha`` whenever::

    one-sided:  b^2 / 2 >= log(1 + sqrt(n rho^2 + 1) / (2 alpha)),   i.e. the radius is
                sqrt(v) * sqrt( 2 (n rho^2 + 1) / (n^2 rho^2)
                                 * log( 1 + sqrt(n rho^2 + 1) / (2 alpha) ) )

This is the closed form used for one-sided AsympCSs in the paper's line of work (its
one-sided boundary has the same ``log(1 + sqrt(.) / (2 alpha))`` term); since the text could
not be checked here, the module relies on the derivation above instead, and the tests check
it numerically: the half-normal mixture, integrated by quadrature, is >= 1 / alpha (and
< 1.25 / alpha) on this boundary. It is valid and very slightly conservative. The two-sided
boundary at ``2 alpha`` would *not* be a valid one-sided boundary at ``alpha`` (the upper
and lower crossing events can both happen in one run; the tests show the mixture is below
1 / alpha there).

Randomised experiments (the paper's section on sequential randomised experiments, with a
known propensity): with treatment indicator ``T_i`` assigned with known probability
``pi_i`` (a canary share, possibly changing over time as in a linear rollout, but fixed
before unit ``i`` arrives), the inverse-propensity pseudo-outcome::

    psi_i = (Y_i - c_i) * (T_i / pi_i - (1 - T_i) / (1 - pi_i))

has mean ``E[Y(1)] - E[Y(0)]`` whatever ``pi_i`` and whatever predictable ``c_i`` (a
baseline fixed before unit ``i`` is seen, e.g. a pre-period mean; ``c_i = 0`` is the plain
IPW pseudo-outcome, a constant ``c`` is the paper's doubly-robust pseudo-outcome with the
outcome regressions both equal to ``c``). Centring does not change the mean, but it shrinks
the variance from ``E[Y^2] (1/pi + 1/(1-pi))`` to about ``var(Y) (1/pi + 1/(1-pi))``,
which for a latency around 120 ms is a factor of about 4.5. The CS is the AsympCS above on
the ``psi_i`` with a plug-in variance (next paragraph); :class:`SequentialDiffStats` keeps
the mergeable sums. With a time-varying ``pi_i`` the ``psi_i`` are independent but not identically
distributed; the paper's Lyapunov-type AsympCS covers that case, and it is the same formula
with the variance replaced by the average of the per-unit variances, which the pooled sample
variance of the ``psi_i`` estimates.

Variance floor for small arms and rare events (abkit's addition, not in the paper). The
sample variance of the ``psi_i`` collapses when the small arm has not yet shown its tail: at
a 10 % canary share and a 1 % error rate the first looks often hold no treated error at all,
the estimate is pulled to ``-(control rate)`` and the variance comes from the control arm
alone. Simulated A/A canaries (100 looks of 1,000 units, ``alpha = 0.05``) then exclude 0
in 10-16 % of runs (two-sided; 75-82 % at a 1 % share), and a non-inferiority gate with a
+0.5 point margin declares a 1.0 % -> 1.5 % canary non-inferior in ~10 % of runs (the
excess is all on the low side, so a one-sided "regressed" gate for an increase is not
affected). :class:`SequentialDiffStats` therefore also keeps the *design* second moment
``sum (y_i - c_i)^2 / (pi_i (1 - pi_i))``, the expectation of ``psi_i^2`` over the random
assignment of unit ``i`` given its outcome, which is the second
moment of ``psi`` when both arms have the same outcome distribution and does not depend on
which arm the rare events fell in. By default (``variance="robust"``) the sequence uses the
larger of the two variances. At a 50/50 split the two are identical; otherwise the robust
variance is never smaller, so the asymptotic guarantee is kept, and it is larger only when
the arm with the smaller share has the smaller second moment (so the power to detect a
treatment that *increases* a metric's spread at a small canary share is unchanged).
With it, the same simulations give 0.5-1.2 % and 4 % (``tests/test_sequential.py``,
``bench/SEQUENTIAL.md``). ``variance="sample"`` gives the paper's plain plug-in.

mSPRT (Johari, Koomen, Pekelis & Walsh, "Always valid inference: continuous monitoring of
A/B tests", Operations Research 70(3), 2022). For a stream whose per-observation variance is
``V`` (for ``n`` pairs of a balanced two-sample test ``V = 2 sigma^2``; for the pseudo-outcome
above ``V = var(psi)``) and a normal mixing distribution ``theta ~ N(null, tau^2)`` over the
effect::

    Lambda_n = sqrt(V / (V + n tau^2)) * exp( n^2 tau^2 (m_n - null)^2 / (2 V (V + n tau^2)) )

rejecting when ``Lambda_n >= 1 / alpha``, with always-valid p-value
``p_n = min(p_{n-1}, 1 / Lambda_n)``, ``p_0 = 1``. The one-sided version mixes over a
half-normal (``theta >= null`` for "greater"): ``Lambda_n^+ = 2 Phi(b) Lambda_n`` with
``b = n tau (m_n - null) / sqrt(V (V + n tau^2))``. ``V`` is plugged in (estimated at each
look). With ``tau^2 = rho^2 V`` the two-sided mSPRT rejects exactly when the two-sided
AsympCS excludes ``null``: it is the same normal mixture, parameterised by an effect scale
``tau`` instead of a sample size. Johari et al. choose ``tau^2`` to match the spread of the
effects one expects; :func:`tau_for_effect` uses ``tau = |effect of interest|``, which puts
the tightest point of the boundary at ``n = k V / effect^2`` with ``k = 8.2`` (two-sided) or
``7.0`` (one-sided) at ``alpha = 0.05``, next to the fixed-horizon 80 %-power sample sizes
``7.85 V / effect^2`` and ``6.18 V / effect^2``.

"Asymptotic" means: the coverage guarantee holds in the limit of many observations (the
boundary is compared with that of an exact Gaussian CS whose ratio tends to 1). With rare
events (an error rate of 1 % at a 10 % canary share) the first looks carry few events; the
simulations in ``tests/test_sequential.py`` and ``bench/SEQUENTIAL.md`` measure the
false-rejection rate at such sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ._checks import check_alpha as _check_alpha
from ._checks import check_alternative as _check_alternative
from .results import ConfidenceInterval, Diagnostic, HasDiagnostics

__all__ = [
    "AsymptoticCS",
    "GuardrailCheck",
    "MSPRTResult",
    "SequentialDiffStats",
    "absolute_margin",
    "asymptotic_cs",
    "cs_radius",
    "msprt",
    "msprt_log_lr",
    "rho_for",
    "tau_for_effect",
]

Harmful = Literal["increase", "decrease"]
_OVERFLOW = ("the values are out of double-precision range (sums or squares overflow); "
             "rescale the metric (e.g. to thousands)")


# --------------------------------------------------------------------------- validation


def _check_positive(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0.0) or not math.isfinite(v * v) or v * v == 0.0:
        raise ValueError(f"{name} must be a positive finite number (with a finite, non-zero "
                         f"square), got {value}")
    return v


def _check_count(name: str, value: int) -> int:
    try:
        ok = not isinstance(value, bool) and int(value) == value and value >= 0
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _check_harmful(harmful: str) -> str:
    if harmful not in ("increase", "decrease"):
        raise ValueError(f"harmful must be 'increase' or 'decrease', got {harmful!r}")
    return harmful


def _scalar_or_array(x: np.ndarray) -> float | np.ndarray:
    return float(x) if np.ndim(x) == 0 else x


# --------------------------------------------------------------------------- the boundary


def _log_term(n: np.ndarray, rho2: float, alpha: float, alternative: str) -> np.ndarray:
    """``log(sqrt(n rho^2 + 1) / alpha)`` (two-sided) or ``log(1 + sqrt(...) / (2 alpha))``."""
    half_log = 0.5 * np.log1p(n * rho2)
    if alternative == "two-sided":
        return half_log - math.log(alpha)
    return np.logaddexp(0.0, half_log - math.log(2.0 * alpha))


def cs_radius(
    n: int | np.ndarray,
    var: float | np.ndarray,
    alpha: float,
    rho: float,
    alternative: str = "two-sided",
) -> float | np.ndarray:
    """Half-width of the asymptotic confidence sequence at sample size ``n`` (vectorised).

    ``sqrt(var) * sqrt(2 (n rho^2 + 1) / (n^2 rho^2) * L)`` with
    ``L = log(sqrt(n rho^2 + 1) / alpha)`` for ``"two-sided"`` and
    ``L = log(1 + sqrt(n rho^2 + 1) / (2 alpha))`` for ``"less"`` / ``"greater"`` (the
    distance from the estimate to the one finite bound). See the module docstring.

    Parameters
    ----------
    n : int or array of int
        Number of observations, ``>= 1``.
    var : float or array
        Per-observation variance, ``>= 0`` (broadcast against ``n``).
    alpha : float
        Level in (0, 1): the probability of *ever* excluding the true mean.
    rho : float
        Mixture scale, ``> 0`` (see :func:`rho_for`).
    alternative : {"two-sided", "less", "greater"}

    Returns
    -------
    float or ndarray
        A float when both ``n`` and ``var`` are scalars.
    """
    alpha = _check_alpha(alpha)
    rho = _check_positive("rho", rho)
    _check_alternative(alternative)
    n_arr = np.asarray(n, dtype=float)
    v_arr = np.asarray(var, dtype=float)
    if np.any(~np.isfinite(n_arr)) or np.any(n_arr < 1):
        raise ValueError("n must be >= 1 (and finite) for a radius")
    if np.any(~np.isfinite(v_arr)) or np.any(v_arr < 0):
        raise ValueError("var must be finite and >= 0")
    rho2 = rho * rho
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        width2 = 2.0 * (1.0 + 1.0 / (n_arr * rho2)) / n_arr * _log_term(n_arr, rho2, alpha,
                                                                         alternative)
        out = np.sqrt(v_arr * width2)
    return _scalar_or_array(out)


def _minimise_one_sided(a: float) -> float:
    """``x = n rho^2 + 1 > 1`` minimising ``x / (x - 1) * log(1 + sqrt(x) / (2 a))``."""

    def h(u: float) -> float:  # u = log(x - 1)
        x = 1.0 + math.exp(u)
        return (x / (x - 1.0)) * float(np.logaddexp(0.0, 0.5 * math.log(x) - math.log(2 * a)))

    lo, hi = -15.0, 15.0  # x - 1 in [3e-7, 3.3e6]: the optimum is ~ -2 log(alpha) + ...
    g = (math.sqrt(5.0) - 1.0) / 2.0
    c, d = hi - g * (hi - lo), lo + g * (hi - lo)
    hc, hd = h(c), h(d)
    for _ in range(120):
        if hc <= hd:
            hi, d, hd = d, c, hc
            c = hi - g * (hi - lo)
            hc = h(c)
        else:
            lo, c, hc = c, d, hd
            d = lo + g * (hi - lo)
            hd = h(d)
    return 1.0 + math.exp((lo + hi) / 2.0)


def rho_for(n_opt: float, alpha: float, alternative: str = "two-sided") -> float:
    """The mixture scale ``rho`` that makes the sequence tightest at sample size ``n_opt``.

    Two-sided: with ``x = n rho^2 + 1`` the squared radius at ``n`` is proportional to
    ``x / (x - 1) * log(x / alpha^2)``; setting its derivative to 0 gives
    ``x - 1 = log(x / alpha^2)``, whose root above 1 is ``x = -W_{-1}(-alpha^2 / e)``
    (``W_{-1}`` the lower branch of Lambert's W), so::

        rho = sqrt( (-W_{-1}(-alpha^2 / e) - 1) / n_opt )

    Its asymptotic expansion is the approximation given by Waudby-Smith et al. (2024),
    ``rho ~ sqrt((-2 log(alpha) + log(-2 log(alpha) + 1)) / n_opt)`` (1.7 % smaller at
    ``alpha = 0.05``, within 5 % for ``alpha <= 0.1``). Choose ``n_opt`` before monitoring
    starts and keep ``rho`` fixed; re-tuning it from the data voids the guarantee. One-sided: the same objective with ``log(1 + sqrt(x) / (2 alpha))``,
    minimised numerically (golden-section search).

    Parameters
    ----------
    n_opt : float
        Sample size (number of observations of the running mean, e.g. units in both arms of
        an A/B test) at which the confidence sequence should be narrowest, ``> 0``.
    alpha : float
        Level in (0, 1).
    alternative : {"two-sided", "less", "greater"}
    """
    n_opt = _check_positive("n_opt", n_opt)
    alpha = _check_alpha(alpha)
    _check_alternative(alternative)
    if alternative == "two-sided":
        from scipy.special import lambertw

        x = float(-lambertw(-alpha * alpha / math.e, k=-1).real)
    else:
        x = _minimise_one_sided(alpha)
    return math.sqrt((x - 1.0) / n_opt)


# --------------------------------------------------------------------------- the CS result


@dataclass(frozen=True)
class AsymptoticCS(HasDiagnostics):
    """One look at an asymptotic confidence sequence for a mean (or an A/B difference).

    Attributes
    ----------
    estimate : float or None
        The running mean; ``None`` when there are no observations (see ``diagnostics``).
    ci : ConfidenceInterval or None
        ``[lower, upper]`` for a two-sided sequence. ``None`` for a one-sided sequence (one
        side is unbounded, and abkit never reports infinities: use ``lower`` / ``upper``) or
        when no interval can be computed (the reason is in ``diagnostics``).
    lower, upper : float or None
        The finite bounds: both for ``"two-sided"``, ``lower`` only for ``"greater"``,
        ``upper`` only for ``"less"``. ``None`` marks an unbounded side or a missing interval.
    radius : float or None
        Distance from ``estimate`` to each finite bound.
    pvalue : float or None
        The anytime-valid p-value of ``null`` at this look: the smallest ``alpha`` at which
        this sequence (same ``rho``) would exclude ``null``. Take the running minimum over
        looks for a p-value that is valid at a stopping time.
    n, alpha, rho, alternative
        The inputs. ``confidence_level`` is ``1 - alpha``.
    std : float or None
        Square root of the variance used.
    null : float
        The value ``pvalue`` refers to.
    """

    estimate: float | None
    ci: ConfidenceInterval | None
    lower: float | None
    upper: float | None
    radius: float | None
    pvalue: float | None
    n: int
    alpha: float
    rho: float
    alternative: str
    std: float | None = None
    null: float = 0.0
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    @property
    def confidence_level(self) -> float:
        return 1.0 - self.alpha

    def rejects(self, null: float = 0.0) -> bool:
        """True when the sequence excludes ``null`` at this look.

        ``"greater"`` rejects when ``lower > null``, ``"less"`` when ``upper < null``,
        ``"two-sided"`` when either holds. False when there is no interval.
        """
        if self.lower is not None and self.lower > null:
            return True
        return self.upper is not None and self.upper < null

    def to_dict(self) -> dict:
        return {
            "estimate": self.estimate,
            "ci": None if self.ci is None else self.ci.to_dict(),
            "lower": self.lower,
            "upper": self.upper,
            "radius": self.radius,
            "pvalue": self.pvalue,
            "n": self.n,
            "alpha": self.alpha,
            "confidence_level": self.confidence_level,
            "rho": self.rho,
            "alternative": self.alternative,
            "std": self.std,
            "null": self.null,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def _cs_pvalue(n: int, diff: float, var: float, rho2: float, alternative: str) -> float:
    """Smallest alpha at which the CS excludes the null, ``diff = estimate - null``."""
    if alternative == "greater" and diff <= 0 or alternative == "less" and diff >= 0:
        return 1.0
    if var == 0.0:
        return 0.0 if diff != 0.0 else 1.0
    half_log = 0.5 * math.log1p(n * rho2)
    # z2 / 2 = n^2 rho^2 diff^2 / (2 var (n rho^2 + 1)), computed without forming n^2
    q = (n * diff) * (n * diff) / var * rho2 / (1.0 + n * rho2) / 2.0
    if not math.isfinite(q):
        return 0.0
    if alternative == "two-sided":
        log_p = half_log - q  # log(1 / Lambda)
    else:  # alpha = sqrt(x) / (2 (exp(q) - 1))
        if q == 0.0:
            return 1.0
        log_expm1 = q + math.log1p(-math.exp(-q)) if q > 30 else math.log(math.expm1(q))
        log_p = half_log - math.log(2.0) - log_expm1
    return math.exp(min(log_p, 0.0))


def asymptotic_cs(
    n: int,
    mean: float,
    var: float,
    alpha: float,
    rho: float,
    alternative: str = "two-sided",
    *,
    null: float = 0.0,
) -> AsymptoticCS:
    """The asymptotic confidence sequence of Waudby-Smith et al. (2024) at one look.

    Parameters
    ----------
    n : int
        Number of observations behind ``mean``.
    mean : float
        Running mean of the observations (for an A/B test: of the pseudo-outcomes, see
        :class:`SequentialDiffStats`).
    var : float
        Per-observation variance: the sample variance of the observations so far (the
        paper's plug-in) or a known value. ``>= 0``.
    alpha : float
        Probability, over the whole monitoring period, that the sequence ever excludes the
        true mean (asymptotically).
    rho : float
        Mixture scale, ``> 0``; :func:`rho_for` gives the ``rho`` tightest at a chosen ``n``.
        It must be fixed before looking at the data, not re-tuned between looks.
    alternative : {"two-sided", "less", "greater"}
        ``"greater"`` gives a lower bound (``[lower, +inf)``), ``"less"`` an upper bound.
    null : float
        Value the reported ``pvalue`` refers to.

    Returns
    -------
    AsymptoticCS
        With diagnostics ``EMPTY`` (``n == 0``), ``NUMERIC_OVERFLOW`` (non-finite ``mean``
        or ``var``) and ``ZERO_VARIANCE`` (``var == 0``: the sequence is the point
        ``mean``, and the p-value is 0 or 1).
    """
    n = _check_count("n", n)
    alpha = _check_alpha(alpha)
    rho = _check_positive("rho", rho)
    _check_alternative(alternative)
    mean, var, null = float(mean), float(var), float(null)
    if not math.isfinite(null):
        raise ValueError(f"null must be finite, got {null}")
    if var < 0:
        raise ValueError(f"var must be >= 0, got {var}")

    def empty(code: str, message: str, estimate: float | None = None) -> AsymptoticCS:
        return AsymptoticCS(estimate, None, None, None, None, None, n, alpha, rho, alternative,
                            None, null, (Diagnostic(code, message),))

    if n == 0:
        return empty("EMPTY", "no observations yet; no estimate or interval")
    if not (math.isfinite(mean) and math.isfinite(var)):
        return empty("NUMERIC_OVERFLOW", _OVERFLOW, mean if math.isfinite(mean) else None)
    diags: list[Diagnostic] = []
    radius = float(cs_radius(n, var, alpha, rho, alternative))
    lower = mean - radius if alternative in ("two-sided", "greater") else None
    upper = mean + radius if alternative in ("two-sided", "less") else None
    if (lower is not None and not math.isfinite(lower)) or (
        upper is not None and not math.isfinite(upper)
    ):
        return empty("NUMERIC_OVERFLOW", _OVERFLOW, mean)
    if var == 0.0:
        diags.append(Diagnostic(
            "ZERO_VARIANCE",
            "the observations have zero variance; the sequence is the single point of the "
            "mean and the p-value is 0 or 1 (the asymptotic guarantee says nothing here)",
        ))
    pvalue = _cs_pvalue(n, mean - null, var, rho * rho, alternative)
    ci = ConfidenceInterval(lower, upper) if lower is not None and upper is not None else None
    return AsymptoticCS(mean, ci, lower, upper, radius, pvalue, n, alpha, rho, alternative,
                        math.sqrt(var), null, tuple(diags))


# --------------------------------------------------------------------------- mSPRT


def tau_for_effect(effect: float) -> float:
    """Mixing standard deviation ``tau`` for an mSPRT aimed at effects of size ``effect``.

    Returns ``|effect|``: the normal mixture ``N(0, tau^2)`` then puts its spread at the
    effect one wants to catch (Johari et al. (2022) match ``tau^2`` to the distribution of
    true effects). Equivalently ``rho^2 = tau^2 / V`` in :func:`cs_radius`, which is
    tightest at ``n = k V / effect^2`` with ``k = 8.2`` two-sided, ``7.0`` one-sided
    (``alpha = 0.05``): near the fixed-horizon sample size with 80 % power for ``effect``
    (``k = 7.85`` and ``6.18``).
    """
    return _check_positive("effect (its absolute value)", abs(float(effect)))


def msprt_log_lr(
    n: int | np.ndarray,
    mean: float | np.ndarray,
    var: float | np.ndarray,
    tau: float,
    alternative: str = "two-sided",
    null: float = 0.0,
) -> float | np.ndarray:
    """Log of the normal-mixture likelihood ratio ``Lambda_n`` of the mSPRT (vectorised).

    ``log Lambda_n = 0.5 log(V / (V + n tau^2)) + n^2 tau^2 (m - null)^2 / (2 V (V + n tau^2))``
    (two-sided, Johari et al. 2022), plus ``log(2 Phi(b))`` with
    ``b = +/- n tau (m - null) / sqrt(V (V + n tau^2))`` for the half-normal one-sided
    mixtures (``+`` for "greater", ``-`` for "less").

    Parameters
    ----------
    n : int or array
        Observations, ``>= 1``.
    mean : float or array
        Running mean (of the pseudo-outcomes for an A/B difference).
    var : float or array
        Per-observation variance ``V``, ``> 0``.
    tau : float
        Mixing standard deviation, ``> 0`` (:func:`tau_for_effect`).
    """
    tau = _check_positive("tau", tau)
    _check_alternative(alternative)
    n_arr = np.asarray(n, dtype=float)
    v = np.asarray(var, dtype=float)
    d = np.asarray(mean, dtype=float) - float(null)
    if np.any(~np.isfinite(n_arr)) or np.any(n_arr < 1):
        raise ValueError("n must be >= 1 (and finite)")
    if np.any(~np.isfinite(v)) or np.any(v <= 0):
        raise ValueError("var must be finite and > 0 (see msprt() for zero variance)")
    t2 = tau * tau
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        s = v + n_arr * t2
        nd = n_arr * d
        out = 0.5 * (np.log(v) - np.log(s)) + 0.5 * (nd * nd) * (t2 / (v * s))
        if alternative != "two-sided":
            from scipy.special import log_ndtr

            b = nd * tau / np.sqrt(v * s)
            out = out + math.log(2.0) + log_ndtr(b if alternative == "greater" else -b)
    return _scalar_or_array(out)


@dataclass(frozen=True)
class MSPRTResult(HasDiagnostics):
    """One look of a mixture sequential probability ratio test.

    Attributes
    ----------
    estimate : float or None
        Running mean.
    log_lr : float or None
        ``log Lambda_n``; ``None`` when it is infinite or undefined (zero variance, overflow).
    pvalue : float or None
        Always-valid p-value ``min(previous_pvalue, 1 / Lambda_n)`` (capped at 1).
    rejects : bool
        ``pvalue <= alpha`` (equivalently, ``Lambda_k >= 1 / alpha`` at this or an earlier
        look when ``previous_pvalue`` carries the history).
    """

    estimate: float | None
    log_lr: float | None
    pvalue: float | None
    rejects: bool
    n: int
    alpha: float
    tau: float
    alternative: str
    null: float = 0.0
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)


def msprt(
    n: int,
    mean: float,
    var: float,
    tau: float,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    *,
    null: float = 0.0,
    previous_pvalue: float = 1.0,
) -> MSPRTResult:
    """Normal-mixture mSPRT of ``mean == null`` at one look (Johari et al. 2022).

    Parameters
    ----------
    n, mean, var : int, float, float
        Observations, running mean and per-observation variance ``V`` (plug-in). For a
        balanced two-sample test on ``n`` pairs, ``mean`` is the difference of the arm means
        and ``V = var_treatment + var_control``; for a pseudo-outcome stream use its own
        variance (:meth:`SequentialDiffStats.msprt`).
    tau : float
        Mixing standard deviation (:func:`tau_for_effect`).
    previous_pvalue : float
        The always-valid p-value of the previous look (1 at the first look); the result's
        ``pvalue`` is the running minimum.
    """
    n = _check_count("n", n)
    alpha = _check_alpha(alpha)
    tau = _check_positive("tau", tau)
    _check_alternative(alternative)
    prev = float(previous_pvalue)
    if not 0.0 <= prev <= 1.0:
        raise ValueError(f"previous_pvalue must be in [0, 1], got {previous_pvalue}")
    mean, var, null = float(mean), float(var), float(null)
    if not math.isfinite(null):
        raise ValueError(f"null must be finite, got {null}")
    if var < 0:
        raise ValueError(f"var must be >= 0, got {var}")

    def result(est, log_lr, p, diags=()) -> MSPRTResult:
        return MSPRTResult(est, log_lr, p, p is not None and p <= alpha, n, alpha, tau,
                           alternative, null, tuple(diags))

    if n == 0:
        return result(None, None, prev, [Diagnostic("EMPTY", "no observations yet")])
    if not (math.isfinite(mean) and math.isfinite(var)):
        return result(None, None, prev, [Diagnostic("NUMERIC_OVERFLOW", _OVERFLOW)])
    if var == 0.0:
        d = mean - null
        toward = d > 0 if alternative == "greater" else d < 0 if alternative == "less" else d != 0
        return result(mean, None, 0.0 if toward else prev, [Diagnostic(
            "ZERO_VARIANCE", "the observations have zero variance; the likelihood ratio is 0 "
                             "or infinite and the p-value is 0 or unchanged")])
    llr = float(msprt_log_lr(n, mean, var, tau, alternative, null))
    if not math.isfinite(llr):
        if llr == math.inf:
            return result(mean, None, 0.0)
        return result(mean, None, prev, [Diagnostic("NUMERIC_OVERFLOW", _OVERFLOW)])
    p = min(prev, math.exp(min(-llr, 0.0)))
    return result(mean, llr, p)


# --------------------------------------------------------------------------- A/B statistics


def absolute_margin(relative: float, baseline: float) -> float:
    """Turn a relative guardrail margin into the absolute one the decisions take.

    ``relative * |baseline|``: for a latency guardrail of +2 % over a 120 ms baseline,
    ``absolute_margin(0.02, 120.0) == 2.4``. The time-uniform guarantee assumes the margin
    is fixed before monitoring starts, so take the baseline from a pre-period (or a design
    value), not from the running control mean.
    """
    r, b = float(relative), float(baseline)
    if not (math.isfinite(r) and r >= 0):
        raise ValueError(f"relative margin must be finite and >= 0, got {relative}")
    if not math.isfinite(b):
        raise ValueError(f"baseline must be finite, got {baseline}")
    return r * abs(b)


@dataclass(frozen=True)
class GuardrailCheck:
    """A guardrail decision from a one-sided confidence sequence on the A/B difference.

    ``harm`` is the treatment-minus-control effect signed so that positive is bad
    (``effect`` when ``harmful == "increase"``, ``-effect`` when ``"decrease"``).

    Attributes
    ----------
    kind : {"regressed", "noninferior"}
        ``regressed``: the lower confidence bound of the harm exceeds ``margin_abs``
        (the treatment is worse by more than the margin: roll back). ``noninferior``: the
        upper confidence bound of the harm is below ``margin_abs`` (the treatment is shown
        to be at most ``margin_abs`` worse: safe to proceed).
    holds : bool
        Whether that conclusion is reached at this look; False when undecided or when no
        interval exists (see ``diagnostics``).
    harm_bound : float or None
        The bound compared with the margin (lower bound of the harm for ``regressed``, upper
        bound for ``noninferior``).
    cs : AsymptoticCS
        The one-sided sequence on the effect (treatment - control) that was used.
    """

    kind: str
    holds: bool
    harm_bound: float | None
    margin_abs: float
    harmful: str
    cs: AsymptoticCS
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class SequentialDiffStats:
    """Mergeable running sums of the inverse-propensity pseudo-outcomes of an A/B test.

    ``psi_i = (y_i - c_i) * (T_i / pi_i - (1 - T_i) / (1 - pi_i))``, whose mean estimates
    treatment minus control for any known assignment probabilities ``pi_i`` (see the module
    docstring). ``SequentialDiffStats()`` is the empty state; :meth:`update` and ``+``
    return new objects, so shards or time windows can be reduced separately and added.

    Attributes
    ----------
    n : int
        Units seen (both arms).
    sum_psi, sum_psi2 : float
        Sum of the pseudo-outcomes and of their squares.
    sum_design2 : float
        ``sum (y_i - c_i)^2 / (pi_i (1 - pi_i))``: the sum of ``E[psi_i^2 | y_i]`` over the
        random assignment (the design second moment behind ``variance="robust"``).
    n_treated : int
        Units assigned to treatment (``n_control = n - n_treated``).
    sum_y_treated, sum_y_control : float
        Sums of the raw outcomes per arm (for descriptive arm means; with a time-varying
        share these are *not* the causal estimate, ``estimate`` is).
    """

    n: int = 0
    sum_psi: float = 0.0
    sum_psi2: float = 0.0
    sum_design2: float = 0.0
    n_treated: int = 0
    sum_y_treated: float = 0.0
    sum_y_control: float = 0.0

    # ---------------------------------------------------------------- building

    def update(
        self,
        y: np.ndarray,
        treated: np.ndarray,
        pi: float | np.ndarray,
        *,
        center: float | np.ndarray = 0.0,
    ) -> SequentialDiffStats:
        """Add a batch of units; O(batch), returns a new object.

        Parameters
        ----------
        y : 1-D array of float
            Outcomes (finite).
        treated : 1-D array of bool (or 0/1)
            Assignment of each unit.
        pi : float or 1-D array
            Probability each unit had of being assigned to treatment, in (0, 1), known at
            assignment (the canary share at that time).
        center : float or 1-D array
            Predictable baseline ``c_i`` subtracted from ``y`` (fixed before the batch is
            seen, e.g. a pre-period mean or the pooled mean of earlier batches). Does not
            change the estimand; reduces the variance.
        """
        y_arr = np.asarray(y, dtype=float)
        if y_arr.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {y_arr.shape}")
        m = y_arr.shape[0]
        t_raw = np.asarray(treated)
        if t_raw.shape != (m,):
            raise ValueError(f"treated must have the shape of y {(m,)}, got {t_raw.shape}")
        if t_raw.dtype != bool:
            if m and not np.isin(t_raw, (0, 1)).all():
                raise ValueError("treated must be boolean or 0/1")
            t_raw = t_raw.astype(bool)
        p = np.asarray(pi, dtype=float)
        if p.ndim != 0 and p.shape != (m,):
            raise ValueError(f"pi must be a scalar or have the shape of y {(m,)}, got {p.shape}")
        if not (np.isfinite(p).all() and (p > 0).all() and (p < 1).all()):
            raise ValueError("pi must be in the open interval (0, 1)")
        c = np.asarray(center, dtype=float)
        if c.ndim != 0 and c.shape != (m,):
            raise ValueError(f"center must be a scalar or have the shape of y {(m,)}")
        if not np.isfinite(c).all():
            raise ValueError("center must be finite")
        if m == 0:
            return self
        if not np.isfinite(y_arr).all():
            raise ValueError("y must be finite (drop or impute missing outcomes first)")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            w = np.where(t_raw, 1.0 / p, -1.0 / (1.0 - p))
            psi = (y_arr - c) * w
            s1 = float(psi.sum())
            s2 = float(np.dot(psi, psi))
            dev = y_arr - c
            s0 = float(np.dot(dev * dev, np.broadcast_to(1.0 / (p * (1.0 - p)), (m,))))
            st = float(y_arr[t_raw].sum())
            sc = float(y_arr[~t_raw].sum())
        return SequentialDiffStats(
            self.n + m, self.sum_psi + s1, self.sum_psi2 + s2, self.sum_design2 + s0,
            self.n_treated + int(t_raw.sum()),
            self.sum_y_treated + st, self.sum_y_control + sc,
        )

    @classmethod
    def from_arm_sums(
        cls,
        pi: float,
        n_treated: int,
        sum_treated: float,
        sumsq_treated: float,
        n_control: int,
        sum_control: float,
        sumsq_control: float,
        *,
        center: float = 0.0,
    ) -> SequentialDiffStats:
        """Statistics of a batch given per-arm count, sum and sum of squares of ``y``.

        For a batch assigned with one constant share ``pi`` (e.g. one time window of a
        canary, as a SQL ``GROUP BY variant`` returns it)::

            sum_psi  = (S_t - n_t c) / pi - (S_c - n_c c) / (1 - pi)
            sum_psi2 = (Q_t - 2 c S_t + n_t c^2) / pi^2 + (Q_c - 2 c S_c + n_c c^2) / (1 - pi)^2
            sum_design2 = (Q_t - 2 c S_t + n_t c^2 + Q_c - 2 c S_c + n_c c^2) / (pi (1 - pi))

        Equal (up to rounding) to :meth:`update` on the units themselves.
        """
        p = float(pi)
        if not (math.isfinite(p) and 0 < p < 1):
            raise ValueError("pi must be in the open interval (0, 1)")
        nt, nc = _check_count("n_treated", n_treated), _check_count("n_control", n_control)
        vals = [float(v) for v in (sum_treated, sumsq_treated, sum_control, sumsq_control, center)]
        if not all(math.isfinite(v) for v in vals):
            raise ValueError("sums and center must be finite")
        st, qt, sc, qc, c = vals
        if qt < 0 or qc < 0:
            raise ValueError("sums of squares must be >= 0")
        with np.errstate(over="ignore", invalid="ignore"):
            ct = max(qt - 2 * c * st + nt * c * c, 0.0)
            cc = max(qc - 2 * c * sc + nc * c * c, 0.0)
            s1 = (st - nt * c) / p - (sc - nc * c) / (1 - p)
            s2 = ct / (p * p) + cc / ((1 - p) * (1 - p))
            s0 = (ct + cc) / (p * (1 - p))
        return cls(nt + nc, s1, s2, s0, nt, st, sc)

    def __add__(self, other: SequentialDiffStats) -> SequentialDiffStats:
        """Merge two disjoint sets of units."""
        if not isinstance(other, SequentialDiffStats):
            return NotImplemented
        with np.errstate(over="ignore", invalid="ignore"):
            return SequentialDiffStats(
                self.n + other.n, self.sum_psi + other.sum_psi, self.sum_psi2 + other.sum_psi2,
                self.sum_design2 + other.sum_design2,
                self.n_treated + other.n_treated, self.sum_y_treated + other.sum_y_treated,
                self.sum_y_control + other.sum_y_control,
            )

    # ---------------------------------------------------------------- summaries

    @property
    def n_control(self) -> int:
        return self.n - self.n_treated

    @property
    def treated_mean(self) -> float | None:
        """Raw mean outcome of the treated units (descriptive)."""
        v = self.sum_y_treated / self.n_treated if self.n_treated else None
        return v if v is not None and math.isfinite(v) else None

    @property
    def control_mean(self) -> float | None:
        """Raw mean outcome of the control units (descriptive)."""
        v = self.sum_y_control / self.n_control if self.n_control else None
        return v if v is not None and math.isfinite(v) else None

    @property
    def estimate(self) -> float | None:
        """Mean pseudo-outcome: the treatment-minus-control effect (None if undefined)."""
        if self.n_treated == 0 or self.n_control == 0:
            return None
        v = self.sum_psi / self.n
        return v if math.isfinite(v) else None

    def _var_from(self, second: float) -> float | None:
        if self.n < 2 or not (math.isfinite(self.sum_psi) and math.isfinite(second)):
            return None
        if second == 0.0:
            return 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            v = (second - self.sum_psi * (self.sum_psi / self.n)) / (self.n - 1)
        if not math.isfinite(v):
            return None
        return max(v, 0.0)

    @property
    def var(self) -> float | None:
        """Sample variance (ddof=1) of the pseudo-outcomes, or None (n < 2, overflow)."""
        return self._var_from(self.sum_psi2)

    @property
    def var_design(self) -> float | None:
        """``(sum_design2 - n * estimate^2) / (n - 1)``: the variance the pseudo-outcomes
        would have if both arms had the pooled second moment (None if n < 2, overflow)."""
        return self._var_from(self.sum_design2)

    def variance(self, kind: str = "robust") -> float | None:
        """Variance used by the sequences: ``"robust"`` = ``max(var, var_design)`` (default),
        ``"sample"`` = ``var`` (the paper's plug-in)."""
        if kind not in ("robust", "sample"):
            raise ValueError(f"variance must be 'robust' or 'sample', got {kind!r}")
        v = self.var
        if kind == "sample" or v is None:
            return v
        d = self.var_design
        return None if d is None else max(v, d)

    def _undefined(self) -> list[Diagnostic]:
        if self.n_treated == 0 or self.n_control == 0:
            which = "treatment" if self.n_treated == 0 else "control"
            if self.n == 0:
                which = "treatment and control"
            return [Diagnostic("EMPTY_ARM", f"the {which} arm has no units yet; no estimate")]
        if self.estimate is None or self.variance("robust") is None:
            return [Diagnostic("NUMERIC_OVERFLOW", _OVERFLOW)]
        return []

    def interval(
        self,
        alpha: float,
        rho: float,
        alternative: str = "two-sided",
        *,
        null: float = 0.0,
        variance: str = "robust",
    ) -> AsymptoticCS:
        """Asymptotic confidence sequence for treatment minus control at this look.

        The AsympCS (:func:`asymptotic_cs`) on the pseudo-outcomes. ``rho`` refers to ``n``
        = all units of both arms: ``rho_for(n_opt_total_units, alpha, alternative)``.
        ``variance="robust"`` (default) uses ``max(var, var_design)``, ``"sample"`` the plain
        sample variance of the pseudo-outcomes (see the module docstring).
        """
        alpha = _check_alpha(alpha)
        rho = _check_positive("rho", rho)
        _check_alternative(alternative)
        v = self.variance(variance)
        bad = self._undefined()
        if bad:
            return AsymptoticCS(None, None, None, None, None, None, self.n, alpha, rho,
                                alternative, None, float(null), tuple(bad))
        assert self.estimate is not None and v is not None
        return asymptotic_cs(self.n, self.estimate, v, alpha, rho, alternative, null=null)

    def msprt(
        self,
        tau: float,
        alpha: float = 0.05,
        alternative: str = "two-sided",
        *,
        null: float = 0.0,
        previous_pvalue: float = 1.0,
        variance: str = "robust",
    ) -> MSPRTResult:
        """mSPRT on the pseudo-outcomes with a plug-in variance (:func:`msprt`); ``variance``
        as in :meth:`interval`."""
        v = self.variance(variance)
        bad = self._undefined()
        if bad:
            _check_alpha(alpha)
            _check_positive("tau", tau)
            _check_alternative(alternative)
            p = float(previous_pvalue)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"previous_pvalue must be in [0, 1], got {previous_pvalue}")
            return MSPRTResult(None, None, p, p <= alpha, self.n, float(alpha), float(tau),
                               alternative, float(null), tuple(bad))
        assert self.estimate is not None and v is not None
        return msprt(self.n, self.estimate, v, tau, alpha, alternative, null=null,
                     previous_pvalue=previous_pvalue)

    def _guardrail(self, kind: str, margin_abs: float, harmful: str, alpha: float,
                   rho: float, variance: str) -> GuardrailCheck:
        harmful = _check_harmful(harmful)
        m = float(margin_abs)
        if not (math.isfinite(m) and m >= 0):
            raise ValueError(f"margin_abs must be finite and >= 0, got {margin_abs}")
        # harm = +effect (increase) or -effect (decrease); which bound of the effect we need:
        want_lower_harm = kind == "regressed"
        effect_lower = want_lower_harm == (harmful == "increase")
        alternative = "greater" if effect_lower else "less"
        null = m if harmful == "increase" else -m
        cs = self.interval(alpha, rho, alternative, null=null, variance=variance)
        b = cs.lower if effect_lower else cs.upper
        bound = None if b is None else (b if harmful == "increase" else -b)
        if bound is None:
            holds = False
        elif want_lower_harm:
            holds = bound > m
        else:
            holds = bound < m
        return GuardrailCheck(kind, holds, bound, m, harmful, cs, cs.diagnostics)

    def regressed(self, margin_abs: float, harmful: str, *, rho: float, alpha: float = 0.05,
                  variance: str = "robust") -> GuardrailCheck:
        """Has the treatment become worse by more than ``margin_abs``? (roll-back signal)

        True when the one-sided (level ``alpha``) lower confidence bound of the harm is
        above ``margin_abs``. Monitored at every look, the probability of ever flagging a
        treatment whose true harm is ``<= margin_abs`` is at most ``alpha`` (asymptotically).
        ``margin_abs = 0`` flags any detectable harm; see :func:`absolute_margin`.
        """
        return self._guardrail("regressed", margin_abs, harmful, alpha, rho, variance)

    def noninferior(self, margin_abs: float, harmful: str, *, rho: float, alpha: float = 0.05,
                    variance: str = "robust") -> GuardrailCheck:
        """Is the treatment shown to be at most ``margin_abs`` worse? (safe-to-proceed)

        True when the one-sided (level ``alpha``) upper confidence bound of the harm is
        below ``margin_abs``. Monitored at every look, the probability of ever declaring a
        treatment non-inferior whose true harm is ``>= margin_abs`` is at most ``alpha``.
        """
        return self._guardrail("noninferior", margin_abs, harmful, alpha, rho, variance)

"""The mixture sequential probability ratio test (mSPRT).

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._checks import check_alpha as _check_alpha
from .._checks import check_alternative as _check_alternative
from ..results import Diagnostic, HasDiagnostics
from ._common import _OVERFLOW, _check_count, _check_positive, _scalar_or_array


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

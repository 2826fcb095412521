"""Exact anytime-valid tests for event counts and sequential sample-ratio mismatch.

A canary gate asks, after every time bucket and for as long as the rollout runs, whether the
candidate produces more errors per request than the baseline, and whether the units are
split between the variants as the rollout schedule intended at that moment. Both questions
are answered here with *mixture martingales* and Ville's inequality: the probability that a
true null is *ever* rejected, at any look, however many looks, is at most ``alpha``, exactly
(not asymptotically) under the model below.

Model (after Lindon & Malek, "Anytime-Valid Inference For Multinomial Count Data", NeurIPS
2022, arXiv:2011.03567, whose time-inhomogeneous Poisson counting processes are the model of
Netflix's canary tests; see also Lindon, Sanden & Shirikian, "Rapid Regression Detection in
Software Deployments through Sequential Testing", KDD 2022). Lindon & Malek condition on the
total count, which turns Poisson processes with a *constant* split into a multinomial test
with a conjugate Dirichlet mixture. Here the split may change at every bucket (a linear
rollout), which breaks that conjugacy, so the mixture over the rate ratio is computed on a
grid instead. In bucket ``j`` the treatment arm has
``x_j`` events over exposure ``e_tj`` and the control ``y_j`` events over exposure ``e_cj``,
``x_j ~ Poisson(lambda_tj e_tj)``, ``y_j ~ Poisson(lambda_cj e_cj)``, independent, with the rate
ratio ``theta = lambda_tj / lambda_cj`` the same in every bucket (the base rate
``lambda_cj`` may change freely from bucket to bucket: time-of-day effects cancel).
Conditionally on the bucket total ``n_j = x_j + y_j``::

    x_j ~ Binomial(n_j, p_j(theta)),   p_j(theta) = s_j theta / (s_j theta + 1 - s_j),
    s_j = e_tj / (e_tj + e_cj).

With ``phi = log theta`` the conditional log-likelihood, up to terms that do not depend on
``theta``, is ``l(phi) = sum_j [ x_j phi - n_j log(s_j e^phi + 1 - s_j) ]``, normalised so
that ``l(0) = 0``. It is concave in ``phi`` (the second derivative is
``-sum_j n_j s_j (1 - s_j) e^phi / (s_j e^phi + 1 - s_j)^2``).

Likelihood-ratio martingales. For two values ``phi`` and ``phi0`` the ratio
``exp(l(phi) - l(phi0))`` is, in bucket time, a martingale with mean 1 under ``phi0``
(the bucket factor has conditional expectation 1 given the past and ``n_j``), and so is any
mixture ``sum_k w_k exp(l(phi_k) - l(phi0))`` with fixed weights ``w_k >= 0``,
``sum w_k <= 1`` (a supermartingale when the weights sum to less than 1). Ville's inequality
(Ville, "Etude critique de la notion de collectif", 1939) gives
``P(sup_t E_t >= 1 / alpha) <= alpha``; ``p_t = min(1, 1 / E_t)`` is an
anytime-valid p-value (the caller may take its running minimum).

One-sided nulls (monotone likelihood ratio). For ``alternative="greater"`` (``H0: theta <=
theta0``) the prior puts mass only on ``phi > phi0``. For one bucket and any ``phi' <= phi0
< phi``, with ``a = p(phi) / p(phi0) > 1`` and ``b = (1 - p(phi)) / (1 - p(phi0)) < 1``, the
expected factor under ``phi'`` is ``(p(phi') a + (1 - p(phi')) b)^n``, increasing in
``p(phi')`` and equal to 1 at ``phi0``; so it is ``<= 1`` for every ``phi' <= phi0`` and
every share ``s_j`` (``p_j`` is increasing in ``theta``). Every component of the mixture,
hence the mixture, is a supermartingale under every ``theta <= theta0``. ``"less"`` is the
mirror image.

Bernoulli outcomes. Errors per request are really Bernoulli: ``x_j ~ Binomial(e_tj, r_t)``.
Given ``n_j`` and ``r_t = r_c``, ``x_j`` is then hypergeometric, which is smaller than the
binomial in the convex order (Hoeffding 1963, "Probability inequalities for sums of bounded
random variables", JASA 58, Theorem 4); the bucket factors are convex in ``x_j``, so the test
of ``theta0 = 1`` (two-sided, or one-sided, where the noncentral hypergeometric under
``r_t < r_c`` is also stochastically smaller) stays a supermartingale. For ``theta0 != 1``
the Bernoulli null is an odds ratio, which equals the rate ratio only for rare events.
The events must be independent given the exposures: bursts of errors (retries, one broken
client) are over-dispersed and make every count-based test, this one included, reject too
often; where bursts are possible count units with at least one error instead of errors.

The mixing distribution (prior). ``u = log(theta / theta0)`` gets a normal prior ``N(0,
tau^2)`` (two-sided), a half-normal on ``u > 0`` (``"greater"``) or on ``u < 0``
(``"less"``); the two-sided mixture is the average of the two half-normal ones. The prior is
*discretised* on the grid below: the mass of every grid cell is split equally between the
cell's two end points (trapezoidal weights, second-order accurate), and mass beyond the last
grid node is dropped. A discrete mixing distribution fixed in advance is as valid as a
continuous one, so the discretisation costs at most a little power, never validity.
Default ``tau = log(1.5)`` (:data:`DEFAULT_TAU`, about 0.405), Johari et al.'s (2022)
rule of matching the mixing scale to the effect one wants to catch (as
:func:`abkit.stats.sequential.tau_for_effect` does): a 1.5x rise of the error rate. In
simulations of a 1 % error rate rising 1.5x at a 5 % and a 10 % canary share (Poisson
errors, 400 runs, seed 1, grid step 0.004; ``tests/test_mixture.py`` re-checks a smaller
version) the mean number of buckets to detection at ``alpha = 0.05`` was, for ``tau`` in
0.15 / 0.25 / 0.405 / 0.7, one-sided: 27.1 / 22.6 / 21.1 / 21.6 (10 % share, 2,000
requests per bucket) and 10.8 / 9.2 / 8.8 / 9.0 (5 %, 10,000 requests); the optimum is
flat between about 0.35 and 0.5 and ``log(1.5)`` is at it (two-sided: 15-20 % later). Any
prior with a ``cdf`` (and optionally ``sf``) over ``u``, such as a frozen ``scipy.stats``
distribution, can be passed instead; choose it before monitoring and keep it.

The grid. ``l`` is kept exactly on the grid ``phi_k = k h`` (``h = grid_step``, default
0.001, i.e. 0.1 % relative resolution of ``theta``) for ``|phi_k| <= log(max_ratio)``
(default 1000). :meth:`RateRatioSequence.update` adds one bucket in O(grid) and ``+`` merges
disjoint buckets (the log-likelihoods add). The test of a null on the grid uses the nodes
``phi0 + k h``; a null between two grid points is tested conservatively through the grid
point on the null's side (``"greater"``: the next point up, whose null ``theta <= theta_up``
contains ``theta <= theta0``; ``"less"``: the next point down; ``"two-sided"``: the average
of the two one-sided mixtures, each of which is a supermartingale under ``theta0``).

Confidence sequence. The set of ``theta0`` that the level-``alpha`` test does not reject, as
an interval ``[lower, upper]`` (its infimum and supremum; for one-sided alternatives one
bound). For ``"greater"`` the e-value is non-increasing in ``phi0`` (for a fixed lag ``u``,
``l(phi0 + u) - l(phi0)`` is non-increasing by concavity), so the bound is found by bisection
over the grid; for the two-sided sequence the mixture of the two sides is scanned from the
one-sided bounds inwards. The reported bounds are grid points (outward by less than one grid
step) and ``[lower, upper]`` contains every ``theta0`` the test does not reject, so
``P(the sequence ever excludes the true theta) <= alpha``.

Sample-ratio mismatch. Units per variant per bucket against the shares the schedule intended
in that bucket: given the bucket total, the counts are multinomial with those shares under
the null. For each variant ``v`` the one-vs-rest split ``(n_v, N - n_v)`` with "exposures"
``(pi_v, 1 - pi_v)`` is a binomial of exactly the form above with ``theta0 = 1``; the
two-sided mixture of each is a martingale with respect to the common bucket filtration, and
their arithmetic mean is again a test martingale (averaging e-values: Vovk & Wang, "E-values:
calibration, combination and applications", Annals of Statistics 49(3), 2021). For two
variants the two one-vs-rest tests are mirror images (``l_2(phi) = l_1(-phi)``) and, with a
symmetric prior, identical: the SRM test is then exactly the two-sided rate-ratio test of
``theta0 = 1``. With constant shares, Lindon & Malek's Dirichlet-multinomial Bayes factor
(:func:`dirichlet_multinomial_log_bayes_factor`) is the conjugate alternative; it is not used
for changing shares because the Dirichlet prior is no longer conjugate there. A variant that
receives units in a bucket where its share is 0 is a mismatch with certainty (the null
probability of the data is 0): p-value 0, code ``UNEXPECTED_UNITS``.

Constant-share reference. With a constant share ``s`` a Beta(a, b) prior on ``p`` gives the
closed-form beta-binomial Bayes factor (:func:`constant_share_log_bayes_factor`), Lindon &
Malek's Dirichlet-multinomial test with two categories; the grid mixture with the prior that
Beta(a, b) induces on ``u`` reproduces it up to the discretisation (tested).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ._checks import check_alpha as _check_alpha
from ._checks import check_alternative as _check_alternative
from .results import ConfidenceInterval, Diagnostic, HasDiagnostics

__all__ = [
    "DEFAULT_GRID_STEP",
    "DEFAULT_MAX_RATIO",
    "DEFAULT_SRM_TAU",
    "DEFAULT_TAU",
    "RateRatioResult",
    "RateRatioSequence",
    "SequentialSRM",
    "SequentialSRMResult",
    "constant_share_log_bayes_factor",
    "dirichlet_multinomial_log_bayes_factor",
    "rate_ratio_pvalues",
    "srm_pvalues",
]

DEFAULT_TAU = math.log(1.5)
"""Default scale of the normal prior on ``log(theta / theta0)`` for event-rate ratios:
the log of the 1.5x rate ratio the canary gate should catch quickly."""

DEFAULT_SRM_TAU = 0.1
"""Default prior scale for the sequential SRM test (on each variant's log odds ratio of
observed to intended share): near-optimal for 5-20 % relative shortfalls or excesses of
units in a variant in the simulations quoted in :class:`SequentialSRM`."""

DEFAULT_GRID_STEP = 0.001
"""Grid step on ``log(theta)``: 0.1 % relative resolution of the confidence bounds."""

DEFAULT_MAX_RATIO = 1000.0
"""The grid covers ``theta`` in ``[1 / max_ratio, max_ratio]``."""

_PRIOR_SDS = 8.0  # the normal prior is truncated at 8 tau (dropped mass ~1e-15)
_BLOCK = 64  # grid points evaluated at once when scanning for a two-sided bound


# --------------------------------------------------------------------------- validation


def _check_positive(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}") from None
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def _counts(name: str, value: Any) -> np.ndarray:
    """Non-negative integer counts (scalars or 1-D) as an int64 array."""
    arr = np.asarray(value)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be non-negative integers, got {value!r}")
    if arr.dtype.kind == "f":
        if not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
            raise ValueError(f"{name} must be non-negative integers, got {value!r}")
        if arr.size and np.abs(arr).max() > 2.0**53:
            raise ValueError(f"{name} is too large to be an exact count")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must be non-negative integers, got {value!r}")
    return arr.astype(np.int64)


def _exposures(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be non-negative finite numbers, got {value!r}") from None
    if not (np.isfinite(arr).all() and (arr >= 0).all()):
        raise ValueError(f"{name} must be non-negative finite numbers, got {value!r}")
    return arr


def _shares(et: np.ndarray, ec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(e_t / (e_t + e_c), e_c / (e_t + e_c))`` computed without overflow; 0 where both are 0."""
    m = np.maximum(et, ec)
    safe = np.where(m > 0, m, 1.0)
    a, b = et / safe, ec / safe
    tot = a + b
    tot = np.where(tot > 0, tot, 1.0)
    return a / tot, b / tot


# --------------------------------------------------------------------------- grid and prior


def _half_steps(step: float, max_ratio: float) -> int:
    return max(math.ceil(math.log(max_ratio) / step - 1e-9), 2)


@lru_cache(maxsize=16)
def _grid(step: float, half: int) -> tuple[np.ndarray, np.ndarray]:
    """``phi_k = k step`` for ``k = -half..half`` and ``exp(phi_k)`` (read-only)."""
    phi = np.arange(-half, half + 1, dtype=float) * step
    ephi = np.exp(phi)
    phi.flags.writeable = False
    ephi.flags.writeable = False
    return phi, ephi


def _bucket_loglik(phi: np.ndarray, ephi: np.ndarray, x: np.ndarray, n: np.ndarray,
                   a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x phi - n log(a e^phi + b)`` with broadcasting (``a + b = 1``, both > 0)."""
    return x * phi - n * np.log(a * ephi + b)


@dataclass(frozen=True)
class _Weights:
    """Log weights of the mixture nodes ``u = k h`` (k = 0..K) on each side of the null.

    ``up[k]`` / ``dn[k]`` are conditional on the side (sum <= 1); ``p_up`` / ``p_dn`` are the
    prior probabilities of ``u > 0`` / ``u < 0`` (the two-sided mixture is
    ``p_up E_up + p_dn E_dn``).
    """

    up: np.ndarray
    dn: np.ndarray
    p_up: float
    p_dn: float


def _node_weights(cell_mass: np.ndarray) -> np.ndarray:
    """Trapezoidal node weights from cell masses: node k gets half of cells k and k + 1."""
    K = cell_mass.shape[0]
    w = np.zeros(K + 1)
    w[:-1] += 0.5 * cell_mass
    w[1:] += 0.5 * cell_mass
    with np.errstate(divide="ignore"):
        return np.log(w)


@lru_cache(maxsize=64)
def _normal_weights(tau: float, step: float, max_nodes: int) -> _Weights:
    from scipy.special import ndtr

    K = max(1, min(max_nodes, math.ceil(_PRIOR_SDS * tau / step)))
    edges = np.arange(K + 1, dtype=float) * (step / tau)
    sf = ndtr(-edges)  # P(u / tau > edge), accurate in the upper tail
    cells = (sf[:-1] - sf[1:]) / 0.5  # half-normal: conditional on u > 0
    lw = _node_weights(cells)
    lw.flags.writeable = False
    return _Weights(lw, lw, 0.5, 0.5)


def _custom_weights(prior: Any, step: float, max_nodes: int) -> _Weights:
    if not hasattr(prior, "cdf"):
        raise ValueError("prior must have a cdf method (e.g. a frozen scipy.stats distribution)")
    edges = np.arange(max_nodes + 1, dtype=float) * step
    cdf = lambda v: np.asarray(prior.cdf(v), dtype=float)
    sf = (lambda v: np.asarray(prior.sf(v), dtype=float)) if hasattr(prior, "sf") else (
        lambda v: 1.0 - cdf(v))
    up_tail = sf(edges)
    dn_tail = cdf(-edges)
    if not (np.isfinite(up_tail).all() and np.isfinite(dn_tail).all()):
        raise ValueError("prior.cdf returned non-finite values")
    p_up, p_dn = float(up_tail[0]), float(dn_tail[0])
    if p_up < 0 or p_dn < 0 or p_up + p_dn > 1.0 + 1e-9:
        raise ValueError("prior.cdf is not a distribution function")
    up_cells = np.clip(up_tail[:-1] - up_tail[1:], 0.0, None)
    dn_cells = np.clip(dn_tail[:-1] - dn_tail[1:], 0.0, None)
    if (p_up > 0 and not up_cells.sum() > 0) or (p_dn > 0 and not dn_cells.sum() > 0):
        raise ValueError("the prior puts its mass beyond the grid; widen max_ratio")
    up = _node_weights(up_cells / p_up) if p_up > 0 else np.full(max_nodes + 1, -np.inf)
    dn = _node_weights(dn_cells / p_dn) if p_dn > 0 else np.full(max_nodes + 1, -np.inf)
    return _Weights(up, dn, p_up, p_dn)


def _weights(tau: float | None, prior: Any, step: float, max_nodes: int) -> _Weights:
    if prior is not None:
        return _custom_weights(prior, step, max_nodes)
    t = _check_positive("tau", DEFAULT_TAU if tau is None else tau)
    return _normal_weights(t, step, max_nodes)


def _side_weights(w: _Weights, alternative: str) -> tuple[float, float]:
    """Coefficients of (E_up, E_dn) in the e-value for the alternative."""
    if alternative == "greater":
        if w.p_up <= 0:
            raise ValueError("the prior has no mass on theta > theta0 (alternative='greater')")
        return 1.0, 0.0
    if alternative == "less":
        if w.p_dn <= 0:
            raise ValueError("the prior has no mass on theta < theta0 (alternative='less')")
        return 0.0, 1.0
    return w.p_up, w.p_dn


def _lse(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(sum(exp(a))) along ``axis``; ``-inf`` entries allowed, no warnings."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore", under="ignore", over="ignore", invalid="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis=axis)
    return out


def _log_lincomb(c_up: float, le_up: np.ndarray, c_dn: float, le_dn: np.ndarray) -> np.ndarray:
    """``log(c_up e^le_up + c_dn e^le_dn)`` (coefficients may be 0)."""
    parts = []
    if c_up > 0:
        parts.append(le_up + math.log(c_up))
    if c_dn > 0:
        parts.append(le_dn + math.log(c_dn))
    if len(parts) == 1:
        return parts[0]
    return np.logaddexp(parts[0], parts[1])


class _Evaluator:
    """Mixture e-values of one log-likelihood grid at arbitrary null grid indices."""

    def __init__(self, ell: np.ndarray, w: _Weights):
        from numpy.lib.stride_tricks import sliding_window_view

        self.ell = ell
        self.G = ell.shape[0]
        self.K = w.up.shape[0] - 1
        K = self.K
        pad = np.full(K, -np.inf)
        self.pad = np.concatenate([pad, ell, pad])
        self.win = sliding_window_view(self.pad, K + 1)  # win[i] = pad[i : i + K + 1]
        self.lw_up = w.up
        self.lw_dn = w.dn[::-1]

    def log_up(self, m: np.ndarray) -> np.ndarray:
        """log E_up at null grid indices ``m`` (``m == G`` -> -inf: above the grid)."""
        m = np.atleast_1d(np.asarray(m, dtype=np.int64))
        out = np.full(m.shape, -np.inf)
        ok = (m >= 0) & (m < self.G)
        if ok.any():
            mm = m[ok]
            vals = self.lw_up + self.win[self.K + mm] - self.ell[mm][:, None]
            out[ok] = _lse(vals)
        return out

    def log_dn(self, m: np.ndarray) -> np.ndarray:
        """log E_dn at null grid indices ``m`` (``m == -1`` -> -inf: below the grid)."""
        m = np.atleast_1d(np.asarray(m, dtype=np.int64))
        out = np.full(m.shape, -np.inf)
        ok = (m >= 0) & (m < self.G)
        if ok.any():
            mm = m[ok]
            vals = self.lw_dn + self.win[mm] - self.ell[mm][:, None]
            out[ok] = _lse(vals)
        return out


def _null_indices(phi0: float, step: float, half: int) -> tuple[int, int]:
    """Grid indices (0-based) of the nearest grid points at or above / at or below phi0.

    Returns ``(m_up, m_dn)``; ``m_up == G`` when phi0 is above the grid, ``m_dn == -1`` when
    below. On the grid, ``m_up == m_dn``.
    """
    r = phi0 / step
    k = round(r)
    if abs(r - k) <= 1e-9 * max(1.0, abs(r)):
        up = dn = int(k)
    else:
        up, dn = math.ceil(r), math.floor(r)
    G = 2 * half + 1
    m_up = min(max(up + half, 0), G)
    m_dn = max(min(dn + half, G - 1), -1)
    return m_up, m_dn


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class RateRatioResult(HasDiagnostics):
    """One look of the anytime-valid rate-ratio test and confidence sequence.

    Attributes
    ----------
    estimate : float or None
        ``(events_treatment / exposure_treatment) / (events_control / exposure_control)`` over
        all buckets so far; ``None`` when undefined (no control events, no exposure).
    mle : float or None
        Maximiser of the conditional likelihood on the grid (the estimate the test and the
        sequence are built on; it differs from ``estimate`` when shares and base rates both
        change over time). ``None`` when it lies at the grid end (an arm has no events).
    null : float
        ``theta0``.
    log_evalue : float
        Log of the mixture e-value against the null at this look.
    pvalue : float
        Anytime-valid p-value ``min(1, 1 / e)`` at this look (take the running minimum over
        looks for a monotone p-value).
    rejects : bool
        ``pvalue <= alpha``.
    lower, upper : float or None
        Confidence-sequence bounds for ``theta`` at level ``1 - alpha``: the set of
        ``theta0`` the test does not reject. ``None`` for the side a one-sided alternative
        leaves open, or when the set reaches the grid end (diagnostics ``LOWER_UNBOUNDED`` /
        ``UPPER_UNBOUNDED``).
    ci : ConfidenceInterval or None
        ``(lower, upper)`` when both are finite.
    tau : float or None
        Normal prior scale (``None`` when a custom prior was passed).
    """

    estimate: float | None
    mle: float | None
    null: float
    alternative: str
    log_evalue: float
    pvalue: float
    rejects: bool
    lower: float | None
    upper: float | None
    ci: ConfidenceInterval | None
    alpha: float
    tau: float | None
    events_treatment: int
    exposure_treatment: float
    events_control: int
    exposure_control: float
    buckets: int
    grid_step: float
    method: str = "conditional-binomial mixture e-process (Lindon & Malek 2022)"
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    @property
    def confidence_level(self) -> float:
        return 1.0 - self.alpha

    def to_dict(self) -> dict:
        return {
            "estimate": self.estimate,
            "mle": self.mle,
            "null": self.null,
            "alternative": self.alternative,
            "log_evalue": self.log_evalue,
            "pvalue": self.pvalue,
            "rejects": self.rejects,
            "lower": self.lower,
            "upper": self.upper,
            "ci": None if self.ci is None else self.ci.to_dict(),
            "alpha": self.alpha,
            "confidence_level": self.confidence_level,
            "tau": self.tau,
            "events_treatment": self.events_treatment,
            "exposure_treatment": self.exposure_treatment,
            "events_control": self.events_control,
            "exposure_control": self.exposure_control,
            "buckets": self.buckets,
            "grid_step": self.grid_step,
            "method": self.method,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


# --------------------------------------------------------------------------- the state


@dataclass(frozen=True, eq=False)
class RateRatioSequence:
    """Mergeable state of the anytime-valid test of the event-rate ratio treatment / control.

    ``RateRatioSequence()`` is the empty state; :meth:`update` (one or several buckets) and
    ``+`` (disjoint sets of buckets, e.g. shards or earlier windows) return new objects, so
    a monitoring service keeps one state and pays O(grid) per bucket, never a rescan. See
    the module docstring for the model, the prior and the guarantees.

    Parameters
    ----------
    grid_step : float
        Step of the ``log(theta)`` grid (default 0.001: 0.1 % relative resolution of the
        bounds). Any step gives an exactly valid test; a coarser one is faster.
    max_ratio : float
        The grid covers ``[1 / max_ratio, max_ratio]`` (default 1000). Confidence bounds
        beyond it are reported as unbounded.

    Attributes
    ----------
    events_treatment, exposure_treatment, events_control, exposure_control : totals
        Over all buckets, including events in buckets where their arm had no exposure.
    buckets : int
        Buckets added.
    unexposed_events_treatment, unexposed_events_control : int
        Events in buckets where their arm had zero exposure: impossible under the model,
        excluded from the likelihood and reported (``EVENTS_WITHOUT_EXPOSURE``).
    loglik : ndarray or None
        ``l(phi_k)`` on the grid (``None`` until a bucket carried information).
    """

    grid_step: float = DEFAULT_GRID_STEP
    max_ratio: float = DEFAULT_MAX_RATIO
    events_treatment: int = 0
    exposure_treatment: float = 0.0
    events_control: int = 0
    exposure_control: float = 0.0
    buckets: int = 0
    unexposed_events_treatment: int = 0
    unexposed_events_control: int = 0
    loglik: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        step = _check_positive("grid_step", self.grid_step)
        if step > 0.1:
            raise ValueError(f"grid_step must be at most 0.1, got {self.grid_step}")
        mr = _check_positive("max_ratio", self.max_ratio)
        if mr <= math.exp(2 * step):
            raise ValueError(f"max_ratio must exceed exp(2 grid_step), got {self.max_ratio}")
        if _half_steps(step, mr) > 5_000_000:
            raise ValueError("the grid would have more than 10 million points; use a larger "
                             "grid_step or a smaller max_ratio")
        if self.loglik is not None and self.loglik.shape != (self.grid_size,):
            raise ValueError("loglik does not match the grid")

    # ---------------------------------------------------------------- grid

    @property
    def _half(self) -> int:
        return _half_steps(self.grid_step, self.max_ratio)

    @property
    def grid_size(self) -> int:
        return 2 * self._half + 1

    @property
    def log_theta_grid(self) -> np.ndarray:
        """The grid ``phi_k = k * grid_step`` (read-only)."""
        return _grid(float(self.grid_step), self._half)[0]

    def _ell(self) -> np.ndarray:
        return self.loglik if self.loglik is not None else np.zeros(self.grid_size)

    # ---------------------------------------------------------------- building

    def update(
        self,
        events_treatment: int | Sequence[int] | np.ndarray,
        exposure_treatment: float | Sequence[float] | np.ndarray,
        events_control: int | Sequence[int] | np.ndarray,
        exposure_control: float | Sequence[float] | np.ndarray,
    ) -> RateRatioSequence:
        """Add one bucket (scalars) or several (1-D arrays of equal length); O(grid) each.

        ``exposure_*`` are the arm's exposures in the bucket (requests, unit-time, or, for
        a share split, the intended shares themselves: only their ratio matters). A bucket
        with one exposure 0 (a share of 0 or 1) carries no information about ``theta``;
        events in an arm with zero exposure are counted in ``unexposed_events_*``.
        """
        x = _counts("events_treatment", events_treatment)
        y = _counts("events_control", events_control)
        et = _exposures("exposure_treatment", exposure_treatment)
        ec = _exposures("exposure_control", exposure_control)
        shapes = {a.shape for a in (x, y, et, ec)}
        if len(shapes) != 1 or len(next(iter(shapes))) > 1:
            raise ValueError("events and exposures must be scalars or 1-D arrays of one length")
        x, y, et, ec = (np.atleast_1d(v) for v in (x, y, et, ec))
        if x.size == 0:
            return self
        bad_t = (et == 0) & (x > 0)
        bad_c = (ec == 0) & (y > 0)
        info = (et > 0) & (ec > 0) & (x + y > 0)
        ell = self.loglik
        if info.any():
            phi, ephi = _grid(float(self.grid_step), self._half)
            a, b = _shares(et[info], ec[info])
            n = (x[info] + y[info]).astype(float)
            ell = self._ell().copy()
            for xj, nj, aj, bj in zip(x[info].astype(float), n, a, b):
                ell += _bucket_loglik(phi, ephi, xj, nj, aj, bj)
            ell.flags.writeable = False
        with np.errstate(over="ignore"):
            return RateRatioSequence(
                self.grid_step, self.max_ratio,
                self.events_treatment + int(x.sum()),
                self.exposure_treatment + float(et.sum()),
                self.events_control + int(y.sum()),
                self.exposure_control + float(ec.sum()),
                self.buckets + int(x.size),
                self.unexposed_events_treatment + int(x[bad_t].sum()),
                self.unexposed_events_control + int(y[bad_c].sum()),
                ell,
            )

    def __add__(self, other: RateRatioSequence) -> RateRatioSequence:
        """Merge two disjoint sets of buckets (same grid required)."""
        if not isinstance(other, RateRatioSequence):
            return NotImplemented
        if (self.grid_step, self._half) != (other.grid_step, other._half):
            raise ValueError("cannot merge sequences built on different grids")
        if self.loglik is None or other.loglik is None:
            ell = self.loglik if other.loglik is None else other.loglik
        else:
            ell = self.loglik + other.loglik
            ell.flags.writeable = False
        return RateRatioSequence(
            self.grid_step, self.max_ratio,
            self.events_treatment + other.events_treatment,
            self.exposure_treatment + other.exposure_treatment,
            self.events_control + other.events_control,
            self.exposure_control + other.exposure_control,
            self.buckets + other.buckets,
            self.unexposed_events_treatment + other.unexposed_events_treatment,
            self.unexposed_events_control + other.unexposed_events_control,
            ell,
        )

    # ---------------------------------------------------------------- inference

    def _evaluator(self, tau: float | None, prior: Any) -> tuple[_Evaluator, _Weights]:
        w = _weights(tau, prior, float(self.grid_step), self.grid_size - 1)
        return _Evaluator(self._ell(), w), w

    def _log_e(self, ev: _Evaluator, w: _Weights, null: float, alternative: str) -> float:
        null = _check_positive("null", null)
        c_up, c_dn = _side_weights(w, alternative)
        m_up, m_dn = _null_indices(math.log(null), float(self.grid_step), self._half)
        le_up = ev.log_up(np.array([m_up]))[0] if c_up > 0 else -math.inf
        le_dn = ev.log_dn(np.array([m_dn]))[0] if c_dn > 0 else -math.inf
        return float(_log_lincomb(c_up, np.array(le_up), c_dn, np.array(le_dn)))

    def log_evalue(
        self,
        null: float = 1.0,
        alternative: str = "two-sided",
        *,
        tau: float | None = None,
        prior: Any = None,
    ) -> float:
        """Log of the mixture e-value against ``theta0 = null`` at this look.

        Parameters
        ----------
        null : float
            ``theta0`` (``> 0``). Nulls off the grid are tested conservatively through the
            neighbouring grid point(s) (module docstring).
        alternative : {"two-sided", "less", "greater"}
            ``"greater"``: ``H0: theta <= theta0`` (treatment rate higher under H1).
        tau : float, optional
            Scale of the normal prior on ``log(theta / theta0)``; default
            :data:`DEFAULT_TAU`. Fix it before monitoring.
        prior : object with ``cdf`` (and optionally ``sf``), optional
            Any other prior on ``u = log(theta / theta0)`` (e.g. a frozen scipy.stats
            distribution); overrides ``tau``.
        """
        _check_alternative(alternative)
        self._check_null(null)
        ev, w = self._evaluator(tau, prior)
        return self._log_e(ev, w, null, alternative)

    def _check_null(self, null: float) -> float:
        null = _check_positive("null", null)
        lo_g, hi_g = 1.0 / self.max_ratio, self.max_ratio
        if not lo_g <= null <= hi_g:
            raise ValueError(f"null must lie in the grid [{lo_g:g}, {hi_g:g}], got {null}")
        return null

    def _bounds(self, ev: _Evaluator, w: _Weights, alpha: float,
                alternative: str) -> tuple[float | None, float | None, bool, bool]:
        """(lower, upper, lower_unbounded, upper_unbounded) of the confidence sequence."""
        c_up, c_dn = _side_weights(w, alternative)
        G = ev.G
        thr = -math.log(alpha)
        phi = self.log_theta_grid

        def cell_log(ms: np.ndarray) -> np.ndarray:
            # e-value of the nulls in the open cell (phi_{m-1}, phi_m), m = 0..G
            return _log_lincomb(c_up, ev.log_up(ms), c_dn, ev.log_dn(ms - 1))

        lower = upper = None
        lo_unb = hi_unb = False
        if c_up > 0:
            # smallest m in [0, G] with c_up E_up(m) < 1/alpha (E_up is non-increasing)
            lo, hi = 0, G
            while lo < hi:
                mid = (lo + hi) // 2
                if ev.log_up(np.array([mid]))[0] + math.log(c_up) < thr:
                    hi = mid
                else:
                    lo = mid + 1
            m = lo
            if c_dn > 0:
                block = 4
                while m <= G:
                    ms = np.arange(m, min(m + block, G + 1))
                    idx = np.nonzero(cell_log(ms) < thr)[0]
                    if idx.size:
                        m = int(ms[idx[0]])
                        break
                    m = int(ms[-1]) + 1
                    block = min(4 * block, _BLOCK)
                m = min(m, G)
            if m == 0:
                lo_unb = True
            else:
                lower = math.exp(phi[m - 1])
        if c_dn > 0:
            # largest m in [0, G] with c_dn E_dn(m - 1) < 1/alpha (E_dn is non-decreasing)
            lo, hi = 0, G
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if ev.log_dn(np.array([mid - 1]))[0] + math.log(c_dn) < thr:
                    lo = mid
                else:
                    hi = mid - 1
            m = lo
            if c_up > 0:
                block = 4
                while m >= 0:
                    ms = np.arange(m, max(m - block, -1), -1)
                    idx = np.nonzero(cell_log(ms) < thr)[0]
                    if idx.size:
                        m = int(ms[idx[0]])
                        break
                    m = int(ms[-1]) - 1
                    block = min(4 * block, _BLOCK)
                m = max(m, 0)
            if m == G:
                hi_unb = True
            else:
                upper = math.exp(phi[m])
        return lower, upper, lo_unb, hi_unb

    def confidence_sequence(
        self,
        alpha: float = 0.05,
        alternative: str = "two-sided",
        *,
        tau: float | None = None,
        prior: Any = None,
    ) -> tuple[float | None, float | None]:
        """``(lower, upper)`` bounds of ``theta`` at this look (see :meth:`test`)."""
        r = self.test(1.0, alternative, alpha=alpha, tau=tau, prior=prior)
        return r.lower, r.upper

    def test(
        self,
        null: float = 1.0,
        alternative: str = "two-sided",
        *,
        alpha: float = 0.05,
        tau: float | None = None,
        prior: Any = None,
    ) -> RateRatioResult:
        """Estimate, e-value, anytime-valid p-value and confidence sequence at this look.

        Parameters
        ----------
        null : float
            ``theta0``, the rate ratio under the null (default 1: equal rates). For a
            non-inferiority margin of +10 % use ``null=1.1`` with ``alternative="less"``.
        alternative : {"two-sided", "less", "greater"}
            ``"greater"`` tests ``H0: theta <= theta0`` (roll back when rejected, for an
            error rate) and gives a lower confidence bound; ``"less"`` the mirror image.
        alpha : float
            Probability of *ever* rejecting a true null / of the sequence ever excluding
            the true ratio, over the whole monitoring period.
        tau, prior
            The mixing distribution, see :meth:`log_evalue`.

        Returns
        -------
        RateRatioResult
            Diagnostics: ``NO_EXPOSURE``, ``NO_EVENTS``, ``NO_CONTROL_EVENTS``,
            ``NO_TREATMENT_EVENTS``, ``ESTIMATE_OUT_OF_RANGE``, ``EVENTS_WITHOUT_EXPOSURE``,
            ``LOWER_UNBOUNDED``, ``UPPER_UNBOUNDED``.
        """
        alpha = _check_alpha(alpha)
        _check_alternative(alternative)
        null = self._check_null(null)
        lo_g, hi_g = 1.0 / self.max_ratio, self.max_ratio
        ev, w = self._evaluator(tau, prior)
        log_e = self._log_e(ev, w, null, alternative)
        p = math.exp(min(-log_e, 0.0))
        lower, upper, lo_unb, hi_unb = self._bounds(ev, w, alpha, alternative)
        diags = self._diagnostics()
        if lo_unb:
            diags.append(Diagnostic(
                "LOWER_UNBOUNDED",
                f"the confidence sequence reaches the lower end of the grid ({lo_g:g}): no "
                "finite lower bound above 0 yet"))
        if hi_unb:
            diags.append(Diagnostic(
                "UPPER_UNBOUNDED",
                f"the confidence sequence reaches the upper end of the grid ({hi_g:g}): no "
                "finite upper bound yet"))
        ci = ConfidenceInterval(lower, upper) if lower is not None and upper is not None else None
        return RateRatioResult(
            self.estimate, self.mle, null, alternative, log_e, p, p <= alpha, lower, upper, ci,
            alpha, None if prior is not None else float(DEFAULT_TAU if tau is None else tau),
            self.events_treatment, self.exposure_treatment, self.events_control,
            self.exposure_control, self.buckets, float(self.grid_step),
            diagnostics=tuple(diags),
        )

    # ---------------------------------------------------------------- summaries

    @property
    def estimate(self) -> float | None:
        """Ratio of the pooled rates, or None (no exposure in an arm, no control events)."""
        if self.exposure_treatment <= 0 or self.exposure_control <= 0 or self.events_control == 0:
            return None
        if self.events_treatment == 0:
            return 0.0
        log_v = (math.log(self.events_treatment) - math.log(self.exposure_treatment)
                 - math.log(self.events_control) + math.log(self.exposure_control))
        return math.exp(log_v) if log_v < 709.0 else None

    @property
    def mle(self) -> float | None:
        """Grid maximiser of the conditional likelihood (None at a grid end or without data)."""
        if self.loglik is None:
            return None
        i = int(np.argmax(self.loglik))
        if i == 0 or i == self.grid_size - 1:
            return None
        return math.exp(self.log_theta_grid[i])

    def _diagnostics(self) -> list[Diagnostic]:
        d: list[Diagnostic] = []
        if self.exposure_treatment <= 0 or self.exposure_control <= 0:
            which = [n for n, e in (("treatment", self.exposure_treatment),
                                    ("control", self.exposure_control)) if e <= 0]
            d.append(Diagnostic("NO_EXPOSURE", f"no exposure yet in the {' and '.join(which)} "
                                               "arm; no estimate"))
        elif self.events_treatment + self.events_control == 0:
            d.append(Diagnostic("NO_EVENTS", "no events in either arm yet; no estimate, and "
                                             "the test has no evidence"))
        elif self.events_control == 0:
            d.append(Diagnostic("NO_CONTROL_EVENTS", "no control events yet: the rate ratio "
                                                     "estimate is undefined (infinite)"))
        elif self.events_treatment == 0:
            d.append(Diagnostic("NO_TREATMENT_EVENTS", "no treatment events yet: the "
                                                       "estimated rate ratio is 0"))
        elif self.estimate is None:
            d.append(Diagnostic("ESTIMATE_OUT_OF_RANGE", "the ratio of the pooled rates is "
                                                         "beyond double precision"))
        if self.unexposed_events_treatment or self.unexposed_events_control:
            d.append(Diagnostic(
                "EVENTS_WITHOUT_EXPOSURE",
                f"{self.unexposed_events_treatment} treatment and "
                f"{self.unexposed_events_control} control events fell in buckets where their "
                "arm had zero exposure; they are impossible under the model and left out of "
                "the test (check the exposure data)"))
        return d


# --------------------------------------------------------------------------- vectorised paths


def _path_log_e(x: np.ndarray, et: np.ndarray, y: np.ndarray, ec: np.ndarray, phi0: float,
                w: _Weights, step: float, need_up: bool, need_dn: bool,
                chunk_elems: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """log E_up / log E_dn after every bucket for R independent streams of J buckets.

    Inputs have shape (R, J). The grid is the window of the module grid that the test of
    ``phi0`` uses (its nodes), so the values equal the object's whenever the object's grid
    contains that window.
    """
    R, J = x.shape
    K = w.up.shape[0] - 1
    r = phi0 / step
    k = round(r)
    if abs(r - k) <= 1e-9 * max(1.0, abs(r)):
        k_up = k_dn = int(k)
    else:
        k_up, k_dn = math.ceil(r), math.floor(r)
    base = k_dn - K
    ks = np.arange(base, k_up + K + 1)
    phi = ks.astype(float) * step
    ephi = np.exp(phi)
    pos_up, pos_dn = k_up - base, k_dn - base
    out_up = np.full((R, J), -np.inf)
    out_dn = np.full((R, J), -np.inf)
    info = (et > 0) & (ec > 0) & (x + y > 0)
    a, b = _shares(et, ec)
    a = np.where(info, a, 0.5)
    b = np.where(info, b, 0.5)
    xf = np.where(info, x, 0).astype(float)
    nf = np.where(info, x + y, 0).astype(float)
    rows = max(1, chunk_elems // phi.size)
    lw_up = w.up
    lw_dn = np.ascontiguousarray(w.dn[::-1])
    for r0 in range(0, R, rows):
        sl = slice(r0, min(R, r0 + rows))
        m = sl.stop - sl.start
        ell = np.zeros((m, phi.size))
        buf = np.empty_like(ell)
        vbuf = np.empty((m, K + 1))
        for j in range(J):
            # ell += x phi - n log(a e^phi + b), in place
            np.multiply(a[sl, j:j + 1], ephi, out=buf)
            buf += b[sl, j:j + 1]
            np.log(buf, out=buf)
            buf *= nf[sl, j:j + 1]
            ell -= buf
            np.multiply(xf[sl, j:j + 1], phi, out=buf)
            ell += buf
            for need, lw, lo, pos, out in ((need_up, lw_up, pos_up, pos_up, out_up),
                                           (need_dn, lw_dn, pos_dn - K, pos_dn, out_dn)):
                if not need:
                    continue
                np.subtract(ell[:, lo:lo + K + 1], ell[:, pos:pos + 1], out=vbuf)
                vbuf += lw
                top = vbuf.max(axis=1, keepdims=True)  # finite: the node at the null is
                vbuf -= top                            # log w_0 + 0
                with np.errstate(under="ignore"):
                    np.exp(vbuf, out=vbuf)
                out[sl, j] = np.log(vbuf.sum(axis=1)) + top[:, 0]
    return out_up, out_dn


def _as_paths(*arrays: Any) -> tuple[tuple[np.ndarray, ...], tuple[int, ...]]:
    b = np.broadcast_arrays(*arrays)
    shape = b[0].shape
    if len(shape) == 0:
        raise ValueError("inputs must have a bucket axis (the last axis)")
    J = shape[-1]
    return tuple(np.ascontiguousarray(v).reshape(-1, J) for v in b), shape


def rate_ratio_pvalues(
    events_treatment: np.ndarray,
    exposure_treatment: np.ndarray,
    events_control: np.ndarray,
    exposure_control: np.ndarray,
    *,
    null: float = 1.0,
    alternative: str = "two-sided",
    tau: float | None = None,
    grid_step: float = DEFAULT_GRID_STEP,
) -> np.ndarray:
    """Anytime-valid p-values after every bucket for many independent streams at once.

    The vectorised form of ``RateRatioSequence(grid_step).update(...)`` followed by
    ``.test(null, alternative, tau=tau).pvalue`` at every bucket, for simulations and
    benchmarks: inputs broadcast to a common shape ``(..., J)`` (last axis = buckets, per
    bucket counts and exposures, not cumulative) and the result has that shape. Not the
    running minimum. Equal to the object's values (up to rounding) when the object's grid
    contains the window of ``log(null) +/- 8 tau``; uses the normal prior only.
    """
    _check_alternative(alternative)
    null = _check_positive("null", null)
    step = _check_positive("grid_step", grid_step)
    (x, et, y, ec), shape = _as_paths(
        _counts("events_treatment", events_treatment),
        _exposures("exposure_treatment", exposure_treatment),
        _counts("events_control", events_control),
        _exposures("exposure_control", exposure_control))
    w = _weights(tau, None, step, 10**9)
    c_up, c_dn = _side_weights(w, alternative)
    le_up, le_dn = _path_log_e(x, et, y, ec, math.log(null), w, step, c_up > 0, c_dn > 0)
    log_e = _log_lincomb(c_up, le_up, c_dn, le_dn)
    return np.exp(np.minimum(-log_e, 0.0)).reshape(shape)


def srm_pvalues(
    counts: np.ndarray,
    shares: np.ndarray,
    *,
    tau: float = DEFAULT_SRM_TAU,
    grid_step: float = DEFAULT_GRID_STEP,
) -> np.ndarray:
    """Anytime-valid SRM p-values after every bucket for many independent streams at once.

    The vectorised form of :class:`SequentialSRM`: ``counts`` has shape ``(..., J, k)``
    (units per bucket and variant), ``shares`` broadcasts to it (intended shares per bucket,
    normalised per bucket). Returns shape ``(...,  J)``; 0 from the first bucket in which a
    variant with share 0 received units.
    """
    n = _counts("counts", counts)
    s = _exposures("shares", shares)
    if n.ndim < 2:
        raise ValueError("counts must have shape (..., J, k)")
    n, s = np.broadcast_arrays(n, s)
    k = n.shape[-1]
    if k < 2:
        raise ValueError("need at least two variants")
    tot_s = s.sum(axis=-1, keepdims=True)
    if (tot_s <= 0).any():
        raise ValueError("every bucket needs a positive total share")
    s = s / tot_s
    step = _check_positive("grid_step", grid_step)
    w = _weights(tau, None, step, 10**9)
    total = n.sum(axis=-1)
    lead = n.shape[:-1]
    logs = []
    for v in range(k):
        (x, et, y, ec), _ = _as_paths(n[..., v], s[..., v], total - n[..., v], 1.0 - s[..., v])
        le_up, le_dn = _path_log_e(x, et, y, ec, 0.0, w, step, True, True)
        logs.append(_log_lincomb(w.p_up, le_up, w.p_dn, le_dn).reshape(lead))
    log_e = _lse(np.stack(logs, axis=-1)) - math.log(k)
    unexpected = ((s == 0) & (n > 0)).any(axis=-1)
    unexpected = np.maximum.accumulate(unexpected, axis=-1)
    p = np.exp(np.minimum(-log_e, 0.0))
    return np.where(unexpected, 0.0, p)


# --------------------------------------------------------------------------- SRM


@dataclass(frozen=True)
class SequentialSRMResult(HasDiagnostics):
    """One look of the sequential sample-ratio-mismatch test.

    Attributes
    ----------
    observed : dict
        Units per variant so far.
    expected : dict
        ``sum_j share_vj * N_j``: the counts the schedule implies for the observed bucket
        totals.
    pvalue : float
        Anytime-valid p-value at this look (0 with ``UNEXPECTED_UNITS``).
    log_evalue : float or None
        Log of the averaged one-vs-rest mixture e-value (None when infinite, i.e. with
        ``UNEXPECTED_UNITS``).
    variant_pvalues : dict
        Each variant's own one-vs-rest anytime-valid p-value (not adjusted for the ``k``
        variants; ``pvalue`` is).
    threshold : float
        Level at which ``SRM_DETECTED`` is reported (default 0.001, as :func:`srm_test`).
    """

    observed: dict[str, int]
    expected: dict[str, float]
    pvalue: float
    log_evalue: float | None
    variant_pvalues: dict[str, float]
    threshold: float
    tau: float
    buckets: int
    method: str = "one-vs-rest conditional-binomial mixture e-processes, averaged"
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return self.pvalue > self.threshold

    def to_dict(self) -> dict:
        return {
            "observed": dict(self.observed),
            "expected": dict(self.expected),
            "pvalue": self.pvalue,
            "log_evalue": self.log_evalue,
            "variant_pvalues": dict(self.variant_pvalues),
            "threshold": self.threshold,
            "passed": self.passed,
            "tau": self.tau,
            "buckets": self.buckets,
            "method": self.method,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


@dataclass(frozen=True, eq=False)
class SequentialSRM:
    """Mergeable state of the sequential SRM test against a changing intended split.

    ``SequentialSRM(("baseline", "canary"))`` is the empty state for those variants;
    :meth:`update` adds one bucket's unit counts with the shares the schedule intended for
    that bucket (they may change at every bucket, and may be 0 for a variant, e.g. before
    the canary starts); ``+`` merges disjoint buckets. See the module docstring for the
    construction (one-vs-rest mixture e-processes, averaged).

    Parameters
    ----------
    variants : sequence of str
        At least two distinct names.
    tau : float
        Scale of the normal prior on each variant's log rate ratio against the rest,
        ``log((pi'_v / (1 - pi'_v)) / (pi_v / (1 - pi_v)))`` for a true share ``pi'_v``
        (default :data:`DEFAULT_SRM_TAU` = 0.1). Fix it before monitoring. Simulated
        two-variant canaries at an intended 10 % share (300 runs, threshold 0.001), mean
        buckets to detection for ``tau`` = 0.02 / 0.05 / 0.1 / 0.2: a 10 % shortfall (9 %
        observed, 1,000 units per bucket) 27.0 / 17.4 / 15.6 / 15.7; a 5 % shortfall
        74.5 / 62.8 / 63.2 / 67.2; a 20 % shortfall (200 units per bucket) 56.0 / 29.4 /
        21.8 / 19.3. ``tau = 0.1`` is within 3 % of the best in each case.
    grid_step : float
        Grid step of the underlying :class:`RateRatioSequence` states.
    """

    variants: tuple[str, ...]
    tau: float = DEFAULT_SRM_TAU
    grid_step: float = DEFAULT_GRID_STEP
    observed: tuple[int, ...] = ()
    expected: tuple[float, ...] = ()
    unexpected: tuple[int, ...] = ()
    buckets: int = 0
    sequences: tuple[RateRatioSequence, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        names = tuple(self.variants)
        if len(names) < 2 or len(set(names)) != len(names):
            raise ValueError("variants must be at least two distinct names")
        if not all(isinstance(v, str) for v in names):
            raise ValueError("variant names must be strings")
        object.__setattr__(self, "variants", names)
        tau = _check_positive("tau", self.tau)
        step = _check_positive("grid_step", self.grid_step)
        k = len(names)
        if not self.observed:
            object.__setattr__(self, "observed", (0,) * k)
            object.__setattr__(self, "expected", (0.0,) * k)
            object.__setattr__(self, "unexpected", (0,) * k)
        if not self.sequences:
            nodes = max(1, math.ceil(_PRIOR_SDS * tau / step))
            mr = math.exp((nodes + 1) * step)
            object.__setattr__(self, "sequences",
                               tuple(RateRatioSequence(step, mr) for _ in names))
        if not (len(self.observed) == len(self.expected) == len(self.unexpected)
                == len(self.sequences) == k):
            raise ValueError("state tuples do not match the variants")

    def _vector(self, name: str, value: Mapping[str, float] | Sequence[float]) -> np.ndarray:
        if isinstance(value, Mapping):
            unknown = set(value) - set(self.variants)
            if unknown:
                raise ValueError(f"{name}: unknown variants {sorted(unknown)}; expected "
                                 f"{list(self.variants)}")
            return np.array([value.get(v, 0) for v in self.variants])
        arr = np.asarray(value)
        if arr.shape != (len(self.variants),):
            raise ValueError(f"{name} must have one entry per variant {list(self.variants)}")
        return arr

    def update(
        self,
        counts: Mapping[str, int] | Sequence[int],
        shares: Mapping[str, float] | Sequence[float],
    ) -> SequentialSRM:
        """Add one bucket: units per variant and the intended shares for that bucket.

        ``shares`` are normalised to sum to 1 (percentages are fine); a variant missing from
        a mapping has count / share 0.
        """
        n = _counts("counts", self._vector("counts", counts))
        s = _exposures("shares", self._vector("shares", shares))
        tot = float(s.sum())
        if not tot > 0:
            raise ValueError("shares must have a positive sum")
        s = s / tot
        N = int(n.sum())
        seqs = tuple(seq.update(int(n[v]), float(s[v]), N - int(n[v]), float(1.0 - s[v]))
                     for v, seq in enumerate(self.sequences))
        unexpected = tuple(int(u + (n[v] if s[v] == 0 else 0))
                           for v, u in enumerate(self.unexpected))
        return SequentialSRM(
            self.variants, self.tau, self.grid_step,
            tuple(int(o + c) for o, c in zip(self.observed, n)),
            tuple(float(e + sv * N) for e, sv in zip(self.expected, s)),
            unexpected, self.buckets + 1, seqs,
        )

    def __add__(self, other: SequentialSRM) -> SequentialSRM:
        if not isinstance(other, SequentialSRM):
            return NotImplemented
        if (self.variants, self.tau, self.grid_step) != (other.variants, other.tau,
                                                          other.grid_step):
            raise ValueError("cannot merge SRM states with different variants, tau or grid")
        return SequentialSRM(
            self.variants, self.tau, self.grid_step,
            tuple(a + b for a, b in zip(self.observed, other.observed)),
            tuple(a + b for a, b in zip(self.expected, other.expected)),
            tuple(a + b for a, b in zip(self.unexpected, other.unexpected)),
            self.buckets + other.buckets,
            tuple(a + b for a, b in zip(self.sequences, other.sequences)),
        )

    def test(self, threshold: float = 0.001) -> SequentialSRMResult:
        """The anytime-valid SRM p-value at this look, with observed vs expected counts.

        Diagnostics: ``UNEXPECTED_UNITS`` (a variant received units while its share was 0:
        p-value 0), ``NO_UNITS``, ``SRM_DETECTED`` (``pvalue <= threshold``).
        """
        threshold = _check_alpha(threshold)
        logs = [seq.log_evalue(1.0, "two-sided", tau=self.tau) for seq in self.sequences]
        log_e = float(_lse(np.array(logs)) - math.log(len(logs)))
        vp = {v: math.exp(min(-le, 0.0)) for v, le in zip(self.variants, logs)}
        diags: list[Diagnostic] = []
        bad = [v for v, u in zip(self.variants, self.unexpected) if u > 0]
        if bad:
            detail = ", ".join(f"{v}: {u}" for v, u in zip(self.variants, self.unexpected) if u)
            diags.append(Diagnostic(
                "UNEXPECTED_UNITS",
                f"units arrived in variants whose intended share was 0 ({detail}); that is a "
                "sample ratio mismatch with certainty (p-value 0)"))
            p, log_out = 0.0, None
            for v in bad:
                vp[v] = 0.0
        else:
            p, log_out = math.exp(min(-log_e, 0.0)), log_e
        if sum(self.observed) == 0:
            diags.append(Diagnostic("NO_UNITS", "no units yet; nothing to test"))
        if p <= threshold:
            diags.append(Diagnostic(
                "SRM_DETECTED",
                f"the units per variant do not match the intended split (anytime-valid "
                f"p = {p:.3g} <= {threshold:g})"))
        return SequentialSRMResult(
            dict(zip(self.variants, self.observed)), dict(zip(self.variants, self.expected)),
            p, log_out, vp, threshold, float(self.tau), self.buckets, diagnostics=tuple(diags))


# --------------------------------------------------------------------------- closed forms


def constant_share_log_bayes_factor(
    events_treatment: int,
    events_control: int,
    share: float,
    null: float = 1.0,
    *,
    a: float | None = None,
    b: float | None = None,
) -> float:
    """Log of the beta-binomial Bayes factor for a constant share (closed form).

    With ``s = share`` constant, ``x | x + y ~ Binomial(x + y, p)`` and under the null
    ``p0 = s theta0 / (s theta0 + 1 - s)``. A Beta(a, b) prior on ``p`` gives::

        BF = B(a + x, b + y) / B(a, b) / (p0^x (1 - p0)^y)

    a test martingale under ``p0`` (Lindon & Malek 2022, the Dirichlet-multinomial test
    with two categories). Default ``a = c p0``, ``b = c (1 - p0)`` with
    ``c = 1 / (DEFAULT_TAU^2 p0 (1 - p0))``: the Beta prior centred at the null whose
    ``logit p`` has about the spread ``DEFAULT_TAU`` of the normal prior (``var(logit p) ~
    1/a + 1/b``). It depends on the totals only.
    """
    from scipy.special import betaln, xlogy

    x = int(_counts("events_treatment", events_treatment))
    y = int(_counts("events_control", events_control))
    s = float(share)
    if not (math.isfinite(s) and 0.0 < s < 1.0):
        raise ValueError(f"share must be in (0, 1), got {share}")
    th = _check_positive("null", null)
    p0 = s * th / (s * th + 1.0 - s)
    if a is None or b is None:
        if a is not None or b is not None:
            raise ValueError("give both a and b, or neither")
        c = 1.0 / (DEFAULT_TAU**2 * p0 * (1.0 - p0))
        a, b = c * p0, c * (1.0 - p0)
    a = _check_positive("a", a)
    b = _check_positive("b", b)
    return float(betaln(a + x, b + y) - betaln(a, b) - xlogy(x, p0) - xlogy(y, 1.0 - p0))


def dirichlet_multinomial_log_bayes_factor(
    counts: Sequence[int],
    shares: Sequence[float],
    concentration: float = 100.0,
) -> float:
    """Log of Lindon & Malek's (2022) Dirichlet-multinomial Bayes factor, constant shares.

    ``counts`` ``n_i`` against the null shares ``pi_i`` with a Dirichlet prior centred at the
    null, ``alpha_i = concentration * pi_i`` (100 is the default of the authors' reference
    implementation)::

        log BF = log G(A) - log G(A + N) + sum_i [log G(alpha_i + n_i) - log G(alpha_i)]
                 - sum_i n_i log pi_i,        A = sum alpha_i, N = sum n_i.

    A test martingale under the null for sequentially arriving units; for two categories it
    is :func:`constant_share_log_bayes_factor` with ``a = c pi_1``, ``b = c pi_2``. Returns
    ``inf`` when a category with share 0 has units (not allowed otherwise: such categories
    must have no units, and are dropped).
    """
    from scipy.special import gammaln, xlogy

    n = _counts("counts", counts)
    pi = _exposures("shares", shares)
    if n.shape != pi.shape or n.ndim != 1 or n.size < 2:
        raise ValueError("counts and shares must be 1-D of the same length >= 2")
    if not pi.sum() > 0:
        raise ValueError("shares must have a positive sum")
    pi = pi / pi.sum()
    c = _check_positive("concentration", concentration)
    if ((pi == 0) & (n > 0)).any():
        return math.inf
    keep = pi > 0
    n, pi = n[keep].astype(float), pi[keep]
    al = c * pi
    A, N = al.sum(), n.sum()
    return float(gammaln(A) - gammaln(A + N) + np.sum(gammaln(al + n) - gammaln(al))
                 - np.sum(xlogy(n, pi)))

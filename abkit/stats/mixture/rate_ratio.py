"""The anytime-valid test of the event-rate ratio: model, guarantees, prior, and the state.

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
errors, 400 runs, seed 1, grid step 0.004; ``tests/stats/test_mixture.py`` re-checks a smaller
version) the mean number of buckets to detection at ``alpha = 0.05`` was, for ``tau`` in
0.15 / 0.25 / 0.405 / 0.7, one-sided: 27.1 / 22.6 / 21.1 / 21.6 (10 % share, 2,000
requests per bucket) and 10.8 / 9.2 / 8.8 / 9.0 (5 %, 10,000 requests); the optimum is
flat between about 0.35 and 0.5 and ``log(1.5)`` is at it (two-sided: 15-20 % later). Any
prior with a ``cdf`` (and optionally ``sf``) over ``u``, such as a frozen ``scipy.stats``
distribution, can be passed instead; choose it before monitoring and keep it.

The grid, the tests of nulls off the grid and the confidence sequence are described in
:mod:`abkit.stats.mixture.rate_ratio_inference`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..results import Diagnostic
from ._common import (
    DEFAULT_GRID_STEP,
    DEFAULT_MAX_RATIO,
    _check_positive,
    _counts,
    _exposures,
    _shares,
)
from .grid import _bucket_loglik, _grid, _half_steps
from .rate_ratio_inference import _RateRatioInference


# --------------------------------------------------------------------------- the state


@dataclass(frozen=True, eq=False)
class RateRatioSequence(_RateRatioInference):
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

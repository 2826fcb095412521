"""E-values, tests and confidence sequences of the rate-ratio test on its grid.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import check_alpha as _check_alpha
from .._checks import check_alternative as _check_alternative
from ..results import ConfidenceInterval, Diagnostic, HasDiagnostics
from ._common import _BLOCK, DEFAULT_TAU, _check_positive
from .grid import _Evaluator, _log_lincomb, _null_indices, _side_weights, _Weights, _weights


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



class _RateRatioInference:
    """The inference methods of :class:`~abkit.stats.mixture.RateRatioSequence` (e-values,
    tests and confidence sequences on its log-likelihood grid), kept in this module."""

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

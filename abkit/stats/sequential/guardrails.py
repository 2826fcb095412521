"""Confidence sequences, mSPRTs and guardrail decisions on the A/B pseudo-outcomes.

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
With it, the same simulations give 0.5-1.2 % and 4 % (``tests/stats/test_sequential.py``,
``bench/SEQUENTIAL.md``). ``variance="sample"`` gives the paper's plain plug-in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .._checks import check_alpha as _check_alpha
from .._checks import check_alternative as _check_alternative
from ..results import Diagnostic
from ._common import _check_harmful, _check_positive
from .confidence_sequence import AsymptoticCS, asymptotic_cs
from .mixture_sprt import MSPRTResult, msprt


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



class _GuardrailDecisions:
    """The sequences and guardrail decisions of
    :class:`~abkit.stats.sequential.SequentialDiffStats` (its methods, kept in this module)."""

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

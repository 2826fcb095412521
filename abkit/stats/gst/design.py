"""Group sequential designs and their looks; boundaries and crossing probabilities.

The spending functions are described in :mod:`abkit.stats.gst.spending_functions`, the
numerical method in :mod:`abkit.stats.gst.integration`.

Edge cases, all reported as :class:`~abkit.stats.results.Diagnostic` with ``boundary = None``
(a look without a boundary cannot reject; skipping a look never inflates the error rate, and
the alpha it would have spent moves to the next look that has a boundary):

* ``ALPHA_EXHAUSTED``: an earlier look had ``t >= 1`` and spent all of ``alpha``.
* ``NO_ALPHA_TO_SPEND``: ``alpha(t)`` is below double precision at this (very early) look.
* ``LOOK_TOO_CLOSE``: the information grew by less than ``1e-4`` (relative, ``_MIN_STEP``)
  since the last look that had a boundary; the increment is too small to integrate on a
  bounded grid. (A skipped look is exactly equivalent to not looking: the next boundary is
  the one the design would have had without it.)

When even the smallest possible boundary at a look exceeds 8 (O'Brien-Fleming spending at
``t`` below about 0.06 for ``alpha = 0.05``), the look spends less than ``1e-15`` and the
boundary is ``Phi^{-1}(1 - (alpha(t_k) - alpha(t_{k-1})))``, i.e. computed as if earlier
looks had not happened: exact up to the (smaller still) alpha the earlier looks spent, and
conservative.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scipy import special

from .._checks import check_alpha as _check_alpha
from ..results import Diagnostic, HasDiagnostics
from .integration import _EMPTY, _MIN_STEP, _Z_TAIL, _solve_boundary, _State, _Step
from .spending_functions import _check_fraction, _check_fractions, _check_kind, _spend


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Look(HasDiagnostics):
    """One look of a group sequential design.

    Attributes
    ----------
    index : int
        1-based number of the look.
    information_fraction : float
        ``t_k``, the information at this look over the planned maximum (may exceed 1).
    boundary : float or None
        Efficacy boundary ``c_k`` on the z-scale: reject H0 at this look when ``Z_k >= c_k``.
        ``None`` when the look has no alpha to spend (see ``diagnostics``); it cannot reject.
    nominal_pvalue : float or None
        The nominal per-look p-value threshold ``1 - Phi(c_k)``: reject when the fixed-sample
        one-sided p-value at this look is ``<=`` it. ``None`` with ``boundary``.
    alpha_spent : float
        Cumulative alpha spent up to and including this look, ``alpha(t_k)`` (or the value at
        the last look that had a boundary).
    alpha_increment : float
        Alpha spent at this look, ``alpha(t_k) - alpha(t_{k-1})`` (0 without a boundary).
    diagnostics : tuple of Diagnostic
    """

    index: int
    information_fraction: float
    boundary: float | None
    nominal_pvalue: float | None
    alpha_spent: float
    alpha_increment: float
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def rejects(self, z: float) -> bool:
        """True when ``z >= boundary`` (False without a boundary or for a NaN ``z``)."""
        return self.boundary is not None and bool(z >= self.boundary)

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "information_fraction": self.information_fraction,
            "boundary": self.boundary,
            "nominal_pvalue": self.nominal_pvalue,
            "alpha_spent": self.alpha_spent,
            "alpha_increment": self.alpha_increment,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


@dataclass(frozen=True)
class GroupSequentialDesign:
    """An immutable one-sided group sequential design with Lan-DeMets alpha spending.

    Start empty and add looks one at a time as information arrives; each call returns a new
    design (the old one is unchanged) and the new look's boundary::

        design = GroupSequentialDesign(alpha=0.05, spending="pocock")
        design, look = design.add_look(0.25)      # look.boundary, look.nominal_pvalue
        design, look = design.add_look(0.6)       # looks need not be equally spaced

    A look costs one step of the recursive integration (see the module docstring), not a
    recomputation from the first look. The test is one-sided: orient the z-statistic so that
    large values are the effect to detect (for a guardrail, harm).

    Parameters
    ----------
    alpha : float, default 0.05
        One-sided level in (0, 1): the probability, under H0, of crossing at any look.
    spending : {"obrien-fleming", "pocock"}, default "obrien-fleming"
        The spending function (:func:`spending`). O'Brien-Fleming type spends almost nothing
        early and keeps the last boundary near the fixed-sample one; Pocock type spends
        evenly and stops earlier under a large effect at the price of a higher final boundary.

    Attributes
    ----------
    looks : tuple of Look
        The looks so far.
    """

    alpha: float = 0.05
    spending: str = "obrien-fleming"
    looks: tuple[Look, ...] = field(default=(), init=False)
    _state: _State = field(default=_EMPTY, init=False, repr=False, compare=False)
    _spent: float = field(default=0.0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", _check_alpha(self.alpha))
        _check_kind(self.spending)

    # ------------------------------------------------------------------ incremental use

    def add_look(self, information_fraction: float) -> tuple[GroupSequentialDesign, Look]:
        """Add the next look at ``information_fraction``; return the new design and the look.

        Raises ``ValueError`` when the fraction is not a positive finite number or not larger
        than the previous look's.
        """
        t = _check_fraction(information_fraction)
        if self.looks and not t > self.looks[-1].information_fraction:
            raise ValueError(f"information fraction {t} is not larger than the previous "
                             f"look's ({self.looks[-1].information_fraction})")
        k = len(self.looks) + 1
        state, spent = self._state, self._spent

        def skip(code: str, message: str) -> tuple[GroupSequentialDesign, Look]:
            look = Look(k, t, None, None, spent, 0.0, (Diagnostic(code, message),))
            return self._with(look, state, spent), look

        if state.t >= 1.0 or spent >= self.alpha:
            return skip("ALPHA_EXHAUSTED",
                        "all of alpha was spent by an earlier look (the planned maximum "
                        "information was reached); this look cannot reject")
        cum = _spend(t, self.alpha, self.spending)
        target = cum - spent
        if not target > 0.0:
            return skip("NO_ALPHA_TO_SPEND",
                        f"the {self.spending} spending function spends less than double "
                        f"precision can hold at information fraction {t:g}; this look cannot "
                        "reject")
        if state.grid is not None and (t - state.t) / t < _MIN_STEP:
            return skip("LOOK_TOO_CLOSE",
                        f"information grew by less than {_MIN_STEP:g} (relative) since the last "
                        "look with a boundary; this look cannot reject and its alpha moves to "
                        "the next look")
        step = _Step(state, t, 0.0)
        if float(-special.ndtri(cum)) >= _Z_TAIL:
            c = float(-special.ndtri(target))
        else:
            c = _solve_boundary(step, target)
        new_state = step.density(c)
        look = Look(k, t, c, float(special.ndtr(-c)), cum, target)
        return self._with(look, new_state, cum), look

    def add_looks(self, fractions: Iterable[float]) -> GroupSequentialDesign:
        """The design after adding looks at each of ``fractions`` in turn."""
        design = self
        for t in fractions:
            design, _ = design.add_look(t)
        return design

    def _with(self, look: Look, state: _State, spent: float) -> GroupSequentialDesign:
        new = GroupSequentialDesign(self.alpha, self.spending)
        object.__setattr__(new, "looks", self.looks + (look,))
        object.__setattr__(new, "_state", state)
        object.__setattr__(new, "_spent", spent)
        return new

    # ------------------------------------------------------------------ views

    @property
    def confidence_level(self) -> float:
        return 1.0 - self.alpha

    @property
    def information_fractions(self) -> tuple[float, ...]:
        return tuple(lk.information_fraction for lk in self.looks)

    @property
    def boundaries(self) -> tuple[float | None, ...]:
        return tuple(lk.boundary for lk in self.looks)

    @property
    def nominal_pvalues(self) -> tuple[float | None, ...]:
        return tuple(lk.nominal_pvalue for lk in self.looks)

    @property
    def alpha_spent(self) -> float:
        """Cumulative alpha spent so far (0 before the first look)."""
        return self._spent

    def to_dict(self) -> dict:
        return {
            "alpha": self.alpha,
            "confidence_level": self.confidence_level,
            "spending": self.spending,
            "alpha_spent": self.alpha_spent,
            "looks": [lk.to_dict() for lk in self.looks],
        }


# --------------------------------------------------------------------------- functions


def boundaries(fractions: Iterable[float], alpha: float = 0.05,
               spending: str = "obrien-fleming") -> tuple[float | None, ...]:
    """One-sided Lan-DeMets efficacy boundaries (z-scale) at the given information fractions.

    Equivalent to ``GroupSequentialDesign(alpha, spending).add_looks(fractions).boundaries``
    (see the module docstring for the method, Armitage, McPherson & Rowe 1969 / Jennison &
    Turnbull 2000 ch. 19, and for when an entry is ``None``).

    Parameters
    ----------
    fractions : iterable of float
        Strictly increasing information fractions ``t_1 < t_2 < ...`` (``> 0``; values
        above 1 are allowed, the first of them spends what is left of ``alpha``).
    alpha : float, default 0.05
        One-sided level.
    spending : {"obrien-fleming", "pocock"}, default "obrien-fleming"
    """
    design = GroupSequentialDesign(alpha, spending)
    return design.add_looks(_check_fractions(fractions)).boundaries


def crossing_probabilities(fractions: Iterable[float], bounds: Sequence[float | None], *,
                           drift: float = 0.0) -> tuple[float, ...]:
    """Probability of crossing *first* at each look, for given boundaries.

    ``P(Z_1 < c_1, ..., Z_{k-1} < c_{k-1}, Z_k >= c_k)`` for the canonical joint normal with
    ``E[Z_k] = drift * sqrt(t_k)`` (``drift`` is the expected z-statistic at ``t = 1``; 0 is
    H0) and ``Cov(Z_i, Z_j) = sqrt(t_i / t_j)``, by the same recursive integration as the
    boundaries (Jennison & Turnbull 2000, chapter 19). Their sum is the probability of ever
    crossing: the type I error of a set of boundaries under H0, its power under a drift.

    Parameters
    ----------
    fractions : iterable of float
        Strictly increasing information fractions (only their ratios matter).
    bounds : sequence of float or None
        One boundary per look; ``None`` (or ``inf``) for a look without a test.
    drift : float, default 0.0
    """
    ts = _check_fractions(fractions)
    cs = list(bounds)
    if len(cs) != len(ts):
        raise ValueError(f"need one boundary per look: {len(ts)} fractions, {len(cs)} bounds")
    drift = float(drift)
    if not math.isfinite(drift):
        raise ValueError(f"drift must be finite, got {drift}")
    state = _EMPTY
    out = []
    for t, c in zip(ts, cs):
        if c is not None:
            c = float(c)
            if math.isnan(c):
                raise ValueError("boundaries must be numbers, inf or None, not NaN")
            if c == math.inf:
                c = None
            elif c == -math.inf:
                c = -1e300
        if c is None:  # no test: the continuation region is unchanged (Markov property)
            out.append(0.0)
            continue
        if state.grid is not None and (t - state.t) / t < _MIN_STEP:
            raise ValueError(f"information fraction {t} is within a relative {_MIN_STEP:g} of "
                             f"the previous tested look ({state.t}); too close to integrate")
        step = _Step(state, t, drift)
        out.append(min(step.continuing_mass(), max(0.0, step.crossing(c))))
        state = step.density(c)
    return tuple(out)

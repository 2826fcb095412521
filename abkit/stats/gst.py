"""Group sequential designs with Lan-DeMets alpha spending (one-sided efficacy boundaries).

A team that plans a *fixed number of looks* (or at least a planned maximum information) can
spend its type I error ``alpha`` over the looks with a spending function ``alpha(t)`` of the
information fraction ``t`` (Lan & DeMets, "Discrete sequential boundaries for clinical
trials", Biometrika 70(3), 1983). At a look with information fraction ``t_k`` the efficacy
boundary ``c_k`` on the z-scale solves, under H0::

    P(Z_1 < c_1, ..., Z_{k-1} < c_{k-1}, Z_k >= c_k) = alpha(t_k) - alpha(t_{k-1})

where ``(Z_1, Z_2, ...)`` is the canonical joint normal distribution of the standardised
statistics, ``Cov(Z_i, Z_j) = sqrt(t_i / t_j)`` for ``t_i <= t_j`` (Jennison & Turnbull,
*Group Sequential Methods with Applications to Clinical Trials*, 2000, chapter 3). The looks
need not be equally spaced, and neither their number nor their timing has to be fixed in
advance: only the spending function is (Lan & DeMets 1983). The probability of ever
crossing is then ``alpha(t_K) <= alpha``. The timing must not depend on the data seen so far
(looks at fixed clock times, or whenever a batch arrives, are fine).

Spending functions (named as in Kim & DeMets, "Design and analysis of group sequential tests
based on the type I error spending rate function", Biometrika 74(1), 1987):

* ``"obrien-fleming"`` (Lan & DeMets 1983, O'Brien-Fleming type)::

      alpha(t) = 2 - 2 Phi( z_{1 - alpha/2} / sqrt(t) )

  for a **one-sided** test at level ``alpha``. The quantile is ``z_{1 - alpha/2}``, not
  ``z_{1 - alpha}``: Lan & DeMets wrote the function for a two-sided test, and its one-sided
  use at level ``alpha`` keeps the same formula, so that ``alpha(1) = 2 - 2 (1 - alpha/2) =
  alpha``. Checked against gsDesign's ``sfLDOF`` documentation (``f(t; alpha) = 2 - 2 Phi(
  Phi^{-1}(1 - alpha/2) / t^{rho/2})``, ``rho = 1``, where ``alpha`` is gsDesign's one-sided
  level, default 0.025) and rpact's ``typeOfDesign = "asOF"`` with ``sided = 1``
  (``tests/test_gst.py`` reproduces rpact's one-sided ``alphaSpent`` values). Using
  ``z_{1 - alpha}`` instead would give ``alpha(1) = 2 alpha``, the classic pitfall.
* ``"pocock"`` (Lan & DeMets 1983, Pocock type)::

      alpha(t) = alpha * log(1 + (e - 1) t)

Both are 0 at ``t = 0`` and spend all of ``alpha`` at ``t >= 1``.

Numerical method: the recursive numerical integration of Armitage, McPherson & Rowe
("Repeated significance tests on accumulating data", JRSS A 132(2), 1969), in the form of
Jennison & Turnbull (2000, chapter 19): the sub-density ``h_k(z)`` of ``Z_k`` on the
continuation region (the paths that have not crossed by look ``k``) is carried on a grid and
updated look by look::

    h_k(z') = int h_{k-1}(z) * sqrt(t_k / D) * phi( (z' sqrt(t_k) - z sqrt(t_{k-1})) / sqrt(D) ) dz
    P(cross at k) = int h_{k-1}(z) * (1 - Phi( (c_k sqrt(t_k) - z sqrt(t_{k-1})) / sqrt(D) )) dz

with ``D = t_k - t_{k-1}`` (independent increments of the score ``Z_k sqrt(t_k)``), the
integrals by Simpson's rule. Differences from the book's fixed grid: the grid is uniform,
ends exactly at the previous boundary, and its spacing follows the width of the transition
kernel (6 points per kernel standard deviation, never coarser than 0.04 on the z-scale); when
a look's increment is much smaller than the previous one the stored density is first refined
by cubic interpolation, and the convolution is banded (the normal kernel is cut at 9 standard
deviations), so a look costs O(grid) kernel evaluations when increments are small and
O(grid^2) on a grid of a few hundred points otherwise -- independent of how many looks came
before (100 equally spaced looks: about 0.1 s in all). The grid covers ``[-8, min(c, 9)]``
on the z-scale (under H0 the mass outside is below ``1e-15``). These tuning constants are
module-level (``_Q``, ``_H_MAX``, ``_BAND``, ``_Z_LOW``, ``_Z_HIGH``); with them the
boundaries agree with rpact's published values to ``1e-6`` and the total alpha is within
``2e-7`` of its target for up to 100 looks (``tests/test_gst.py``: rpact, a grid twice as
fine, scipy's multivariate normal CDF, and 200,000-run simulations).

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

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special
from scipy.interpolate import CubicSpline

from ._checks import check_alpha as _check_alpha
from .results import Diagnostic, HasDiagnostics

__all__ = [
    "SPENDING_FUNCTIONS",
    "GroupSequentialDesign",
    "Look",
    "boundaries",
    "crossing_probabilities",
    "spending",
]

SPENDING_FUNCTIONS = ("obrien-fleming", "pocock")

# grid tuning (see the module docstring); chosen by the convergence checks in tests/test_gst.py
_Z_LOW = -8.0  # lower end of the grid (z-scale, relative to the drift); P(Z < -8) = 6e-16
_Z_HIGH = 9.0  # upper cap of the grid; P(Z > 9) = 1e-19
_Z_TAIL = 8.0  # boundaries above this are computed ignoring earlier looks (alpha < 1e-15)
_H_MAX = 0.04  # largest grid spacing (z-scale)
_Q = 6.0  # grid points per standard deviation of the transition kernel
_BAND = 9.0  # kernel truncated beyond this many standard deviations (phi(9) = 1e-18)
_MIN_STEP = 1e-4  # looks whose information grew by less than this (relative) get no boundary
_CHUNK = 1 << 18  # kernel evaluations per block of the banded convolution (memory bound)


# --------------------------------------------------------------------------- validation


def _check_kind(kind: str) -> str:
    if kind not in SPENDING_FUNCTIONS:
        raise ValueError(f"spending must be one of {', '.join(SPENDING_FUNCTIONS)}, "
                         f"got {kind!r}")
    return kind


def _check_fraction(t: float) -> float:
    try:
        v = float(t)
    except (TypeError, ValueError):
        raise ValueError(f"information fraction must be a positive number, got {t!r}") from None
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"information fraction must be a positive finite number, got {t!r}")
    return v


def _check_fractions(fractions: Iterable[float]) -> list[float]:
    ts = [_check_fraction(t) for t in fractions]
    for prev, cur in itertools.pairwise(ts):
        if not cur > prev:
            raise ValueError(f"information fractions must be strictly increasing, got {cur} "
                             f"after {prev}")
    return ts


# --------------------------------------------------------------------------- spending


def _spend(t: float, alpha: float, kind: str) -> float:
    """Cumulative alpha spent at fraction ``t`` (validated inputs, scalar)."""
    if t <= 0.0:
        return 0.0
    if t >= 1.0:
        return alpha
    if kind == "obrien-fleming":
        z = special.ndtri(1.0 - alpha / 2.0)
        return float(min(alpha, 2.0 * special.ndtr(-z / math.sqrt(t))))
    return float(min(alpha, alpha * math.log1p((math.e - 1.0) * t)))


def spending(t: float | Sequence[float] | np.ndarray, alpha: float = 0.05,
             kind: str = "obrien-fleming") -> float | np.ndarray:
    """Lan-DeMets alpha spending function: cumulative one-sided alpha spent at fraction ``t``.

    ``"obrien-fleming"``: ``2 - 2 Phi(z_{1 - alpha/2} / sqrt(t))`` (computed as
    ``2 Phi(-z_{1 - alpha/2} / sqrt(t))`` to keep tiny values exact);
    ``"pocock"``: ``alpha log(1 + (e - 1) t)``. Lan & DeMets (1983); names as in
    Kim & DeMets (1987). Both give 0 at ``t = 0`` and ``alpha`` for ``t >= 1``. ``alpha`` is
    the *one-sided* level (see the module docstring for the ``z_{1 - alpha/2}`` convention).

    Parameters
    ----------
    t : float or array of float
        Information fraction(s), ``>= 0`` (values above 1 mean information beyond the
        planned maximum and spend all of ``alpha``).
    alpha : float, default 0.05
        One-sided level in (0, 1).
    kind : {"obrien-fleming", "pocock"}, default "obrien-fleming"

    Returns
    -------
    float or ndarray
        A float for a scalar ``t``.
    """
    alpha = _check_alpha(alpha)
    _check_kind(kind)
    arr = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("information fractions must be finite and >= 0")
    out = np.array([_spend(float(x), alpha, kind) for x in arr.ravel()]).reshape(arr.shape)
    return float(out) if arr.ndim == 0 else out


# --------------------------------------------------------------------------- the grid engine


@dataclass(frozen=True)
class _State:
    """Sub-density of the statistic on the continuation region after the last tested look."""

    t: float  # information fraction of that look (0 before the first look)
    grid: np.ndarray | None  # uniform z-grid (odd number of points), None before any look
    density: np.ndarray | None  # h(z) at the grid points


_EMPTY = _State(0.0, None, None)


def _simpson_weights(n: int, h: float) -> np.ndarray:
    w = np.full(n, 2.0)
    w[1::2] = 4.0
    w[0] = w[-1] = 1.0
    return w * (h / 3.0)


def _uniform_grid(lo: float, hi: float, h: float) -> np.ndarray:
    """Uniform grid on ``[lo, hi]`` with an even number of intervals of width <= ``h``."""
    n_int = max(2, 2 * math.ceil((hi - lo) / (2.0 * h)))
    return np.linspace(lo, hi, n_int + 1)


def _refine(state: _State, h: float) -> tuple[np.ndarray, np.ndarray]:
    """The stored density on a grid of spacing <= ``h`` (cubic interpolation if needed)."""
    grid, dens = state.grid, state.density
    assert grid is not None and dens is not None
    if grid[1] - grid[0] <= h * (1 + 1e-12):
        return grid, dens
    fine = _uniform_grid(grid[0], grid[-1], h)
    vals = CubicSpline(grid, dens)(fine)
    return fine, np.maximum(vals, 0.0)


class _Step:
    """One transition from the stored state to information fraction ``t`` (drift ``theta``).

    Works on the score scale ``S = Z sqrt(t)``: ``S_new - S_old ~ N(theta D, D)``.
    """

    def __init__(self, state: _State, t: float, theta: float):
        self.first = state.grid is None
        self.t = t
        self.theta = theta
        self.b = math.sqrt(t)
        self.mean = theta * self.b  # E[Z_t]
        if self.first:
            return
        d = t - state.t
        self.a = math.sqrt(state.t)
        self.sd = math.sqrt(d)
        self.shift = theta * d
        s_old = self.sd / self.a  # kernel sd in old-z units
        self.z, dens = _refine(state, min(_H_MAX, s_old / _Q))
        self.wh = _simpson_weights(self.z.size, self.z[1] - self.z[0]) * dens

    def crossing(self, c: float) -> float:
        """P(not crossed before, Z_t >= c)."""
        if self.first:
            return float(special.ndtr(self.mean - c))
        u = (c * self.b - self.a * self.z - self.shift) / self.sd
        return float(np.dot(self.wh, special.ndtr(-u)))

    def continuing_mass(self) -> float:
        if self.first:
            return 1.0
        return float(self.wh.sum())

    def density(self, c: float | None) -> _State:
        """The state after this look with boundary ``c`` (None: no boundary)."""
        lo = self.mean + _Z_LOW
        hi = self.mean + _Z_HIGH if c is None else min(c, self.mean + _Z_HIGH)
        if not hi > lo:  # boundary below the grid: everything crossed
            grid = np.array([lo, lo + 1e-9, lo + 2e-9])
            return _State(self.t, grid, np.zeros(3))
        if self.first:
            grid = _uniform_grid(lo, hi, _H_MAX)
            dens = np.exp(-0.5 * (grid - self.mean) ** 2) / math.sqrt(2.0 * math.pi)
        else:
            grid = _uniform_grid(lo, hi, min(_H_MAX, self.sd / self.b / _Q))
            dens = self._convolve(grid)
        grid.flags.writeable = False
        dens.flags.writeable = False
        return _State(self.t, grid, dens)

    def _convolve(self, x: np.ndarray) -> np.ndarray:
        z, wh = self.z, self.wh
        n_old = z.size
        h_old = z[1] - z[0]
        scale = self.b / self.sd
        s_old = self.sd / self.a
        width = math.ceil(2.0 * _BAND * s_old / h_old) + 3
        out = np.empty(x.size)
        rows = max(1, _CHUNK // min(width, n_old))  # bound the temporary arrays' size
        with np.errstate(under="ignore"):
            for lo in range(0, x.size, rows):
                xs = x[lo:lo + rows]
                if width >= n_old:  # wide kernel, small grid: dense
                    u = (self.b * xs[:, None] - self.a * z[None, :] - self.shift) / self.sd
                    out[lo:lo + rows] = np.exp(-0.5 * u * u) @ wh
                    continue
                centre = (self.b * xs - self.shift) / self.a  # each new x mapped to old z
                start = np.floor((centre - _BAND * s_old - z[0]) / h_old).astype(np.int64)
                idx = start[:, None] + np.arange(width)[None, :]
                valid = (idx >= 0) & (idx < n_old)
                np.clip(idx, 0, n_old - 1, out=idx)
                u = (self.b * xs[:, None] - self.a * z[idx] - self.shift) / self.sd
                k = np.where(valid, np.exp(-0.5 * u * u), 0.0)
                out[lo:lo + rows] = np.einsum("ij,ij->i", k, wh[idx])
        return out * scale / math.sqrt(2.0 * math.pi)


def _solve_boundary(step: _Step, target: float) -> float:
    """The boundary ``c`` with P(not crossed before, Z >= c) = ``target`` (> 0)."""
    c_hi = step.mean - float(special.ndtri(target))  # P(Z >= c_hi) = target
    if step.first:
        return c_hi
    # P(no earlier crossing, Z >= c) <= P(Z >= c): the root is at or below c_hi
    c_lo = step.mean + _Z_LOW - 4.0

    def f(c: float) -> float:
        return step.crossing(c) - target

    if f(c_hi) >= 0.0:
        return c_hi
    if f(c_lo) <= 0.0:  # cannot spend that much (only if the continuing mass is < target)
        return c_lo
    return float(optimize.brentq(f, c_lo, c_hi, xtol=1e-12, rtol=4 * np.finfo(float).eps,
                                 maxiter=200))


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

"""The grid engine of the group sequential designs: recursive numerical integration.

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
``2e-7`` of its target for up to 100 looks (``tests/stats/test_gst.py``: rpact, a grid twice as
fine, scipy's multivariate normal CDF, and 200,000-run simulations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from scipy.interpolate import CubicSpline

# grid tuning (see the module docstring); chosen by the convergence checks in tests/stats/test_gst.py
_Z_LOW = -8.0  # lower end of the grid (z-scale, relative to the drift); P(Z < -8) = 6e-16
_Z_HIGH = 9.0  # upper cap of the grid; P(Z > 9) = 1e-19
_Z_TAIL = 8.0  # boundaries above this are computed ignoring earlier looks (alpha < 1e-15)
_H_MAX = 0.04  # largest grid spacing (z-scale)
_Q = 6.0  # grid points per standard deviation of the transition kernel
_BAND = 9.0  # kernel truncated beyond this many standard deviations (phi(9) = 1e-18)
_MIN_STEP = 1e-4  # looks whose information grew by less than this (relative) get no boundary
_CHUNK = 1 << 18  # kernel evaluations per block of the banded convolution (memory bound)


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

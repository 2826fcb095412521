"""The log-likelihood grid, the discretised mixing distribution and the mixture e-values.

The prior is described in :mod:`abkit.stats.mixture.rate_ratio`, the grid in
:mod:`abkit.stats.mixture.rate_ratio_inference`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ._common import _PRIOR_SDS, DEFAULT_TAU, _check_positive


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

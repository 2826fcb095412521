"""Anytime-valid p-values after every bucket for many independent streams at once.

The vectorised forms of :class:`~abkit.stats.mixture.RateRatioSequence` and
:class:`~abkit.stats.mixture.SequentialSRM`, for simulations and benchmarks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._checks import check_alternative as _check_alternative
from ._common import (
    DEFAULT_GRID_STEP,
    DEFAULT_SRM_TAU,
    _check_positive,
    _counts,
    _exposures,
    _shares,
)
from .grid import _lse, _log_lincomb, _side_weights, _Weights, _weights


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

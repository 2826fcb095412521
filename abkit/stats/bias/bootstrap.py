"""Paired, group-stratified bootstrap intervals of DPPL and DI."""

from __future__ import annotations

import numpy as np

from ..results import ConfidenceInterval, Diagnostic, EffectEstimate
from ._common import _MAX_UNDEFINED_SHARE, _NONE_EE


def _metrics_from_counts(
    ca: np.ndarray, cd: np.ndarray
) -> np.ndarray:
    """Rows of (dppl_l, dppl_c, dppl_change, di_l, di_c, di_change) for count arrays (B, 4)."""
    na, nd = ca.sum(axis=1), cd.sum(axis=1)
    qla, qca = (ca[:, 0] + ca[:, 1]) / na, (ca[:, 0] + ca[:, 2]) / na
    qld, qcd = (cd[:, 0] + cd[:, 1]) / nd, (cd[:, 0] + cd[:, 2]) / nd
    with np.errstate(divide="ignore", invalid="ignore"):
        di_l = np.where(qla > 0, qld / np.where(qla > 0, qla, 1.0), np.nan)
        di_c = np.where(qca > 0, qcd / np.where(qca > 0, qca, 1.0), np.nan)
    return np.column_stack([qla - qld, qca - qcd, (qca - qcd) - (qla - qld), di_l, di_c,
                            di_c - di_l])


def _bootstrap(
    ca: np.ndarray, cd: np.ndarray, point: list[float | None], cl: float, n_resamples: int,
    rng: np.random.Generator, diags: list[Diagnostic],
) -> tuple[EffectEstimate, ...]:
    """Paired, group-stratified bootstrap: rows resampled with replacement within each
    facet, which is a multinomial draw of the four (live, candidate) decision cells."""
    from scipy import special as sp

    na, nd = int(ca.sum()), int(cd.sum())
    ra = rng.multinomial(na, ca / na, size=n_resamples)
    rd = rng.multinomial(nd, cd / nd, size=n_resamples)
    reps = _metrics_from_counts(ra.astype(float), rd.astype(float))
    names = ("DPPL (live)", "DPPL (candidate)", "DPPL change", "DI (live)", "DI (candidate)",
             "DI change")
    out: list[EffectEstimate] = []
    zero_var: list[str] = []
    lo_q, hi_q = (1.0 - cl) / 2.0, (1.0 + cl) / 2.0
    for j, est in enumerate(point):
        if est is None:
            out.append(_NONE_EE)
            continue
        col = reps[:, j]
        ok = np.isfinite(col)
        bad = int((~ok).sum())
        if bad > _MAX_UNDEFINED_SHARE * n_resamples:
            diags.append(Diagnostic(
                "BOOTSTRAP_UNDEFINED",
                f"{names[j]}: undefined in {bad} of {n_resamples} resamples (no positive "
                "prediction in facet a): no interval",
            ))
            out.append(EffectEstimate(est, None, None, None))
            continue
        col = col[ok]
        se = float(col.std(ddof=1))
        if not se > 1e-15:
            zero_var.append(names[j])
            out.append(EffectEstimate(est, 0.0, None, None))
            continue
        lo, hi = np.quantile(col, [lo_q, hi_q])
        null = 1.0 if j in (3, 4) else 0.0
        stat = (est - null) / se
        p = min(float(2.0 * sp.ndtr(-abs(stat))), 1.0)
        out.append(EffectEstimate(est, se, ConfidenceInterval(float(lo), float(hi)), p, None,
                                  stat))
        if bad:
            diags.append(Diagnostic(
                "BOOTSTRAP_UNDEFINED",
                f"{names[j]}: undefined in {bad} of {n_resamples} resamples, which were left "
                "out",
            ))
    if zero_var:
        diags.append(Diagnostic(
            "ZERO_VARIANCE",
            f"{', '.join(zero_var)}: no spread over the bootstrap resamples (e.g. identical "
            "models), so no interval or p-value",
        ))
    return tuple(out)

"""Decision cells, rates and the (paired) delta-method intervals of DPPL and DI."""

from __future__ import annotations

import math

import numpy as np

from ..paired._common import _z
from ..results import ConfidenceInterval, Diagnostic, EffectEstimate
from ._common import _NONE_EE


# --------------------------------------------------------------------------- statistics


def _cells(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Counts of (x, z) = (1, 1), (1, 0), (0, 1), (0, 0)."""
    return np.array([int((x & z).sum()), int((x & ~z).sum()), int((~x & z).sum()),
                     int((~x & ~z).sum())], dtype=np.int64)


def _rates(c: np.ndarray) -> tuple[float, float, float]:
    """(q_live, q_candidate, per-request covariance of the two decisions) from cell counts."""
    n = float(c.sum())
    ql = (c[0] + c[1]) / n
    qc = (c[0] + c[2]) / n
    return float(ql), float(qc), float(c[0] / n - ql * qc)


def _wald(est: float, var: float, cl: float, null: float = 0.0) -> EffectEstimate:
    from scipy import special as sp

    se = math.sqrt(var)
    z = _z(cl)
    stat = (est - null) / se
    p = min(float(2.0 * sp.ndtr(-abs(stat))), 1.0)
    return EffectEstimate(est, se, ConfidenceInterval(est - z * se, est + z * se), p, None, stat)


def _delta(
    ca: np.ndarray, cd: np.ndarray, cl: float, diags: list[Diagnostic]
) -> tuple[EffectEstimate, ...]:
    """DPPL and DI of each model and their changes, by the (paired) delta method."""
    na, nd = float(ca.sum()), float(cd.sum())
    qla, qca, cova = _rates(ca)
    qld, qcd, covd = _rates(cd)
    zero_var: list[str] = []

    def wald_or_none(name: str, est: float | None, var: float, null: float = 0.0,
                     ) -> EffectEstimate:
        if est is None:
            return _NONE_EE
        if not var > 1e-30:
            zero_var.append(name)
            return EffectEstimate(est, 0.0, None, None)
        return _wald(est, var, cl, null)

    # DPPL of each model: independent groups, Wald
    out = [
        wald_or_none("DPPL (live)", qla - qld,
                     qla * (1 - qla) / na + qld * (1 - qld) / nd),
        wald_or_none("DPPL (candidate)", qca - qcd,
                     qca * (1 - qca) / na + qcd * (1 - qcd) / nd),
    ]
    # DPPL change: (qC_a - qL_a) - (qC_d - qL_d); per group var(z - x) / n
    va = (qca * (1 - qca) + qla * (1 - qla) - 2 * cova) / na
    vd = (qcd * (1 - qcd) + qld * (1 - qld) - 2 * covd) / nd
    out.append(wald_or_none("DPPL change", (qca - qcd) - (qla - qld), va + vd))

    # DI of each model: log scale (Katz et al. 1978), se reported on the DI scale
    for name, qa, qd in (("live", qla, qld), ("candidate", qca, qcd)):
        if qa == 0.0:
            out.append(_NONE_EE)
            continue
        di = qd / qa
        if qd == 0.0:
            diags.append(Diagnostic("DI_ZERO", f"no positive {name} predictions in facet d: "
                                    f"DI ({name}) is 0 and its log-scale interval is "
                                    "undefined"))
            out.append(EffectEstimate(0.0, None, None, None))
            continue
        vlog = (1 - qd) / (nd * qd) + (1 - qa) / (na * qa)
        if not vlog > 1e-30:
            zero_var.append(f"DI ({name})")
            out.append(EffectEstimate(di, 0.0, None, None))
            continue
        from scipy import special as sp

        slog = math.sqrt(vlog)
        z = _z(cl)
        stat = math.log(di) / slog
        p = min(float(2.0 * sp.ndtr(-abs(stat))), 1.0)
        out.append(EffectEstimate(di, di * slog, ConfidenceInterval(di * math.exp(-z * slog),
                                                                    di * math.exp(z * slog)),
                                  p, None, stat))
    # DI change: DI_C - DI_L, gradient over (qL, qC) in each group
    if qla == 0.0 or qca == 0.0:
        out.append(_NONE_EE)
    else:
        g_d = np.array([-1.0 / qla, 1.0 / qca])
        g_a = np.array([qld / qla ** 2, -qcd / qca ** 2])
        s_d = np.array([[qld * (1 - qld), covd], [covd, qcd * (1 - qcd)]])
        s_a = np.array([[qla * (1 - qla), cova], [cova, qca * (1 - qca)]])
        var = float(g_d @ s_d @ g_d) / nd + float(g_a @ s_a @ g_a) / na
        out.append(wald_or_none("DI change", qcd / qca - qld / qla, var))
    if zero_var:
        diags.append(Diagnostic(
            "ZERO_VARIANCE",
            f"{', '.join(zero_var)}: zero estimated variance (e.g. identical models, or all "
            "decisions equal within the groups), so no interval or p-value",
        ))
    return tuple(out)

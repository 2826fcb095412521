"""One facet comparison and the public :func:`bias_shift`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..paired._common import _check_confidence, _check_threshold
from ..paired.intervals import _proportion, newcombe_paired_interval
from ..results import Diagnostic, EffectEstimate
from ._common import _NONE_EE, REST, Method
from .bootstrap import _bootstrap
from .delta import _cells, _delta, _rates
from .groups import _encode_groups, _group_json, _match
from .result_types import BiasShiftResult, DisparityShift, GroupRates


def _compare(
    label_d: Any, label_a: Any, cd: np.ndarray, ca: np.ndarray, cl: float, method: str,
    n_resamples: int, rng: np.random.Generator | None, min_group_size: int,
) -> DisparityShift:
    diags: list[Diagnostic] = []
    nd, na = int(cd.sum()), int(ca.sum())
    none6 = (_NONE_EE,) * 6
    if nd == 0 or na == 0:
        which = " and ".join(f"facet {f} ({lab})" for f, lab, k in
                             (("d", label_d, nd), ("a", label_a, na)) if k == 0)
        code = "EMPTY_REFERENCE_GROUP" if na == 0 else "EMPTY_GROUP"
        diags.append(Diagnostic(code, f"{which} has no rows: no comparison"))
        return DisparityShift(label_d, label_a, nd, na, None, None, None, None, *none6,
                              diagnostics=tuple(diags))
    qla, qca, _ = _rates(ca)
    qld, qcd, _ = _rates(cd)
    for name, qa in (("live", qla), ("candidate", qca)):
        if qa == 0.0:
            diags.append(Diagnostic(
                "ZERO_REFERENCE_POSITIVES",
                f"no positive {name} predictions in facet a ({label_a}): DI ({name}) = q_d / "
                "q_a is undefined, and so is the DI change",
            ))
    point: list[float | None] = [
        qla - qld, qca - qcd, (qca - qcd) - (qla - qld),
        qld / qla if qla > 0 else None, qcd / qca if qca > 0 else None,
        (qcd / qca - qld / qla) if qla > 0 and qca > 0 else None,
    ]
    if min(nd, na) < 2:
        diags.append(Diagnostic(
            "GROUP_TOO_SMALL",
            f"facet d has {nd} and facet a {na} request(s): intervals need at least 2 in each",
        ))
        est = tuple(_NONE_EE if v is None else EffectEstimate(v, None, None, None)
                    for v in point)
        return DisparityShift(label_d, label_a, nd, na, qld, qla, qcd, qca, *est,
                              diagnostics=tuple(diags))
    if min(nd, na) < min_group_size:
        diags.append(Diagnostic(
            "SMALL_GROUP",
            f"facet d has {nd} and facet a {na} request(s), fewer than {min_group_size}: "
            "the normal-approximation intervals may be inaccurate",
        ))
    if method == "delta":
        est = _delta(ca, cd, cl, diags)
    else:
        assert rng is not None
        est = _bootstrap(ca, cd, point, cl, n_resamples, rng, diags)
    return DisparityShift(label_d, label_a, nd, na, qld, qla, qcd, qca, *est,
                          diagnostics=tuple(diags))


# --------------------------------------------------------------------------- public


def bias_shift(
    group: Any,
    s_live: Any,
    s_cand: Any,
    y: Any | None = None,
    *,
    threshold: float = 0.5,
    reference: Any | None = None,
    groups: Sequence[Any] | None = None,
    method: Method = "delta",
    n_resamples: int = 2000,
    seed: int = 0,
    confidence_level: float = 0.95,
    min_group_size: int = 30,
) -> BiasShiftResult:
    """Per-group positive-prediction rates and the change in DPPL and DI from live to candidate.

    Decisions are ``score >= threshold``. For each group: ``n``, the positive-prediction rate
    of each model (Wilson intervals) and, with labels, each model's accuracy (Wilson) and the
    accuracy change with Newcombe's paired interval. For each comparison of a facet ``d`` with
    a facet ``a`` (SageMaker Clarify's post-training metrics, see the module docstring)::

        DPPL = q_a - q_d        DI = q_d / q_a

    for the live model and the candidate, and the changes ``DPPL_cand - DPPL_live`` and
    ``DI_cand - DI_live``.

    Intervals (``method``):

    * ``"delta"`` (default, deterministic). Facets are independent samples of sizes
      ``n_a, n_d``; within a facet the per-request covariance matrix of the decision pair
      ``(x, z)`` (live, candidate) is ``[[qL(1-qL), c], [c, qC(1-qC)]]`` with
      ``c = P(x = z = 1) - qL qC``. Each model's DPPL: Wald interval with variance
      ``q_a(1-q_a)/n_a + q_d(1-q_d)/n_d``. Each model's DI: interval on the log scale,
      ``var(log DI) = (1-q_d)/(n_d q_d) + (1-q_a)/(n_a q_a)`` (Katz, Baptista, Azen & Pike
      1978, Biometrics 34:469-474), ``se`` reported as ``DI * se_log``. DPPL change
      ``(qC_a - qL_a) - (qC_d - qL_d)``: variance ``sum_g var(z - x)_g / n_g``. DI change:
      first-order delta method with the gradient over ``(qL, qC)`` of each facet and each
      facet's paired covariance matrix. Wald intervals, z-test p-values.
    * ``"bootstrap"``: ``n_resamples`` (default 2000) paired bootstrap resamples, seeded with
      ``numpy.random.default_rng(seed)`` (default 0): rows are resampled with replacement
      within each facet (stratified, so facet sizes stay fixed), keeping each request's live
      and candidate decisions together; drawn exactly as a multinomial over the four decision
      cells. Percentile intervals; ``se`` is the resamples' standard deviation and the
      p-value the normal approximation ``est / se``. Resamples where DI is undefined
      (``q_a = 0``) are left out and counted; with more than 1 % of them the interval is
      withheld (``BOOTSTRAP_UNDEFINED``).

    Edge cases give ``None`` and a diagnostic, never NaN: no positive predictions in facet
    ``a`` (``ZERO_REFERENCE_POSITIVES``: DI undefined), an empty facet (``EMPTY_GROUP``, or
    ``EMPTY_REFERENCE_GROUP`` for ``reference``), fewer than 2 rows in a facet
    (``GROUP_TOO_SMALL``: estimates only), zero variance, e.g. identical models
    (``ZERO_VARIANCE``), a single group (``SINGLE_GROUP``), missing group values (``None`` or
    NaN: dropped, ``MISSING_GROUP``), non-finite scores (dropped, ``NON_FINITE_DROPPED``).

    Parameters
    ----------
    group : array_like
        Group (facet) value per request: strings or integers.
    s_live, s_cand : array_like
        Scores (or 0 / 1 decisions) of the live and candidate models.
    y : array_like, optional
        0 / 1 labels, NaN where unknown; adds per-group accuracy.
    threshold : float, default 0.5
    reference : group value, optional
        The advantaged facet ``a``: every other group is compared with it. Default ``None``:
        each group is compared with all other rows (facet ``a`` = :data:`REST`), as
        Clarify does for a facet value.
    groups : sequence, optional
        Groups expected in the data; listed groups with no request are reported with
        ``n = 0`` and ``EMPTY_GROUP``.
    method : {"delta", "bootstrap"}, default "delta"
    n_resamples : int, default 2000
    seed : int, default 0
    confidence_level : float, default 0.95
    min_group_size : int, default 30
        Facets smaller than this get a ``SMALL_GROUP`` warning (intervals still computed).
    """
    from ..paired._common import _drop_non_finite, _labels, _scores

    cl = _check_confidence(confidence_level)
    thr = _check_threshold(threshold)
    if method not in ("delta", "bootstrap"):
        raise ValueError(f"method must be 'delta' or 'bootstrap', got {method!r}")
    for name, v, lo in (("n_resamples", n_resamples, 100), ("min_group_size", min_group_size, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    a, b = _scores(s_live, s_cand)
    keys, codes, n_missing = _encode_groups(group)
    if codes.size != a.size:
        raise ValueError(f"group has {codes.size} elements but the scores have {a.size}")
    yv = _labels(y, a.size) if y is not None else np.full(a.size, np.nan)
    diags: list[Diagnostic] = []
    if n_missing:
        diags.append(Diagnostic("MISSING_GROUP", f"{n_missing} request(s) without a group "
                                "value were left out"))
    keep = codes >= 0
    codes, a, b, yv = codes[keep], a[keep], b[keep], yv[keep]
    fin = np.isfinite(a) & np.isfinite(b)
    _drop_non_finite([a, b], diags)
    codes, a, b, yv = codes[fin], a[fin], b[fin], yv[fin]
    if groups is not None:
        for g in groups:
            if _match(g, keys) is None:
                keys.append(_group_json(g))
    ref_idx = None
    if reference is not None:
        ref_idx = _match(reference, keys)
        if ref_idx is None:
            keys.append(_group_json(reference))
            ref_idx = len(keys) - 1
    n = int(a.size)
    if n == 0:
        diags.append(Diagnostic("NO_PAIRS", "there are no rows with a group and finite "
                                "scores"))
    x, z = a >= thr, b >= thr
    labelled = ~np.isnan(yv)
    pos = yv == 1

    group_rows: list[GroupRates] = []
    cells: list[np.ndarray] = []
    for i, key in enumerate(keys):
        sel = codes == i
        ng = int(sel.sum())
        gd: list[Diagnostic] = []
        c = _cells(x[sel], z[sel])
        cells.append(c)
        if ng == 0:
            gd.append(Diagnostic("EMPTY_GROUP", f"group {key} has no rows"))
        lab = sel & labelled
        nl = int(lab.sum())
        acc_l = acc_c = None
        ch = ch_ci = None
        if y is not None:
            if nl == 0:
                gd.append(Diagnostic("NO_LABELS", f"group {key} has no labelled pairs: "
                                     "accuracy is undefined"))
            else:
                ok_l, ok_c = x[lab] == pos[lab], z[lab] == pos[lab]
                n11 = int((ok_l & ok_c).sum())
                n_lc = int((ok_l & ~ok_c).sum())
                n_cl = int((~ok_l & ok_c).sum())
                acc_l = _proportion(n11 + n_lc, nl, cl)
                acc_c = _proportion(n11 + n_cl, nl, cl)
                ch = (n_cl - n_lc) / nl
                ch_ci = newcombe_paired_interval(n11, n_cl, n_lc, nl - n11 - n_lc - n_cl, cl)
        group_rows.append(GroupRates(
            key, ng, nl, _proportion(int(c[0] + c[1]), ng, cl),
            _proportion(int(c[0] + c[2]), ng, cl), acc_l, acc_c, ch, ch_ci, tuple(gd)))

    rng = np.random.default_rng(seed) if method == "bootstrap" else None
    comps: list[DisparityShift] = []
    present = [i for i in range(len(keys)) if group_rows[i].n > 0]
    if reference is not None:
        assert ref_idx is not None
        if group_rows[ref_idx].n == 0:
            diags.append(Diagnostic("EMPTY_REFERENCE_GROUP", f"the reference group "
                                    f"{keys[ref_idx]} has no rows: no comparison"))
        if len(keys) < 2:
            diags.append(Diagnostic("SINGLE_GROUP", "no group other than the reference: "
                                    "nothing to compare"))
        for i in range(len(keys)):
            if i == ref_idx:
                continue
            comps.append(_compare(keys[i], keys[ref_idx], cells[i], cells[ref_idx], cl,
                                  method, n_resamples, rng, min_group_size))
        mode = "reference"
    else:
        mode = "one-vs-rest"
        total = np.sum(cells, axis=0) if cells else np.zeros(4, dtype=np.int64)
        if len(present) < 2:
            diags.append(Diagnostic("SINGLE_GROUP", f"{len(present)} group(s) with rows: "
                                    "no comparison with the rest"))
        for i in range(len(keys)):
            comps.append(_compare(keys[i], REST, cells[i], total - cells[i], cl, method,
                                  n_resamples, rng, min_group_size))
    return BiasShiftResult(
        n, thr, mode, None if reference is None else keys[ref_idx], method,
        n_resamples if method == "bootstrap" else None, seed if method == "bootstrap" else None,
        cl, tuple(group_rows), tuple(comps), tuple(diags))

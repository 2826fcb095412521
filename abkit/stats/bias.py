"""Bias shift between two models scored on the same inputs, in the spirit of SageMaker Clarify.

For a group column (a *facet* in Clarify's words) and a decision threshold, each model's
positive-prediction rate in a group ``g`` is ``q_g = n_g(y' = 1) / n_g``. Following SageMaker
Clarify's post-training bias metrics, for an advantaged facet ``a`` and a disadvantaged facet
``d``:

* difference in positive proportions in predicted labels, ``DPPL = q_a - q_d``
  (https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-post-training-bias-metric-dppl.html);
* disparate impact, ``DI = q_d / q_a``
  (https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-post-training-bias-metric-di.html;
  undefined when ``q_a = 0``).

Positive DPPL and DI below 1 mean facet ``a`` receives positive predictions more often.
:func:`bias_shift` computes both for the live model and the candidate, and how the candidate
changes them (``candidate - live``). The two models scored the *same* inputs, so their
rates in a group are correlated; the intervals of the changes use that pairing (a two-sample
interval that ignores it is far too wide when the models agree on most inputs, see
``tests/test_bias.py``).

Inference conditions on the group sizes (rows in different groups are independent; within a
group, each request contributes a pair ``(x_i, z_i)`` of live and candidate decisions). The
pair's four cells ``(1, 1), (1, 0), (0, 1), (0, 0)`` are sufficient statistics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .paired import (
    Proportion,
    _check_confidence,
    _check_threshold,
    _ci_dict,
    _diag_list,
    _ee_dict,
    _num,
    _proportion,
    _z,
    newcombe_paired_interval,
)
from .results import ConfidenceInterval, Diagnostic, EffectEstimate, HasDiagnostics

__all__ = ["REST", "BiasShiftResult", "DisparityShift", "GroupRates", "bias_shift"]

#: label of the comparison facet ``a`` when each group is compared with all other rows
REST = "<rest>"
Method = Literal["delta", "bootstrap"]
_NONE_EE = EffectEstimate(None, None, None, None)
#: bootstrap intervals are withheld when more than this share of replicates is undefined
_MAX_UNDEFINED_SHARE = 0.01


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class GroupRates:
    """One group's decisions under both models.

    ``positive_live`` / ``positive_candidate``: positive-prediction rates (Wilson intervals);
    ``accuracy_live`` / ``accuracy_candidate``: accuracy on the group's labelled pairs
    (``None`` without labels); ``accuracy_change``: ``candidate - live`` accuracy with
    Newcombe's (1998) paired interval.
    """

    group: str | int | float
    n: int
    n_labelled: int
    positive_live: Proportion
    positive_candidate: Proportion
    accuracy_live: Proportion | None
    accuracy_candidate: Proportion | None
    accuracy_change: float | None
    accuracy_change_ci: ConfidenceInterval | None
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        opt = lambda p: None if p is None else p.to_dict()
        return {
            "group": _group_json(self.group),
            "n": int(self.n),
            "n_labelled": int(self.n_labelled),
            "positive_live": self.positive_live.to_dict(),
            "positive_candidate": self.positive_candidate.to_dict(),
            "accuracy_live": opt(self.accuracy_live),
            "accuracy_candidate": opt(self.accuracy_candidate),
            "accuracy_change": _num(self.accuracy_change),
            "accuracy_change_ci": _ci_dict(self.accuracy_change_ci),
            "diagnostics": _diag_list(self.diagnostics),
        }


@dataclass(frozen=True)
class DisparityShift(HasDiagnostics):
    """Disparity between facet ``a`` (advantaged / reference) and facet ``d`` for both models.

    Every field is an :class:`EffectEstimate` whose ``pvalue`` tests "no disparity"
    (``DPPL = 0``, ``DI = 1``) or "no change" (change ``= 0``). ``dppl_*`` and ``di_*`` of one
    model compare independent groups; ``*_change`` (candidate - live) use the pairing.
    ``facet_a`` is the reference group or :data:`REST` (all rows outside ``facet_d``).
    """

    facet_d: str | int | float
    facet_a: str | int | float
    n_d: int
    n_a: int
    q_d_live: float | None
    q_a_live: float | None
    q_d_candidate: float | None
    q_a_candidate: float | None
    dppl_live: EffectEstimate
    dppl_candidate: EffectEstimate
    dppl_change: EffectEstimate
    di_live: EffectEstimate
    di_candidate: EffectEstimate
    di_change: EffectEstimate
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "facet_d": _group_json(self.facet_d),
            "facet_a": _group_json(self.facet_a),
            "n_d": int(self.n_d),
            "n_a": int(self.n_a),
            "q_d_live": _num(self.q_d_live),
            "q_a_live": _num(self.q_a_live),
            "q_d_candidate": _num(self.q_d_candidate),
            "q_a_candidate": _num(self.q_a_candidate),
            "dppl": {"live": _ee_dict(self.dppl_live),
                     "candidate": _ee_dict(self.dppl_candidate),
                     "change": _ee_dict(self.dppl_change)},
            "di": {"live": _ee_dict(self.di_live),
                   "candidate": _ee_dict(self.di_candidate),
                   "change": _ee_dict(self.di_change)},
            "diagnostics": _diag_list(self.diagnostics),
        }


@dataclass(frozen=True)
class BiasShiftResult(HasDiagnostics):
    """Per-group rates and the disparity comparisons of :func:`bias_shift`.

    ``mode`` is ``"reference"`` (each other group ``d`` against the reference group ``a``) or
    ``"one-vs-rest"`` (each group ``d`` against all other rows). ``method`` is
    ``"delta"`` or ``"bootstrap"`` (then ``n_resamples`` and ``seed`` are set).
    """

    n: int
    threshold: float
    mode: str
    reference: str | int | float | None
    method: str
    n_resamples: int | None
    seed: int | None
    confidence_level: float
    groups: tuple[GroupRates, ...]
    comparisons: tuple[DisparityShift, ...]
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def comparison(self, facet_d: Any) -> DisparityShift | None:
        """The comparison whose facet ``d`` is ``facet_d`` (``None`` if there is none)."""
        for c in self.comparisons:
            if c.facet_d == facet_d or str(c.facet_d) == str(facet_d):
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": int(self.n),
            "threshold": _num(self.threshold),
            "mode": self.mode,
            "reference": None if self.reference is None else _group_json(self.reference),
            "method": self.method,
            "n_resamples": None if self.n_resamples is None else int(self.n_resamples),
            "seed": None if self.seed is None else int(self.seed),
            "confidence_level": _num(self.confidence_level),
            "groups": [g.to_dict() for g in self.groups],
            "comparisons": [c.to_dict() for c in self.comparisons],
            "diagnostics": _diag_list(self.diagnostics),
        }


# --------------------------------------------------------------------------- groups


def _group_json(g: Any) -> str | int | float:
    if isinstance(g, (bool, np.bool_)):
        return str(bool(g))
    if isinstance(g, (int, np.integer)):
        return int(g)
    if isinstance(g, (float, np.floating)):
        v = float(g)
        return int(v) if v.is_integer() else v
    return str(g)


def _encode_groups(group: Any) -> tuple[list[Any], np.ndarray, int]:
    """(sorted distinct group values, code per element (-1 = missing), number missing).

    Missing: ``None`` and float NaN. Integer groups stay integers; anything else that is not
    all numeric becomes a string.
    """
    arr = np.asarray(group)
    if arr.ndim != 1:
        raise ValueError(f"group must be one-dimensional, got shape {arr.shape}")
    kind = arr.dtype.kind
    if kind in "iub":
        keys, inv = np.unique(arr, return_inverse=True)
        return [_group_json(k) for k in keys], inv.astype(np.int64), 0
    if kind == "f":
        missing = np.isnan(arr)
        keys, inv = np.unique(arr[~missing], return_inverse=True)
        codes = np.full(arr.size, -1, dtype=np.int64)
        codes[~missing] = inv
        return [_group_json(k) for k in keys], codes, int(missing.sum())
    if kind in "US":
        keys, inv = np.unique(arr, return_inverse=True)
        return [str(k) for k in keys], inv.astype(np.int64), 0
    values = arr.tolist()
    missing = np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in values],
                       dtype=bool)
    present = [v for v, mi in zip(values, missing) if not mi]
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
           for v in present):
        norm = np.array([int(v) for v in present], dtype=np.int64)
    else:
        norm = np.array([str(v) for v in present], dtype=object)
    codes = np.full(arr.size, -1, dtype=np.int64)
    if norm.size:
        keys, inv = np.unique(norm, return_inverse=True)
        codes[~missing] = inv
        keys_l = [_group_json(k) for k in keys]
    else:
        keys_l = []
    return keys_l, codes, int(missing.sum())


def _match(value: Any, keys: list[Any]) -> int | None:
    for i, k in enumerate(keys):
        if k == value or str(k) == str(value):
            return i
    return None


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
    from .paired import _drop_non_finite, _labels, _scores

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

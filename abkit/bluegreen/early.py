"""The early check: look-by-look anytime-valid lower bounds of each guardrail's harm after the
switch (:func:`early_bounds`) and their result types.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..stats.results import Diagnostic
from ..stats.sequential import cs_radius, rho_for
from ._common import _f, _iso
from .cells import Cells
from .layout import Layout, look_bucket
from .time_confounding import _hour_bins

@dataclass(frozen=True)
class EarlyMetricLook:
    """One guardrail at one look: green's running mean against blue's fixed reference.

    ``estimate`` = green's running mean minus the reference mean over the same rows;
    ``harm_lower`` the anytime-valid lower bound of the harm (see :func:`analyze_bluegreen`);
    ``regressed`` when ``harm_lower > margin_abs`` (``None`` bounds: not evaluated yet).
    """

    metric: str
    n: int
    green_mean: float | None
    reference_mean: float | None
    estimate: float | None
    harm_lower: float | None
    margin_abs: float | None
    regressed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "n": self.n, "green_mean": _f(self.green_mean),
                "reference_mean": _f(self.reference_mean), "estimate": _f(self.estimate),
                "harm_lower": _f(self.harm_lower), "margin_abs": _f(self.margin_abs),
                "regressed": self.regressed}


@dataclass(frozen=True)
class EarlyLook:
    """The state of every guardrail at one look time (cumulative green rows up to it)."""

    number: int
    time: float
    elapsed: float  # seconds since the switch
    n_green: int
    metrics: tuple[EarlyMetricLook, ...]

    @property
    def regressed(self) -> tuple[str, ...]:
        return tuple(m.metric for m in self.metrics if m.regressed)

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "time": _f(self.time), "time_iso": _iso(self.time),
                "elapsed": _f(self.elapsed), "n_green": self.n_green,
                "metrics": [m.to_dict() for m in self.metrics],
                "regressed": list(self.regressed)}


@dataclass(frozen=True)
class EarlyCheck:
    """Look-by-look anytime-valid regression check of the guardrails after the switch.

    ``references[metric]`` says what green was compared with (``"matched-hours"``: blue's
    mean at the same hour bin before the switch; ``"before-window"``: blue's before-window
    mean) and how many reference means ``K`` the Bonferroni split covers.
    ``first_regression`` is the first look at which any guardrail had regressed.
    """

    alpha: float
    tightest_at: int
    look_every: float
    min_rows: int
    method: str
    references: Mapping[str, Mapping[str, Any]]
    looks: tuple[EarlyLook, ...]
    first_regression: EarlyLook | None
    diagnostics: tuple[Diagnostic, ...] = ()

    def first_look_of(self, metric: str) -> EarlyLook | None:
        for lk in self.looks:
            if metric in lk.regressed:
                return lk
        return None

    def to_dict(self) -> dict[str, Any]:
        fr = self.first_regression
        return {"alpha": self.alpha, "tightest_at": self.tightest_at,
                "look_every": self.look_every, "min_rows": self.min_rows,
                "method": self.method, "references": {k: dict(v) for k, v in
                                                      self.references.items()},
                "looks": [lk.to_dict() for lk in self.looks],
                "first_regression": None if fr is None else {
                    "number": fr.number, "time": _f(fr.time), "time_iso": _iso(fr.time),
                    "elapsed": _f(fr.elapsed), "metrics": list(fr.regressed)},
                "diagnostics": [d.to_dict() for d in self.diagnostics]}


@dataclass(frozen=True)
class _Reference:
    mode: str
    bins: np.ndarray  # per-bin mean, se and df of blue's mean; n < 2 bins are unusable
    mean: np.ndarray
    half: np.ndarray  # one-sided Bonferroni half-width per bin
    usable: np.ndarray
    var: float  # pooled within-bin variance (the variance floor)
    k: int


def _reference(moments: tuple[np.ndarray, np.ndarray, np.ndarray], alpha: float, mode: str
               ) -> _Reference | None:
    """Blue's reference per bin from its per-bin moments (count, mean, centred sum of
    squares of the finite values)."""
    from scipy import special as sp

    n, mean, ss = moments
    if n.sum() == 0:
        return None
    bins = np.arange(n.size)
    usable = n >= 2
    k = int(usable.sum())
    if k == 0:
        return None
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        var = np.where(usable, ss / np.maximum(n - 1.0, 1.0), 0.0)
        se = np.sqrt(var / np.maximum(n, 1.0))
        crit = np.where(usable, sp.stdtrit(np.maximum(n - 1.0, 1.0), 1.0 - alpha / (2.0 * k)),
                        0.0)
        half = np.where(usable, crit * se, 0.0)
        pooled = float(ss[usable].sum() / (n[usable] - 1.0).sum())
    if not (np.isfinite(half).all() and math.isfinite(pooled)):
        return None
    return _Reference(mode, bins, mean, half, usable, pooled, k)


def early_bounds(
    y: np.ndarray, ref_mean: np.ndarray, ref_half: np.ndarray, look_n: np.ndarray, *,
    harmful: str, alpha: float, tightest_at: int, var_floor: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Anytime-valid lower bound of the harm at each look (vectorised core of ``early``).

    ``y[i]`` is green's value of the i-th row after the switch (in time order),
    ``ref_mean[i]`` the fixed reference mean for that row (blue's before-window mean, or
    blue's mean at the row's hour bin) and ``ref_half[i]`` that reference's one-sided
    half-width at level ``alpha / (2 K)``. ``look_n`` are the cumulative row counts at the
    looks (each >= 1). Returns ``(estimate, harm_lower, green_mean, reference_mean)`` per
    look, with ``estimate = mean(y - ref_mean)`` over the first ``n`` rows and::

        harm_lower = s * estimate - radius_n - mean(ref_half)     (s = +1 if an increase
                                                                   is harmful, else -1)

    where ``radius_n`` is the one-sided asymptotic CS radius (:func:`abkit.stats.sequential.
    cs_radius`, level ``alpha / 2``, ``rho = rho_for(tightest_at, alpha / 2, "greater")``)
    with variance ``max(sample variance of y - ref_mean, var_floor)``.
    """
    look_n = np.asarray(look_n, dtype=np.int64)
    idx = look_n - 1
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        d = y - ref_mean
        sums = (np.cumsum(d)[idx], np.cumsum(d * d)[idx], np.cumsum(ref_half)[idx],
                np.cumsum(y)[idx], np.cumsum(ref_mean)[idx])
    return early_bounds_from_sums(look_n, *sums, harmful=harmful, alpha=alpha,
                                  tightest_at=tightest_at, var_floor=var_floor)


def early_bounds_from_sums(
    look_n: np.ndarray, sum_d: np.ndarray, sum_d2: np.ndarray, sum_half: np.ndarray,
    sum_y: np.ndarray, sum_ref: np.ndarray, *, harmful: str, alpha: float,
    tightest_at: int, var_floor: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`early_bounds` from the running sums at each look of ``d = y - ref_mean``,
    ``d^2``, ``ref_half``, ``y`` and ``ref_mean`` over the first ``look_n`` rows."""
    look_n = np.asarray(look_n, dtype=np.int64)
    n = look_n.astype(float)
    cs1, cs2 = np.asarray(sum_d, dtype=float), np.asarray(sum_d2, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mean_d = cs1 / n
        var = np.where(n > 1, (cs2 - cs1 * mean_d) / np.maximum(n - 1, 1.0), 0.0)
        var = np.maximum(np.maximum(var, 0.0), var_floor)
        bad = ~(np.isfinite(var) & np.isfinite(mean_d))  # overflow: no bound (NaN -> None)
        a = alpha / 2.0
        rho = rho_for(tightest_at, a, "greater")
        radius = np.asarray(cs_radius(look_n, np.where(bad, 0.0, var), a, rho, "greater"),
                            dtype=float)
        s = 1.0 if harmful == "increase" else -1.0
        harm_lower = np.where(bad, np.nan, s * mean_d - radius - np.asarray(sum_half) / n)
    return mean_d, harm_lower, np.asarray(sum_y) / n, np.asarray(sum_ref) / n


def _look_sums(c: Cells, name: str, in_ga: np.ndarray, bins: np.ndarray, ref: _Reference,
               bucket: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Per look (running): rows counted, then the usable rows and the sums of
    :func:`early_bounds_from_sums`, over green's after-window cells."""
    n = np.where(ref.usable[bins], c.n[name], 0)[in_ga].astype(float)
    mu, m2 = c.mean[name][in_ga], c.m2[name][in_ga]
    b = bucket[in_ga]
    h = bins[in_ga]
    rm, rh = ref.mean[h], ref.half[h]
    with np.errstate(over="ignore", invalid="ignore"):
        dev = np.where(n > 0, mu - rm, 0.0)
        parts = (c.w[in_ga].astype(float), n, n * dev, np.where(n > 0, m2, 0.0) + n * dev * dev,
                 n * rh, n * np.where(n > 0, mu, 0.0), n * rm)
        return tuple(np.cumsum(np.bincount(b, weights=x, minlength=k)) for x in parts)


def _early_check(metrics, c: Cells, in_bb, blue_pre, in_ga, lay: Layout, alpha, look_every,
                 tightest_at, min_rows, matched_block, early_reference, basis) -> EarlyCheck:
    guards = [m for m in metrics if m.role == "guardrail"]
    method = ("one-sided asymptotic confidence sequence (Waudby-Smith et al. 2024) for green's "
              "running mean minus a fixed blue reference, at alpha/2, plus Bonferroni "
              "one-sided t bounds for the reference means at alpha/(2K); union bound")
    diags: list[Diagnostic] = []
    if lay.looks is None:
        diags.append(Diagnostic("NO_LOOKS", "green has no rows after the switch (and warm-up); "
                                            "no early looks"))
        return EarlyCheck(alpha, tightest_at, look_every, min_rows, method, {}, (), None,
                          tuple(diags))
    if lay.looks_capped is not None:
        diags.append(lay.looks_capped)
        look_every = lay.look_every
    times = lay.looks
    k = times.size
    bucket = look_bucket(c.t0, lay)
    counts = np.cumsum(np.bincount(bucket[in_ga], weights=c.w[in_ga],
                                   minlength=k)).astype(np.int64)
    per_metric: dict[str, list[EarlyMetricLook]] = {}
    refs: dict[str, dict[str, Any]] = {}
    zero = np.zeros(c.w.size, dtype=np.int64)
    for m in guards:
        want = early_reference
        if want == "auto":
            want = ("matched-hours" if basis == "matched-hours"
                    and matched_block.get(m.name) is not None else "before-window")
        ref = None
        if want == "matched-hours":
            mode = matched_block.match or "hour-of-day"
            nb = 24 if mode == "hour-of-day" else 168
            bins = _hour_bins(c.t0, mode)
            ref = _reference(c.binned(m.name, blue_pre, bins, nb), alpha, mode)
            if ref is None:
                diags.append(Diagnostic("REFERENCE_FALLBACK", f"{m.name}: no matched-hours "
                                        "reference; the before-window mean is used"))
        if ref is None:
            ref = _reference(c.binned(m.name, in_bb, zero, 1), alpha, "before-window")
            bins = zero
        if ref is None:
            diags.append(Diagnostic("NO_REFERENCE", f"{m.name}: blue has fewer than 2 values "
                                                    "before the switch; not checked"))
            continue
        refs[m.name] = {"reference": ref.mode, "k": ref.k, "variance_floor": _f(ref.var)}
        _, n_look_f, *sums = _look_sums(c, m.name, in_ga, bins, ref, bucket, k)
        n_look = np.rint(n_look_f).astype(np.int64)
        dropped = int(c.rows(in_ga) - n_look[-1])
        if dropped:
            diags.append(Diagnostic("EARLY_ROWS_LEFT_OUT", f"{m.name}: {dropped} green rows "
                                    "have no value or no reference bin; left out of the looks"))
        harmful = "increase" if m.good == "decrease" else "decrease"
        looks: list[EarlyMetricLook] = []
        has = n_look >= 1
        if has.any():
            est, hl, gm, rmean = early_bounds_from_sums(
                n_look[has], *(x[has] for x in sums), harmful=harmful, alpha=alpha,
                tightest_at=tightest_at, var_floor=ref.var)
        j = 0
        for i, n in enumerate(n_look):
            if n < 1:
                looks.append(EarlyMetricLook(m.name, 0, None, None, None, None, None, False))
                continue
            ma = m.margin * abs(float(rmean[j]) if m.baseline is None else float(m.baseline))
            lower = _f(hl[j]) if n >= min_rows else None
            looks.append(EarlyMetricLook(m.name, int(n), _f(gm[j]), _f(rmean[j]), _f(est[j]),
                                         lower, ma, lower is not None and lower > ma))
            j += 1
        per_metric[m.name] = looks
    out = []
    for i, tm in enumerate(times):
        out.append(EarlyLook(i + 1, float(tm), float(tm - lay.s), int(counts[i]),
                             tuple(per_metric[name][i] for name in per_metric)))
    first = next((lk for lk in out if lk.regressed), None)
    if not guards:
        diags.append(Diagnostic("NO_GUARDRAILS", "no guardrail metric; the early check has "
                                                 "nothing to watch"))
    return EarlyCheck(alpha, tightest_at, look_every, min_rows, method, refs, tuple(out), first,
                      tuple(diags))

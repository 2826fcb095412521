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
from ._common import MAX_LOOKS, _f, _iso
from .time_confounding import _bin_moments, _hour_bins

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


def _reference(y: np.ndarray, bins: np.ndarray, nbins: int, alpha: float, mode: str
               ) -> _Reference | None:
    from scipy import special as sp

    ok = np.isfinite(y)
    y, bins = y[ok], bins[ok]
    if y.size == 0:
        return None
    n, mean, ss = _bin_moments(bins, y, nbins)
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
    n = look_n.astype(float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        d = y - ref_mean
        cs1 = np.cumsum(d)
        cs2 = np.cumsum(d * d)
        ch = np.cumsum(ref_half)
        cy = np.cumsum(y)
        cr = np.cumsum(ref_mean)
        mean_d = cs1[idx] / n
        var = np.where(n > 1, (cs2[idx] - cs1[idx] * mean_d) / np.maximum(n - 1, 1.0), 0.0)
        var = np.maximum(np.maximum(var, 0.0), var_floor)
        bad = ~(np.isfinite(var) & np.isfinite(mean_d))  # overflow: no bound (NaN -> None)
        a = alpha / 2.0
        rho = rho_for(tightest_at, a, "greater")
        radius = np.asarray(cs_radius(look_n, np.where(bad, 0.0, var), a, rho, "greater"),
                            dtype=float)
        s = 1.0 if harmful == "increase" else -1.0
        harm_lower = np.where(bad, np.nan, s * mean_d - radius - ch[idx] / n)
    return mean_d, harm_lower, cy[idx] / n, cr[idx] / n


def _early_check(metrics, t, vals, in_bb, blue_pre, in_ga, g0, W, s, alpha, look_every,
                 tightest_at, min_rows, matched_block, early_reference, basis) -> EarlyCheck:
    guards = [m for m in metrics if m.role == "guardrail"]
    method = ("one-sided asymptotic confidence sequence (Waudby-Smith et al. 2024) for green's "
              "running mean minus a fixed blue reference, at alpha/2, plus Bonferroni "
              "one-sided t bounds for the reference means at alpha/(2K); union bound")
    diags: list[Diagnostic] = []
    if W <= 0 or not in_ga.any():
        diags.append(Diagnostic("NO_LOOKS", "green has no rows after the switch (and warm-up); "
                                            "no early looks"))
        return EarlyCheck(alpha, tightest_at, look_every, min_rows, method, {}, (), None,
                          tuple(diags))
    k_last = math.ceil(W / look_every)
    if k_last > MAX_LOOKS:
        diags.append(Diagnostic("LOOKS_CAPPED", f"{k_last} looks of {look_every:g} s would "
                                f"cover the window; the interval is widened to "
                                f"{W / MAX_LOOKS:g} s ({MAX_LOOKS} looks)"))
        look_every = W / MAX_LOOKS
        k_last = MAX_LOOKS
    times = g0 + look_every * np.arange(1, k_last + 1, dtype=float)
    times[-1] = min(times[-1], g0 + W)
    tg = t[in_ga]
    counts = np.searchsorted(tg, times, side="left")
    counts[-1] = tg.size  # the last look includes the window's closed end
    per_metric: dict[str, list[EarlyMetricLook]] = {}
    refs: dict[str, dict[str, Any]] = {}
    for m in guards:
        y_all = vals[m.name][in_ga]
        want = early_reference
        if want == "auto":
            want = ("matched-hours" if basis == "matched-hours"
                    and matched_block.get(m.name) is not None else "before-window")
        ref = None
        if want == "matched-hours":
            mode = matched_block.match or "hour-of-day"
            nb = 24 if mode == "hour-of-day" else 168
            ref = _reference(vals[m.name][blue_pre], _hour_bins(t[blue_pre], mode), nb, alpha,
                             mode)
            bins_g = _hour_bins(tg, mode)
            if ref is None:
                diags.append(Diagnostic("REFERENCE_FALLBACK", f"{m.name}: no matched-hours "
                                        "reference; the before-window mean is used"))
        if ref is None:
            yb = vals[m.name][in_bb]
            ref = _reference(yb, np.zeros(yb.size, dtype=np.int64), 1, alpha, "before-window")
            bins_g = np.zeros(tg.size, dtype=np.int64)
        if ref is None:
            diags.append(Diagnostic("NO_REFERENCE", f"{m.name}: blue has fewer than 2 values "
                                                    "before the switch; not checked"))
            continue
        refs[m.name] = {"reference": ref.mode, "k": ref.k, "variance_floor": _f(ref.var)}
        ok = np.isfinite(y_all) & ref.usable[bins_g]
        dropped = int(tg.size - ok.sum())
        if dropped:
            diags.append(Diagnostic("EARLY_ROWS_LEFT_OUT", f"{m.name}: {dropped} green rows "
                                    "have no value or no reference bin; left out of the looks"))
        y = y_all[ok]
        rm = ref.mean[bins_g[ok]]
        rh = ref.half[bins_g[ok]]
        cum_ok = np.r_[0, np.cumsum(ok)]
        n_look = cum_ok[counts]
        harmful = "increase" if m.good == "decrease" else "decrease"
        looks: list[EarlyMetricLook] = []
        has = n_look >= 1
        if has.any():
            est, hl, gm, rmean = early_bounds(y, rm, rh, n_look[has], harmful=harmful,
                                              alpha=alpha, tightest_at=tightest_at,
                                              var_floor=ref.var)
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
        out.append(EarlyLook(i + 1, float(tm), float(tm - s), int(counts[i]),
                             tuple(per_metric[name][i] for name in per_metric)))
    first = next((lk for lk in out if lk.regressed), None)
    if not guards:
        diags.append(Diagnostic("NO_GUARDRAILS", "no guardrail metric; the early check has "
                                                 "nothing to watch"))
    return EarlyCheck(alpha, tightest_at, look_every, min_rows, method, refs, tuple(out), first,
                      tuple(diags))

"""Time confounding: the matched-hours comparison (:func:`stratified_welch`), the placebo
checks and the agreement of plain and matched comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..spec import MetricSpec
from ..stats.compare import Comparison
from ..stats.results import Diagnostic, EffectEstimate
from ._common import MATCHED_MIN_SHARE, _ROUNDING, _f, _one_sided_p, _t_interval
from .comparisons import ComparisonBlock, MetricComparison, _assess

@dataclass(frozen=True)
class PlaceboCheck:
    """Blue against itself over the same span: did it move by more than the margin?

    ``flagged`` lists the guardrails for which blue's before-window differs from the
    reference by more than ``margin_abs`` in either direction (two one-sided tests at
    ``alpha / 2`` each; for a zero margin this is the two-sided test at ``alpha``): a drift
    of that size by itself is what the before/after comparison cannot tell from a
    regression (or that would hide one). Other metrics are reported in ``block`` but not
    flagged: without a margin, any detectable drift of a large sample would flag them.
    ``trustworthy`` is ``None`` when the check is unavailable.
    """

    block: ComparisonBlock
    flagged: tuple[str, ...]
    directions: Mapping[str, str]

    @property
    def trustworthy(self) -> bool | None:
        if not self.block.available:
            return None
        return not self.flagged

    def to_dict(self) -> dict[str, Any]:
        return {**self.block.to_dict(), "flagged": list(self.flagged),
                "directions": dict(self.directions), "trustworthy": self.trustworthy}


@dataclass(frozen=True)
class TimeConfounding:
    """The warning, the matched-hours comparison, its agreement, and the placebo checks.

    ``agreement[metric]`` is True when the plain and the matched comparisons reach the same
    conclusion for the metric (guardrails: same ``regressed`` and same ``noninferior``;
    other metrics: same ``verdict``), ``None`` when either is missing. ``basis`` is the
    comparison the decision rests on: ``"matched-hours"`` when it is available for every
    gating metric and its placebo check did not flag; else the plain comparison when its
    placebo did not flag; else (both flagged) the matched one when available.
    """

    warning: str
    matched: ComparisonBlock
    agreement: Mapping[str, bool | None]
    placebo_adjacent: PlaceboCheck
    placebo_matched: PlaceboCheck
    basis: str

    @property
    def agrees(self) -> bool | None:
        vals = [v for v in self.agreement.values() if v is not None]
        return None if not vals else all(vals)

    def to_dict(self) -> dict[str, Any]:
        return {"warning": self.warning, "matched": self.matched.to_dict(),
                "agreement": dict(self.agreement), "agrees": self.agrees,
                "placebo": {"adjacent": self.placebo_adjacent.to_dict(),
                            "matched": self.placebo_matched.to_dict()},
                "basis": self.basis}


def _bin_moments(bins: np.ndarray, y: np.ndarray, nbins: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin count, mean and centred sum of squares (two-pass, no cancellation)."""
    n = np.bincount(bins, minlength=nbins).astype(float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        s = np.bincount(bins, weights=y, minlength=nbins)
        mean = np.where(n > 0, s / np.maximum(n, 1.0), 0.0)
        dev = y - mean[bins]
        ss = np.bincount(bins, weights=dev * dev, minlength=nbins)
    return n, mean, ss


def stratified_welch(
    target: Any,
    target_bins: Any,
    reference: Any,
    reference_bins: Any,
    *,
    confidence_level: float = 0.95,
    min_share: float = MATCHED_MIN_SHARE,
    label: str = "hour-of-day",
) -> tuple[Comparison | None, float | None, tuple[Diagnostic, ...]]:
    """Post-stratified difference ``target - reference``, standardised to the target's bins.

    With target rows in bins ``h`` (hours of the day, say) with counts ``n_h`` and shares
    ``w_h = n_h / N`` (``N`` = matched target rows), and reference means ``b_h``::

        effect = sum_h w_h (t_h - b_h) = mean(target) - sum_h w_h b_h

    so the reference is re-weighted to the target's mix of bins (direct standardisation;
    Cochran 1977, section 5A.9: the post-stratified mean, its variance conditional on the
    stratum counts). Variance, conditional on the target's counts::

        var = S_w^2 / N  +  sum_h w_h^2 s_h^2 / m_h

    with ``S_w^2`` the target's pooled within-bin variance (``N - H`` degrees of freedom for
    ``H`` target bins; it equals ``sum_h w_h^2 s_{t,h}^2 / n_h`` up to the ``n_h`` vs
    ``n_h - 1`` weights, and is defined for bins holding one target row) and ``s_h^2 / m_h``
    the reference bin's variance of the mean. The interval is Student t with
    Satterthwaite's (1946) degrees of freedom ``(sum c_i)^2 / sum(c_i^2 / df_i)`` over those
    components. With a single bin this is exactly Welch's t-test.

    Only bins where the reference has at least 2 values are used; target rows elsewhere are
    left out and ``matched_share`` (the share of target rows kept) is returned. Below
    ``min_share`` (default 0.8) no comparison is made (diagnostic ``INSUFFICIENT_MATCH``).

    The relative effect ``effect / B`` (``B = sum_h w_h b_h``) gets a delta-method normal
    interval, ``var = S_w^2 / (N B^2) + (G / B^2)^2 sum_h w_h^2 s_h^2 / m_h``.

    Returns
    -------
    (Comparison or None, matched_share or None, diagnostics)
        The Comparison has ``control`` = the standardised reference, ``treatment`` = target,
        ``method = "post-stratified welch (<label>)"``.
    """
    level = float(confidence_level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level}")
    yt = np.asarray(target, dtype=float)
    bt = np.asarray(target_bins, dtype=np.int64)
    yr = np.asarray(reference, dtype=float)
    br = np.asarray(reference_bins, dtype=np.int64)
    if yt.shape != bt.shape or yr.shape != br.shape or yt.ndim != 1 or yr.ndim != 1:
        raise ValueError("values and bins must be 1-D arrays of equal length")
    if (bt.size and bt.min() < 0) or (br.size and br.min() < 0):
        raise ValueError("bins must be non-negative integers")
    ok_t, ok_r = np.isfinite(yt), np.isfinite(yr)
    yt, bt, yr, br = yt[ok_t], bt[ok_t], yr[ok_r], br[ok_r]
    if yt.size == 0 or yr.size == 0:
        which = "target" if yt.size == 0 else "reference"
        return None, None, (Diagnostic("EMPTY_ARM", f"the {which} has no rows"),)
    nbins = int(max(bt.max(), br.max())) + 1
    return stratified_welch_bins(_bin_moments(bt, yt, nbins), _bin_moments(br, yr, nbins),
                                 confidence_level=level, min_share=min_share, label=label)


def stratified_welch_bins(
    target: tuple[np.ndarray, np.ndarray, np.ndarray],
    reference: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    confidence_level: float = 0.95,
    min_share: float = MATCHED_MIN_SHARE,
    label: str = "hour-of-day",
) -> tuple[Comparison | None, float | None, tuple[Diagnostic, ...]]:
    """:func:`stratified_welch` on per-bin moments: ``(count, mean, centred sum of
    squares)`` per bin of the finite target and reference values (the same bins on both
    sides)."""
    level = float(confidence_level)
    n_t0, m_t0, ss_t0 = (np.asarray(a, dtype=float) for a in target)
    n_r, m_r, ss_r = (np.asarray(a, dtype=float) for a in reference)
    diags: list[Diagnostic] = []
    if n_t0.sum() == 0 or n_r.sum() == 0:
        which = "target" if n_t0.sum() == 0 else "reference"
        return None, None, (Diagnostic("EMPTY_ARM", f"the {which} has no rows"),)
    usable = n_r >= 2
    share = float(n_t0[usable].sum() / n_t0.sum())
    if share < min_share:
        return None, share, (Diagnostic(
            "INSUFFICIENT_MATCH",
            f"only {share:.1%} of the target rows fall in {label} bins where the reference "
            f"has at least 2 rows (need {min_share:.0%})"),)
    if share < 1.0:
        diags.append(Diagnostic(
            "PARTIAL_MATCH", f"{(1 - share):.1%} of the target rows fall in {label} bins "
                             "without reference rows and were left out"))
    n_t = np.where(usable, n_t0, 0.0)
    m_t = np.where(usable, m_t0, 0.0)
    ss_t = np.where(usable, ss_t0, 0.0)
    used = n_t > 0
    N = float(n_t.sum())
    H = int(used.sum())
    n_ref_used = int(n_r[used].sum())
    w = n_t[used] / N
    G = float(np.sum(w * m_t[used]))
    B = float(np.sum(w * m_r[used]))

    def out(ab: EffectEstimate, rel: EffectEstimate) -> tuple[Comparison, float, tuple]:
        return (Comparison(n_ref_used, int(N), _f(B), _f(G), ab, rel,
                           f"post-stratified welch ({label})", level, "two-sided", None, None,
                           tuple(diags)), share, tuple(diags))

    none = EffectEstimate(None, None, None, None)
    if not (math.isfinite(G) and math.isfinite(B)) or not (
            np.isfinite(ss_t).all() and np.isfinite(ss_r).all()):
        diags.append(Diagnostic("NUMERIC_OVERFLOW", "the values are out of double-precision "
                                                    "range; rescale the metric"))
        return out(none, none)
    D = G - B
    if N - H < 1:
        diags.append(Diagnostic("TOO_FEW_UNITS", f"{int(N)} target rows in {H} bins leave no "
                                                 "degrees of freedom for the variance"))
        return out(EffectEstimate(D, None, None, None), none)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        var_t = float(ss_t[used].sum()) / (N - H)
        var_rh = ss_r[used] / (n_r[used] - 1.0)
        c_t = var_t / N
        c_r = w * w * var_rh / n_r[used]
    scale = max(abs(G), abs(B), float(np.max(np.abs(m_r[used]))))
    if math.sqrt(var_t) <= _ROUNDING * scale:
        c_t = 0.0
    c_r = np.where(np.sqrt(var_rh) <= _ROUNDING * scale, 0.0, c_r)
    total = c_t + float(c_r.sum())
    se = math.sqrt(total)
    if total > 0:
        den = (c_t * c_t) / (N - H) + float(np.sum(c_r * c_r / (n_r[used] - 1.0)))
        df = total * total / den if den > 0 else None
    else:
        df = None
        if abs(D) <= _ROUNDING * scale:
            D = 0.0
        diags.append(Diagnostic(
            "ZERO_VARIANCE", "the metric has zero variance in every bin of both sides; the "
                             "p-value is 1 if they are equal and 0 otherwise"))
    ab = _t_interval(D, se, df, level)
    if B <= 0.0:
        diags.append(Diagnostic(
            "ZERO_CONTROL_MEAN" if B == 0.0 else "NEGATIVE_CONTROL_MEAN",
            f"the reference value is {B:g}; a relative effect is undefined"))
        rel = none
    else:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            b = np.float64(B)
            rel_se = float(np.sqrt(np.float64(c_t) / (b * b)
                                   + (np.float64(G) / b / b) ** 2 * float(c_r.sum())))
            rel_est = float(np.float64(D) / b)
        if math.isfinite(rel_se) and math.isfinite(rel_est):
            rel = _t_interval(rel_est, rel_se, None, level)
        else:
            diags.append(Diagnostic("NUMERIC_OVERFLOW", "the relative effect is out of "
                                                        "floating-point range"))
            rel = none
    return out(ab, rel)


def _hour_bins(t: np.ndarray, mode: str) -> np.ndarray:
    period = 24 if mode == "hour-of-day" else 168
    return np.mod(np.floor_divide(t, 3600.0), period).astype(np.int64)


def _matched(m: MetricSpec, cells, target, reference, mode: str, alpha: float
             ) -> tuple[MetricComparison | None, float | None, tuple[Diagnostic, ...]]:
    """Matched hours of metric ``m`` on :class:`~abkit.bluegreen.cells.Cells`: the cells in
    mask ``target`` against those in ``reference``, by their hour bins."""
    bins = _hour_bins(cells.t0, mode)
    nb = 24 if mode == "hour-of-day" else 168
    res, share, diags = stratified_welch_bins(
        cells.binned(m.name, target, bins, nb), cells.binned(m.name, reference, bins, nb),
        confidence_level=1.0 - alpha, label=mode)
    if res is None:
        return None, share, diags
    return _assess(m, res, alpha), share, diags


def _moved(mc: MetricComparison, alpha: float) -> str | None:
    """Placebo: 'worse' / 'better' when |effect| exceeds the margin (alpha/2 each side)."""
    ab = mc.result.absolute
    if ab.estimate is None or ab.se is None:
        return None
    m = mc.margin_abs or 0.0
    harm = mc.harm_sign * ab.estimate
    p_worse = _one_sided_p(harm - m, ab.se, ab.df)
    p_better = _one_sided_p(-harm - m, ab.se, ab.df)
    if p_worse is not None and p_worse < alpha / 2:
        return "worse"
    if p_better is not None and p_better < alpha / 2:
        return "better"
    return None


def _placebo(block: ComparisonBlock, alpha: float) -> PlaceboCheck:
    flagged, dirs = [], {}
    for c in block.comparisons:
        if c.role != "guardrail":
            continue
        d = _moved(c, alpha)
        if d is not None:
            flagged.append(c.metric)
            dirs[c.metric] = d
    return PlaceboCheck(block, tuple(flagged), dirs)


def _agree(a: MetricComparison | None, b: MetricComparison | None) -> bool | None:
    if a is None or b is None:
        return None
    if a.role == "guardrail":
        if a.regressed is None or b.regressed is None:
            return None
        return a.regressed == b.regressed and a.noninferior == b.noninferior
    return a.verdict == b.verdict

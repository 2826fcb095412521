"""Where the blue/green analysis cuts time: the switch, the windows, the early looks and the
plot bins (:class:`Layout`, :func:`plan_layout`), and which cells straddle a cut
(:func:`straddling`).

The layout is computed from :class:`~abkit.bluegreen.cells.Cells` exactly as the row
computation would: the switch from per-time counts (:func:`~abkit.bluegreen.switch.
switch_from_counts`, which asks for the seconds it cannot decide), the spans from the cells'
first and last times. :class:`Refiner` is the ``refine`` callback of the blue/green
:class:`~abkit.engine.rows.RowsPlan`: the seconds whose cells straddle a cut come back per
distinct time, until none does; the cells then give the same windows, counts and moments
as the rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..stats.results import Diagnostic
from ._common import MAX_LOOKS
from .cells import Cells
from .series import bin_width
from .switch import SwitchPoint, _switch_given, switch_from_counts

__all__ = ["Layout", "Refiner", "plan_layout", "straddling"]


@dataclass(frozen=True)
class Layout:
    """The cuts of time: switch ``s``, green's start ``g0 = s + exclude``, window ``W``,
    the smoke test's start ``s0`` (``None`` without one), the early look times (``None``
    without looks) and the plot bins (``series``: ``(lo, hi, width, k0, nbins)`` or
    ``None``)."""

    switch: SwitchPoint
    s: float | None = None
    g0: float = math.nan
    W: float = 0.0
    before_span: float = 0.0
    s0: float | None = None
    look_every: float = math.nan
    looks: np.ndarray | None = None
    looks_capped: Diagnostic | None = None
    series: tuple[float, float, float, int, int] | None = None


def _units(c: Cells) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Time units for the switch: a distinct time in a refined second, else the second."""
    ut = np.where(c.fine, c.t0, c.key)
    times, inv = np.unique(ut, return_inverse=True)
    ng = np.bincount(inv, weights=np.where(c.g, c.w, 0), minlength=times.size)
    nb = np.bincount(inv, weights=np.where(c.g, 0, c.w), minlength=times.size)
    coarse = np.bincount(inv, weights=(~c.fine).astype(float), minlength=times.size) > 0
    return times, nb.astype(np.int64), ng.astype(np.int64), coarse


def plan_layout(c: Cells, *, switch_at: float | None, window: float | None, exclude: float,
                look_every: float, min_rows: int) -> tuple[Layout | None, np.ndarray]:
    """``(Layout, [])``, or ``(None, seconds)`` when the switch needs those seconds
    refined first."""
    if switch_at is not None:
        sw = _switch_given(c.t0, c.g, float(switch_at), c.w)
    else:
        times, nb, ng, coarse = _units(c)
        sw, need = switch_from_counts(times, nb, ng, coarse)
        if sw is None:
            return None, times[need]
    if sw.time is None:
        return Layout(sw), np.zeros(0)
    s = float(sw.time)
    g0 = s + exclude
    t0, t1, g = c.t0, c.t1, c.g
    blue_pre = ~g & (t0 < s)
    green_post = g & (t0 >= g0)
    before_span = float(s - t0[blue_pre].min()) if blue_pre.any() else 0.0
    after_span = float(t1[green_post].max() - g0) if green_post.any() else 0.0
    W = float(window) if window is not None else min(before_span, after_span)
    green_pre = g & (t0 < s)
    s0 = None
    if c.rows(green_pre) >= min_rows:
        s0 = float(t0[green_pre].min()) + exclude
    looks, capped, every = None, None, look_every
    if W > 0 and c.rows(green_post & (t0 <= g0 + W)) > 0:
        k_last = math.ceil(W / every)
        if k_last > MAX_LOOKS:
            capped = Diagnostic("LOOKS_CAPPED", f"{k_last} looks of {every:g} s would cover "
                                f"the window; the interval is widened to {W / MAX_LOOKS:g} "
                                f"s ({MAX_LOOKS} looks)")
            every = W / MAX_LOOKS
            k_last = MAX_LOOKS
        looks = g0 + every * np.arange(1, k_last + 1, dtype=float)
        looks[-1] = min(looks[-1], g0 + W)
    lo = min([s - W] + ([s0] if s0 is not None else []))
    hi = g0 + W
    series = None
    if math.isfinite(lo) and math.isfinite(hi) and hi > lo:
        w = bin_width(hi - lo)
        k0 = math.floor((lo - s) / w)
        k1 = max(math.ceil((hi - s) / w), k0 + 1)
        series = (lo, hi, w, k0, k1 - k0)
    return Layout(sw, s, g0, W, before_span, s0, every, looks, capped, series), np.zeros(0)


def hour_of(t: np.ndarray) -> np.ndarray:
    """The absolute UTC hour of each time (as :func:`~abkit.bluegreen.time_confounding.
    _hour_bins` computes it before the modulus)."""
    return np.floor_divide(t, 3600.0)


def series_bin(t: np.ndarray, lay: Layout) -> np.ndarray:
    """The plot bin of each time (clipped to the bins, as :func:`variant_series`)."""
    assert lay.series is not None and lay.s is not None
    _, _, w, k0, nb = lay.series
    return np.clip(np.floor((t - lay.s) / w).astype(np.int64) - k0, 0, nb - 1)


def look_bucket(t: np.ndarray, lay: Layout) -> np.ndarray:
    """The first look that counts a row at time ``t`` (0-based; the last look counts all)."""
    assert lay.looks is not None
    return np.minimum(np.searchsorted(lay.looks, t, side="right"), lay.looks.size - 1)


def straddling(c: Cells, lay: Layout) -> np.ndarray:
    """The seconds of the coarse cells on both sides of a cut of ``lay``."""
    coarse = ~c.fine & (c.t0 < c.t1)
    if lay.s is None or not coarse.any():
        return np.zeros(0)
    a, b = c.t0[coarse], c.t1[coarse]
    bad = np.zeros(a.size, dtype=bool)
    s, W = lay.s, lay.W
    for e in [s, s - W, s - 2 * W, lay.g0] + ([lay.s0] if lay.s0 is not None else []):
        bad |= (a < e) & (e <= b)  # t < e differs
    e = lay.g0 + W
    bad |= (a <= e) & (e < b)  # t <= e differs
    bad |= hour_of(a) != hour_of(b)
    if lay.series is not None:
        lo, hi = lay.series[0], lay.series[1]
        bad |= ((a < lo) & (lo <= b)) | ((a <= hi) & (hi < b))
        bad |= series_bin(a, lay) != series_bin(b, lay)
    if lay.looks is not None:
        bad |= look_bucket(a, lay) != look_bucket(b, lay)
    return np.unique(c.key[coarse][bad])


@dataclass(frozen=True)
class Refiner:
    """The ``refine`` callback of the blue/green rows plan: the seconds whose cells must
    come back per distinct time (see :mod:`abkit.engine.rows`)."""

    blue: str
    green: str
    columns: Mapping[str, str]
    switch_at: float | None
    window: float | None
    exclude: float
    look_every: float
    min_rows: int

    def layout(self, c: Cells) -> tuple[Layout | None, np.ndarray]:
        return plan_layout(c, switch_at=self.switch_at, window=self.window,
                           exclude=self.exclude, look_every=self.look_every,
                           min_rows=self.min_rows)

    def __call__(self, reduced) -> np.ndarray:
        c = Cells.from_table(reduced.cells, self.blue, self.green, self.columns)
        lay, need = self.layout(c)
        if lay is None:
            return need
        return straddling(c, lay)

    def __hash__(self) -> int:  # columns is a dict
        return hash((self.blue, self.green, tuple(self.columns.items()), self.switch_at))

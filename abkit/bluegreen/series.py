"""A bounded per-bin series of blue and green around the switch, for plots: per time bin
and variant, the rows and each metric's mean. At most ``MAX_BINS`` bins of a round width
(1 min ... 1 day), anchored at the switch so that no bin straddles it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._common import _iso

#: most bins of the series (the width is the smallest round width that fits)
MAX_BINS = 96
_WIDTHS = (60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0,
           43200.0, 86400.0)


def bin_width(span: float, most: int = MAX_BINS) -> float:
    """The smallest round width (seconds) that cuts ``span`` seconds into at most ``most``
    bins (one day when even that does not: then the count may exceed ``most``)."""
    for w in _WIDTHS:
        if math.ceil(span / w) <= most:
            return w
    return _WIDTHS[-1]


def variant_series(t: np.ndarray, g: np.ndarray, vals: Mapping[str, np.ndarray],
                   names: Sequence[str], blue: str, green: str, anchor: float, lo: float,
                   hi: float) -> dict[str, Any] | None:
    """Per bin of ``[lo, hi]`` (edges ``anchor + k * width``): for blue (``~g``) and green
    (``g``) the rows with a time in the bin and, per metric, the rows with a finite value
    and their mean (``None`` in a bin without one). ``None`` when the range is empty."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return None
    w = bin_width(hi - lo)
    k0 = math.floor((lo - anchor) / w)
    k1 = max(math.ceil((hi - anchor) / w), k0 + 1)
    nb = k1 - k0
    keep = (t >= lo) & (t <= hi)
    idx = np.clip(np.floor((t - anchor) / w).astype(np.int64) - k0, 0, nb - 1)
    out: dict[str, Any] = {}
    for label, mask in ((blue, keep & ~g), (green, keep & g)):
        rows = np.bincount(idx[mask], minlength=nb)
        metrics = {}
        for name in names:
            v = vals[name]
            ok = mask & np.isfinite(v)
            n = np.bincount(idx[ok], minlength=nb)
            total = np.bincount(idx[ok], weights=v[ok], minlength=nb)
            mean = [float(s / c) if c else None for s, c in zip(total, n)]
            metrics[name] = {"n": [int(c) for c in n], "mean": mean}
        out[label] = {"rows": [int(c) for c in rows], "metrics": metrics}
    starts = [anchor + (k0 + i) * w for i in range(nb)]
    return {"description": "rows and each metric's mean per time bin and variant (bins "
                           "anchored at the switch; for plots)",
            "bin_seconds": w, "anchor": float(anchor), "anchor_iso": _iso(anchor),
            "start": starts, "variants": out}


def variant_series_cells(c: Any, names: Sequence[str], blue: str, green: str,
                         anchor: float, series: tuple[float, float, float, int, int] | None
                         ) -> dict[str, Any] | None:
    """:func:`variant_series` on :class:`~abkit.bluegreen.cells.Cells` (no cell straddles a
    bin edge: see :mod:`abkit.bluegreen.layout`); ``series = (lo, hi, width, k0, nbins)``."""
    if series is None:
        return None
    lo, hi, w, k0, nb = series
    t = c.t0
    keep = (t >= lo) & (t <= hi)
    idx = np.clip(np.floor((t - anchor) / w).astype(np.int64) - k0, 0, nb - 1)
    out: dict[str, Any] = {}
    for label, mask in ((blue, keep & ~c.g), (green, keep & c.g)):
        rows = np.bincount(idx[mask], weights=c.w[mask], minlength=nb)
        metrics = {}
        for name in names:
            n = np.bincount(idx[mask], weights=c.n[name][mask], minlength=nb)
            total = np.bincount(idx[mask], weights=c.n[name][mask] * c.mean[name][mask],
                                minlength=nb)
            mean = [float(s / k) if k else None for s, k in zip(total, n)]
            metrics[name] = {"n": [int(k) for k in n], "mean": mean}
        out[label] = {"rows": [int(k) for k in rows], "metrics": metrics}
    starts = [anchor + (k0 + i) * w for i in range(nb)]
    return {"description": "rows and each metric's mean per time bin and variant (bins "
                           "anchored at the switch; for plots)",
            "bin_seconds": w, "anchor": float(anchor), "anchor_iso": _iso(anchor),
            "start": starts, "variants": out}

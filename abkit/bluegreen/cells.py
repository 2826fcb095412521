"""The blue/green analysis' view of time cells (:class:`Cells`) and the merges it needs.

A cell is one variant's rows over a span of time ``[t0, t1]`` (a second, or one distinct
time once its second is refined) with per-metric mergeable moments: the count of finite
values, their mean and centred sum of squares. Every window, hour bin, early look and plot
bin of the analysis is a monotone function of time; :mod:`abkit.bluegreen.layout` makes
sure that no cell straddles one of their edges (``f(t0) == f(t1)`` for each), so a cell
belongs wholly to one side of every edge and its first time ``t0`` stands for all its rows.
Merging cells (Chan et al.'s update, two-pass on the cell means) gives the moments the row
computation gives, to rounding (about 1e-15 relative).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..engine.rows import CellTable
from ..stats.moments import MomentStats

__all__ = ["Cells"]


@dataclass
class Cells:
    """Blue and green cells in canonical order: ``t0``/``t1`` first and last time, ``key``
    the second (``floor(t)``), ``fine`` one distinct time, ``g`` green, ``w`` rows, and per
    metric name ``n``/``mean``/``m2``."""

    t0: np.ndarray
    t1: np.ndarray
    key: np.ndarray
    fine: np.ndarray
    g: np.ndarray
    w: np.ndarray
    n: dict[str, np.ndarray]
    mean: dict[str, np.ndarray]
    m2: dict[str, np.ndarray]

    @classmethod
    def from_table(cls, table: CellTable, blue: str, green: str,
                   columns: Mapping[str, str]) -> Cells:
        """The blue and green cells of ``table``; ``columns`` maps metric name -> column."""
        lab = table.variant
        keep = np.flatnonzero((lab == blue) | (lab == green))
        return cls(table.tmin[keep], table.tmax[keep], table.key[keep], table.fine[keep],
                   lab[keep] == green, table.rows[keep].astype(np.int64),
                   {m: table.n[c][keep].astype(np.int64) for m, c in columns.items()},
                   {m: table.mean[c][keep].astype(float) for m, c in columns.items()},
                   {m: table.m2[c][keep].astype(float) for m, c in columns.items()})

    def rows(self, mask: np.ndarray) -> int:
        """Rows of the cells in ``mask``."""
        return int(self.w[mask].sum())

    def bad(self, name: str, mask: np.ndarray) -> int:
        """Rows of the cells in ``mask`` without a finite value of metric ``name``."""
        return int(self.w[mask].sum() - self.n[name][mask].sum())

    def binned(self, name: str, mask: np.ndarray, bins: np.ndarray, nbins: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per bin (``bins`` per cell, ``0 <= bin < nbins``): count of finite values, mean
        and centred sum of squares of metric ``name`` over the cells in ``mask``."""
        b = np.asarray(bins, dtype=np.int64)[mask]
        n = self.n[name][mask].astype(float)
        mu = self.mean[name][mask]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            tot_n = np.bincount(b, weights=n, minlength=nbins)
            tot = np.bincount(b, weights=n * mu, minlength=nbins)
            mean = np.where(tot_n > 0, tot / np.maximum(tot_n, 1.0), 0.0)
            dev = np.where(n > 0, mu - mean[b], 0.0)
            m2 = np.bincount(b, weights=self.m2[name][mask] + n * dev * dev, minlength=nbins)
        return tot_n, mean, m2

    def stats(self, name: str, mask: np.ndarray) -> MomentStats:
        """Moments of metric ``name``'s finite values over the cells in ``mask``."""
        n, mean, m2 = self.binned(name, mask, np.zeros(self.w.size, dtype=np.int64), 1)
        if n[0] == 0:
            return MomentStats.empty(1)
        return MomentStats(int(n[0]), (float(mean[0]),), ((float(m2[0]),),))

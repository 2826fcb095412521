"""A plan for methods that need statistics along time (blue/green's switch detection,
windows, hour bins and early looks): the used rows come back as **time cells**, never as rows.

:class:`RowsPlan` -> :class:`TimeCells`. A cell holds, for one variant and one span of
time, the row count, the first and last time, and per value column the count of finite
values, their mean and centred sum of squares (mergeable moments). Cells start per second
(``floor(t)``) and variant. A second is *refined* -- its cells replaced by one cell per
distinct time and variant, whose first and last time are equal -- when the plan's
``refine`` callback asks for it: given the cells so far it returns the seconds whose rows it
must tell apart (a window edge, an early look or the switch falls inside them). The engine
repeats this until ``refine`` asks for nothing new. ``refine`` is pure Python on the cells
(it sees no row); it is how a method states which time resolution it needs where, so only
the few seconds at its edges come back at full resolution. Every engine stores the
classified rows once (DuckDB: a temporary table, out of core; Spark: a persisted
DataFrame) and answers each refinement with one small query.

The pandas compilation is :func:`reduce_frame_rows`, the DuckDB one
:func:`abkit.engine.duckdb_rows.reduce_rows`, the Spark one
:func:`abkit.engine.spark_rows.reduce_rows`; all classify rows with the one classifier
(:class:`abkit.engine.rules.RowRules`) and build the cells with :func:`cells_from_frame`'s
column names (``k, v, rows, tmin, tmax, n<i>, mean<i>, m2<i>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, ClassVar, Iterable

import numpy as np
import pandas as pd

from .classify import classify
from .pandas_engine import reason_counts
from .rules import RowRules

__all__ = ["CellTable", "Rows", "RowsPlan", "TimeCells", "cells_from_frame", "frame_cells",
           "reduce_frame_rows", "refine_cells"]

#: the refinement loop stops after this many rounds (each round only adds seconds, and the
#: blue/green layout settles in 2-4; the cap is a safety net)
MAX_ROUNDS = 50


@dataclass(frozen=True)
class RowsPlan:
    """Classify rows by ``rules``; return the used rows as :class:`TimeCells`.

    ``refine(cells) -> seconds`` (optional) names the seconds (``floor(t)`` keys) whose
    rows must come back per distinct time; see the module docstring.
    """

    kind: ClassVar[str] = "rows"
    rules: RowRules
    refine: Callable[["TimeCells"], Iterable[float]] | None = None


@dataclass
class CellTable:
    """Cells in canonical order (key, first time, variant). ``key``: ``floor(t)`` of the
    cell's rows; ``fine``: True for a cell of one distinct time (its second was refined);
    ``n``/``mean``/``m2`` per value column: finite values, their mean and centred sum of
    squares (0 when there is none)."""

    key: np.ndarray
    fine: np.ndarray
    variant: np.ndarray
    rows: np.ndarray
    tmin: np.ndarray
    tmax: np.ndarray
    n: dict[str, np.ndarray] = field(default_factory=dict)
    mean: dict[str, np.ndarray] = field(default_factory=dict)
    m2: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.key.size)

    def take(self, idx: np.ndarray) -> CellTable:
        return CellTable(self.key[idx], self.fine[idx], self.variant[idx], self.rows[idx],
                         self.tmin[idx], self.tmax[idx],
                         {c: a[idx] for c, a in self.n.items()},
                         {c: a[idx] for c, a in self.mean.items()},
                         {c: a[idx] for c, a in self.m2.items()})

    def canonical(self) -> CellTable:
        codes = pd.factorize(self.variant, sort=True)[0]  # labels in sorted order
        order = np.lexsort((codes, self.tmin, self.key))
        return self.take(order)

    def with_fine(self, fine: CellTable, keys: np.ndarray) -> CellTable:
        """These cells, the seconds ``keys`` replaced by the per-time cells ``fine``."""
        keep = ~np.isin(self.key, keys)
        both = [self.take(np.flatnonzero(keep)), fine]
        cat = CellTable(*(np.concatenate([getattr(t, f) for t in both])
                          for f in ("key", "fine", "variant", "rows", "tmin", "tmax")),
                        *({c: np.concatenate([getattr(t, f)[c] for t in both])
                           for c in self.n} for f in ("n", "mean", "m2")))
        return cat.canonical()


def cells_from_frame(df: pd.DataFrame, columns: Iterable[str], fine: bool) -> CellTable:
    """A :class:`CellTable` from an engine's result frame (columns ``k, v, rows, tmin,
    tmax`` and ``n<i>, mean<i>, m2<i>`` for the i-th value column)."""
    cols = list(columns)
    k = df["k"].to_numpy(dtype=float)

    def num(name: str, dtype) -> np.ndarray:
        return np.nan_to_num(df[name].to_numpy(dtype=float), nan=0.0).astype(dtype)

    return CellTable(k, np.full(k.size, bool(fine)), df["v"].to_numpy(dtype=object),
                     num("rows", np.int64), df["tmin"].to_numpy(dtype=float),
                     df["tmax"].to_numpy(dtype=float),
                     {c: num(f"n{i}", np.int64) for i, c in enumerate(cols)},
                     {c: num(f"mean{i}", float) for i, c in enumerate(cols)},
                     {c: num(f"m2{i}", float) for i, c in enumerate(cols)}).canonical()


@dataclass
class TimeCells:
    """The used rows as time cells (:class:`CellTable`), and the accounting of every row."""

    rows_read: int
    rows_used: int
    rejected: dict[str, int]
    rejected_columns: dict[str, dict[str, int]]
    unknown_variants: dict[str, int]
    examples: dict[str, str]
    cells: CellTable

    def check(self) -> None:
        total = self.rows_used + sum(self.rejected.values())
        held = int(self.cells.rows.sum())
        if total != self.rows_read or held != self.rows_used:  # pragma: no cover
            raise AssertionError(
                f"row accounting does not add up: read {self.rows_read}, used "
                f"{self.rows_used} ({held} in cells), rejected {sum(self.rejected.values())}")

    def rows_by_variant(self) -> dict[str, int]:
        if not len(self.cells):
            return {}
        labels, which = np.unique(self.cells.variant.astype(str), return_inverse=True)
        counts = np.bincount(which, minlength=labels.size,
                             weights=self.cells.rows.astype(np.float64))
        return {str(v): int(n) for v, n in zip(labels, counts)}  # sorted by np.unique


#: the reduced type of a ``rows`` plan (the name the engines' dispatch documents)
Rows = TimeCells


def refine_cells(cells: CellTable, plan: RowsPlan,
                 fetch: Callable[[np.ndarray], CellTable]) -> CellTable:
    """Refine ``cells`` until ``plan.refine`` asks for no new second; ``fetch(keys)`` gives
    the per-time cells of the seconds ``keys`` (an engine query)."""
    if plan.refine is None:
        return cells
    done: set[float] = set()
    for _ in range(MAX_ROUNDS):
        probe = TimeCells(0, 0, {}, {}, {}, {}, cells)
        need = sorted({float(k) for k in plan.refine(probe)} - done)
        if not need:
            return cells
        done.update(need)
        keys = np.asarray(need, dtype=float)
        cells = cells.with_fine(fetch(keys), keys)
    raise AssertionError("the time cells did not settle")  # pragma: no cover


def frame_cells(t: np.ndarray, variant: np.ndarray, values: dict[str, np.ndarray],
                keys: np.ndarray | None = None) -> CellTable:
    """The pandas cells of rows (``t`` finite epoch seconds): per second and variant, or,
    with ``keys``, per distinct time and variant of the rows in those seconds. Non-finite
    values are left out of a column's moments (counted in ``rows`` only)."""
    sec = np.floor(t)
    sel = slice(None) if keys is None else np.isin(sec, keys)
    cols = list(values)
    df = pd.DataFrame({"k": sec[sel], "t": t[sel], "v": variant[sel]})
    for i, c in enumerate(cols):
        x = np.asarray(values[c], dtype=float)[sel]
        df[f"x{i}"] = np.where(np.isfinite(x), x, np.nan)
    by = ["k", "v"] if keys is None else ["k", "t", "v"]
    grp = df.groupby(by, sort=False, dropna=False)
    out = grp.agg(rows=("t", "size"), tmin=("t", "min"), tmax=("t", "max"))
    for i in range(len(cols)):
        x = grp[f"x{i}"]
        out[f"n{i}"] = x.count()
        out[f"mean{i}"] = x.mean()
        out[f"m2{i}"] = x.var(ddof=0) * out[f"n{i}"]
    return cells_from_frame(out.reset_index(), cols, keys is not None)


def reduce_frame_rows(df: pd.DataFrame, plan: RowsPlan) -> TimeCells:
    """The pandas compilation of ``plan``."""
    cl = classify(df, plan.rules)
    counts = reason_counts(cl.reason, cl.variant)
    ok = cl.ok.to_numpy()
    assert cl.time is not None
    t = cl.time.to_numpy(float)[ok]
    v = cl.variant.to_numpy(object)[ok]
    vals = {c: cl.values[c].to_numpy(float)[ok] for c in plan.rules.columns}
    cells = refine_cells(frame_cells(t, v, vals), plan,
                         lambda keys: frame_cells(t, v, vals, keys))
    out = TimeCells(len(df), int(ok.sum()), dict(counts.rejected),
                    {k: dict(d) for k, d in counts.rejected_columns.items()},
                    dict(counts.unknown_variants), {}, cells)
    out.check()
    return out

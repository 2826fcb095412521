"""The DuckDB compilation of a :class:`~abkit.engine.rows.RowsPlan`: out of core, no row
comes back to Python.

One scan of the files classifies every row and gives the reason counts (with the lines the
reader rejected) and the per-(second, variant) cells; each refinement round rescans the files
for the per-(time, variant) cells of the seconds the plan asks for
(:func:`abkit.engine.rows.refine_cells`), keeping only the rows of those seconds before they
are classified. Nothing is stored (a table of the classified rows spilled at 100M rows and
pushed memory past 2 GB); the rounds are few (2-4).

Deterministic and on every core (the default): the first scan runs as ``K`` passes
(:func:`abkit.engine.duckdb_passes.time_passes`, one per core for files of 16 MiB or more),
pass ``p`` taking the rows whose whole second is ``p`` mod ``K``, each pass on its own
one-thread connection; the rescans, which keep a few seconds' rows, run on one thread. A
cell is one second (or one time within it), so all its rows are in one pass and summed in
file order by one thread: every cell is the same, to the bit, whatever ``K`` and the
schedule; the cells are then put in their canonical order. ``--parallel`` (not
deterministic) runs each query once on every thread.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .duckdb_classify import value_aliases
from .duckdb_engine import DuckDBLogs
from .duckdb_passes import run_passes, time_pass_filter, time_passes
from .rows import CellTable, RowsPlan, TimeCells, cells_from_frame, refine_cells

__all__ = ["reduce_rows"]


def _cell_sql(table: str, xs: list[str], fine: bool, reasons: bool = False) -> str:
    """Per (second, variant) -- or with ``fine`` per (time, variant) -- cells of the used
    rows; with ``reasons`` also the rejected rows' counts by ``(_r, label)`` (their
    ``k`` is NULL and their moments meaningless)."""
    aggs = ", ".join(
        f"count({x}) AS n{i}, avg({x}) AS mean{i}, var_pop({x}) * count({x}) AS m2{i}"
        for i, x in enumerate(xs))
    by = "k, _t, v" if fine else "k, v"
    if reasons:
        return (f"SELECT _r, CASE WHEN _r IS NULL THEN floor(_t) END AS k, _v AS v, "
                f"count(*) AS rows, min(_t) AS tmin, max(_t) AS tmax"
                f"{', ' + aggs if aggs else ''} FROM {table} GROUP BY _r, k, v")
    return (f"SELECT floor(_t) AS k, _v AS v, count(*) AS rows, min(_t) AS tmin, "
            f"max(_t) AS tmax{', ' + aggs if aggs else ''} FROM {table} "
            f"WHERE _r IS NULL GROUP BY {by}")


def _rows_sql(classified: str, cols: list[str]) -> str:
    """The classified rows as the cell queries read them: reason, label (kept for used and
    unknown-label rows only), time and the value columns."""
    return (f"(SELECT _r, CASE WHEN _r IS NULL OR _r = 'unknown_variant|' THEN _v END AS _v, "
            f"_t{''.join(', ' + x for x in cols)} FROM {classified})")


def _frame(cur) -> pd.DataFrame:
    return cur.df()


def reduce_rows(logs: DuckDBLogs, plan: RowsPlan) -> TimeCells:
    rules = plan.rules
    k = time_passes(logs)
    xs = value_aliases(rules)
    cols = [xs[c] for c in rules.columns]

    def passes(keep, fine: bool, reasons: bool, n: int) -> pd.DataFrame:
        """One query as ``n`` passes by second (pass 0 stores the reader's rejects), merged;
        ``keep(t)`` (or None) the condition on the time the rows must also meet."""
        sqls = []
        for p in range(n):
            def where(t: str, p: int = p) -> str:
                parts = [time_pass_filter(f"floor({t})", n, p)] if n > 1 else []
                return " AND ".join(parts + ([keep(t)] if keep else []))

            classified, _ = logs.classified(rules, store_rejects=reasons and p == 0,
                                            time_where=where if n > 1 or keep else None)
            sqls.append(_cell_sql(_rows_sql(classified, cols), cols, fine, reasons))
        frames = run_passes(logs, sqls, n, fetch=_frame)
        return frames[0] if n == 1 else pd.concat(frames, ignore_index=True)

    one_thread = getattr(logs, "deterministic", True)
    before = logs.con.execute("SELECT current_setting('threads')").fetchone()[0]
    try:
        if one_thread:
            logs.con.execute("SET threads = 1")
        # one scan: the rejected rows by reason (and unknown label), the used ones by cell
        out = passes(None, False, True, k)
        rej = out["_r"].notna().to_numpy()
        reasons = [(r, v if isinstance(v, str) else None, int(n)) for r, v, n in
                   zip(out["_r"][rej], out["v"][rej], out["rows"][rej])]
        used = int(out["rows"][~rej].sum())
        rejected, rcols, unknown, examples = logs.account(
            reasons, used + sum(n for *_, n in reasons))
        coarse = cells_from_frame(out[~rej].reset_index(drop=True), rules.columns, False)

        def fetch(keys: np.ndarray) -> CellTable:
            # the seconds inlined as a list literal (exact: repr of a float round-trips)
            lst = "(SELECT unnest([" + ", ".join(repr(float(x)) for x in keys) + \
                "]::DOUBLE[]))"
            # one pass: each pass would decode the whole file for a few seconds' rows
            return cells_from_frame(passes(lambda t: f"floor({t}) IN {lst}", True, False, 1),
                                    rules.columns, True)

        cells = refine_cells(coarse, plan, fetch)
    finally:
        logs.con.execute(f"SET threads = {int(before)}")
    rows = TimeCells(used + sum(rejected.values()), used, rejected, rcols, unknown, examples,
                     cells)
    rows.check()
    return rows

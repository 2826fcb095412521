"""The DuckDB compilation of a :class:`~abkit.engine.rows.RowsPlan`: out of core, no row
comes back to Python.

One scan of the files classifies every row and gives the reason counts (with the lines the
reader rejected) and the per-(second, variant) cells; each refinement round rescans the files
for the per-(time, variant) cells of the seconds the plan asks for
(:func:`abkit.engine.rows.refine_cells`). Nothing is stored (a table of the classified rows
spilled at 100M rows and pushed memory past 2 GB); the rounds are few (2-4). When
deterministic (the default) every query runs on one thread, so the sums are accumulated in
file order, run after run.
"""

from __future__ import annotations

import numpy as np

from .duckdb_engine import DuckDBLogs
from .rows import CellTable, RowsPlan, TimeCells, cells_from_frame, refine_cells

__all__ = ["reduce_rows"]

def _cell_sql(table: str, xs: list[str], fine: bool, where: str = "",
              reasons: bool = False) -> str:
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
            f"WHERE _r IS NULL{where} GROUP BY {by}")


def _rows_sql(classified: str, cols: list[str]) -> str:
    """The classified rows as the cell queries read them: reason, label (kept for used and
    unknown-label rows only), time and the value columns."""
    return (f"(SELECT _r, CASE WHEN _r IS NULL OR _r = 'unknown_variant|' THEN _v END AS _v, "
            f"_t{''.join(', ' + x for x in cols)} FROM {classified})")


def reduce_rows(logs: DuckDBLogs, plan: RowsPlan) -> TimeCells:
    rules = plan.rules
    classified, xs = logs.classified(rules, store_rejects=True)
    again, _ = logs.classified(rules, store_rejects=False)  # rescans store no rejects
    cols = [xs[c] for c in rules.columns]
    one_thread = getattr(logs, "deterministic", True)
    before = logs.con.execute("SELECT current_setting('threads')").fetchone()[0]
    try:
        if one_thread:
            logs.con.execute("SET threads = 1")
        # one scan: the rejected rows by reason (and unknown label), the used ones by cell
        out = logs.run(_cell_sql(_rows_sql(classified, cols), cols, False, reasons=True)).df()
        rej = out["_r"].notna().to_numpy()
        reasons = [(r, v, int(n)) for r, v, n in zip(out["_r"][rej], out["v"][rej],
                                                     out["rows"][rej])]
        used = int(out["rows"][~rej].sum())
        rejected, rcols, unknown, examples = logs.account(
            reasons, used + sum(n for *_, n in reasons))
        coarse = cells_from_frame(out[~rej].reset_index(drop=True), rules.columns, False)

        def fetch(keys: np.ndarray) -> CellTable:
            # the seconds as a list parameter (registering a frame would need the
            # connection free of any unfinished result)
            sql = _cell_sql(_rows_sql(again, cols), cols, True,
                            " AND floor(_t) IN (SELECT unnest(?::DOUBLE[]))")
            return cells_from_frame(logs.run(sql, [[float(k) for k in keys]]).df(),
                                    rules.columns, True)

        cells = refine_cells(coarse, plan, fetch)
    finally:
        logs.con.execute(f"SET threads = {int(before)}")
    rows = TimeCells(used + sum(rejected.values()), used, rejected, rcols, unknown, examples,
                     cells)
    rows.check()
    return rows

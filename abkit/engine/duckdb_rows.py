"""The DuckDB compilation of a :class:`~abkit.engine.rows.RowsPlan`: one scan counts every
row by reason (with the lines the reader rejected), a second returns only the used rows'
time, variant and value columns, as arrays, in file order."""

from __future__ import annotations

import numpy as np

from .duckdb_engine import DuckDBLogs
from .rows import Rows, RowsPlan

__all__ = ["reduce_rows"]


def reduce_rows(logs: DuckDBLogs, plan: RowsPlan) -> Rows:
    rules = plan.rules
    counted, _ = logs.classified(rules, store_rejects=True)
    out = logs.run(
        "SELECT _r, CASE WHEN _r = 'unknown_variant|' THEN _v END AS _v, count(*) "
        f"FROM {counted} GROUP BY ALL").fetchall()
    reasons = [(r, v, n) for r, v, n in out if r is not None]
    used = sum(int(n) for r, _, n in out if r is None)
    rejected, rcols, unknown, examples = logs.account(reasons, sum(int(n) for *_, n in out))
    plain, xs = logs.classified(rules, store_rejects=False)
    cols = ", ".join(f"{xs[c]}" for c in rules.columns)
    logs.con.execute("SET preserve_insertion_order = true")  # file order: ties keep it
    try:
        got = logs.run(f"SELECT _t, _v{', ' + cols if cols else ''} FROM {plain} "
                       "WHERE _r IS NULL").fetchnumpy()
    finally:
        logs.con.execute("SET preserve_insertion_order = false")
    rows = Rows(used + sum(rejected.values()), used, rejected, rcols, unknown, examples,
                np.asarray(got["_t"], dtype=float), np.asarray(got["_v"], dtype=object),
                {c: np.asarray(got[xs[c]], dtype=float) for c in rules.columns})
    rows.check()
    return rows

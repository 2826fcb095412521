"""The rollout reduction (:mod:`abkit.engine.rollout_reduce`) on files, in DuckDB.

Same classification and cells as the pandas path: one scan counts every row by reason and
sums the used rows per (look, step, variant); quantile metrics add two small queries once
their baseline look is known (the control's baseline values, then counts above the frozen
threshold per cell).

When deterministic (the default) the scan runs on one DuckDB thread, in file order; the
grains of a cell are added in time order.
"""

from __future__ import annotations

import numpy as np

from .rollout_reduce import (
    Reduction,
    RolloutPlan,
    _iso_seconds,
    freeze_looks,
    quantile_threshold,
)
from ..stats.log_buckets import key_sql
from .duckdb_classify import value_aliases
from .duckdb_engine import DuckDBLogs, qi, ql

__all__ = ["reduce_rollout"]


def _classified(logs: DuckDBLogs, plan: RolloutPlan, origin: float | None, store: bool):
    return logs.classified(plan.rules(origin), store_rejects=store)


def _scan(logs: DuckDBLogs, plan: RolloutPlan, origin: float | None, select: str) -> list[dict]:
    """The result rows of ``SELECT {select} FROM <classified rows> GROUP BY ALL``, on one
    thread when deterministic. (Passes by time cell on one-thread connections, as the
    blue/green scan runs, were measured at 10M rows on 2 cores: no faster, since each pass
    decodes every row, and 30 % more memory; bench/README.md.)"""
    sql, _ = _classified(logs, plan, origin, store=True)
    cur = logs.run(f"{select} FROM {sql} GROUP BY ALL")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def reduce_rollout(logs: DuckDBLogs, plan: RolloutPlan, control: str) -> Reduction:
    start = plan.spec.rollout.start  # type: ignore[union-attr]
    if logs.deterministic and not logs.exact_order:
        logs.con.execute("SET threads = 1")
    # the reason _r is a group key, so the used rows (_r NULL) have groups of their own: the
    # sums and times of the rejected rows' groups are computed but never read
    xs = value_aliases(plan.rules(None))
    sums = []
    for c in plan.columns:
        x = xs[c]
        sums += [f"sum({x}) AS {qi('s' + c)}", f"sum({x} * {x}) AS {qi('q' + c)}"]
    head = ("SELECT _r AS _cat, CASE WHEN _r IS NULL OR _r = 'unknown_variant|' THEN _v END "
            "AS _v, ")
    tail = "count(*) AS _rows, min(_t) AS _t0, max(_t) AS _t1, " + ", ".join(sums)
    if start:
        # the start is known: rows are grouped by look window and schedule step directly
        red = Reduction(_iso_seconds(start))
        rel = f"(_t - {red.origin!r})"
        select = (head +
                  f"CASE WHEN _r IS NULL THEN CAST(floor({rel} / {plan.look!r}) AS BIGINT) END "
                  f"AS _look, CASE WHEN _r IS NULL THEN {plan.step_sql(rel)} END AS _step, "
                  + tail)
        out = _scan(logs, plan, red.origin, select)
        for r in out:
            if r["_cat"] is None:
                r["_key"] = (int(r["_look"]), int(r["_step"]))
    else:
        # one scan: group on the absolute time grid (plan.grain); the start is the first
        # used row's grain, and grains map to (look, step) exactly in Python
        g = plan.grain
        select = (head + f"CASE WHEN _r IS NULL THEN CAST(floor(_t / {g!r}) AS BIGINT) END "
                  "AS _g, " + tail)
        out = _scan(logs, plan, None, select)
        # the grains of a cell are added in time order
        out.sort(key=lambda r: (r["_cat"] is not None, r["_g"] if r["_cat"] is None else 0,
                                str(r["_v"])))
        red = Reduction(plan.place_on_grid([r for r in out if r["_cat"] is None]))
    reasons = [(r["_cat"], r["_v"], r["_rows"]) for r in out if r["_cat"] is not None]
    rejected, rcols, unknown, examples = logs.account(reasons, sum(int(r["_rows"]) for r in out))
    red.rejected, red.rejected_columns, red.unknown_variants = rejected, rcols, unknown
    red.examples = examples
    for r in out:
        if r["_cat"] is not None:
            continue
        vec = [float(r["_rows"])]
        for c in plan.columns:
            vec += [float(r["s" + c] or 0.0), float(r["q" + c] or 0.0)]
        red.add_cell(r["_key"], str(r["_v"]), np.array(vec))
        red.rows_used += int(r["_rows"])
        red.see_times(r["_t0"], r["_t1"])
    o = repr(red.origin if red.origin is not None else 0.0)
    rel = f"(_t - {o})"
    red.rows_read = red.rows_used + sum(rejected.values())
    if plan.quantiles and red.cells:
        _quantiles(logs, plan, red, control, xs, rel)
    red.check()
    return red


def _quantiles(logs: DuckDBLogs, plan: RolloutPlan, red: Reduction, control: str,
               xs: dict, rel: str) -> None:
    """The frozen thresholds (the control's baseline values, one query per metric), then
    one query per quantile column: per (look, step, variant, bucket) the rows, and the rows
    above each frozen threshold of that column."""
    freeze = freeze_looks(red, plan, control)
    plain, _ = _classified(logs, plan, red.origin, store=False)
    look = f"CAST(floor({rel} / {plan.look!r}) AS BIGINT)"
    for m in plan.quantiles:
        if m.name not in freeze:
            continue
        k = freeze[m.name]
        x = xs[m.column]  # type: ignore[index]
        vals = logs.run(
            f"SELECT {x} FROM {plain} WHERE _r IS NULL AND _v = {ql(control)} AND "
            f"{look} <= {k}"
        ).fetchnumpy()[x]
        thr = quantile_threshold(np.asarray(vals, dtype=float), m.quantile)  # type: ignore[arg-type]
        red.thresholds[m.name] = (thr, k)
    for c in plan.sketch_columns:
        x = xs[c]
        tested = [m for m in plan.quantiles if m.column == c and m.name in red.thresholds]
        above = "".join(f", sum(CAST({x} > {red.thresholds[m.name][0]!r} AS BIGINT)) AS _a{i}"
                        for i, m in enumerate(tested))
        got = logs.run(
            f"SELECT {look} AS _look, {plan.step_sql(rel)} AS _step, _v, {key_sql(x)} AS _k, "
            f"count(*) AS _n{above} FROM {plain} WHERE _r IS NULL GROUP BY ALL "
            "ORDER BY _look, _step, _v, _k").fetchall()
        for lk, st, var, key, n, *a in got:
            lk, var = int(lk), str(var)
            red.add_sketch(lk, var, c, int(key), int(n))
            for m, ai in zip(tested, a):
                if lk > red.thresholds[m.name][1]:
                    cell = red.exceed.setdefault((lk, int(st)), {}).setdefault(var, {})
                    cell[m.name] = cell.get(m.name, 0) + int(ai)

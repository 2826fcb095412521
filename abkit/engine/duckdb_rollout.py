"""The rollout reduction (:mod:`abkit.engine.rollout_reduce`) on files, in DuckDB.

Same classification and cells as the pandas path: one scan counts every row by reason and
sums the used rows per (look, step, variant); quantile metrics add two small queries once
their baseline look is known (the control's baseline values, then counts above the frozen
threshold per cell).
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
from .duckdb_engine import _NUMERIC_TYPES, DuckDBLogs, qi, ql

__all__ = ["reduce_rollout"]

_TIME_TYPES = ("TIMESTAMP", "DATE", "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ",
               "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS")


def _time_exprs(logs: DuckDBLogs, col: str) -> tuple[str, str]:
    """(is-missing, epoch seconds or NULL) SQL for the timestamp column; the rules of
    :func:`abkit.engine.rollout_reduce.parse_times`."""
    t = logs.types().get(col, "VARCHAR").upper()
    src = logs._text(col)
    if logs.source.format != "jsonl" and (t in _TIME_TYPES or t.startswith("TIMESTAMP")):
        return f"({src} IS NULL)", f"epoch(CAST({src} AS TIMESTAMPTZ))"
    if logs.source.format != "jsonl" and (t in _NUMERIC_TYPES or t.startswith("DECIMAL")):
        x = f"CAST({src} AS DOUBLE)"
        missing = f"({src} IS NULL)"
    else:
        s = f"trim(CAST({src} AS VARCHAR))"
        missing = f"({src} IS NULL OR {s} = '')"
        x = f"coalesce(TRY_CAST({s} AS DOUBLE), epoch(TRY_CAST({s} AS TIMESTAMPTZ)))"
    value = (f"(CASE WHEN isfinite({x}) THEN CASE WHEN abs({x}) > 1e11 THEN {x} / 1000.0 "
             f"ELSE {x} END END)")
    return missing, value


def _classified(logs: DuckDBLogs, plan: RolloutPlan, origin: float | None, store: bool):
    spec = plan.spec
    ts = spec.rollout.timestamp_column  # type: ignore[union-attr]
    tmiss, tval = _time_exprs(logs, ts)
    early = (f"WHEN _tm THEN {ql('missing_timestamp|' + ts)}",
             f"WHEN _t IS NULL THEN {ql('bad_timestamp|' + ts)}")
    xs = xs_names(plan)
    late = [f"WHEN {xs[c]} < 0 THEN {ql('negative_count|' + c)}" for c in plan.counts]
    if origin is not None:
        late.append(f"WHEN _t < {origin!r} THEN {ql('before_start|' + ts)}")
    sql, xs2 = logs._classified(spec, plan.columns, plan.binary,
                                extra_select=(f"{tmiss} AS _tm", f"{tval} AS _t"),
                                early=early, late=tuple(late), store_rejects=store)
    assert xs2 == xs
    return sql, xs


def xs_names(plan: RolloutPlan) -> dict[str, str]:
    """The value aliases DuckDBLogs._classified gives the plan's columns."""
    return {c: f"_x{i}" for i, c in enumerate(plan.columns)}


def _fetch(logs: DuckDBLogs, query: str) -> list[dict]:
    cur = logs._run(query)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def reduce_rollout(logs: DuckDBLogs, plan: RolloutPlan, control: str) -> Reduction:
    start = plan.spec.rollout.start  # type: ignore[union-attr]
    if logs.deterministic and not logs.exact_order:
        logs.con.execute("SET threads = 1")
    sums = []
    for c in plan.columns:
        x = f"CASE WHEN _r IS NULL THEN {xs_names(plan)[c]} END"
        sums += [f"sum({x}) AS {qi('s' + c)}", f"sum(({x}) * ({x})) AS {qi('q' + c)}"]
    head = ("SELECT _r AS _cat, CASE WHEN _r IS NULL OR _r = 'unknown_variant|' THEN _v END "
            "AS _v, ")
    tail = ("count(*) AS _rows, min(CASE WHEN _r IS NULL THEN _t END) AS _t0, "
            "max(CASE WHEN _r IS NULL THEN _t END) AS _t1, " + ", ".join(sums))
    if start:
        # the start is known: rows are grouped by look window and schedule step directly
        red = Reduction(_iso_seconds(start))
        sql, xs = _classified(logs, plan, red.origin, store=True)
        rel = f"(_t - {red.origin!r})"
        query = (head +
                 f"CASE WHEN _r IS NULL THEN CAST(floor({rel} / {plan.look!r}) AS BIGINT) END "
                 f"AS _look, CASE WHEN _r IS NULL THEN {plan.step_sql(rel)} END AS _step, "
                 + tail + f" FROM {sql} GROUP BY ALL")
        out = _fetch(logs, query)
        for r in out:
            if r["_cat"] is None:
                r["_key"] = (int(r["_look"]), int(r["_step"]))
    else:
        # one scan: group on the absolute time grid (plan.grain); the start is the first
        # used row's grain, and grains map to (look, step) exactly in Python
        sql, xs = _classified(logs, plan, None, store=True)
        g = plan.grain
        query = (head + f"CASE WHEN _r IS NULL THEN CAST(floor(_t / {g!r}) AS BIGINT) END "
                 "AS _g, " + tail + f" FROM {sql} GROUP BY ALL")
        out = _fetch(logs, query)
        used = [r for r in out if r["_cat"] is None]
        red = Reduction(min(int(r["_g"]) for r in used) * g if used else None)
        if used:
            rel = np.array([int(r["_g"]) * g - red.origin for r in used])  # type: ignore[operator]
            looks = np.floor(rel / plan.look + 1e-9).astype(np.int64)
            steps = plan.step_of(rel + 1e-9)
            for r, k, st in zip(used, looks, steps):
                r["_key"] = (int(k), int(st))
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
        freeze = freeze_looks(red, plan, control)
        plain, _ = _classified(logs, plan, red.origin, store=False)
        for m in plan.quantiles:
            if m.name not in freeze:
                continue
            k = freeze[m.name]
            x = xs[m.column]  # type: ignore[index]
            vals = logs._run(
                f"SELECT {x} FROM {plain} WHERE _r IS NULL AND _v = {ql(control)} AND "
                f"floor({rel} / {plan.look!r}) <= {k}"
            ).fetchnumpy()[x]
            thr = quantile_threshold(np.asarray(vals, dtype=float), m.quantile)  # type: ignore[arg-type]
            red.thresholds[m.name] = (thr, k)
            rows = logs._run(
                f"SELECT CAST(floor({rel} / {plan.look!r}) AS BIGINT) AS _look, "
                f"{plan.step_sql(rel)} AS _step, _v, sum(CAST({x} > {thr!r} AS BIGINT)) "
                f"FROM {plain} WHERE _r IS NULL AND floor({rel} / {plan.look!r}) > {k} "
                "GROUP BY ALL"
            ).fetchall()
            for look, step, var, a in rows:
                cell = red.exceed.setdefault((int(look), int(step)), {}).setdefault(str(var), {})
                cell[m.name] = cell.get(m.name, 0) + int(a)
    red.check()
    return red

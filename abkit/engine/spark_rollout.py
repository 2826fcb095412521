"""The rollout and rows plans on Spark (the twins of :mod:`abkit.engine.duckdb_rollout` and
:mod:`abkit.engine.duckdb_rows`).

Rollout: one aggregation counts every row by reason and sums the used rows per (look,
step, variant), or, without a declared start, per grain of the absolute time grid (the start
is then the first used row's grain, and grains map to cells in Python exactly as on DuckDB);
quantile metrics add two small jobs once their baseline look is known. Rows: one
aggregation for the accounting, then only the used rows' time, variant and value columns
come back, as arrays, in input order.
"""

from __future__ import annotations

import numpy as np

from .rollout_reduce import Reduction, RolloutPlan, _iso_seconds, freeze_looks, \
    quantile_threshold
from .spark_classify import account, classified
from ..stats.log_buckets import LN_GAMMA, ZERO
from .spark_logs import SparkLogs, driver_frame, utc

__all__ = ["reduce_rollout"]


def _step(plan: RolloutPlan, rel):
    from pyspark.sql import functions as F

    b = plan.schedule.boundaries
    if not b:
        return F.lit(0)
    out = None
    for i, x in enumerate(b):
        out = F.when(rel < F.lit(x), F.lit(i)) if out is None else out.when(rel < F.lit(x),
                                                                            F.lit(i))
    return out.otherwise(F.lit(len(b)))  # type: ignore[union-attr]


def _look(plan: RolloutPlan, rel):
    from pyspark.sql import functions as F

    return F.floor(rel / F.lit(plan.look)).cast("bigint")


def reduce_rollout(logs: SparkLogs, plan: RolloutPlan, control: str) -> Reduction:
    from pyspark.sql import functions as F

    col = F.col
    start = plan.spec.rollout.start  # type: ignore[union-attr]
    with utc(logs.spark):
        origin = _iso_seconds(start) if start else None
        cl, xs = classified(logs, plan.rules(origin))
        if plan.quantiles:  # the quantile jobs read the same classified rows again
            cl = cl.persist()
        r = col("_r")
        ok = r.isNull()
        aggs = [F.count(F.lit(1)).alias("_rows"), F.min(F.when(ok, col("_t"))).alias("_t0"),
                F.max(F.when(ok, col("_t"))).alias("_t1")]
        for i, c in enumerate(plan.columns):
            x = F.when(ok, col(xs[c]))
            aggs += [F.sum(x).alias(f"_s{i}"), F.sum(x * x).alias(f"_q{i}")]
        vcol = F.when(ok | (r == "unknown_variant|"), col("_v")).alias("_v")
        if start:
            rel = col("_t") - F.lit(origin)
            keys = [F.when(ok, _look(plan, rel)).alias("_look"),
                    F.when(ok, _step(plan, rel)).alias("_step")]
        else:
            g = plan.grain
            keys = [F.when(ok, F.floor(col("_t") / F.lit(g)).cast("bigint")).alias("_g")]
        out = [x.asDict() for x in cl.groupBy(r.alias("_cat"), vcol, *keys).agg(*aggs)
               .collect()]
        out.sort(key=lambda x: (x["_cat"] is not None, x["_cat"] or "", x["_v"] or "",
                                tuple(x.get(k) or 0 for k in ("_look", "_step", "_g"))))
        if start:
            red = Reduction(origin)
            for x in out:
                if x["_cat"] is None:
                    x["_key"] = (int(x["_look"]), int(x["_step"]))
        else:
            red = Reduction(plan.place_on_grid([x for x in out if x["_cat"] is None]))
        reasons = [(x["_cat"], x["_v"], int(x["_rows"])) for x in out if x["_cat"] is not None]
        red.rejected, red.rejected_columns, red.unknown_variants, red.examples = account(
            logs, reasons, sum(int(x["_rows"]) for x in out))
        for x in out:
            if x["_cat"] is not None:
                continue
            vec = [float(x["_rows"])]
            for i in range(len(plan.columns)):
                vec += [float(x[f"_s{i}"] or 0.0), float(x[f"_q{i}"] or 0.0)]
            red.add_cell(x["_key"], str(x["_v"]), np.array(vec))
            red.rows_used += int(x["_rows"])
            red.see_times(x["_t0"], x["_t1"])
        red.rows_read = red.rows_used + sum(red.rejected.values())
        if plan.quantiles and red.cells:
            # without a declared start, the origin is the first used row's grain: no used
            # row is before it, so the rows used above are the rows used from the origin on
            _quantiles(cl, xs, plan, red, control)
        if plan.quantiles:
            cl.unpersist()
    red.check()
    return red


def _quantiles(cl, xs: dict, plan: RolloutPlan, red: Reduction, control: str) -> None:
    from pyspark.sql import functions as F

    col = F.col
    freeze = freeze_looks(red, plan, control)
    rel = col("_t") - F.lit(red.origin if red.origin is not None else 0.0)
    look = F.floor(rel / F.lit(plan.look))
    used = cl.where(col("_r").isNull())
    for m in plan.quantiles:
        if m.name not in freeze:
            continue
        k = freeze[m.name]
        x = col(xs[m.column])  # type: ignore[index]
        vals = driver_frame(used.where((col("_v") == F.lit(control)) & (look <= F.lit(k)))
                       .select(x.alias("_q")))["_q"].to_numpy(dtype=float)
        thr = quantile_threshold(vals, m.quantile)  # type: ignore[arg-type]
        red.thresholds[m.name] = (thr, k)
        rows = (used.where(look > F.lit(k))
                .groupBy(_look(plan, rel).alias("_look"), _step(plan, rel).alias("_step"),
                         col("_v"))
                .agg(F.sum((x > F.lit(thr)).cast("bigint")).alias("_a")).collect())
        for lk, st, var, a in sorted(rows, key=lambda t: (t[0], t[1], t[2])):
            cell = red.exceed.setdefault((int(lk), int(st)), {}).setdefault(str(var), {})
            cell[m.name] = cell.get(m.name, 0) + int(a)
    lg = F.lit(LN_GAMMA)
    for c in plan.sketch_columns:
        x = col(xs[c])
        key = (F.when(x > 0, F.ceil(F.log(x) / lg) * 2 + 1)
               .when(x < 0, F.ceil(F.log(-x) / lg) * 2).otherwise(F.lit(ZERO)))
        rows = (used.groupBy(look.cast("bigint").alias("_look"), col("_v"),
                             key.cast("bigint").alias("_k")).count().collect())
        for lk, var, k, n in sorted(rows, key=lambda t: (t[0], t[1], t[2])):
            red.add_sketch(int(lk), str(var), c, int(k), int(n))

"""The Spark engine: a plan compiles to Spark DataFrame aggregations, run where the data is.

Sources: a pyspark DataFrame (``abkit.analyze(spark.read.parquet("s3://..."), spec)``), a
pandas DataFrame handed to Spark (``engine="spark"``), or log files read by Spark
(``engine="spark"``, ``abkit report --engine spark``): CSV/TSV with a header, every column
as text, then the DuckDB text rules; Parquet; JSON Lines (gzip by Spark). Rows are
classified by :mod:`abkit.engine.spark_classify` and reduced in two aggregations, like
DuckDB's (:mod:`abkit.engine.duckdb_engine`): rows -> units, units -> per-variant counts,
means and covariances. Only the per-variant (or per-cell) aggregates come back to Python.

Spark's floating-point sums are merged in the order the partial aggregates arrive, so the
last bits (about 1e-15 relative) may vary between runs on a cluster; the reductions equal
DuckDB's to 1e-9 relative (``tests/engine/test_conformance.py``).
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..stats import MomentStats
from .base import Engine
from .duckdb_moments import MomentSQL
from .plan import Plan, Reduced

__all__ = ["SparkEngine", "reduce_ab"]


def _logs(source: Any):
    logs = getattr(source, "spark", None)
    if logs is None:
        raise InputError("this source is not open on Spark",
                         "pass engine='spark' when opening it")
    return logs


def _moment_aggs(plan: Plan, vals: dict) -> tuple[list, dict[str, str]]:
    """Spark aggregates of count, means and covariances; alias -> DuckDB-style key."""
    from pyspark.sql import functions as F

    aggs = [F.count(F.lit(1)).alias("_n")]
    keys: dict[str, str] = {}
    for i, v in enumerate(plan.variables):
        aggs.append(F.avg(vals[v]).alias(f"_mean{i}"))
        keys[f"_mean{i}"] = "mean:" + v.key
    for j, (a, b, key) in enumerate(plan.covariances, start=1):
        alias = f"_cov{j}"
        aggs.append(F.covar_samp(vals[a], vals[b]).alias(alias))
        keys[alias] = key
    return aggs, keys


def _var_agg(v, xs: dict):
    from pyspark.sql import functions as F

    if v.agg == "count":
        return F.count(F.lit(1))
    x = F.col(xs[v.column])
    return {"value": F.sum, "sum": F.sum, "max": F.max, "avg": F.avg}[v.agg](x)


def reduce_ab(logs, plan: Plan) -> Reduced:
    """Per-variant (per-unit) moments and the accounting of an A/B plan, on Spark."""
    from pyspark.sql import functions as F

    from .spark_classify import account, classified
    from .spark_logs import utc

    spec = plan.spec
    col = F.col
    with utc(logs.spark):
        cl, xs = classified(logs, plan.rules())
        variables = plan.variables
        r = col("_r")
        if spec.unit_column:
            zs = {v: f"_z{i}" for i, v in enumerate(variables)}
            units = cl.groupBy(
                F.when(r.isNull(), col("_u")).alias("_uu"),
                F.when(r == "unknown_variant|", col("_v")).alias("_uv"), r,
            ).agg(F.min("_v").alias("_vmin"), F.max("_v").alias("_vmax"),
                  F.count(F.lit(1)).alias("_rows"),
                  *[_var_agg(v, xs).alias(zs[v]) for v in variables])
            dup = col("_rows") > 1 if spec.granularity == "unit" else F.lit(False)
            cat = (F.when(r.isNotNull(), r)
                   .when(col("_vmin") != col("_vmax"), F.lit("unit_in_multiple_variants|"))
                   .when(dup, F.lit("duplicate_unit|")))
            vcol = F.when(r.isNull(), col("_vmin")).otherwise(col("_uv"))
            aggs, keys = _moment_aggs(plan, {v: col(zs[v]) for v in variables})
            out = units.groupBy(cat.alias("_cat"), vcol.alias("_v")).agg(
                F.sum("_rows").alias("_rows"), *aggs).collect()
        else:
            vcol = F.when(r.isNull() | (r == "unknown_variant|"), col("_v"))
            aggs, keys = _moment_aggs(plan, {v: col(xs[v.column]) for v in variables})
            out = cl.groupBy(r.alias("_cat"), vcol.alias("_v")).agg(
                F.count(F.lit(1)).alias("_rows"), *aggs).collect()
        rows = [{keys.get(k, k): val for k, val in x.asDict().items()} for x in out]
        rows.sort(key=lambda x: (x["_cat"] is not None, x["_cat"] or "", x["_v"] or ""))
        used = [x for x in rows if x["_cat"] is None]
        reasons = [(x["_cat"], x["_v"], int(x["_rows"])) for x in rows
                   if x["_cat"] is not None]
        rejected, rejected_columns, unknown, examples = account(
            logs, reasons, sum(int(x["_rows"]) for x in rows))
    units_by_variant: dict[str, int] = {}
    moments: dict[str, dict[str, MomentStats]] = {m.spec.name: {} for m in plan.metrics}
    rows_used = 0
    for row in used:
        v = str(row["_v"])
        n = int(row["_n"])
        units_by_variant[v] = n
        rows_used += int(row["_rows"])
        for m in plan.metrics:
            moments[m.spec.name][v] = MomentSQL._to_moments(row, m.variables, n)
    rows_read = rows_used + sum(rejected.values())
    red = Reduced(rows_read, rows_used, rejected, rejected_columns, units_by_variant,
                  moments, unknown, examples)
    red.check()
    return red


class SparkEngine(Engine):
    """On Spark: a plan compiles to DataFrame aggregations (see the module docstring)."""

    name = "spark"

    def columns(self, source: Any) -> list[str]:
        return _logs(source).columns()

    def sample(self, source: Any, n: int = 10000) -> Any:
        return _logs(source).sample(n)

    def reduce(self, source: Any, plan: Any) -> Any:
        """:meth:`Engine.reduce`, with the running stages' tasks as progress on stderr."""
        from .progress import SparkProgress, progress
        from .spark_logs import session

        tasks = SparkProgress(session().sparkContext)
        with progress(tasks, getattr(source, "label", "Spark DataFrame")):
            return super().reduce(source, plan)

    def reduce_ab(self, source: Any, plan: Any) -> Any:
        return reduce_ab(_logs(source), plan)

    def reduce_rollout(self, source: Any, plan: Any) -> Any:
        from .spark_rollout import reduce_rollout

        return reduce_rollout(_logs(source), plan, plan.spec.control)

    def reduce_rows(self, source: Any, plan: Any) -> Any:
        from .spark_rows import reduce_rows

        return reduce_rows(_logs(source), plan)

    def reduce_pairs(self, source: Any, plan: Any) -> Any:
        from .spark_pairs import reduce_pairs

        return reduce_pairs(source, plan)

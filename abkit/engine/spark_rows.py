"""The Spark compilation of a :class:`~abkit.engine.rows.RowsPlan`: every row counted by
reason, then the used rows' per-(second, variant) cells, and per refinement round the
per-(time, variant) cells of the seconds the plan asks for
(:func:`abkit.engine.rows.refine_cells`); the classified rows are persisted once, and only
cells reach the driver."""

from __future__ import annotations

import numpy as np

from .rows import CellTable, RowsPlan, TimeCells, cells_from_frame, refine_cells
from .spark_classify import account, classified, reason_rows
from .spark_logs import SparkLogs, driver_frame, utc

__all__ = ["reduce_rows"]


def _cells(used, xs: list[str], fine: bool):
    from pyspark.sql import functions as F

    aggs = [F.count(F.lit(1)).alias("rows"), F.min("_t").alias("tmin"),
            F.max("_t").alias("tmax")]
    for i, x in enumerate(xs):
        aggs += [F.count(x).alias(f"n{i}"), F.avg(x).alias(f"mean{i}"),
                 (F.var_pop(x) * F.count(x)).alias(f"m2{i}")]
    by = ["k", "_t", "v"] if fine else ["k", "v"]
    return used.groupBy(*by).agg(*aggs).drop("_t") if fine else used.groupBy(*by).agg(*aggs)


def reduce_rows(logs: SparkLogs, plan: RowsPlan) -> TimeCells:
    from pyspark.sql import functions as F

    rules = plan.rules
    with utc(logs.spark):
        cl, xs = classified(logs, rules)
        cl = cl.persist()  # counted, then reduced to cells and refined
        try:
            reasons, used_n = reason_rows(cl)
            rejected, rcols, unknown, examples = account(
                logs, reasons, used_n + sum(n for *_, n in reasons))
            cols = [xs[c] for c in rules.columns]
            used = (cl.where(F.col("_r").isNull())
                    .select(F.floor("_t").cast("double").alias("k"), "_t",
                            F.col("_v").alias("v"), *cols))
            coarse = cells_from_frame(driver_frame(_cells(used, cols, False)),
                                      rules.columns, False)

            def fetch(keys: np.ndarray) -> CellTable:
                part = used.where(F.col("k").isin([float(k) for k in keys]))
                return cells_from_frame(driver_frame(_cells(part, cols, True)),
                                        rules.columns, True)

            cells = refine_cells(coarse, plan, fetch)
        finally:
            cl.unpersist()
    rows = TimeCells(used_n + sum(rejected.values()), used_n, rejected, rcols, unknown,
                     examples, cells)
    rows.check()
    return rows

"""The Spark compilation of a :class:`~abkit.engine.rows.RowsPlan`: every row counted by
reason, then only the used rows' time, variant and value columns, as arrays, in input order."""

from __future__ import annotations

from .rows import Rows, RowsPlan
from .spark_classify import account, classified, reason_rows
from .spark_logs import SparkLogs, driver_frame, utc

__all__ = ["reduce_rows"]


def reduce_rows(logs: SparkLogs, plan: RowsPlan) -> Rows:
    from pyspark.sql import functions as F

    rules = plan.rules
    with utc(logs.spark):
        cl, xs = classified(logs, rules, with_id=True)
        cl = cl.persist()  # counted, then the used rows are fetched
        reasons, used = reason_rows(cl)
        rejected, rcols, unknown, examples = account(
            logs, reasons, used + sum(n for *_, n in reasons))
        cols = [F.col(xs[c]) for c in rules.columns]
        # a filter and a projection keep the scan's partitions: the rows arrive in input
        # order, and sorting by _id on the driver only makes sure of it (no shuffle)
        got = driver_frame(cl.where(F.col("_r").isNull()).select("_id", "_t", "_v", *cols))
        cl.unpersist()
        got = got.sort_values("_id", kind="stable")
    time = got["_t"].to_numpy(dtype=float)
    variant = got["_v"].to_numpy(dtype=object)
    values = {c: got[xs[c]].to_numpy(dtype=float) for c in rules.columns}
    rows = Rows(used + sum(rejected.values()), used, rejected, rcols, unknown, examples,
                time, variant, values)
    rows.check()
    return rows

"""The labels of a Spark pairs reduction (:mod:`abkit.engine.spark_pairs`): label rows from a
labels file or from the live rows' label column, with the reasons and examples of the
pandas reference (``bad_label``, ``missing_id``, ``conflicting_label``, ``duplicate_label``,
``labels_only``; see :mod:`abkit.engine.duckdb_pair_labels` for the same in SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..io.datacapture import _Counter
from .pairs import PairsPlan

__all__ = ["SparkLabels", "label_rows"]


@dataclass
class SparkLabels:
    """The label rows read, the rejections before the pairing, the valid labels by id
    (``by_id``: ``_lid``, ``_v``, ``_p1``) and the pairing's label counter."""

    read: int
    by_id: Any = None
    rejected: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    counter: _Counter = field(default_factory=_Counter)

    def finish(self, cls, n_labelled: int) -> tuple[_Counter, int, str]:
        """(counter, labels_only, its example) once the pairs are known (``cls``: the
        classified rows, paired where ``_r`` is NULL)."""
        from pyspark.sql import functions as F

        c = self.counter
        c.used = n_labelled
        unmatched = int(self.by_id.count()) - n_labelled
        example = ""
        if unmatched:
            paired = cls.where((F.col("_s") == 0) & F.col("_r").isNull()).select(
                F.col("_rid").alias("_lid"))
            first = (self.by_id.join(paired, "_lid", "left_anti").orderBy("_p1")
                     .select("_lid").first()[0])
            live = cls.where((F.col("_s") == 0) & (F.col("_rid") == F.lit(first))).count()
            hint = "it matches an unpaired live record" if live else "no live record has that id"
            example = f"label id {first!r} matches no pair ({hint})"
            c.reject("labels_only", example, unmatched)
        self.by_id.unpersist()
        return c, unmatched, example


def _where(good, pos: int) -> str:
    from pyspark.sql import functions as F

    row = good.where(F.col("_pos") == F.lit(pos)).select("_wf", "_wl", "_located").first()
    if row is not None and row["_located"]:
        return f"{row['_wf']}:{row['_wl']}"
    return f"row {int(good.where(F.col('_pos') < F.lit(pos)).count())}"


def label_rows(rows, plan: PairsPlan) -> SparkLabels:
    """The label rows' accounting and the valid labels by id."""
    from pyspark.sql import functions as F

    from .spark_pair_text import bad_lines, ident as _ident, number as _number

    if plan.labels_input is not None:
        from .spark_classify import _bad_example

        logs = plan.labels_input.spark
        base, bad = logs.df, bad_lines(logs)
        if logs.format == "jsonl":
            base = base.where(F.col("_ok"))
        elif logs.format in ("csv", "tsv"):
            base = base.where(F.col("_bad").isNull())
        located = {"file", "line"} <= set(logs.columns())
        comma = getattr(logs, "decimal", ".") == ","
        lab = base.select(
            F.col("_id").alias("_pos"), _ident(logs.text(plan.label_id_column)).alias("_lid"),
            _number(logs.text(plan.label_column or "label"), comma).alias("_lv"),
            *[(logs.text(c).cast("string") if located else F.lit(None).cast("string"))
              .alias(n) for n, c in (("_wf", "file"), ("_wl", "line"))],
            F.lit(located).alias("_located")).persist()
        n = int(lab.count())
        out = SparkLabels(n)
        if bad:
            out.examples["unparseable_line"] = _bad_example(logs)
        if logs.format in ("csv", "tsv"):
            from .spark_files import swallowed_lines

            bad += swallowed_lines(logs, n + bad)
        if bad:
            out.rejected["unparseable_line"] = bad
        out.read = n + bad
    else:
        lab = rows.where((F.col("_s") == 0) & F.col("_lt").isNotNull() &
                         (F.col("_lt") != F.lit(""))).select(
            "_pos", F.col("_rid").alias("_lid"), "_lv", F.lit(None).cast("string").alias("_wf"),
            F.lit(None).cast("string").alias("_wl"), F.lit(False).alias("_located"))
        out = SparkLabels(int(lab.count()))
    lv = F.col("_lv")
    badl = lv.isNull() | lv.isin(float("inf"), float("-inf"))
    if plan.binary_labels:
        badl = badl | ~lv.isin(0.0, 1.0)
    lab = lab.withColumn("_bad", badl).persist()
    n_bad = int(lab.where(F.col("_bad")).count())
    if n_bad:
        out.rejected["bad_label"] = n_bad
    good = lab.where(~F.col("_bad"))
    c = out.counter
    c.read = out.read - out.rejected.get("unparseable_line", 0) - n_bad
    miss = good.where(F.col("_lid").isNull()).agg(F.count(F.lit(1)).alias("n"),
                                                  F.min("_pos").alias("p")).first()
    if miss["n"]:
        c.reject("missing_id", f"{_where(good, miss['p'])}: the label id is empty",
                 int(miss["n"]))
    ids = good.where(F.col("_lid").isNotNull()).groupBy("_lid").agg(
        F.count(F.lit(1)).alias("_n"), (F.min("_lv") < F.max("_lv")).alias("_conflict"),
        F.min("_pos").alias("_p1"), F.min_by("_lv", "_pos").alias("_v")).persist()
    conflict = ids.where(F.col("_conflict")).agg(
        F.sum("_n").alias("n"), F.min_by("_lid", "_p1").alias("id"),
        F.min("_p1").alias("p")).first()
    if conflict["n"]:
        c.reject("conflicting_label", f"{_where(good, conflict['p'])}: id {conflict['id']!r} "
                 "has different labels", int(conflict["n"]))
    rep_ids = ids.where(~F.col("_conflict") & (F.col("_n") > 1))
    n_rep = rep_ids.agg(F.sum(F.col("_n") - 1).alias("n")).first()["n"]
    if n_rep:
        first = good.join(rep_ids.select("_lid", "_p1"), "_lid").where(
            F.col("_pos") > F.col("_p1")).agg(F.min("_pos").alias("p"),
                                              F.min_by("_lid", "_pos").alias("id")).first()
        c.reject("duplicate_label", f"{_where(good, first['p'])}: id {first['id']!r} is "
                 "labelled more than once (first kept)", int(n_rep))
    out.by_id = ids.where(~F.col("_conflict")).select("_lid", "_v", "_p1").persist()
    out.by_id.count()
    ids.unpersist()
    lab.unpersist()
    for k, n in c.rejected.items():
        out.rejected[k] = out.rejected.get(k, 0) + n
    for k, v in c.examples.items():
        out.examples.setdefault(k, v)
    return out

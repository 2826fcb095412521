"""The Spark compilation of a :class:`~abkit.engine.pairs.PairsPlan`: the split, the row checks,
the duplicate rule and the pairing join on the request id, as Spark column expressions (the
same steps as :mod:`abkit.engine.duckdb_pairs`); the counts, one example per reason and the
pairs' arrays come back to the driver. Text is read as the pandas reference reads it (ids
stripped of Unicode whitespace, numbers as ``pandas.to_numeric``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.labels import check_labels
from ..io.datacapture import _Counter
from ..io.datacapture.accounting import _merge as merge_accounting
from .pairs import (SIDE_REASONS, SIDES, PairsPlan, PairsReduction, pair_diagnostics,
                    side_example)
from .spark_pair_labels import label_rows
from .spark_logs import driver_frame, utc
from .spark_pair_text import bad_lines, ident as _ident, number as _number

__all__ = ["reduce_pairs"]

_SIDES = SIDES


def _rows(logs: Any, plan: PairsPlan, side: int | None, with_label: bool):
    """(rows with ``_pos`` and the plan's columns, rows, unparseable lines, an example)."""
    from pyspark.sql import functions as F

    from .spark_classify import _bad_example

    base = logs.df
    example = ""
    bad = bad_lines(logs)
    if logs.format == "jsonl":
        base = base.where(F.col("_ok"))
    elif logs.format in ("csv", "tsv"):
        base = base.where(F.col("_bad").isNull())
    comma = getattr(logs, "decimal", ".") == ","
    cols = set(logs.columns())
    located = {"file", "line"} <= cols
    out = [F.col("_id").alias("_pos"), _ident(logs.text(plan.id_column)).alias("_rid"),
           logs.text(plan.output_column).cast("string").alias("_yt"),
           _number(logs.text(plan.output_column), comma).alias("_y")]
    out += [_number(logs.text(c), comma).alias(f"_c{i}") for i, c in enumerate(plan.carry)]
    out.append((logs.text(plan.timestamp_column).cast("string") if plan.timestamp_column
                else F.lit(None).cast("string")).alias("_t"))
    out += [logs.text(c).cast("string").alias(f"_f{i}") for i, c in enumerate(plan.columns)]
    for name, col in (("_wf", "file"), ("_wl", "line")):
        out.append((logs.text(col).cast("string") if located else
                    F.lit(None).cast("string")).alias(name))
    out.append(F.lit(located).alias("_located"))
    if with_label:
        out.append(logs.text(plan.label_column).cast("string").alias("_lt"))
        out.append(_number(logs.text(plan.label_column), comma).alias("_lv"))
    else:
        out += [F.lit(None).cast("string").alias("_lt"), F.lit(None).cast("double").alias("_lv")]
    if side is None:
        tag = _ident(logs.text(plan.variant_column))
        s = F.when(tag == F.lit(str(plan.live)), 0).when(tag == F.lit(str(plan.candidate)), 1)
        out += [tag.alias("_tag"), s.alias("_s")]
    else:
        out += [F.lit(None).cast("string").alias("_tag"), F.lit(side).alias("_s")]
    rows = base.select(*out).persist()  # counted, then classified (and Spark refuses a
    n = int(rows.count())  # count of a filtered CSV that reads the corrupt-record column only
    if bad and logs.format in ("csv", "tsv", "jsonl"):
        example = _bad_example(logs)
    if logs.format in ("csv", "tsv"):
        from .spark_files import swallowed_lines

        bad += swallowed_lines(logs, n + bad)
    return rows, n, bad, example


def _position(df, pos: int, extra=None) -> int:
    from pyspark.sql import functions as F

    cond = F.col("_pos") < F.lit(pos)
    return int(df.where(cond if extra is None else cond & extra).count())


def _where(df, pos: int, extra=None) -> str:
    from pyspark.sql import functions as F

    cond = F.col("_pos") == F.lit(pos)
    row = df.where(cond if extra is None else cond & extra).select(
        "_wf", "_wl", "_located").first()
    if row is not None and row["_located"]:
        return f"{row['_wf']}:{row['_wl']}"
    return f"row {_position(df, pos, extra)}"


def reduce_pairs(source: Any, plan: PairsPlan) -> PairsReduction:
    """The Spark compilation of ``plan`` over ``source`` (a LogInput with ``spark``) and the
    plan's candidate and labels inputs."""
    from pyspark.sql import functions as F


    logs = source.spark
    rejected: dict[str, int] = {}
    examples: dict[str, str] = {}
    with utc(logs.spark):
        if plan.candidate_input is None:
            rows, n, bad, ex = _rows(logs, plan, None, plan.labels_from_log)
            read = n + bad
            if ex:
                examples["unparseable_line"] = ex
            out = rows.where(F.col("_s").isNull()).groupBy("_tag").agg(
                F.count(F.lit(1)).alias("n"), F.min("_pos").alias("p")).collect()
            sides = {r["_s"]: int(r["n"]) for r in
                     rows.groupBy("_s").agg(F.count(F.lit(1)).alias("n")).collect()}
            unknown = {str(r["_tag"]): int(r["n"]) for r in out if r["_tag"] is not None}
            miss = [r for r in out if r["_tag"] is None]
            if miss:
                rejected["missing_variant"] = int(miss[0]["n"])
                examples["missing_variant"] = (f"{_where(rows, miss[0]['p'])}: empty "
                                               f"{plan.variant_column!r}")
            if unknown:
                first = min((r for r in out if r["_tag"] is not None), key=lambda r: r["p"])
                rejected["unknown_variant"] = sum(unknown.values())
                examples["unknown_variant"] = (
                    f"{_where(rows, first['p'])}: variant {first['_tag']!r} (unknown tags: "
                    f"{', '.join(sorted(unknown)[:5])})")
            live, cand = str(plan.live), str(plan.candidate)
            check_labels(plan.where, {"experiment.live": live, "experiment.candidate": cand},
                         {live: sides.get(0, 0), cand: sides.get(1, 0)}, unknown, n)
        else:
            a, n, bad, ex = _rows(logs, plan, 0, plan.labels_from_log)
            b, m, c_bad, c_ex = _rows(plan.candidate_input.spark, plan, 1, False)
            rows = a.unionByName(b)
            read = n + bad + m + c_bad
            bad += c_bad
            if ex or c_ex:
                examples["unparseable_line"] = ex or c_ex
        if bad:
            rejected["unparseable_line"] = bad
        labels = label_rows(rows, plan) if (plan.labels_input is not None
                                            or plan.labels_from_log) else None
        v = rows.where(F.col("_s").isNotNull()).withColumn(
            "_c", F.when(F.col("_rid").isNull(), "missing_request_id")
            .when(F.col("_yt").isNotNull() & F.col("_y").isNull(), "non_numeric_output")
            .when(F.col("_y").isNull() | F.col("_y").isin(float("inf"), float("-inf")),
                  "non_finite_output"))
        cnt = v.where(F.col("_c").isNull()).groupBy("_rid").agg(
            F.count(F.when(F.col("_s") == 0, 1)).alias("_n0"),
            F.count(F.when(F.col("_s") == 1, 1)).alias("_n1"))
        cls = v.join(cnt, "_rid", "left").withColumn("_r", F.coalesce(
            F.col("_c"), F.when((F.col("_n0") > 1) | (F.col("_n1") > 1), "duplicate_request")
            .when((F.col("_s") == 0) & (F.col("_n1") == 0), "live_only")
            .when((F.col("_s") == 1) & (F.col("_n0") == 0), "shadow_only"))).persist()
        counters, pair_examples = _side_accounting(cls, plan)
        pairs = cls.where(F.col("_r").isNull())
        left = pairs.where(F.col("_s") == 0).select(
            "_rid", "_pos", F.col("_y").alias("_yl"), "_t",
            *[f"_c{i}" for i in range(len(plan.carry))],
            *[f"_f{i}" for i in range(len(plan.columns))])
        right = pairs.where(F.col("_s") == 1).select(
            "_rid", F.col("_y").alias("_ys"),
            *[F.col(f"_c{i}").alias(f"_d{i}") for i in range(len(plan.carry))])
        joined = left.join(right, "_rid")
        if labels is not None:
            joined = joined.join(labels.by_id.select(F.col("_lid").alias("_rid"), "_v"),
                                 "_rid", "left")
        else:
            joined = joined.withColumn("_v", F.lit(None).cast("double"))
        got = driver_frame(joined).sort_values("_pos", kind="stable").reset_index(drop=True)
        n_pairs = len(got)
        lab = got["_v"].to_numpy(dtype=float) if n_pairs else np.zeros(0)
        n_lab = int(np.isfinite(lab).sum())
        unmatched_labels = 0
        label_acc = None
        if labels is not None:
            read += labels.read
            for k, x in labels.rejected.items():
                rejected[k] = rejected.get(k, 0) + x
            for k, x in labels.examples.items():
                examples.setdefault(k, x)
            lc, unmatched_labels, lo_ex = labels.finish(cls, n_lab)
            if lo_ex:
                pair_examples.setdefault("labels_only", lo_ex)
                examples.setdefault("labels_only", lo_ex)
                rejected["labels_only"] = rejected.get("labels_only", 0) + unmatched_labels
            label_acc = lc.freeze()
        cls.unpersist()
        for df in ([rows] if plan.candidate_input is None else [a, b]):
            df.unpersist()
    by_side = {k: c.freeze() for k, c in counters.items()}
    acc = merge_accounting(by_side.values())
    for k, x in acc.rejected.items():
        rejected[k] = rejected.get(k, 0) + x
    examples.update(pair_examples)

    def text(col: str) -> np.ndarray:
        return np.array([None if x is None or x != x else str(x) for x in got[col].tolist()],
                        dtype=object)

    red = PairsReduction(
        rows_read=int(read), rows_used=2 * n_pairs + n_lab,
        rejected=dict(sorted((k, x) for k, x in rejected.items() if x)),
        examples=dict(sorted(examples.items())),
        unmatched={"live_only": int(acc.rejected.get("live_only", 0)),
                   "shadow_only": int(acc.rejected.get("shadow_only", 0)),
                   "labels_only": unmatched_labels},
        by_side=by_side, labels=label_acc, pair_examples=pair_examples,
        diagnostics=pair_diagnostics(n_pairs, labels is not None, n_lab),
        request_id=text("_rid") if n_pairs else np.zeros(0, dtype=object),
        output_live=got["_yl"].to_numpy(dtype=float) if n_pairs else np.zeros(0),
        output_shadow=got["_ys"].to_numpy(dtype=float) if n_pairs else np.zeros(0),
        label=lab, time=(text("_t") if n_pairs else np.zeros(0, dtype=object))
        if plan.timestamp_column else None,
        carried={c: (got[f"_c{i}"].to_numpy(dtype=float), got[f"_d{i}"].to_numpy(dtype=float))
                 for i, c in enumerate(plan.carry)},
        columns={c: text(f"_f{i}") for i, c in enumerate(plan.columns)})
    red.check()
    return red


def _side_accounting(cls, plan: PairsPlan) -> tuple[dict[str, _Counter], dict[str, str]]:
    from pyspark.sql import functions as F

    found = {(r["_s"], r["_r"]): (int(r["n"]), int(r["p"])) for r in cls.groupBy(
        "_s", "_r").agg(F.count(F.lit(1)).alias("n"), F.min("_pos").alias("p")).collect()}
    counters = {s: _Counter() for s in _SIDES}
    examples: dict[str, str] = {}
    for s, side in enumerate(_SIDES):
        counters[side].read = sum(n for (ss, _), (n, _) in found.items() if ss == s)
        counters[side].used = found.get((s, None), (0, 0))[0]
    for r in SIDE_REASONS:
        for s, side in enumerate(_SIDES):
            if (s, r) not in found:
                continue
            n, p = found[(s, r)]
            on_side = F.col("_s") == F.lit(s)
            row = cls.where(on_side & (F.col("_pos") == F.lit(p))).select("_rid", "_yt").first()
            what = side_example(r, s, plan.id_column, row["_rid"], row["_yt"])
            ex = f"{side} {_where(cls, p, on_side)}: {what}"
            counters[side].reject(r, ex, n)
            examples.setdefault(r, ex)
    return counters, examples

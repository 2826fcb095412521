"""The Spark compilation of the one row classifier (:class:`abkit.engine.rules.RowRules`).

:func:`classified` gives a Spark DataFrame of every row with its variant ``_v``, unit
``_u``, time ``_t`` (epoch seconds), values ``_x<i>``, input position ``_id`` and the first
rejection reason that applies, ``_r = 'reason|column'`` (NULL for a used row): the same
checks, in the same order, as :func:`abkit.engine.classify.classify` (pandas) and
:func:`abkit.engine.duckdb_classify.classified_sql` (DuckDB). Column expressions, not SQL
text: no label or column name is ever quoted into a query.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..core.accounting import ReasonCounts
from .duckdb_classify import value_aliases
from .rules import RowRules
from .timestamps import TimeRules, time_rules

if TYPE_CHECKING:  # pragma: no cover
    from .spark_logs import SparkLogs

__all__ = ["account", "classified", "reason_rows"]


def _out_of_range(t, time: TimeRules):
    from pyspark.sql import functions as F

    cond = F.lit(False)
    if math.isfinite(time.low):
        cond = cond | (t < F.lit(time.low))
    if math.isfinite(time.high):
        cond = cond | (t > F.lit(time.high))
    return cond


def classified(logs: SparkLogs, rules: RowRules, *, with_id: bool = False):
    """(DataFrame of every classified row, value column -> alias); ``with_id`` keeps the
    input position ``_id`` (only the rows plan needs it: it is not free)."""
    from pyspark.sql import functions as F

    from .spark_logs import finite

    xs = value_aliases(rules)
    ms = {c: f"_m{i}" for i, c in enumerate(rules.columns)}
    stages: list = []

    def stage(name: str, expr):
        # an intermediate column, computed once per row (Spark keeps such a projection
        # apart rather than copy a costly expression into every check that reads it)
        stages.append((name, expr))
        return F.col(name)

    select = [logs.label_expr(rules.variant_column).alias("_v")]
    if with_id:
        select.append(F.col("_id"))
    time = rules.time
    if rules.timestamp_column:
        if time is None:  # not decided by the plan: from the engine's sample
            time = time_rules(logs.sample()[rules.timestamp_column])
        tmiss, tval = logs.time_exprs(rules.timestamp_column, time.scale, stage, "_wt")
        select += [tmiss.alias("_tm"), tval.alias("_t")]
    if rules.unit_column:
        select.append(logs.label_expr(rules.unit_column).alias("_u"))
    for i, c in enumerate(rules.columns):
        miss, val = logs.num_exprs(c, stage, f"_w{i}")
        select += [miss.alias(ms[c]), val.alias(xs[c])]
    bad = None
    if logs.format == "jsonl":
        select.append(F.col("_ok"))
        bad = ~F.col("_ok")
    elif logs.format in ("csv", "tsv"):
        select.append(F.col("_bad"))
        bad = F.col("_bad").isNotNull()
    base = logs.df if with_id else logs.plain
    for name, expr in stages:
        base = base.withColumn(name, expr)
    rows = base.select(*select)
    col = F.col

    def test(code: str, c: str | None):
        if code == "missing_variant":
            return col("_v").isNull()
        if code == "unknown_variant":
            known = list(rules.variants or ())
            return ~col("_v").isin(*known) if known else F.lit(True)
        if code == "missing_unit_id":
            return col("_u").isNull()
        if code == "missing_timestamp":
            return col("_tm")
        if code == "bad_timestamp":
            return col("_t").isNull()
        if code == "timestamp_out_of_range":
            return _out_of_range(col("_t"), time)  # type: ignore[arg-type]
        if code == "before_start":
            return col("_t") < F.lit(rules.origin)
        x = col(xs[c])  # type: ignore[index]
        if code == "missing_value":
            return col(ms[c])  # type: ignore[index]
        if code == "non_numeric_value":
            return x.isNull()
        if code == "non_finite_value":
            return ~finite(x)
        if code == "not_binary":
            return ~x.isin(0.0, 1.0)
        if code == "negative_count":
            return x < F.lit(0.0)
        raise AssertionError(f"unknown check {code}")  # pragma: no cover

    checks = [(bad, "unparseable_line|")] if bad is not None else []
    checks += [(test(code, c), f"{code}|{c or ''}") for code, c in rules.checks()]
    reason = None
    for cond, text in checks:
        reason = (F.when(cond, F.lit(text)) if reason is None
                  else reason.when(cond, F.lit(text)))
    return rows.withColumn("_r", reason if reason is not None else F.lit(None)
                           .cast("string")), xs


def reason_rows(df):
    """``(reason, unknown variant label or None, rows)`` of every rejected group, and the
    used row count, from a classified DataFrame (one aggregation)."""
    from pyspark.sql import functions as F

    r = F.col("_r")
    out = df.groupBy(r.alias("_cat"), F.when(r == "unknown_variant|", F.col("_v"))
                     .alias("_uv")).agg(F.count(F.lit(1)).alias("_rows")).collect()
    reasons = [(x["_cat"], x["_uv"], int(x["_rows"])) for x in out if x["_cat"] is not None]
    used = sum(int(x["_rows"]) for x in out if x["_cat"] is None)
    return reasons, used


def account(logs, reasons, records: int) -> tuple[dict, dict, dict, dict]:
    """(rejected, rejected_columns, unknown_variants, examples) from reason triples;
    ``records`` = every row the reader returned (with the malformed ones)."""
    counts = ReasonCounts()
    for r, v, n in reasons:
        counts.add(r, n, v)
    examples: dict[str, str] = {}
    if counts.rejected.get("unparseable_line") and logs.format in ("csv", "tsv", "jsonl"):
        examples["unparseable_line"] = _bad_example(logs)
    if logs.format in ("csv", "tsv"):
        from .spark_files import swallowed_lines

        swallowed = swallowed_lines(logs, records)
        if swallowed:
            counts.rejected["unparseable_line"] = (counts.rejected.get("unparseable_line", 0)
                                                   + swallowed)
            examples["quoted_field_spans_lines"] = (
                f"{swallowed} lines are inside quoted fields that span several lines (an "
                "unclosed \" quote?); they were not read as rows")
    return counts.rejected, counts.rejected_columns, counts.unknown_variants, examples


def _bad_example(logs) -> str:
    from pyspark.sql import functions as F

    if logs.format == "jsonl":
        rows = logs.df.where(~F.col("_ok")).select("value").limit(1).collect()
        kind = "not a JSON object"
    else:
        # Spark refuses a query of the corrupt-record column alone: a data column goes along
        rows = (logs.df.where(F.col("_bad").isNotNull()).select("_bad", "_c0", "_id")
                .limit(1).collect())
        kind = "wrong number of fields"
    if not rows:  # pragma: no cover
        return ""
    return f"{logs.label}: {kind}: {str(rows[0][0])[:200]!r}"

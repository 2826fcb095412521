"""Text of a Spark pairs reduction read as the pandas reference reads it (ids stripped of
Unicode whitespace, numbers as ``pandas.to_numeric``), and the lines a reader rejected;
shared by :mod:`abkit.engine.spark_pairs` and :mod:`abkit.engine.spark_pair_labels`."""

from __future__ import annotations

from typing import Any

__all__ = ["bad_lines", "ident", "number"]

_WS = "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x3001)) if c.isspace())
_STRIP = f"^[{_WS}]+|[{_WS}]+$"
_SPACE = "[ \\t\\n\\x0B\\f\\r]*"
_DIGITS = "[0-9]+"
_PANDAS_NUMBER = (f"^{_SPACE}[+-]?({_DIGITS}(\\.([0-9]*))?|\\.{_DIGITS})([eE][+-]?{_DIGITS})?"
                  f"{_SPACE}$")


def ident(s):
    """An id or tag stripped as ``str.strip()`` strips it; NULL when empty."""
    from pyspark.sql import functions as F

    t = F.regexp_replace(s.cast("string"), _STRIP, "")
    return F.when(t != F.lit(""), t)


def number(s, comma: bool):
    """``pandas.to_numeric(errors="coerce")`` of text; NULL when not a number (NaN too)."""
    from pyspark.sql import functions as F

    from .spark_logs import try_cast

    t = s.cast("string")
    if comma:
        t = F.regexp_replace(t, ",", ".")
    low = F.lower(t)
    return (F.when(t.rlike(_PANDAS_NUMBER), try_cast(t, "double"))
            .when(low.isin("inf", "+inf", "infinity", "+infinity"), F.lit(float("inf")))
            .when(low.isin("-inf", "-infinity"), F.lit(float("-inf"))))


def bad_lines(logs: Any) -> int:
    """Lines the CSV reader found malformed (``_bad``) or that are not JSON objects."""
    from pyspark.sql import functions as F

    if logs.format == "jsonl":
        return int(logs.df.where(~F.col("_ok")).count())
    if logs.format in ("csv", "tsv"):
        # Spark refuses a query of the corrupt-record column alone: a data column goes along
        got = logs.df.agg(F.count(F.when(F.col("_bad").isNotNull(), F.coalesce(
            F.col("_c0").cast("string"), F.lit(""))))).first()[0]
        return int(got)
    return 0

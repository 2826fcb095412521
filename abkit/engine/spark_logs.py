"""Logs opened on Spark: a Spark DataFrame (the caller's, a pandas frame handed to Spark, or
files read by Spark), with the column expressions the Spark classifier needs.

Columns are renamed to positions (``_c0``, ``_c1`` ...) so that no user name (dots,
backticks, spaces) is ever parsed by Spark; every row gets ``_id`` (increasing in file
order) so that the rows plan returns rows in input order. Text follows the rules of the
DuckDB engine's text path (:mod:`abkit.engine.duckdb_classify`): numbers are parsed with
DuckDB's grammar (``1_000`` is a number, ``1.5d`` and ``0x10`` are not), ISO 8601 times
with DuckDB's accepted shapes, and all of it in UTC.

The Spark master of a session abkit starts is :func:`master` (``local[*]``, or
``ABKIT_SPARK_MASTER``, or :func:`set_master`, which ``abkit report --spark-master`` calls);
an existing session (``SparkSession.getActiveSession()``, or the DataFrame's own) is used
as it is.
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from typing import Iterator

from ..errors import InputError

__all__ = ["SparkLogs", "driver_frame", "master", "session", "set_master", "utc"]

MASTER_ENV = "ABKIT_SPARK_MASTER"
_master: str | None = None

_NUMERIC = ("tinyint", "smallint", "int", "bigint", "float", "double", "boolean", "byte",
            "short", "long", "integer")
_TIMES = ("timestamp", "timestamp_ntz", "date")
# DuckDB's trim removes spaces and Unicode space separators; its cast then skips ASCII space
_TRIM = r"^\p{Zs}+|\p{Zs}+$"
_CAST_SPACE = r"^[ \t\n\x0B\f\r]+|[ \t\n\x0B\f\r]+$"
# DuckDB's double grammar: digits may be grouped by single underscores
_D = r"[0-9]+(_[0-9]+)*"
_NUMBER = rf"^[+-]?({_D}(\.({_D})?)?|\.{_D})([eE][+-]?{_D})?$"
_INF = ("inf", "+inf", "infinity", "+infinity")
_NINF = ("-inf", "-infinity")
_NAN = ("nan", "+nan", "-nan")
# the shapes DuckDB reads as a timestamp (Spark also takes "2026", "2026-11", "...T10")
_ISO = r"^-?[0-9]+-[0-9]{1,2}-[0-9]{1,2}([T ][0-9]{1,2}:[0-9]{1,2}(\D.*|[0-9]*)?)?$"


def set_master(value: str | None) -> None:
    """The master of a Spark session abkit starts (None: ``ABKIT_SPARK_MASTER`` or
    ``local[*]``)."""
    global _master
    _master = value


def master() -> str:
    return _master or os.environ.get(MASTER_ENV) or "local[*]"


def _pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise InputError("the spark engine needs pyspark, which is not installed",
                         'pip install "abkit[spark]"') from None


def session():
    """The active Spark session, or a new one on :func:`master`."""
    _pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    spark = (SparkSession.builder.master(master()).appName("abkit")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             # abkit shows the stages' progress itself (engine/progress.py SparkProgress)
             .config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def driver_frame(df):
    """A (small) Spark DataFrame's rows on the driver, as pandas (through Arrow when the
    session enables it)."""
    with warnings.catch_warnings():  # pyspark 4 warns about pandas 3; the arrays are fine
        warnings.simplefilter("ignore", FutureWarning)
        return df.toPandas()


@contextmanager
def utc(spark) -> Iterator[None]:
    """Run with the session's time zone set to UTC (text without an offset is UTC, as in
    DuckDB), duplicated JSON keys resolved to the last, and CSV column pruning off (with it,
    a line with the wrong number of fields is malformed or not depending on the columns a
    query reads); restored afterwards."""
    keys = {"spark.sql.session.timeZone": "UTC", "spark.sql.mapKeyDedupPolicy": "LAST_WIN",
            "spark.sql.csv.parser.columnPruning.enabled": "false"}
    old = {k: spark.conf.get(k, None) for k in keys}
    for k, v in keys.items():
        spark.conf.set(k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


def try_cast(col, to: str):
    if hasattr(col, "try_cast"):  # pyspark >= 4.0
        return col.try_cast(to)
    return col.cast(to)  # pyspark 3.5: ANSI mode is off by default, a bad cast is NULL


def finite(x):
    from pyspark.sql import functions as F

    return ~F.isnan(x) & (F.abs(x) != F.lit(float("inf")))


def trim(s):
    from pyspark.sql import functions as F

    return F.regexp_replace(s, _TRIM, "")


def _no_stage(name: str, expr):
    return expr


def parse_double(s, stage=_no_stage, key: str = "_w"):
    """DuckDB's ``TRY_CAST(s AS DOUBLE)`` of trimmed text ``s``, in Spark. ``stage(name,
    expr)`` may compute an intermediate column once (it returns the column to use)."""
    from pyspark.sql import functions as F

    core = stage(key + "k", F.regexp_replace(s, _CAST_SPACE, ""))
    low = F.lower(core)
    number = try_cast(F.regexp_replace(core, "_", ""), "double")
    return (F.when(core.rlike(_NUMBER), number)
            .when(low.isin(*_INF), F.lit(float("inf")))
            .when(low.isin(*_NINF), F.lit(float("-inf")))
            .when(low.isin(*_NAN), F.lit(float("nan"))))


def parse_time(s):
    """Epoch seconds of ISO 8601 text (DuckDB's ``TRY_CAST(s AS TIMESTAMPTZ)``), or NULL."""
    from pyspark.sql import functions as F

    ts = try_cast(s, "timestamp")
    return F.when(s.rlike(_ISO), F.unix_micros(ts) / F.lit(1e6))


class SparkLogs:
    """A Spark DataFrame ready for classification.

    ``fmt`` is ``frame`` (a DataFrame), ``csv``/``tsv``/``parquet`` (files, one column per
    log column; CSV/TSV add ``_bad``, the malformed line or NULL) or ``jsonl`` (``_ok`` and
    ``_map``, the object's keys and text values).
    """

    def __init__(self, df, names: list[str], fmt: str = "frame",
                 label: str = "Spark DataFrame", files: tuple[str, ...] = ()) -> None:
        from pyspark.sql import functions as F

        self.spark = df.sparkSession
        self.format = fmt
        self.label = label
        self.files = files
        self.names = list(names)
        self.df = df.withColumn("_id", F.monotonically_increasing_id())
        self.plain = df  # without _id (a non-deterministic column blocks optimisations)
        if fmt == "jsonl":
            self._types = {c: "string" for c in self.names}
        else:
            pos = {f"_c{i}": c for i, c in enumerate(self.names)}
            self._types = {pos[n]: t for n, t in df.dtypes if n in pos}

    @classmethod
    def from_spark(cls, df) -> SparkLogs:
        names = [str(c) for c in df.columns]
        return cls(df.toDF(*[f"_c{i}" for i in range(len(names))]), names)

    @classmethod
    def from_pandas(cls, frame) -> SparkLogs:
        spark = session()
        names = [str(c) for c in frame.columns]
        frame = frame.copy()
        frame.columns = [f"_c{i}" for i in range(len(names))]
        for c in frame.columns:  # object columns may mix numbers and text: text, as DuckDB
            if frame[c].dtype == object or str(frame[c].dtype) in ("str", "string"):
                frame[c] = frame[c].map(lambda x: None if x is None or x != x else str(x))
                frame[c] = frame[c].astype(object)
        with utc(spark), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas",
                                    FutureWarning)
            if len(frame) == 0:
                from pyspark.sql.types import StringType, StructField, StructType

                schema = StructType([StructField(c, StringType()) for c in frame.columns])
                df = spark.createDataFrame([], schema)
            else:
                df = spark.createDataFrame(frame)
        return cls(df, names, label="DataFrame")

    # ------------------------------------------------------------------ columns
    def columns(self) -> list[str]:
        return list(self.names)

    def _pos(self, col: str) -> str:
        try:
            return f"_c{self.names.index(col)}"
        except ValueError:
            raise InputError(f"{self.label} has no column {col!r}") from None

    def type(self, col: str) -> str:
        if self.format == "jsonl":
            return "string"
        return self._types.get(self._pos(col), "string").lower()

    def text(self, col: str):
        from pyspark.sql import functions as F

        if self.format == "jsonl":
            return F.col("_map").getItem(col)
        return F.col(self._pos(col))

    def label_expr(self, col: str):
        from pyspark.sql import functions as F

        x = self.text(col)
        if self.type(col) == "string":
            return F.when(x != F.lit(""), x)
        return x.cast("string")

    def _numeric(self, col: str) -> bool:
        t = self.type(col)
        return t in _NUMERIC or t.startswith("decimal")

    def num_exprs(self, col: str, stage=_no_stage, key: str = "_w"):
        """(is-missing, numeric value) of a metric column. ``stage(name, expr)`` computes
        an intermediate column once (names start with ``key``), so that the text is trimmed
        and parsed once per row however often the checks read it."""
        from pyspark.sql import functions as F

        src = self.text(col)
        if self._numeric(col):
            return src.isNull(), src.cast("double")
        s = stage(key + "s", trim(src.cast("string")))
        missing = src.isNull() | (s == F.lit(""))
        low = F.lower(s)
        number = stage(key + "d", parse_double(s, stage, key))
        value = F.when(~missing, F.coalesce(
            number, F.when(low == "true", F.lit(1.0)).when(low == "false", F.lit(0.0))))
        return missing, value

    def time_exprs(self, col: str, scale: float, stage=_no_stage, key: str = "_wt"):
        """(is-missing, epoch seconds or NULL) of a timestamp column (``stage`` as in
        :meth:`num_exprs`)."""
        from pyspark.sql import functions as F

        src = self.text(col)
        t = self.type(col)
        if t in _TIMES or t.startswith("timestamp"):
            return src.isNull(), F.unix_micros(src.cast("timestamp")) / F.lit(1e6)
        if self._numeric(col):
            x = stage(key + "x", src.cast("double") * F.lit(scale))
            missing = src.isNull()
        else:
            s = stage(key + "s", trim(src.cast("string")))
            missing = src.isNull() | (s == F.lit(""))
            x = stage(key + "x", F.coalesce(parse_double(s, stage, key) * F.lit(scale),
                                            parse_time(s)))
        return missing, F.when(finite(x), x)

    def sample(self, n: int = 10000):
        """The first ``n`` rows as a pandas DataFrame of strings (for spec inference)."""
        import pandas as pd

        base = self.df
        if self.format == "jsonl":
            base = base.where("_ok")
        elif self.format in ("csv", "tsv"):
            base = base.where("_bad IS NULL")
        cols = [self.text(c).cast("string").alias(f"_s{i}") for i, c in enumerate(self.names)]
        with utc(self.spark):  # a limit reads the first partitions first: no full sort
            rows = base.select("_id", *cols).limit(int(n)).collect()
        rows = sorted(rows, key=lambda r: r[0])
        return pd.DataFrame([list(r)[1:] for r in rows], columns=self.names, dtype=object)

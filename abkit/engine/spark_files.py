"""Log files read by Spark: CSV/TSV (a header; every column as text; quoted fields may
hold line breaks; a record with the wrong number of fields is ``unparseable_line``, and so
is each line an unclosed quote swallowed, counted as DuckDB counts them), Parquet (columns merged by name) and JSON
Lines (blank lines skipped; a line that is not a JSON object is ``unparseable_line``).
Gzip is decompressed by Spark.

Local paths, globs and folders are resolved as for DuckDB (:func:`abkit.io.sources.
resolve_sources`: same files, same order, same header checks); URLs that Spark can read
(``s3a://``, ``hdfs://``, ``s3://`` on EMR ...) are handed to Spark as they are, and their
format is taken from the first one's name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io.sources import Source, detect_format, resolve_sources
from .spark_logs import SparkLogs, session, trim, utc

__all__ = ["open_files", "swallowed_lines"]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _urls(data: Any) -> list[str] | None:
    items = [data] if isinstance(data, (str, Path)) else list(data) \
        if isinstance(data, (list, tuple)) else None
    if not items or not all(_URL.match(str(x)) for x in items):
        return None
    return [str(x) for x in items]


def _url_source(urls: list[str]) -> Source:
    name = urls[0].rstrip("/").rsplit("/", 1)[-1]
    fmt, compressed = detect_format(Path(name))
    if fmt is None:
        raise InputError(f"{urls[0]}: cannot tell the log format from the name",
                         "name the files .csv, .tsv, .parquet or .jsonl (optionally .gz), or "
                         "read them with spark.read and pass the DataFrame")
    return Source(tuple(Path(u) for u in urls), fmt, compressed)


def _csv_names(source: Source, paths: list[str], local: bool) -> list[str]:
    from .duckdb_files import csv_header

    delim = source.delimiter or ("," if source.format == "csv" else "\t")
    if not local:
        spark = session()
        return [str(c) for c in spark.read.csv(paths[:1], header=True, sep=delim).columns]
    first = csv_header(source.files[0], delim)
    for f in source.files[1:]:
        other = csv_header(f, delim)
        if other != first:
            raise InputError(
                f"{f}: its header ({', '.join(other[:12])}) differs from "
                f"{source.files[0]} ({', '.join(first[:12])})",
                "CSV files read together must have the same columns in the same order")
    return first


def open_files(data: Any) -> tuple[SparkLogs, Source]:
    """The files of ``data`` read by Spark, and their :class:`Source`."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    urls = _urls(data)
    source = _url_source(urls) if urls else resolve_sources(data)
    paths = urls or [str(Path(f).resolve()) for f in source.files]
    spark = session()
    fmt = source.format
    label = source.label if urls is None else (
        urls[0] if len(urls) == 1 else f"{len(urls)} {fmt} files ({urls[0]}, ...)")
    named = tuple(urls) if urls else tuple(str(f) for f in source.files)
    with utc(spark):
        if fmt in ("csv", "tsv"):
            names = _csv_names(source, paths, urls is None)
            if not names:
                raise InputError(f"{label} is empty (no header line)",
                                 "check that the file has a header and rows")
            schema = StructType([StructField(f"_c{i}", StringType()) for i in range(len(names))]
                                + [StructField("_bad", StringType())])
            delim = source.delimiter or ("," if fmt == "csv" else "\t")
            df = spark.read.csv(paths, schema=schema, header=True, sep=delim, quote='"',
                                escape='"', mode="PERMISSIVE", enforceSchema=True, multiLine=True,
                                columnNameOfCorruptRecord="_bad")
            logs = SparkLogs(df, names, fmt, label, named)
            logs.paths, logs.delimiter = tuple(paths), delim
            return logs, source
        if fmt == "parquet":
            df = spark.read.option("mergeSchema", "true").parquet(*paths)
            names = [str(c) for c in df.columns]
            df = df.toDF(*[f"_c{i}" for i in range(len(names))])
            return SparkLogs(df, names, fmt, label, named), source
        if fmt == "jsonl":
            if urls is None:
                from .duckdb_files import _refuse_binary

                for f in source.files:
                    _refuse_binary(f)
            line = F.col("value")
            body = trim(line)
            ok = (F.json_object_keys(line).isNotNull() & body.startswith("{")
                  & body.endswith("}"))
            df = (spark.read.text(paths).where(body != F.lit(""))
                  .select(line, ok.alias("_ok"))
                  .withColumn("_map", F.when(F.col("_ok"), F.from_json(
                      line, "map<string,string>"))))
            keys = (df.where("_ok").limit(10000)
                    .select(F.explode(F.json_object_keys("value")).alias("k"))
                    .distinct().collect())
            names = sorted({str(k[0]) for k in keys})
            return SparkLogs(df, names, fmt, label, named), source
    raise InputError(f"the spark engine does not read {fmt} files")  # pragma: no cover


def swallowed_lines(logs: SparkLogs, records: int) -> int:
    """Physical lines of the CSV files that are no record's own and no line break inside a
    quoted field (RFC 4180): the lines an unclosed quote swallowed. The rules of DuckDB's
    accounting (:meth:`abkit.engine.duckdb_rejects.RejectAccounting.account`)."""
    from pyspark.sql import functions as F

    spark = logs.spark
    text = spark.read.text(list(logs.paths)).select("value", F.input_file_name().alias("_f"))
    row = text.agg(F.count(F.when(trim(F.col("value")) != F.lit(""), 1)).alias("n"),
                   F.countDistinct("_f").alias("f")).collect()[0]
    swallowed = int(row["n"]) - int(row["f"]) - records  # the header line of each file
    if swallowed > 0:
        swallowed -= _quoted_line_breaks(logs)
    return max(swallowed, 0)


def _quoted_line_breaks(logs: SparkLogs) -> int:
    """Lines that quoted fields hold as text: per field, each line after a break that is
    not blank and does not hold a whole row's delimiters (the last one if it does not)."""
    from pyspark.sql import functions as F

    need = len(logs.names) - 1
    if need < 1:
        return 0
    pattern = r"\Q" + logs.delimiter + r"\E"

    def delims(x):
        return F.length(x) - F.length(F.regexp_replace(x, pattern, ""))

    terms = []
    for i in range(len(logs.names)):
        c = F.col(f"_c{i}")
        segs = F.split(c, "\n")
        middle = F.slice(segs, F.lit(2), F.size(segs) - F.lit(2))
        kept = F.size(F.filter(middle, lambda x: (trim(F.regexp_replace(x, "\r", ""))
                                                  != F.lit("")) & (delims(x) < need)))
        last = F.when(delims(F.element_at(segs, -1)) < need, 1).otherwise(0)
        terms.append(F.when(F.instr(c, "\n") > 0, kept + last).otherwise(0))
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    got = logs.df.where(F.col("_bad").isNull()).agg(F.sum(total)).collect()[0][0]
    return int(got or 0)

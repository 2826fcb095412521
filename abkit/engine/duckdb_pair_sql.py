"""SQL helpers of the DuckDB pairs reduction (:mod:`abkit.engine.duckdb_pairs`,
:mod:`abkit.engine.duckdb_pair_labels`): text read as the pandas reference reads it (ids and
tags stripped, numbers as ``pandas.to_numeric``), each input's rows numbered in file order
into a table of the main input's connection, and the reader's rejected lines."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from .duckdb_files import ql

__all__ = ["drop_rows", "id_sql", "iso_time_sql", "load_rows", "num_sql", "on_connection", "reader_rejects", "text_sql"]

#: what ``str.strip()`` strips (Unicode whitespace), for ids and variant tags
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


def id_sql(text: str) -> str:
    """An id or tag as the pandas reference normalises text: stripped, NULL when empty.

    Every whitespace character is below ``!`` or above ``~``-ish (U+0085 and up), so text
    that starts and ends with a character in between is kept as it is without the (slow)
    many-character trim."""
    plain = f"ord({text}) BETWEEN 33 AND 132 AND ord({text}[-1]) BETWEEN 33 AND 132"
    return (f"(CASE WHEN {plain} THEN {text} "
            f"ELSE NULLIF(trim({text}, {ql(_WHITESPACE)}), '') END)")


def num_sql(text: str, comma: bool = False) -> str:
    """A number as ``pandas.to_numeric(errors="coerce")`` reads text; NULL when it is not
    one (NaN included). DuckDB also reads ``1_000`` and `` inf ``; pandas does not."""
    s = f"replace({text}, ',', '.')" if comma else text
    v = f"TRY_CAST({s} AS DOUBLE)"
    return (f"(CASE WHEN contains({s}, '_') THEN NULL WHEN isfinite({v}) THEN {v} "
            f"WHEN {v} IS NULL OR isnan({v}) THEN NULL "
            f"WHEN regexp_matches({s}, '^\\s|\\s$') THEN NULL ELSE {v} END)")


#: the ISO 8601 form that DuckDB's TIMESTAMPTZ cast and pandas' ``format="ISO8601"`` read
#: alike: a year 1000-9999, hours 00-23, seconds 00-59 (no leap second), at most 6
#: fractional digits (microseconds, the unit pandas gives such text), an optional ``Z`` or
#: ``+hh:mm`` offset; no offset is UTC (abkit's connections set ``TimeZone = 'UTC'``)
_ISO_TIME = (r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
             r"(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?")


def iso_time_sql(text: str) -> str:
    """``text`` as a TIMESTAMPTZ when it has the strict form above and is a real date and
    time, else NULL (the text is then left to pandas, which reads every other form)."""
    return (f"CASE WHEN regexp_full_match({text}, {ql(_ISO_TIME)}) "
            f"THEN TRY_CAST({text} AS TIMESTAMPTZ) END")


def text_sql(logs: Any, col: str) -> str:
    return f"CAST({logs.text(col)} AS VARCHAR)"


@contextmanager
def on_connection(logs: Any, con: Any) -> Iterator[Any]:
    """``logs`` (another input's :class:`~abkit.engine.duckdb_engine.DuckDBLogs`) scanning
    in ``con``, so that its rows can be joined with the main input's."""
    logs.columns()  # the columns are read on its own connection first
    own = logs.con
    logs.con = con
    try:
        yield logs
    finally:
        logs.con = own


def reader_rejects(logs: Any) -> tuple[int, str]:
    """(lines the reader could not parse, an example) of the last scan, whose reject tables
    are then dropped (so that the next input's scan starts from none)."""
    n, example = logs._csv_rejects()
    for t in ("_abkit_rejects", "_abkit_scans"):
        logs.con.execute(f"DROP TABLE IF EXISTS {t}")
    return n, example


def load_rows(logs: Any, table: str, exprs: dict[str, str], *, create: bool = True,
              replace: dict[str, str] | None = None, more: dict[str, str] | None = None
              ) -> tuple[int, int, str]:
    """Rows of one input into ``table``: ``_pos`` (file order), ``exprs`` over the scan,
    then ``replace`` (expressions over ``exprs`` that replace one of them) and ``more`` (new
    columns over ``exprs``). Returns (rows, unparseable lines, an example).

    ``table`` is a view of ``<table>_data``: the rows are written on every thread with
    ``preserve_insertion_order``, under which DuckDB's CSV, JSON and Parquet readers, SELECT
    and WHERE keep the input's order (DuckDB's "Order Preservation" page), so a row's
    ``rowid`` is its place in the file and ``_pos`` is ``rowid`` less the first rowid of its
    input (``_seg`` numbers the inputs; ``create=False`` appends another input, numbered
    from 0 again). The numbering is thus the same whatever the number of threads, and no
    single-threaded ``row_number()`` is needed."""
    jsonl = logs.source.format == "jsonl"
    data = f"{table}_data"
    start, seg = 0, 0
    if not create:
        start, seg = logs.con.execute(
            f"SELECT count(*), coalesce(max(_seg) + 1, 0) FROM {data}").fetchone()
    sel = ", ".join(f"{e} AS {k}" for k, e in exprs.items())
    rep = ", ".join(f"{e} AS {k}" for k, e in (replace or {}).items())
    new = "".join(f", {e} AS {k}" for k, e in (more or {}).items())
    body = (f"SELECT {int(seg)}::UTINYINT AS _seg, *{f' REPLACE ({rep})' if rep else ''}"
            f"{new} FROM (SELECT {sel} FROM {logs.scan(store_rejects=True)} "
            f"{'WHERE _ok' if jsonl else ''})")
    logs.con.execute("SET preserve_insertion_order = true")  # rowid in file order
    try:
        if create:
            drop_rows(logs.con, table)
        logs.run(f"CREATE TEMP TABLE {data} AS {body}" if create
                 else f"INSERT INTO {data} BY NAME {body}")
    finally:
        logs.con.execute("SET preserve_insertion_order = false")
    firsts = {0: 0}
    if not create:  # the first rowid of each input's rows (_seg: which input a row is of)
        firsts = dict(logs.con.execute(
            f"SELECT _seg, min(rowid) FROM {data} GROUP BY _seg").fetchall())
    minus = " ".join(f"WHEN {int(i)} THEN {int(f)}" for i, f in sorted(firsts.items()))
    logs.con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT rowid - CASE _seg "
                     f"{minus or 'WHEN 0 THEN 0'} END AS _pos, * EXCLUDE (_seg) FROM {data}")
    bad, example = reader_rejects(logs)
    if jsonl:
        bad += int(logs.run(f"SELECT count(*) FROM {logs.scan()} WHERE NOT _ok").fetchone()[0])
    n = int(logs.con.execute(f"SELECT count(*) FROM {data}").fetchone()[0]) - start
    return n, bad, example


def drop_rows(con: Any, table: str) -> None:
    """Drop ``table`` (a view that :func:`load_rows` made, or a table) and its data."""
    kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables "
                             "WHERE table_name IN (?, ?)", [table, f"{table}_data"]).fetchall())
    for name, kind in kinds.items():
        con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {name}")

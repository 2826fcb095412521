"""SQL helpers of the DuckDB pairs reduction (:mod:`abkit.engine.duckdb_pairs`,
:mod:`abkit.engine.duckdb_pair_labels`): text read as the pandas reference reads it (ids and
tags stripped, numbers as ``pandas.to_numeric``), each input's rows numbered in file order
into a table of the main input's connection, and the reader's rejected lines."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from .duckdb_files import ql

__all__ = ["id_sql", "load_rows", "num_sql", "on_connection", "reader_rejects", "text_sql"]

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

    The rows are numbered on one thread unless the input is not deterministic
    (``--parallel``); the other statements of a pairs reduction sum no floating-point
    number, so they run on every thread whatever the setting."""
    jsonl = logs.source.format == "jsonl"
    sel = ", ".join(f"{e} AS {k}" for k, e in exprs.items())
    rep = ", ".join(f"{e} AS {k}" for k, e in (replace or {}).items())
    new = "".join(f", {e} AS {k}" for k, e in (more or {}).items())
    body = (f"SELECT row_number() OVER () - 1 AS _pos, *{f' REPLACE ({rep})' if rep else ''}"
            f"{new} FROM (SELECT {sel} FROM {logs.scan(store_rejects=True)} "
            f"{'WHERE _ok' if jsonl else ''})")
    threads = logs.con.execute("SELECT current_setting('threads')").fetchone()[0]
    logs.con.execute("SET preserve_insertion_order = true")  # row numbers in file order
    if getattr(logs, "deterministic", True):
        logs.con.execute("SET threads = 1")
    try:
        logs.run(f"CREATE OR REPLACE TEMP TABLE {table} AS {body}" if create
                 else f"INSERT INTO {table} BY NAME {body}")
    finally:
        logs.con.execute("SET preserve_insertion_order = false")
        logs.con.execute(f"SET threads = {int(threads)}")
    bad, example = reader_rejects(logs)
    if jsonl:
        bad += int(logs.run(f"SELECT count(*) FROM {logs.scan()} WHERE NOT _ok").fetchone()[0])
    n = int(logs.con.execute(f"SELECT count(*) FROM {table}" + (
        "" if create else " WHERE _s = 1")).fetchone()[0])
    return n, bad, example

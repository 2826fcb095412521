"""In-memory sources for the DuckDB engine: DataFrames, Arrow data, relations and SQL.

:func:`open_frame` opens any of these as a :class:`~abkit.engine.duckdb_engine.DuckDBLogs`
whose scan is one registered table, ``abkit_frame``; the reduction is then the same SQL as
for log files, and no row is looked at in Python:

==========================  ==============================================================
source                      how DuckDB gets it
==========================  ==============================================================
pandas DataFrame            through Arrow, column by column (numbers, booleans, strings and
                            datetimes without a copy); ``object`` columns, which may mix
                            numbers and text, as text (``str`` of each value, missing ->
                            NULL), like every other dtype Arrow or DuckDB would read
                            differently from pandas (categories, periods, timedeltas)
pyarrow Table, RecordBatch  registered as it is (DuckDB reads dictionary columns' values)
RecordBatchReader           read once into a DuckDB table (a reader cannot be re-read)
polars DataFrame/LazyFrame  ``to_arrow()`` (a LazyFrame is collected first); polars is
                            never imported by abkit
DuckDB relation             streamed out of its own connection into a table of ours (a
                            relation belongs to the connection that made it; the user's
                            connection is only read, never reconfigured)
:func:`sql` query           run on the named DuckDB database file, opened read-only (or on
                            an in-memory database: a query that reads files itself)
==========================  ==============================================================

Column names are text (``str(name)``, as the pandas engine addresses them); a source whose
names repeat is refused, as a CSV header that repeats one is. The connection is set up as
for files: UTC, no extension downloads, the memory limit and a spill directory, and one
thread when ``deterministic`` (so that the sums are added in row order run after run).
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io.sources import Source
from .duckdb_engine import DuckDBLogs
from .duckdb_files import qi
from .duckdb_passes import memory_setup, remove_dir

__all__ = ["FrameLogs", "SQLQuery", "frame_kind", "open_frame", "sql"]

TABLE = "abkit_frame"

#: kind -> how the source is named in messages and the report's ``input.label``
LABELS = {"pandas": "DataFrame", "arrow": "Arrow table", "arrow_stream": "Arrow stream",
          "polars": "polars DataFrame", "relation": "DuckDB relation", "sql": "SQL query"}


@dataclass(frozen=True)
class SQLQuery:
    """A SQL query whose result is the log (see :func:`sql`)."""

    query: str
    database: str | None = None

    @property
    def label(self) -> str:
        where = f" on {self.database}" if self.database else ""
        return f"SQL query{where}"


def sql(query: str, database: str | os.PathLike | None = None) -> SQLQuery:
    """A SQL query for :func:`abkit.analyze`: its result is the log.

    Parameters
    ----------
    query : str
        One ``SELECT`` (or any query DuckDB runs), e.g.
        ``"SELECT * FROM events WHERE day >= '2026-11-01'"``.
    database : path, optional
        A DuckDB database file, opened read-only. Without one the query runs on an empty
        in-memory database, so it can read files itself
        (``"SELECT * FROM 'logs/*.parquet' WHERE region = 'eu'"``).

    Examples
    --------
    >>> abkit.analyze(abkit.sql("SELECT * FROM requests", database="logs.duckdb"),
    ...               "spec.toml")  # doctest: +SKIP
    """
    if not isinstance(query, str) or not query.strip():
        raise InputError("the SQL query is empty", "give a query such as "
                         "abkit.sql(\"SELECT * FROM events\", database=\"logs.duckdb\")")
    return SQLQuery(query.strip().rstrip(";"), None if database is None else str(database))


def frame_kind(data: Any) -> str | None:
    """The kind of in-memory source ``data`` is (a key of :data:`LABELS`), or None; checked
    by type name, without importing pandas, pyarrow or polars."""
    t = type(data)
    mod, name = t.__module__, t.__name__
    if mod.startswith("pandas") and name == "DataFrame":
        return "pandas"
    if mod.startswith("pyarrow"):
        if name in ("Table", "RecordBatch"):
            return "arrow"
        if name == "RecordBatchReader":
            return "arrow_stream"
    if mod.startswith("polars") and name in ("DataFrame", "LazyFrame"):
        return "polars"
    if mod.startswith(("duckdb", "_duckdb")) and name == "DuckDBPyRelation":
        return "relation"
    if isinstance(data, SQLQuery):
        return "sql"
    return None


class FrameLogs(DuckDBLogs):
    """An in-memory source registered in its own DuckDB connection (see :func:`open_frame`).

    ``frame`` is the pandas DataFrame when the source is one (its first rows are the
    sample, with pandas' own dtypes, as the pandas engine samples it), else None.
    """

    kind: str = "pandas"
    frame: Any = None
    _label: str = "DataFrame"

    @property
    def label(self) -> str:
        return self._label

    def sample(self, n: int = 10000):
        """The first ``n`` rows as a pandas DataFrame: the DataFrame's own for a pandas
        source, else as text (as for files)."""
        if self.frame is not None:
            head = self.frame.head(int(n))
            return head.set_axis([str(c) for c in head.columns], axis=1)
        return super().sample(n)


def open_frame(data: Any, *, deterministic: bool | None = None,
               memory_limit: str | None = None, threads: int | None = None) -> FrameLogs:
    """Open an in-memory source (see the module docstring) for the DuckDB reduction.

    Parameters
    ----------
    data
        A pandas or polars DataFrame (or polars LazyFrame), a pyarrow Table, RecordBatch or
        RecordBatchReader, a DuckDB relation, or a :func:`sql` query.
    deterministic, memory_limit, threads : optional
        As for log files (:class:`~abkit.engine.duckdb_engine.DuckDBLogs`).

    Raises
    ------
    InputError
        For any other type, repeated column names, or a query DuckDB cannot run.
    """
    kind = frame_kind(data)
    if kind is None:
        raise InputError(f"cannot read a {type(data).__name__} as a log",
                         "pass log files, a pandas or polars DataFrame, an Arrow table, a "
                         "DuckDB relation or abkit.sql(...)")
    database = data.database if kind == "sql" else None
    logs = _connect(FrameLogs, database, deterministic, memory_limit, threads)
    logs.kind = kind
    logs._label = data.label if kind == "sql" else LABELS[kind]
    if kind == "pandas":
        logs.frame = data
        _register(logs, arrow_from_pandas(data))
    elif kind == "sql":
        _view(logs, data.query)
    else:
        _register(logs, arrow_from(data, kind))
    _unique_names(list(logs.types()), logs.label)  # a query may repeat a name, too
    return logs


def _connect(cls: type, database: str | None, deterministic: bool | None,
             memory_limit: str | None, threads: int | None) -> Any:
    """A ``cls`` object on a fresh connection set up as :class:`DuckDBLogs` sets up its own
    (its ``__init__`` is not called: there are no files)."""
    import duckdb

    obj = cls.__new__(cls)
    obj.source = Source((), "frame", False)
    if database is not None:
        if not Path(database).is_file():
            raise InputError(f"no DuckDB database file {database}",
                             "give the path of an existing .duckdb file")
        try:
            obj.con = duckdb.connect(database, read_only=True)
        except duckdb.Error as e:
            raise InputError(f"cannot open the DuckDB database {database}: "
                             f"{str(e).splitlines()[0]}",
                             "check that it is a DuckDB database file that no other process "
                             "holds open for writing; if this process has it open "
                             "(duckdb.connect), pass a relation instead: "
                             "abkit.analyze(con.sql(query), spec)") from None
    else:
        obj.con = duckdb.connect(":memory:")
    obj.memory_limit, tmp = memory_setup(obj.con, memory_limit)
    weakref.finalize(obj, remove_dir, obj.con, tmp)
    obj.con.execute("SET preserve_insertion_order = false")
    obj.con.execute("SET autoinstall_known_extensions = false")
    obj.con.execute("SET TimeZone = 'UTC'")
    obj._types = None
    obj.deterministic = (deterministic if deterministic is not None
                         else os.environ.get("ABKIT_DETERMINISTIC", "1") != "0")
    obj.exact_order = os.environ.get("ABKIT_DETERMINISTIC_METHOD", "") == "ordered"
    threads = threads or int(os.environ.get("ABKIT_DUCKDB_THREADS", "0") or 0)
    if obj.deterministic and not obj.exact_order:
        threads = 1  # the sample and every reduction read the rows in order
    if threads:
        obj.con.execute(f"SET threads = {int(threads)}")
    return obj


def _register(logs: FrameLogs, data: Any) -> None:
    """Make ``data`` (an Arrow table or reader) the scanned ``abkit_frame``.

    Arrow hands DuckDB its column names as C strings, which end at a NUL character; the
    data is registered under positional names (``c0``, ``c1`` ...) and the view (or, for a
    reader, the table) gives the columns back their names.
    """
    import pyarrow as pa

    names = list(data.schema.names)
    if not names:  # nothing to scan; the column check names the problem
        logs._types = {}
        return
    positional = [f"c{i}" for i in range(len(names))]
    select = ", ".join(f"{p} AS {qi(n)}" for p, n in zip(positional, names))
    if isinstance(data, pa.Table):
        logs.con.register("abkit_arrow", data.rename_columns(positional))
        logs.con.execute(f"CREATE TEMP VIEW {TABLE} AS SELECT {select} FROM abkit_arrow")
        return
    schema = pa.schema([f.with_name(p) for f, p in zip(data.schema, positional)])
    batches = (pa.RecordBatch.from_arrays(b.columns, schema=schema) for b in data)
    logs.con.register("abkit_stream", pa.RecordBatchReader.from_batches(schema, batches))
    try:  # read once: kept in a table of ours
        logs.run(f"CREATE TEMP TABLE {TABLE} AS SELECT {select} FROM abkit_stream")
    finally:
        logs.con.unregister("abkit_stream")


def _view(logs: FrameLogs, query: str) -> None:
    """Register ``query`` as the scanned view, or explain why DuckDB cannot run it."""
    import duckdb

    try:
        logs.con.execute(f"CREATE TEMP VIEW {TABLE} AS {query}")
        logs.con.execute(f"DESCRIBE SELECT * FROM {TABLE}").fetchall()
    except duckdb.Error as e:
        try:
            names = [r[0] for r in logs.con.execute(
                "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM "
                "duckdb_views() WHERE NOT internal ORDER BY 1").fetchall()]
        except duckdb.Error:  # pragma: no cover
            names = []
        shown = ", ".join(n for n in names if n != TABLE)[:300] or "none"
        raise InputError(f"cannot run the {logs.label}: {str(e).splitlines()[0]}",
                         f"check the query (tables and views there: {shown})") from None


# ---------------------------------------------------------------------- to Arrow
def arrow_from(data: Any, kind: str) -> Any:
    """``data`` (of ``kind``, not pandas nor SQL) as an Arrow table or reader, its column
    names checked to be unique."""
    import pyarrow as pa

    if kind == "polars":
        if type(data).__name__ == "LazyFrame":
            data = data.collect()
        data = data.to_arrow()
    elif kind == "relation":
        names = [str(c) for c in data.columns]
        _unique_names(names, LABELS[kind])
        try:
            rel = data.project(", ".join(f"{qi(c)} AS c{i}" for i, c in enumerate(names)))
            # DuckDB >= 1.4 names it to_arrow_reader (fetch_record_batch is deprecated)
            data = (rel.to_arrow_reader() if hasattr(type(rel), "to_arrow_reader")
                    else rel.fetch_record_batch())
        except Exception as e:  # duckdb.Error: the relation's own query failed
            raise InputError(f"cannot read the DuckDB relation: {str(e).splitlines()[0]}",
                             "check that the relation runs (relation.limit(5).show())"
                             ) from None
        schema = pa.schema([f.with_name(n) for f, n in zip(data.schema, names)])
        return pa.RecordBatchReader.from_batches(
            schema, (pa.RecordBatch.from_arrays(b.columns, schema=schema) for b in data))
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    _unique_names([str(n) for n in data.schema.names], LABELS[kind])
    return data  # DuckDB reads dictionary columns as their values


def _unique_names(names: list[str], label: str) -> None:
    seen: set[str] = set()
    dup = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dup:
        raise InputError(f"{label}: the column name(s) {', '.join(map(repr, dup))} appear "
                         "more than once", "give every column a unique name "
                         "(df.columns = [...] or df.rename(columns=...))")


def arrow_from_pandas(frame: Any) -> Any:
    """A pandas DataFrame as an Arrow table DuckDB reads the way the pandas engine reads
    the frame (column names as text, the index left out)."""
    import pyarrow as pa

    names = [str(c) for c in frame.columns]
    _unique_names(names, "DataFrame")
    arrays = [_arrow_column(frame.iloc[:, i]) for i in range(len(names))]
    return pa.Table.from_arrays(arrays, names=names)


def _arrow_column(s: Any) -> Any:
    """One pandas column as an Arrow array with the pandas engine's meaning: numbers,
    booleans, strings and datetimes as such (NaN and NA -> NULL), categories as the text of
    their values, anything else (``object`` columns mixing numbers and text, periods ...)
    as the text ``str`` gives each value."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    dtype = s.dtype
    types = pd.api.types
    if isinstance(dtype, pd.CategoricalDtype):
        values = pa.array([str(c) for c in dtype.categories], type=pa.string())
        codes = s.cat.codes.to_numpy()
        return values.take(pa.array(codes, mask=codes < 0))
    if dtype == object:
        return _text_column(s)
    if types.is_bool_dtype(dtype) or types.is_integer_dtype(dtype) or (
            types.is_float_dtype(dtype) and dtype != np.float16):
        try:
            return pa.array(s, from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError):  # sparse ...: as pandas' floats
            pass
    if types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype):
        return pa.array(s.to_numpy(dtype="float64", na_value=np.nan), from_pandas=True)
    if types.is_datetime64_any_dtype(dtype) or types.is_string_dtype(dtype):
        try:
            return pa.array(s, from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError):  # pragma: no cover
            pass
    return _text_column(s)


def _text_column(s: Any) -> Any:
    """``str`` of every value of ``s`` as an Arrow string array, missing values (None, NaN,
    NA, NaT) NULL: the strings as they are when every value is one, else ``str`` applied by
    ``map`` (a C loop, no Python function per value)."""
    import pandas as pd
    import pyarrow as pa

    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        try:
            return pa.array(s, type=pa.string(), from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError):  # pragma: no cover
            pass
    missing = s.isna().to_numpy(dtype=bool)
    values = s.to_numpy(dtype=object)
    return pa.array(list(map(str, values)), type=pa.string(), mask=missing)

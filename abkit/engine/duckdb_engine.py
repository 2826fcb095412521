"""Reduce log files to sufficient statistics with DuckDB, out of core, in one query.

Inner aggregation: one scan of the files classifies every row (used, or the first rejection
reason that applies) and groups used rows by unit (``min``/``max`` of the variant reveal units
seen in several variants) and rejected rows by reason. Outer aggregation: over those ~units
rows, per-variant counts, means and covariances of the per-unit variables, plus the unit-level
rejections. Without a unit column every row is a unit and one aggregation does it all. No row
is ever loaded into Python.

Floating-point sums in a parallel aggregation depend on thread scheduling, so results would
differ in the last bits from run to run (about 1e-15 relative). By default
(``deterministic=True``) every query runs on one DuckDB thread: the files are scanned in order
and every sum is accumulated in that order, so the output is byte-identical run after run
(checked by the tests on every format). Every core is still used: a large A/B input is reduced
in ``K >= W`` passes by ``hash(unit) % K``, ``W`` of them at once on one-thread connections,
and their statistics are added in pass order (:mod:`abkit.engine.duckdb_passes`), so thread
timing cannot change a bit; a large blue/green input is scanned in ``W`` passes by second,
all of a second's rows in one pass (:func:`~abkit.engine.duckdb_passes.time_passes`).
DuckDB documents no ordering guarantee for one thread; ``ABKIT_DETERMINISTIC_METHOD=ordered``
instead makes every floating-point aggregate an ordered aggregate (``sum(x ORDER BY x)``),
whose result no schedule can change, at several times the cost. ``deterministic=False``
(``abkit report --parallel``, ``ABKIT_DETERMINISTIC=0``) runs each query on all of DuckDB's
threads; see bench/SPEED.md.

Memory is bounded: DuckDB runs under ``memory_limit`` (default 2GB, or
``ABKIT_DUCKDB_MEMORY_LIMIT``) and spills to a temporary directory; when the units do not
fit, the A/B reduction runs in K passes over ``hash(unit) % K`` whose statistics are added in
a fixed order (:mod:`abkit.engine.duckdb_passes`). Out of memory is an InputError that names
the limit and how to raise it.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import replace
from typing import Any, Callable, Iterable

from ..errors import InputError
from ..io.line_guard import Guarded, guard_files
from ..io.sources import Source
from ..stats import MomentStats
from .duckdb_files import (  # noqa: F401  (re-exported: duckdb_rollout, shadow.load)
    _NUMERIC_TYPES,
    LINE_OPTIONS,
    _file_list,
    _friendly,
    _refuse_binary,
    csv_header,
    ql,
    qi,
)
from .duckdb_classify import classified_sql
from .duckdb_moments import MomentSQL
from .duckdb_passes import (MAX_PASSES, OutOfMemory, choose_passes, memory_setup, oom_error,
                            pass_filter, remove_dir, retries_allowed, run_passes,
                            worker_count)
from .duckdb_rejects import RejectAccounting
from .plan import Plan, Reduced
from .rules import RowRules

__all__ = ["DuckDBLogs"]


class DuckDBLogs(RejectAccounting, MomentSQL):
    """Log files opened in an embedded DuckDB connection.

    Parameters
    ----------
    source : Source
        Resolved files of one format.
    threads : optional
        Threads (else ``ABKIT_DUCKDB_THREADS``, else every core): DuckDB's threads when not
        deterministic, else the number of one-thread connections that run the passes.
    memory_limit : optional
        DuckDB memory limit such as ``"2GB"`` (else ``ABKIT_DUCKDB_MEMORY_LIMIT``, else
        ``"2GB"``); past it DuckDB spills to a temporary directory and the A/B reduction
        runs in several passes (:mod:`abkit.engine.duckdb_passes`).
    """

    def __init__(self, source: Source, *, threads: int | None = None,
                 memory_limit: str | None = None, deterministic: bool | None = None) -> None:
        import duckdb

        self.source = source
        if source.format in ("csv", "tsv", "jsonl"):  # over-long lines, gzip bombs
            self.guard = guard_files(source.files)
            weakref.finalize(self, self.guard.close)
        self.con = duckdb.connect(":memory:")
        threads = threads or int(os.environ.get("ABKIT_DUCKDB_THREADS", "0") or 0)
        self.threads = threads  # 0: every core (DuckDB's threads, or the pass connections)
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        # the limit (default 2GB) and a spill directory, removed with the connection
        self.memory_limit, tmp = memory_setup(self.con, memory_limit)
        weakref.finalize(self, remove_dir, self.con, tmp)
        self.con.execute("SET preserve_insertion_order = false")
        # never fetch extensions from the network at run time (json/parquet are built in)
        self.con.execute("SET autoinstall_known_extensions = false")
        self.con.execute("SET TimeZone = 'UTC'")  # timestamps without an offset are UTC
        self._types: dict[str, str] | None = None
        self.deterministic = (
            deterministic if deterministic is not None
            else os.environ.get("ABKIT_DETERMINISTIC", "1") != "0"
        )
        # ABKIT_DETERMINISTIC_METHOD=ordered: sorted-order aggregates on all threads instead
        # of one thread (slower; kept for comparison in bench/)
        self.exact_order = os.environ.get("ABKIT_DETERMINISTIC_METHOD", "") == "ordered"

    #: the line guard's result for CSV / JSON Lines files (:mod:`abkit.io.line_guard`)
    guard: Guarded | None = None

    # ------------------------------------------------------------------ sources
    @property
    def label(self) -> str:
        return "DataFrame" if self.source.format == "frame" else self.source.label

    @property
    def scanned(self) -> Source:
        """The source as DuckDB scans it: the line guard's filtered copies in place of the
        files that have an over-long line or run past the decompressed-size cap."""
        if self.guard is None or self.guard.folder is None:
            return self.source
        return replace(self.source, files=self.guard.files)

    def shown(self, path: Any) -> str:
        """How a scanned file is named to the user (the original, or its ``s3://`` URL)."""
        return self.source.shown(self.guard.name(path) if self.guard else path)

    def _rejects(self, store: bool) -> str:
        if store:
            return ("store_rejects = true, rejects_table = '_abkit_rejects', "
                    "rejects_scan = '_abkit_scans', ")
        return "ignore_errors = true, "

    def scan(self, store_rejects: bool = False) -> str:
        fmt = self.source.format
        files = _file_list(self.scanned)
        if fmt in ("csv", "tsv"):
            # the header is read in Python (csv_header); DuckDB's sniffer is skipped, which
            # also keeps a pathological line (say 10 MB) from stalling the sniffing
            delim = getattr(self.source, "delimiter", None) or ("," if fmt == "csv" else "\t")
            cols = ", ".join(f"{ql(c)}: 'VARCHAR'" for c in self.types())
            return (
                f"read_csv({files}, header = true, auto_detect = false, columns = {{{cols}}}, "
                f"delim = {ql(delim)}, quote = '\"', escape = '\"', "
                + self._rejects(store_rejects)
                + f"{LINE_OPTIONS})"
            )
        if fmt == "parquet":
            return f"read_parquet({files}, union_by_name = true)"
        if fmt == "jsonl":
            lines = (
                f"read_csv({files}, columns = {{'line': 'VARCHAR'}}, header = false, "
                f"delim = chr(1), quote = '', escape = '', auto_detect = false, "
                + self._rejects(store_rejects)
                + f"{LINE_OPTIONS})"
            )
            return (
                "(SELECT _ok, CASE WHEN _ok THEN line::JSON END AS _js FROM ("
                "SELECT line, CASE WHEN json_valid(line) THEN json_type(line::JSON) = 'OBJECT' "
                f"ELSE false END AS _ok FROM {lines} WHERE trim(line) <> ''))"
            )
        if fmt == "frame":
            return "abkit_frame"
        raise InputError(f"unsupported format {fmt}")  # pragma: no cover

    def run(self, sql: str, params: Iterable[Any] | None = None):
        return self._guarded(lambda: self.con.execute(sql, params) if params
                             else self.con.execute(sql))

    def arrow(self, sql: str):
        """The result of ``sql`` as an Arrow table (as :meth:`run`; no DB-API copy). A
        result of ``execute`` that was not read to its end is finished first, as DuckDB
        asks before other work on the connection."""
        def query() -> Any:
            self.con.complete()
            return self.con.sql(sql).to_arrow_table()
        return self._guarded(query)

    def _guarded(self, query: Any):
        import duckdb

        from .progress import progress, progress_enabled

        if not getattr(self, "_progress_on", False) and progress_enabled():
            self.con.execute("SET enable_progress_bar = true")  # tracked, not printed:
            self.con.execute("SET enable_progress_bar_print = false")  # stdout is results
            self._progress_on = True
        try:
            with progress(self.con, self.label):
                return query()
        except duckdb.OutOfMemoryException:
            raise oom_error(self.label, getattr(self, "memory_limit", None)
                            or "DuckDB's default", 1) from None
        except duckdb.Error as e:
            raise InputError(
                f"cannot read {self.label}: {_friendly(e)}",
                "check that the file is a complete, valid "
                f"{self.source.format.upper()} file",
            ) from None

    def types(self) -> dict[str, str]:
        """Column name -> DuckDB type (for JSON Lines: keys seen in the first 10,000 lines)."""
        if self._types is None:
            if self.source.format == "jsonl":
                for f in self.source.files:
                    _refuse_binary(f)
                rows = self.run(
                    "SELECT k FROM (SELECT unnest(json_keys(_js)) AS k FROM "
                    f"(SELECT _js FROM {self.scan()} WHERE _ok LIMIT 10000)) GROUP BY k "
                    "ORDER BY min(k)"
                ).fetchall()
                self._types = {r[0]: "VARCHAR" for r in rows}
            elif self.source.format in ("csv", "tsv"):
                delim = getattr(self.source, "delimiter", None) or (
                    "," if self.source.format == "csv" else "\t")
                first = csv_header(self.source.files[0], delim)
                for f in self.source.files[1:]:
                    other = csv_header(f, delim)
                    if other != first:
                        raise InputError(
                            f"{f}: its header ({', '.join(other[:12])}) differs from "
                            f"{self.source.files[0]} ({', '.join(first[:12])})",
                            "CSV files read together must have the same columns in the same "
                            "order",
                        )
                self._types = {c: "VARCHAR" for c in first}
            else:
                rows = self.run(f"DESCRIBE SELECT * FROM {self.scan()}").fetchall()
                self._types = {r[0]: str(r[1]) for r in rows}
        return self._types

    def columns(self) -> list[str]:
        return list(self.types())

    def text(self, col: str) -> str:
        if self.source.format == "jsonl":
            path = '$."' + col.replace("\\", "\\\\").replace('"', '\\"') + '"'
            return f"(_js->>{ql(path)})"
        return qi(col)

    def label_expr(self, col: str) -> str:
        t = self.types().get(col, "VARCHAR").upper()
        if t == "VARCHAR" or self.source.format == "jsonl":
            return f"NULLIF({self.text(col)}, '')"
        return f"CAST({self.text(col)} AS VARCHAR)"

    def num_exprs(self, col: str) -> tuple[str, str]:
        """(is-missing, numeric value) SQL for a metric column."""
        t = self.types().get(col, "VARCHAR").upper()
        src = self.text(col)
        if t in _NUMERIC_TYPES or t.startswith("DECIMAL"):
            return f"({src} IS NULL)", f"CAST({src} AS DOUBLE)"
        s = f"trim(CAST({src} AS VARCHAR))"
        missing = f"({src} IS NULL OR {s} = '')"
        if getattr(self.source, "decimal", ".") == ",":  # 1,5 -> 1.5 (--decimal ,)
            s = f"replace({s}, ',', '.')"
        value = (
            f"(CASE WHEN {missing} THEN NULL ELSE coalesce(TRY_CAST({s} AS DOUBLE), "
            f"CASE lower({s}) WHEN 'true' THEN 1.0 WHEN 'false' THEN 0.0 END) END)"
        )
        return missing, value

    def sample(self, n: int = 10000):
        """The first ``n`` rows, in file order, as a pandas DataFrame of strings (for spec
        inference and the timestamp rules): with the insertion order kept, DuckDB's LIMIT
        over one scan returns the first rows, whatever the threads (else whichever rows a
        thread read first: the inferred kinds and time bounds could change run to run)."""
        cols = self.columns()
        sel = ", ".join(f"CAST({self.text(c)} AS VARCHAR) AS {qi(c)}" for c in cols)
        where = "WHERE _ok" if self.source.format == "jsonl" else ""
        self.con.execute("SET preserve_insertion_order = true")
        try:
            return self.run(f"SELECT {sel} FROM {self.scan()} {where} LIMIT {int(n)}").df()
        finally:
            self.con.execute("SET preserve_insertion_order = false")

    # ------------------------------------------------------------------ reduction
    def classified(self, rules: RowRules, *, store_rejects: bool = True,
                   time_where: Callable[[str], str] | None = None
                   ) -> tuple[str, dict[str, str]]:
        """SQL of every row classified by ``rules`` (see
        :func:`abkit.engine.duckdb_classify.classified_sql`)."""
        return classified_sql(self, rules, store_rejects=store_rejects,
                              time_where=time_where)


    def _ab_sql(self, plan: Plan, codes: list[str] | None, k: int = 1, p: int = 0) -> str:
        """SQL of pass ``p`` of ``k`` of the A/B reduction (``k = 1``: the one-pass query)."""
        spec = plan.spec
        # CSV/JSON reader rejects are stored by pass 0 only, so they are counted once
        classified, xs = self.classified(plan.rules(), store_rejects=p == 0)
        variables = plan.variables
        zs = {v: f"_z{i}" for i, v in enumerate(variables)}
        ordered = self.deterministic and self.exact_order
        if spec.unit_column:
            # stage 1: rows -> units (valid rows), or -> (reason, unknown variant) counts
            # a kept unit of a per-unit log has one row, so its sums are exact as they are
            ordered1 = ordered and spec.granularity == "request"
            aggs = ", ".join(f"{self._agg(v, xs, ordered1)} AS {zs[v]}" for v in variables)
            # with a declared split, integer variant codes make the per-unit min/max cheap
            vkey = "_v"
            if codes is not None:
                vkey = "CASE _v " + " ".join(
                    f"WHEN {ql(c)} THEN {i}" for i, c in enumerate(codes)) + " END"
            units = (
                "(SELECT CASE WHEN _r IS NULL THEN _u END AS _uu, "
                "CASE WHEN _r = 'unknown_variant|' THEN _v END AS _uv, _r, "
                f"min({vkey}) AS _vmin, max({vkey}) AS _vmax, count(*) AS _rows, {aggs} "
                f"FROM {classified}{pass_filter(k, p)} GROUP BY _uu, _uv, _r)"
            )
            dup = "_rows > 1" if spec.granularity == "unit" else "false"
            # stage 2: units -> per-variant moments; unit-level rejections; reason counts
            return (
                "SELECT CASE WHEN _r IS NOT NULL THEN _r "
                "WHEN _vmin <> _vmax THEN 'unit_in_multiple_variants|' "
                f"WHEN {dup} THEN 'duplicate_unit|' END AS _cat, "
                "CASE WHEN _r IS NULL THEN CAST(_vmin AS VARCHAR) ELSE _uv END AS _v, "
                f"sum(_rows) AS _rows, {self._moment_aggs(plan, zs, ordered)} "
                f"FROM {units} GROUP BY ALL"
            )
        vals = {v: xs[v.column] for v in variables}  # per-unit log: value = the row's value
        return (
            "SELECT _r AS _cat, CASE WHEN _r IS NULL OR _r = 'unknown_variant|' THEN _v END "
            f"AS _v, count(*) AS _rows, {self._moment_aggs(plan, vals, ordered)} "
            f"FROM {classified} GROUP BY ALL"
        )

    def _ab_passes(self, plan: Plan, codes: list[str] | None) -> list[list[dict]]:
        """Result rows of each pass of the A/B reduction, in pass order. ``K`` passes by
        ``hash(unit) % K``, run ``W`` at a time on one-thread connections when deterministic,
        one after the other on every thread otherwise; ``K`` doubles when DuckDB still runs
        out of memory (see :mod:`abkit.engine.duckdb_passes`)."""
        one_thread = self.deterministic and not self.exact_order
        k, workers = 1, 1
        if plan.spec.unit_column:
            k, workers = choose_passes(self, self.label_expr(plan.spec.unit_column),
                                       len(plan.variables),
                                       worker_count(self) if one_thread else 1)
        if one_thread:
            # one thread per pass: the scan runs in file order and every sum is accumulated
            # in that order, so repeated runs add the same numbers in the same order
            self.con.execute("SET threads = 1")
        while True:
            try:
                sqls = [self._ab_sql(plan, codes, k, p) for p in range(k)]
                passes = run_passes(self, sqls, workers)
                if k > 1:  # a fixed row order, whatever the pass spilled
                    for rows in passes:
                        rows.sort(key=lambda r: (r["_cat"] is not None, str(r["_cat"]),
                                                 r["_v"] is not None, str(r["_v"])))
                return passes
            except OutOfMemory:
                if not plan.spec.unit_column or not retries_allowed() or k >= MAX_PASSES:
                    raise oom_error(self.label, self.memory_limit or "DuckDB's default",
                                    k) from None
                for t in ("_abkit_rejects", "_abkit_scans"):  # pass 0 runs again
                    self.con.execute(f"DROP TABLE IF EXISTS {t}")
                k = min(2 * k, MAX_PASSES)

    def reduce(self, plan: Plan) -> Reduced:
        spec = plan.spec
        codes = list(spec.split) if spec.split is not None else None
        passes = self._ab_passes(plan, codes)
        reasons = []
        n_records = 0
        units_by_variant: dict[str, int] = {}
        moments: dict[str, dict[str, MomentStats]] = {m.spec.name: {} for m in plan.metrics}
        rows_used = 0
        for out in passes:  # per-pass statistics merged in pass order: deterministic
            if spec.unit_column and codes is not None:
                for r in out:  # integer codes back to names (rejected rows carry the raw name)
                    if r["_cat"] is None:
                        r["_v"] = codes[int(r["_v"])]
            reasons += [(r["_cat"], r["_v"], r["_rows"]) for r in out if r["_cat"] is not None]
            n_records += sum(int(r["_rows"]) for r in out)
            for row in out:
                if row["_cat"] is not None:
                    continue
                v = row["_v"]
                n = int(row["_n"])
                units_by_variant[v] = units_by_variant.get(v, 0) + n
                rows_used += int(row["_rows"])
                for m in plan.metrics:
                    ms = self._to_moments(row, m.variables, n)
                    had = moments[m.spec.name].get(v)
                    moments[m.spec.name][v] = ms if had is None else had + ms
        rejected, rejected_columns, unknown, examples = self.account(reasons, n_records)
        rows_read = rows_used + sum(rejected.values())
        red = Reduced(rows_read, rows_used, rejected, rejected_columns, units_by_variant,
                      moments, unknown, examples)
        red.check()
        return red

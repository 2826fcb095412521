"""Bounded memory and every core for the DuckDB engine: the memory limit, the spill
directory, and the passes ``K`` of the A/B reduction and the connections that run them.

The unit-level aggregation (rows -> one group per unit) is the only part of the A/B reduction
whose memory grows with the data: about :data:`UNIT_BYTES` per unit and per-unit variable.
The units are reduced in ``K`` passes, pass ``p`` taking the rows whose unit has
``hash(unit) % K = p`` (rows without a unit in pass 0): every row of a unit falls in one pass,
so the unit-level checks stay exact, and every row is classified and counted in exactly one
pass. The per-pass statistics are added in pass order (:class:`~abkit.stats.MomentStats`
``+``, counts summed). ``K = 1`` is the one-pass query, unchanged.

Deterministic and parallel (the default): each pass runs on one DuckDB thread, so its result
does not depend on any schedule, and ``W`` passes run at once on ``W`` connections (one
thread each, DuckDB releases the GIL), each with ``1/W`` of the memory limit. The merged
result therefore depends on the data, the spec and ``K`` only, never on thread timing:
byte-identical output run after run. ``W`` is ``ABKIT_DUCKDB_THREADS`` (or the ``threads``
parameter), else the cores available, at most one per :data:`WORKER_MIN_BYTES` of the limit;
files of :data:`PARALLEL_MIN_BYTES` or more get ``K >= W`` (smaller inputs: one pass).

``K`` is chosen up front: from the Parquet metadata row count (an upper bound of the units:
if those fit, no extra scan), else from ``approx_count_distinct`` of the unit (a HyperLogLog
whose merge does not depend on the order, so ``K`` is deterministic), as the smallest ``K``
whose share of the units fits in :data:`BUDGET_SHARE` of a worker's limit. If DuckDB still
runs out of memory, ``K`` is doubled and the reduction retried, up to :data:`MAX_PASSES`;
past that, or with retries off, the error names the limit and how to raise it.

``K`` (and so the last bits of the statistics, ~1e-15 relative) depends on ``W``: two machines
with different core counts give the same bytes when ``ABKIT_DUCKDB_THREADS`` (or
``ABKIT_DUCKDB_PASSES``) is set to the same value on both.

Time cells (the blue/green scan's seconds) are split otherwise:
:func:`time_passes` gives ``W`` passes for a large input, and :func:`time_pass_filter` puts a
row in pass ``cell mod W``, a test of its time alone, applied before the row is classified.
All the rows of a cell are in one pass, summed in file order by one thread, so the cells do
not depend on ``W`` at all.

Private knobs (for tests and the benchmark): ``ABKIT_DUCKDB_PASSES=K`` forces ``K``;
``ABKIT_DUCKDB_RETRY=0`` turns the out-of-memory retry off.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from typing import Any, Callable

from ..errors import InputError

__all__ = ["DEFAULT_MEMORY_LIMIT", "OutOfMemory", "memory_setup", "choose_passes",
           "pass_filter", "limit_bytes", "run_passes", "time_passes", "time_pass_filter",
           "worker_count"]

DEFAULT_MEMORY_LIMIT = "2GB"
# bytes of DuckDB's aggregate hash table per unit group: a fixed part (key, row count,
# min/max variant, hash-table slots) and a part per per-unit variable (its aggregate state);
# measured on bench/make_log.py logs (see bench/README.md)
UNIT_BYTES = 120
VARIABLE_BYTES = 24
# the share of the memory limit the unit groups of one pass may take (the rest: the scan's
# buffers, the second stage, DuckDB's own overhead); at 100M rows / 20M users a pass of 5M
# units peaked at 1.3 GB RSS, one of 10M units at 2.2 GB (bench/README.md)
BUDGET_SHARE = 0.6
MAX_PASSES = 256
# inputs from this size on are reduced in parallel passes (below it one pass is faster)
PARALLEL_MIN_BYTES = 16 * 2**20
# a connection running passes gets at least this much of the memory limit
WORKER_MIN_BYTES = 128 * 10**6
MAX_WORKERS = 64

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


class OutOfMemory(InputError):
    """DuckDB ran out of memory under its limit (exit code 2, like every InputError)."""


def limit_bytes(text: str) -> int | None:
    """Bytes of a DuckDB memory size such as ``'2GB'``, ``'1.5 GiB'`` (None if not one)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).upper() not in _UNITS:
        return None
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def memory_setup(con: Any, memory_limit: str | None) -> tuple[str, str]:
    """Set the memory limit (``memory_limit``, else ``ABKIT_DUCKDB_MEMORY_LIMIT``, else
    :data:`DEFAULT_MEMORY_LIMIT`) and a fresh spill directory on ``con``.

    Returns (the limit as given, the temporary directory; the caller removes it).
    """
    limit = (memory_limit or os.environ.get("ABKIT_DUCKDB_MEMORY_LIMIT")
             or DEFAULT_MEMORY_LIMIT)
    limit = str(limit).strip()
    from .duckdb_files import ql

    try:
        con.execute(f"SET memory_limit = {ql(limit)}")
    except Exception as e:  # duckdb.Error: not a size DuckDB understands
        raise InputError(f"invalid DuckDB memory limit {limit!r}: {str(e).splitlines()[0]}",
                         "give a size such as 2GB or 1500MB (ABKIT_DUCKDB_MEMORY_LIMIT or "
                         "the memory_limit parameter)") from None
    tmp = tempfile.mkdtemp(prefix="abkit-duckdb-")
    con.execute(f"SET temp_directory = {ql(tmp)}")
    return limit, tmp


def remove_dir(con: Any, path: str) -> None:
    """Close ``con`` and remove its spill directory (a finalizer of DuckDBLogs)."""
    try:
        con.close()
    except Exception:  # pragma: no cover - already closed
        pass
    shutil.rmtree(path, ignore_errors=True)


def oom_error(label: str, limit: str, passes: int) -> OutOfMemory:
    tried = f" in {passes} passes" if passes > 1 else ""
    return OutOfMemory(
        f"cannot read {label}: DuckDB ran out of memory under its limit of {limit}{tried}",
        "raise the limit: ABKIT_DUCKDB_MEMORY_LIMIT=4GB (or the memory_limit parameter, e.g. "
        "DuckDBLogs(..., memory_limit='4GB')); intermediate results spill to the system "
        "temporary directory, which needs free space too",
    )


def _budget(logs: Any) -> int | None:
    try:
        got = logs.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    except Exception:  # pragma: no cover
        return None
    b = limit_bytes(str(got))
    return int(b * BUDGET_SHARE) if b else None


def worker_count(logs: Any) -> int:
    """Connections ``W`` that run passes at once: ``logs.threads`` (``ABKIT_DUCKDB_THREADS``)
    if set, else the cores available, at most one per :data:`WORKER_MIN_BYTES` of the limit."""
    wanted = int(getattr(logs, "threads", 0) or 0)
    if wanted:  # asked for: as many, whatever the limit
        return max(1, min(wanted, MAX_WORKERS))
    try:
        wanted = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        wanted = os.cpu_count() or 1
    limit = limit_bytes(str(getattr(logs, "memory_limit", None) or "")) or 0
    if limit:
        wanted = min(wanted, max(1, limit // WORKER_MIN_BYTES))
    return max(1, min(wanted, MAX_WORKERS))


def _input_bytes(source: Any) -> int:
    total = 0
    for f in getattr(source, "files", ()) or ():
        try:
            total += os.path.getsize(f)
        except (OSError, TypeError):
            pass
    return total


def choose_passes(logs: Any, unit_expr: str, n_variables: int,
                  workers: int = 1) -> tuple[int, int]:
    """(passes ``K``, connections ``W``) of the unit-level aggregation.

    ``ABKIT_DUCKDB_PASSES`` if set, else ``W`` passes for a file of
    :data:`PARALLEL_MIN_BYTES` or more (one pass for smaller inputs, run on one connection),
    raised to the smallest ``K`` whose share of the units fits in :data:`BUDGET_SHARE` of a
    connection's ``1/W`` of the limit.
    """
    files = logs.source.format != "frame" and _input_bytes(logs.source) > 0
    w = max(1, int(workers)) if files and _input_bytes(logs.source) >= PARALLEL_MIN_BYTES else 1
    forced = os.environ.get("ABKIT_DUCKDB_PASSES", "").strip()
    if forced:
        if not forced.isdigit() or int(forced) < 1:
            raise InputError(f"ABKIT_DUCKDB_PASSES={forced!r} is not a positive whole number",
                             "unset it (the passes are then chosen from the memory limit)")
        k = min(int(forced), MAX_PASSES)
        return k, max(1, min(int(workers), k)) if files else 1
    budget = _budget(logs)
    if not budget or logs.source.format != "parquet":
        return w, w  # no row count up front: doubled on out-of-memory
    budget //= w
    per_unit = UNIT_BYTES + VARIABLE_BYTES * n_variables
    from .duckdb_files import _file_list

    rows = logs.run(
        f"SELECT sum(num_rows) FROM parquet_file_metadata({_file_list(logs.source)})"
    ).fetchone()[0]
    if not rows or int(rows) * per_unit <= budget * w:
        return w, w
    units = logs.run(
        f"SELECT approx_count_distinct({unit_expr}) FROM {logs.scan()}").fetchone()[0]
    need = int(units or 0) * per_unit / budget
    return max(w, min(int(math.ceil(need)), MAX_PASSES)), w


def pass_filter(k: int, p: int) -> str:
    """WHERE clause of pass ``p`` of ``k`` over classified rows (``_u`` the unit): the rows of
    the units hashed to ``p``, and in pass 0 the rows without a unit. A test of the unit
    alone, so DuckDB applies it in the scan, before the rows are classified."""
    if k == 1:
        return ""
    return f" WHERE (CASE WHEN _u IS NULL THEN 0 ELSE hash(_u) % {int(k)} END) = {int(p)}"


def time_passes(logs: Any) -> int:
    """Passes of a reduction to time cells (the blue/green scan): one per worker when
    deterministic and the input is a file of :data:`PARALLEL_MIN_BYTES` or more, else 1."""
    files = logs.source.format != "frame" and _input_bytes(logs.source) >= PARALLEL_MIN_BYTES
    if not files or not getattr(logs, "deterministic", True) or \
            getattr(logs, "exact_order", False):
        return 1
    return worker_count(logs)


def time_pass_filter(cell: str, k: int, p: int) -> str:
    """Condition of pass ``p`` of ``k`` on a row's time cell (SQL ``cell``: a whole DOUBLE,
    e.g. ``floor(t)``, or NULL): the cells ``c`` with ``c mod k = p``; pass 0 also takes
    every row whose mod is not one of ``1 .. k-1`` (no time, or a time too large for the
    arithmetic), so every row falls in exactly one pass, and all the rows of a cell in the
    same one."""
    r = f"({cell} - {int(k)} * floor({cell} / {int(k)}))"
    if p:
        return f"{r} = {int(p)}"
    others = ", ".join(str(i) for i in range(1, int(k)))
    return f"coalesce({r} NOT IN ({others}), true)"


def retries_allowed() -> bool:
    return os.environ.get("ABKIT_DUCKDB_RETRY", "1") != "0"


def _rows(cur: Any) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _worker_connection(share: str, progress_on: bool) -> tuple[Any, str]:
    """A fresh one-thread connection configured like :class:`DuckDBLogs`' own, with ``share``
    of the memory limit and its own spill directory (returned; the caller removes it)."""
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET threads = 1")
    _, tmp = memory_setup(con, share)
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET TimeZone = 'UTC'")
    if progress_on:
        con.execute("SET enable_progress_bar = true")
        con.execute("SET enable_progress_bar_print = false")
    return con, tmp


def run_passes(logs: Any, sqls: list[str], workers: int,
               fetch: Callable[[Any], Any] | None = None) -> list[Any]:
    """Result rows of each pass (``sqls[p]``), in pass order: ``fetch(cursor)`` of each
    (default: a list of dicts).

    ``workers <= 1``: one after the other on ``logs.con``. Else on ``workers`` connections at
    once, one thread each, pass ``p`` on connection ``p % workers`` (pass 0 on ``logs.con``,
    which keeps the reader's rejects tables), each with ``1/workers`` of the memory limit
    (``logs.con``'s limit is restored afterwards). The first failure interrupts the other
    connections; out of memory raises :class:`OutOfMemory`, another DuckDB error the
    InputError of ``logs.run``.
    """
    fetch = fetch or _rows
    if workers <= 1 or len(sqls) <= 1:
        return [fetch(logs.run(sql)) for sql in sqls]
    import threading

    import duckdb

    from .progress import PassesProgress, progress, progress_enabled

    workers = min(workers, len(sqls))
    limit = limit_bytes(str(getattr(logs, "memory_limit", None) or "")) or limit_bytes(
        str(logs.con.execute("SELECT current_setting('memory_limit')").fetchone()[0])) or 0
    share = f"{max(limit // workers, 1)}B"
    on = progress_enabled()
    cons, tmps = [logs.con], []
    results: list[Any] = [None] * len(sqls)
    errors: dict[int, BaseException] = {}
    tracker = PassesProgress(cons, len(sqls))
    failed = threading.Event()
    threads: list[threading.Thread] = []

    def work(i: int) -> None:
        for p in range(i, len(sqls), workers):
            if failed.is_set():
                return
            try:
                results[p] = fetch(cons[i].execute(sqls[p]))
            except BaseException as e:  # noqa: BLE001 - handed to the calling thread
                errors[p] = e
                failed.set()
                for j, other in enumerate(cons):
                    if j != i:
                        try:
                            other.interrupt()
                        except Exception:  # pragma: no cover - already idle
                            pass
                return
            tracker.finished()

    logs.con.execute(f"SET memory_limit = '{share}'")
    try:
        for _ in range(workers - 1):
            con, tmp = _worker_connection(share, on)
            cons.append(con)
            tmps.append(tmp)
        threads += [threading.Thread(target=work, args=(i,), name=f"abkit-pass-{i}")
                    for i in range(workers)]
        with progress(tracker, logs.label):
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        if any(t.is_alive() for t in threads):  # interrupted (Ctrl-C): stop, then close
            failed.set()
            for con in cons:
                con.interrupt()
            for t in threads:
                if t.is_alive():
                    t.join()
        for con, tmp in zip(cons[1:], tmps):
            remove_dir(con, tmp)
        logs.con.execute(f"SET memory_limit = '{logs.memory_limit or f'{limit}B'}'")
    if errors:
        real = {p: e for p, e in errors.items()
                if not isinstance(e, duckdb.InterruptException)} or errors
        first = real[min(real)]
        if isinstance(first, duckdb.OutOfMemoryException):
            raise oom_error(logs.label, logs.memory_limit or "DuckDB's default", len(sqls))
        if isinstance(first, duckdb.Error):
            from .duckdb_files import _friendly

            raise InputError(
                f"cannot read {logs.label}: {_friendly(first)}",
                f"check that the file is a complete, valid {logs.source.format.upper()} file",
            ) from None
        raise first
    return results  # type: ignore[return-value]

"""Deciding every line of a list of files: DuckDB for the common lines, Python for the rest.

:func:`decide_files` reads the files in order (:mod:`.line_table`), runs the SQL of
:mod:`.duckdb_sql` on batches of lines, and sends every line the SQL did not return, and
every file the table cannot hold, to the Python rules of :mod:`.records`. The result keeps
reading order where it matters: rejections are sorted by (file, line) before they are
counted, so the one example per reason is the first in reading order, as in the reference
readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import duckdb
import numpy as np
import pyarrow as pa

from .line_table import FileLines, lines_table, read_file_lines
from .records import Verdict, python_file

#: lines per DuckDB batch are bounded by their bytes: about this much text at once
BATCH_BYTES = 512 * 1024 * 1024


@dataclass
class Decided:
    """Every line of the files, decided.

    ``fast`` holds the Arrow tables the SQL returned (columns ``f``, ``ln`` and the query's
    value columns); ``slow_ok`` the used lines the Python rules decided, ``[(f, ln,
    values)]``; ``rejects`` every rejected line ``(f, ln, reason, message)`` sorted by
    (f, ln); ``read`` the records read per file (a damaged gzip file counts one more).
    """

    fast: list[pa.Table] = field(default_factory=list)
    slow_ok: list[tuple[int, int, Any]] = field(default_factory=list)
    rejects: list[tuple[int, int, str, str]] = field(default_factory=list)
    read: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fast_lines: int = 0


def _batch(con, sql: str, pending: list[tuple[int, FileLines]], group: np.ndarray,
           decide: Callable[[bytes | None], Verdict], out: Decided) -> None:
    tbl = lines_table(pending)
    n = tbl.num_rows
    if not n:
        return
    f_all = tbl.column("f").to_numpy()
    ln_all = tbl.column("ln").to_numpy()
    lines = pa.table({"r": pa.array(np.arange(n, dtype=np.int64)),
                      "v": pa.array(group[f_all].astype(np.int32)), "line": tbl.column("line")})
    con.register("lines", lines)
    try:
        res = con.sql(sql).to_arrow_table()
    finally:
        con.unregister("lines")
    r = res.column("r").to_numpy()
    if r.size > 1 and not bool(np.all(r[1:] > r[:-1])):
        order = np.argsort(r, kind="stable")
        res, r = res.take(pa.array(order)), r[order]
    res = res.drop_columns(["r"])
    res = res.add_column(0, "ln", pa.array(ln_all[r]))
    res = res.add_column(0, "f", pa.array(f_all[r]))
    out.fast.append(res)
    out.fast_lines += int(r.size)
    done = np.zeros(n, dtype=bool)
    done[r] = True
    by_file = dict(pending)
    for i in np.flatnonzero(~done).tolist():
        fi, ln = int(f_all[i]), int(ln_all[i])
        kind, payload = decide(by_file[fi].raw(ln - 1))
        if kind == "ok":
            out.slow_ok.append((fi, ln, payload))
        else:
            out.rejects.append((fi, ln, payload[0], payload[1]))


def decide_files(paths: list[Path], sql: str, decide: Callable[[bytes | None], Verdict],
                 group: Sequence[int] | None = None) -> Decided:
    """Decide every line of ``paths`` (in this order; see the module docstring).

    ``group`` gives each file a small integer (its variant) that the SQL sees as ``v``.
    """
    from ...engine.progress import StepProgress, progress

    groups = np.asarray(group if group is not None else [0] * len(paths), dtype=np.int64)
    out = Decided(read=[0] * len(paths))
    con = duckdb.connect()
    files_read = StepProgress(len(paths))
    where = f"{len(paths):,} capture file{'s' if len(paths) != 1 else ''}"
    try:
        with progress(files_read, where):
            _decide_all(con, sql, paths, groups, decide, out, files_read)
    finally:
        con.close()
    out.rejects.sort(key=lambda x: (x[0], x[1]))
    out.slow_ok.sort(key=lambda x: (x[0], x[1]))
    return out


def _decide_all(con, sql: str, paths: list[Path], groups: np.ndarray,
                decide: Callable[[bytes | None], Verdict], out: Decided, files_read) -> None:
    """The files in order, the SQL on batches of about :data:`BATCH_BYTES` of lines."""
    pending: list[tuple[int, FileLines]] = []
    size = 0
    for fi, path in enumerate(paths):
        fl = read_file_lines(path)
        if fl is None:  # oversized line, gzip damage or bomb, unreadable: reference loop
            n, events = python_file(path, decide, out.warnings)
            out.read[fi] = n
            for ln, kind, payload in events:
                if kind == "ok":
                    out.slow_ok.append((fi, ln, payload))
                else:
                    out.rejects.append((fi, ln, payload[0], payload[1]))
            files_read.advance()
            continue
        files_read.advance()
        out.read[fi] = len(fl)
        pending.append((fi, fl))
        size += len(fl.data)
        if size >= BATCH_BYTES:
            _batch(con, sql, pending, groups, decide, out)
            pending, size = [], 0
    _batch(con, sql, pending, groups, decide, out)

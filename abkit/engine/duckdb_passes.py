"""Bounded memory for the DuckDB engine: the memory limit, the spill directory, and the number
of passes ``K`` of the A/B reduction.

The unit-level aggregation (rows -> one group per unit) is the only part of the A/B reduction
whose memory grows with the data: about :data:`UNIT_BYTES` per unit and per-unit variable.
When that does not fit in the memory limit, the units are reduced in ``K`` passes, pass ``p``
taking the units with ``hash(unit) % K = p`` (every row of a unit falls in one pass, so the
unit-level checks stay exact); rows rejected before the unit stage (a missing unit id, a bad
value ...) are counted in pass 0 only. The per-pass statistics are added in pass order
(:class:`~abkit.stats.MomentStats` ``+``, counts summed), so the result is the same run after
run. ``K = 1`` is the one-pass query, unchanged.

``K`` is chosen up front: from the Parquet metadata row count (an upper bound of the units:
if those fit, ``K = 1`` without any extra scan), else from ``approx_count_distinct`` of the
unit (a HyperLogLog whose merge does not depend on the order, so ``K`` is deterministic).
If DuckDB still runs out of memory, ``K`` is doubled and the reduction retried, up to
:data:`MAX_PASSES`; past that, or with retries off, the error names the limit and how to
raise it.

Private knobs (for tests and the benchmark): ``ABKIT_DUCKDB_PASSES=K`` forces ``K``;
``ABKIT_DUCKDB_RETRY=0`` turns the out-of-memory retry off.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from typing import Any

from ..errors import InputError

__all__ = ["DEFAULT_MEMORY_LIMIT", "OutOfMemory", "memory_setup", "choose_passes",
           "pass_filter", "limit_bytes"]

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


def choose_passes(logs: Any, unit_expr: str, n_variables: int) -> int:
    """Passes of the unit-level aggregation: ``ABKIT_DUCKDB_PASSES`` if set, else the
    smallest ``K`` whose share of the units fits in :data:`BUDGET_SHARE` of the limit."""
    forced = os.environ.get("ABKIT_DUCKDB_PASSES", "").strip()
    if forced:
        if not forced.isdigit() or int(forced) < 1:
            raise InputError(f"ABKIT_DUCKDB_PASSES={forced!r} is not a positive whole number",
                             "unset it (the passes are then chosen from the memory limit)")
        return min(int(forced), MAX_PASSES)
    budget = _budget(logs)
    if not budget or logs.source.format != "parquet":
        return 1  # no row count up front: one pass, doubled on out-of-memory
    per_unit = UNIT_BYTES + VARIABLE_BYTES * n_variables
    from .duckdb_files import _file_list

    rows = logs.run(
        f"SELECT sum(num_rows) FROM parquet_file_metadata({_file_list(logs.source)})"
    ).fetchone()[0]
    if not rows or int(rows) * per_unit <= budget:
        return 1
    units = logs.run(
        f"SELECT approx_count_distinct({unit_expr}) FROM {logs.scan()}").fetchone()[0]
    need = int(units or 0) * per_unit / budget
    return max(1, min(int(math.ceil(need)), MAX_PASSES))


def pass_filter(k: int, p: int) -> str:
    """WHERE clause of pass ``p`` of ``k`` over classified rows (``_u`` unit, ``_r`` reason):
    used rows of the units hashed to ``p``; every rejected row in pass 0."""
    if k == 1:
        return ""
    mine = f"hash(_u) % {int(k)} = {int(p)}"
    return f" WHERE (_r IS NOT NULL OR {mine})" if p == 0 else f" WHERE _r IS NULL AND {mine}"


def retries_allowed() -> bool:
    return os.environ.get("ABKIT_DUCKDB_RETRY", "1") != "0"

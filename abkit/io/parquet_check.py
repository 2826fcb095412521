"""Parquet column names read from the file's own schema, so that a repeated name is an error
(DuckDB would rename the second ``a`` to ``a_1``, pandas would keep one silently)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

__all__ = ["parquet_columns", "refuse_duplicate_columns"]


def parquet_columns(path: str | Path) -> list[str]:
    """Top-level column names of a Parquet file, in schema order, repeats kept."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        rows = con.execute("SELECT name, num_children FROM parquet_schema(?)",
                           [str(path)]).fetchall()
    except duckdb.Error as e:
        msg = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise InputError(f"cannot read {path}: {msg}",
                         "check that the file is a complete, valid PARQUET file") from None
    finally:
        con.close()
    if not rows:
        return []
    names: list[str] = []
    i = 1
    # schema elements are a depth-first listing; skip each top-level column's subtree
    for _ in range(int(rows[0][1] or 0)):
        if i >= len(rows):
            break
        names.append(str(rows[i][0]))
        todo = int(rows[i][1] or 0)
        i += 1
        while todo and i < len(rows):
            todo += int(rows[i][1] or 0) - 1
            i += 1
    return names


def refuse_duplicate_columns(path: str | Path) -> None:
    """InputError naming the repeated column names of a Parquet file, if any."""
    seen: set[str] = set()
    dup: list[str] = []
    for n in parquet_columns(path):
        if n in seen and n not in dup:
            dup.append(n)
        seen.add(n)
    if dup:
        raise InputError(f"{path}: the schema repeats column name(s) {', '.join(dup)}",
                         "give every column a unique name (as for CSV headers)")

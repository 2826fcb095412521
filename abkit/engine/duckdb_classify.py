"""The DuckDB compilation of the one row classifier (:class:`abkit.engine.classify.RowRules`).

:func:`classified_sql` gives the SQL of every row with its variant ``_v``, unit ``_u``, time
``_t`` (epoch seconds), values ``_x<i>`` and the first rejection reason that applies,
``_r = 'reason|column'`` (NULL for a used row), with the same checks, in the same order, as
the pandas compilation :func:`abkit.engine.classify.classify`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

from .rules import RowRules
from .duckdb_files import _NUMERIC_TYPES, ql
from .timestamps import TimeRules, time_rules

if TYPE_CHECKING:  # pragma: no cover
    from .duckdb_engine import DuckDBLogs

__all__ = ["classified_sql", "time_exprs", "value_aliases"]

#: typed columns whose values, cast to DOUBLE, are always finite
_EXACT_TYPES = tuple(t for t in _NUMERIC_TYPES if t not in ("FLOAT", "DOUBLE", "REAL"))

_TIME_TYPES = ("TIMESTAMP", "DATE", "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ",
               "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS")


def time_exprs(logs: DuckDBLogs, col: str, scale: float) -> tuple[str, str]:
    """(is-missing, epoch seconds or NULL) SQL for a timestamp column; the rules of
    :func:`abkit.engine.classify.parse_times` (numbers times the column's ``scale``, ISO
    text as a time)."""
    t = logs.types().get(col, "VARCHAR").upper()
    src = logs.text(col)
    if logs.source.format != "jsonl" and (t in _TIME_TYPES or t.startswith("TIMESTAMP")):
        return f"({src} IS NULL)", f"epoch(CAST({src} AS TIMESTAMPTZ))"
    if logs.source.format != "jsonl" and (t in _NUMERIC_TYPES or t.startswith("DECIMAL")):
        x = f"(CAST({src} AS DOUBLE) * {scale!r})"
        missing = f"({src} IS NULL)"
    else:
        s = f"trim(CAST({src} AS VARCHAR))"
        missing = f"({src} IS NULL OR {s} = '')"
        x = (f"coalesce(TRY_CAST({s} AS DOUBLE) * {scale!r}, "
             f"epoch(TRY_CAST({s} AS TIMESTAMPTZ)))")
    return missing, f"(CASE WHEN isfinite({x}) THEN {x} END)"


def _out_of_range(time: TimeRules) -> str:
    parts = []
    if math.isfinite(time.low):
        parts.append(f"_t < {time.low!r}")
    if math.isfinite(time.high):
        parts.append(f"_t > {time.high!r}")
    return " OR ".join(parts) or "false"


def value_aliases(rules: RowRules) -> dict[str, str]:
    """The SQL alias of each value column (``_x0``, ``_x1`` ...)."""
    return {c: f"_x{i}" for i, c in enumerate(rules.columns)}


def _cannot_fire(logs: DuckDBLogs, code: str, col: str | None) -> bool:
    """A value check that no row of a typed column can fail: a number cast to DOUBLE is
    never NULL (``non_numeric_value``), and an integer or decimal never infinite
    (``non_finite_value``). JSON Lines values are text: every check applies."""
    if col is None or logs.source.format == "jsonl" or \
            code not in ("non_numeric_value", "non_finite_value"):
        return False
    t = logs.types().get(col, "VARCHAR").upper()
    if code == "non_numeric_value":
        return t in _NUMERIC_TYPES or t.startswith("DECIMAL")
    return t in _EXACT_TYPES or t.startswith("DECIMAL")


def classified_sql(logs: DuckDBLogs, rules: RowRules, *, store_rejects: bool = True,
                   time_where: Callable[[str], str] | None = None
                   ) -> tuple[str, dict[str, str]]:
    """(SQL of every classified row, value column -> alias).

    ``time_where(t)`` (the SQL of a condition on ``t``, the SQL of a row's time ``_t``:
    epoch seconds or NULL) keeps only the rows it holds for, before they are classified:
    the same rows as that condition on ``_t`` of the result, at a fraction of the cost."""
    num = {c: logs.num_exprs(c) for c in rules.columns}
    xs = value_aliases(rules)
    ms = {c: f"_m{i}" for i, c in enumerate(rules.columns)}
    select = [f"{logs.label_expr(rules.variant_column)} AS _v"]
    time = rules.time
    if rules.timestamp_column:
        if time is None:  # not decided by the plan: from the engine's sample
            time = time_rules(logs.sample()[rules.timestamp_column])
        tmiss, tval = time_exprs(logs, rules.timestamp_column, time.scale)
        select += [f"{tmiss} AS _tm", f"{tval} AS _t"]
    if rules.unit_column:
        select.append(f"{logs.label_expr(rules.unit_column)} AS _u")
    for c in rules.columns:
        select.append(f"{num[c][0]} AS {ms[c]}")
        select.append(f"{num[c][1]} AS {xs[c]}")
    if logs.source.format == "jsonl":
        select.append("_ok")

    def test(code: str, col: str | None) -> str:
        if code == "missing_variant":
            return "_v IS NULL"
        if code == "unknown_variant":
            known = ", ".join(ql(k) for k in rules.variants or ())
            return f"_v NOT IN ({known})" if known else "true"
        if code == "missing_unit_id":
            return "_u IS NULL"
        if code == "missing_timestamp":
            return "_tm"
        if code == "bad_timestamp":
            return "_t IS NULL"
        if code == "timestamp_out_of_range":
            return _out_of_range(time)  # type: ignore[arg-type]
        if code == "before_start":
            return f"_t < {rules.origin!r}"
        x = xs[col]  # type: ignore[index]
        return {"missing_value": ms[col],  # type: ignore[index]
                "non_numeric_value": f"{x} IS NULL",
                "non_finite_value": f"NOT isfinite({x})",
                "not_binary": f"{x} NOT IN (0, 1)",
                "negative_count": f"{x} < 0"}[code]

    checks = [(code, col) for code, col in rules.checks() if not _cannot_fire(logs, code, col)]
    tests = [(test(code, col), ql(code + "|" + (col or ""))) for code, col in checks]
    if logs.source.format == "jsonl":
        tests.insert(0, ("NOT _ok", "'unparseable_line|'"))
    reason = "CASE " + " ".join(f"WHEN {t} THEN {r}" for t, r in tests) + " END"
    where = ""
    if time_where is not None:
        if not rules.timestamp_column:
            raise ValueError("time_where needs a timestamp column")
        where = f" WHERE {time_where(tval)}"
    sql = (f"(SELECT *, {reason} AS _r FROM (SELECT {', '.join(select)} FROM "
           f"{logs.scan(store_rejects=store_rejects)}{where}))")
    return sql, xs

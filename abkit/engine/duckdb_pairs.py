"""The DuckDB compilation of a :class:`~abkit.engine.pairs.PairsPlan`: the split, the row
checks, the duplicate rule and the pairing join on the request id, in SQL.

One scan per input numbers its rows (file order, for the examples' ``row N`` and the
pairs' order; :func:`~abkit.engine.duckdb_pair_sql.load_rows`) into a table of only the
columns the plan reads; one aggregation by request id counts each side's valid rows and
keeps the first one's position (an id with exactly one valid row on each side is a pair;
more on either side is ``duplicate_request``; none on the other side ``live_only`` /
``shadow_only``): a small hash table of integers, whatever the columns; each side's values
are then taken by position (:func:`_fetch_pairs`). The counts
and one example per reason come back as a few rows, and the pairs as arrays in the live
rows' order. The labels' accounting is :mod:`abkit.engine.duckdb_pair_labels`. Text is read
as the pandas reference reads it (:mod:`abkit.engine.duckdb_pair_sql`):
``tests/engine/test_conformance_pairs.py`` holds the two to the same accounting and arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.labels import check_labels
from ..io.datacapture import _Counter
from ..io.datacapture.accounting import _merge as merge_accounting
from .duckdb_files import ql
from .duckdb_pair_sql import (drop_rows, id_sql, iso_time_sql, load_rows, num_sql,
                              on_connection)
from .duckdb_pair_sql import text_sql as _text
from .duckdb_pair_labels import label_accounting, load_labels
from .pairs import (SIDE_REASONS, SIDES, PairsPlan, PairsReduction, pair_diagnostics,
                    side_example)

__all__ = ["id_sql", "num_sql", "reduce_pairs"]

_ROWS, _REQ = "_abkit_pair_rows", "_abkit_pair_requests"
#: the output's text is kept only where it is not a number (for the examples)
_KEEP_BAD_OUTPUT = {"_yt": "CASE WHEN _y IS NULL OR isinf(_y) THEN _yt END"}
_SIDES = SIDES


def _row_exprs(logs: Any, plan: PairsPlan, comma: bool, with_label: bool) -> dict[str, str]:
    cols = set(logs.columns())
    e = {"_id": id_sql(_text(logs, plan.id_column)),
         "_yt": _text(logs, plan.output_column),
         "_y": num_sql(_text(logs, plan.output_column), comma)}
    for i, c in enumerate(plan.carry):
        e[f"_c{i}"] = num_sql(_text(logs, c), comma)
    e["_t"] = _text(logs, plan.timestamp_column) if plan.timestamp_column else "NULL"
    for i, c in enumerate(plan.columns):
        e[f"_f{i}"] = _text(logs, c)
    located = {"file", "line"} <= cols  # examples say file:line, as the reference does
    e["_wf"] = _text(logs, "file") if located else "NULL"
    e["_wl"] = _text(logs, "line") if located else "NULL"
    e["_located"] = "true" if located else "false"
    if with_label:
        e["_lt"] = _text(logs, plan.label_column)  # type: ignore[arg-type]
        e["_lv"] = num_sql(e["_lt"], comma)
    return e


def _split(logs: Any, plan: PairsPlan, read: int) -> tuple[dict[str, int], dict[str, str]]:
    """The one-log split's accounting (``missing_variant``, ``unknown_variant``) and the
    label check, as :func:`abkit.io.split_log.split_generic` does them."""
    live, cand = str(plan.live), str(plan.candidate)
    out = logs.con.execute(
        f"SELECT _tag, count(*), min(_pos) FROM {_ROWS} WHERE _s IS NULL GROUP BY _tag "
        "ORDER BY _tag NULLS FIRST").fetchall()  # _tag is kept on these rows only
    n_side = dict(logs.con.execute(
        f"SELECT _s, count(*) FROM {_ROWS} WHERE _s IS NOT NULL GROUP BY _s").fetchall())
    rejected: dict[str, int] = {}
    examples: dict[str, str] = {}
    miss = [(n, p) for t, n, p in out if t is None]
    unknown = {str(t): int(n) for t, n, _ in out if t is not None}
    if miss:
        n, p = miss[0]
        rejected["missing_variant"] = int(n)
        examples["missing_variant"] = (f"{_where(logs, p)}: empty "
                                       f"{plan.variant_column!r}")
    if unknown:
        t, p = min(((t, p) for t, _, p in out if t is not None), key=lambda x: x[1])
        rejected["unknown_variant"] = sum(unknown.values())
        examples["unknown_variant"] = (f"{_where(logs, p)}: variant {t!r} (unknown tags: "
                                       f"{', '.join(sorted(unknown)[:5])})")
    check_labels(plan.where, {"experiment.live": live, "experiment.candidate": cand},
                 {live: int(n_side.get(0, 0)), cand: int(n_side.get(1, 0))}, unknown, read)
    return rejected, examples


def _where(logs: Any, pos: int, side: int | None = None) -> str:
    """``file:line`` of a row when the log has those columns, else ``row N`` (its position
    among the rows of its side, or of the log)."""
    got = logs.con.execute(f"SELECT _wf, _wl, _located FROM {_ROWS} WHERE _pos = ?"
                           + ("" if side is None else " AND _s = ?"),
                           [pos] if side is None else [pos, side]).fetchone()
    n = pos
    if side is not None:
        n = int(logs.con.execute(f"SELECT count(*) FROM {_ROWS} WHERE _s = ? AND _pos < ?",
                                 [side, pos]).fetchone()[0])
    if got is not None and got[2]:
        return f"{got[0]}:{got[1]}"
    return f"row {n}"


#: a side's row is valid when its id is not empty and its output a finite number
_VALID = "_id IS NOT NULL AND _y IS NOT NULL AND NOT isinf(_y)"
#: the rejection of an invalid row, in the reference's order
_ROW_REASON = ("CASE WHEN _id IS NULL THEN 'missing_request_id' WHEN _yt IS NOT NULL AND "
               "_y IS NULL THEN 'non_numeric_output' WHEN _y IS NULL OR isinf(_y) THEN "
               "'non_finite_output' END")


def _by_request() -> str:
    """One row per request id: each side's valid rows (``_n0``, ``_n1``) and the first
    one's position (integers only: the hash table stays small; a pair's values are then
    fetched by position)."""
    return (f"CREATE OR REPLACE TEMP TABLE {_REQ} AS SELECT _id, "
            "count(*) FILTER (WHERE _s = 0) AS _n0, count(*) FILTER (WHERE _s = 1) AS _n1, "
            "min(_pos) FILTER (WHERE _s = 0) AS _p0, min(_pos) FILTER (WHERE _s = 1) AS _p1 "
            f"FROM {_ROWS} WHERE _s IS NOT NULL AND {_VALID} GROUP BY _id")


_DUP = "(_n0 > 1 OR _n1 > 1)"
_FROM_REQUESTS = f"""
SELECT 0, 'duplicate_request', sum(_n0) FILTER (WHERE {_DUP}),
       min(_p0) FILTER (WHERE {_DUP}) FROM {_REQ}
UNION ALL SELECT 1, 'duplicate_request', sum(_n1) FILTER (WHERE {_DUP}),
       min(_p1) FILTER (WHERE {_DUP}) FROM {_REQ}
UNION ALL SELECT 0, 'live_only', count(*) FILTER (WHERE _n0 = 1 AND _n1 = 0),
       min(_p0) FILTER (WHERE _n0 = 1 AND _n1 = 0) FROM {_REQ}
UNION ALL SELECT 1, 'shadow_only', count(*) FILTER (WHERE _n1 = 1 AND _n0 = 0),
       min(_p1) FILTER (WHERE _n1 = 1 AND _n0 = 0) FROM {_REQ}
UNION ALL SELECT 0, NULL, count(*) FILTER (WHERE _n0 = 1 AND _n1 = 1), NULL FROM {_REQ}
"""


def _side_accounting(logs: Any, plan: PairsPlan) -> tuple[dict[str, _Counter], dict[str, str]]:
    """Each side's counts by reason, with the first row of each as its example (the
    reference's wording)."""
    con = logs.con
    rows = con.execute(
        f"SELECT _s, {_ROW_REASON} AS _r, count(*), min(_pos) FROM {_ROWS} WHERE _s IS NOT "
        f"NULL AND NOT ({_VALID}) GROUP BY ALL").fetchall()
    rows += con.execute(_FROM_REQUESTS).fetchall()
    sides = dict(con.execute(f"SELECT _s, count(*) FROM {_ROWS} WHERE _s IS NOT NULL "
                             "GROUP BY _s").fetchall())
    found = {(s, r): (int(n), p) for s, r, n, p in rows if n}
    pairs = found.pop((0, None), (0, None))[0]
    counters = {s: _Counter() for s in _SIDES}
    examples: dict[str, str] = {}
    for s, side in enumerate(_SIDES):
        counters[side].read = int(sides.get(s, 0))
        counters[side].used = pairs
    for r in SIDE_REASONS:
        for s, side in enumerate(_SIDES):  # the reference's order: live's example wins
            if (s, r) not in found:
                continue
            n, p = found[(s, r)]
            i, yt = con.execute(f"SELECT _id, _yt FROM {_ROWS} WHERE _s = ? AND _pos = ?",
                                [s, p]).fetchone()
            what = side_example(r, s, plan.id_column, i, yt)
            ex = f"{side} {_where(logs, int(p), s)}: {what}"
            counters[side].reject(r, ex, n)
            examples.setdefault(r, ex)
    return counters, examples


def reduce_pairs(source: Any, plan: PairsPlan) -> PairsReduction:
    """The DuckDB compilation of ``plan`` over ``source`` (a LogInput with ``logs``) and the
    plan's candidate and labels inputs."""
    logs = source.logs
    con = logs.con
    comma = getattr(logs.source, "decimal", ".") == ","
    rejected: dict[str, int] = {}
    examples: dict[str, str] = {}
    with_label = plan.labels_from_log
    exprs = _row_exprs(logs, plan, comma, with_label)
    if plan.candidate_input is None:
        tag = id_sql(_text(logs, plan.variant_column))  # type: ignore[arg-type]
        exprs = {"_tag": tag, "_s": f"CASE {tag} WHEN {ql(str(plan.live))} THEN 0 WHEN "
                 f"{ql(str(plan.candidate))} THEN 1 END", **exprs}
        n, bad, ex = load_rows(logs, _ROWS, exprs, replace={
            **_KEEP_BAD_OUTPUT, "_tag": "CASE WHEN _s IS NULL THEN _tag END"})
        read = n + bad
        if bad:
            rejected["unparseable_line"] = bad
        if ex:
            examples["unparseable_line"] = ex
        split_rej, split_ex = _split(logs, plan, n)
        rejected.update(split_rej)
        examples.update(split_ex)
    else:
        n, bad, ex = load_rows(logs, _ROWS, {"_s": "0", **exprs}, replace=_KEEP_BAD_OUTPUT)
        cand = plan.candidate_input.logs
        with on_connection(cand, con):
            c_exprs = _row_exprs(cand, plan, getattr(cand.source, "decimal", ".") == ",",
                                 False)
            m, c_bad, c_ex = load_rows(cand, _ROWS, {"_s": "1", **c_exprs}, create=False,
                                       replace=_KEEP_BAD_OUTPUT)
        read = n + bad + m + c_bad
        if bad + c_bad:
            rejected["unparseable_line"] = bad + c_bad
        if ex or c_ex:
            examples["unparseable_line"] = ex or c_ex
    labels = load_labels(logs, plan, _ROWS) if (plan.labels_input is not None or with_label) \
        else None
    con.execute(_by_request())
    counters, pair_examples = _side_accounting(logs, plan)
    label_acc = None
    if labels is not None:
        read += labels.read
        for k, v in labels.rejected.items():
            rejected[k] = rejected.get(k, 0) + v
        for k, v in labels.examples.items():
            examples.setdefault(k, v)
    got = _fetch_pairs(logs, plan, labels is not None)
    n_pairs = got.num_rows
    lab = _numbers(got["_lab"]) if labels else np.full(n_pairs, np.nan)
    n_lab = int(np.isfinite(lab).sum())
    unmatched_labels = 0
    if labels is not None:
        lc, unmatched_labels, lo_ex = label_accounting(logs, labels, n_lab, _ROWS, _REQ)
        if lo_ex:
            pair_examples.setdefault("labels_only", lo_ex)
            examples.setdefault("labels_only", lo_ex)
        if unmatched_labels:
            rejected["labels_only"] = rejected.get("labels_only", 0) + unmatched_labels
        label_acc = lc.freeze()
    inputs = [logs] + [i.logs for i in (plan.candidate_input, plan.labels_input) if i]
    for lg in {id(x): x for x in inputs}.values():  # lines the line guard took out
        guarded, guard_examples = lg.guard_accounting()
        read += sum(guarded.values())
        for k, v in guarded.items():
            rejected[k] = rejected.get(k, 0) + v
        for k, v in guard_examples.items():
            examples.setdefault(k, v)
    by_side = {k: c.freeze() for k, c in counters.items()}
    acc = merge_accounting(by_side.values())
    for k, v in acc.rejected.items():
        rejected[k] = rejected.get(k, 0) + v
    for k, v in pair_examples.items():
        examples[k] = v
    unmatched = {"live_only": int(acc.rejected.get("live_only", 0)),
                 "shadow_only": int(acc.rejected.get("shadow_only", 0)),
                 "labels_only": unmatched_labels}
    for t in (_ROWS, _REQ, "_abkit_pair_by_id", "_abkit_pair_labels"):
        drop_rows(con, t)

    red = PairsReduction(
        rows_read=int(read), rows_used=2 * n_pairs + n_lab,
        rejected=dict(sorted((k, v) for k, v in rejected.items() if v)),
        examples=dict(sorted(examples.items())), unmatched=unmatched, by_side=by_side,
        labels=label_acc, pair_examples=pair_examples,
        diagnostics=pair_diagnostics(n_pairs, labels is not None, n_lab),
        request_id=_texts(got["_id"]),
        output_live=_numbers(got["_yl"]), output_shadow=_numbers(got["_ys"]), label=lab,
        carried={c: (_numbers(got[f"_c{i}"]), _numbers(got[f"_d{i}"]))
                 for i, c in enumerate(plan.carry)},
        columns={c: _texts(got[f"_f{i}"]) for i, c in enumerate(plan.columns)},
        **(_times(got) if plan.timestamp_column else {}))
    red.check()
    return red


def _fetch_pairs(logs: Any, plan: PairsPlan, labels: bool) -> Any:
    """The pairs as one Arrow table, in the live rows' order: each pair's id, label and
    positions (``_p0``, ``_p1``) from the aggregation by request, and each side's values
    taken by position from that side's rows. Three scans and an Arrow ``take`` instead of a
    two-way join on positions and a sort of the joined rows (2 x 5M rows: 1.8 s, was 3.0 s).
    The pairs' times are DuckDB's when it read every pair's time (the strict ISO 8601 form
    of :func:`~abkit.engine.duckdb_pair_sql.iso_time_sql`), else their text, which pandas
    parses as the reference does."""
    carry = range(len(plan.carry))
    tp = f", {iso_time_sql('_t')} AS _tp, _t IS NOT NULL AS _th" if plan.timestamp_column \
        else ""
    keys = logs.arrow(
        f"SELECT r._id, r._p0, r._p1{', b._v AS _lab' if labels else ''} FROM {_REQ} r "
        f"{'LEFT JOIN _abkit_pair_by_id b ON b._lid = r._id' if labels else ''} "
        "WHERE _n0 = 1 AND _n1 = 1 ORDER BY r._p0")
    live = _at(logs, f"_y AS _yl{tp}{''.join(f', _c{i}' for i in carry)}"
               f"{''.join(f', _f{i}' for i in range(len(plan.columns)))}", 0, keys["_p0"])
    if plan.timestamp_column:  # DuckDB's times if it read every pair's, else the text
        n_t = int(np.count_nonzero(live["_th"].to_numpy()))
        live = live.drop_columns(["_th"])
        if not n_t or n_t != live.num_rows - live["_tp"].null_count:
            live = live.drop_columns(["_tp"]).append_column(
                "_t", _at(logs, "_t", 0, keys["_p0"])["_t"])
    cand = _at(logs, f"_y AS _ys{''.join(f', _c{i} AS _d{i}' for i in carry)}", 1,
               keys["_p1"])
    return _join_columns([keys.drop_columns(["_p0", "_p1"]), live, cand])


def _at(logs: Any, columns: str, s: int, pos: Any) -> Any:
    """``columns`` of side ``s``'s rows at positions ``pos`` (a side's ``_pos`` is unique),
    in that order, as an Arrow table; one side at a time, so that one side's rows are
    held at once."""
    side = logs.arrow(f"SELECT _pos, {columns} FROM {_ROWS} WHERE _s = {int(s)}")
    p = side["_pos"].to_numpy()
    small = len(p) < 2**31  # a row's place in ``side`` from its position
    where = np.zeros(int(p.max()) + 1 if len(p) else 0, np.int32 if small else np.int64)
    where[p] = np.arange(len(p), dtype=where.dtype)
    return side.drop_columns(["_pos"]).take(where[pos.to_numpy()])


def _join_columns(tables: list[Any]) -> Any:
    """Tables of equal length side by side."""
    import pyarrow as pa

    return pa.Table.from_arrays([c for t in tables for c in t.columns],
                                names=[n for t in tables for n in t.column_names])


def _texts(a: Any) -> Any:
    """A fetched text column (Arrow) as pandas text, missing where NULL, without a Python
    string per value."""
    return a.to_pandas().array


def _numbers(a: Any) -> np.ndarray:
    """A fetched DOUBLE column (Arrow) as floats, NaN where NULL."""
    return np.asarray(a.to_numpy(), dtype=float)


def _times(got: Any) -> dict[str, Any]:
    """The pairs' times: read by DuckDB (``_tp``) when every pair's time has the
    strict ISO 8601 form of :func:`~abkit.engine.duckdb_pair_sql.iso_time_sql`, else the
    text (``_t``), which :meth:`~abkit.engine.pairs.PairsReduction.frame` parses as the
    reference does. Pairs without any time are given as text too (pandas then decides the
    type of a column of no time)."""
    if "_tp" not in got.column_names:
        return {"time": np.asarray(got["_t"].to_pylist(), dtype=object)}
    if got["_tp"].null_count < got.num_rows:
        return {"time_utc": got["_tp"].to_numpy().astype("datetime64[us]")}
    return {"time": np.full(got.num_rows, None, dtype=object)}


def _floats(a: Any) -> np.ndarray:
    """A fetched DOUBLE column (masked where NULL) as floats, NaN where NULL."""
    if isinstance(a, np.ma.MaskedArray):
        return a.astype(float).filled(np.nan)
    return np.asarray(a, dtype=float)


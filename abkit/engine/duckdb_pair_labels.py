"""The labels of a DuckDB pairs reduction (:mod:`abkit.engine.duckdb_pairs`), in SQL: label
rows from a labels file or from the live rows' label column; ``bad_label``, ``missing_id``,
``conflicting_label`` (every row of an id labelled differently), ``duplicate_label`` (the
same label again; the first kept), ``labels_only`` (no pair has the id), with the examples
the pandas reference (:func:`abkit.io.pairing_ids._labels_by_id`) gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..io.datacapture import _Counter
from .duckdb_pair_sql import id_sql, load_rows, num_sql, on_connection
from .duckdb_pair_sql import text_sql as _text
from .pairs import PairsPlan

__all__ = ["LabelRows", "label_accounting", "load_labels"]

_LAB, _BY_ID = "_abkit_pair_labels", "_abkit_pair_by_id"


@dataclass
class LabelRows:
    """The label rows read (``read``), what was rejected before the pairing (``rejected``,
    ``examples``) and the pairing's own label counter (``counter``)."""

    read: int
    rejected: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    counter: _Counter = field(default_factory=_Counter)


def _where(con: Any, pos: int) -> str:
    """``file:line`` of a label row when the labels have those columns, else ``row N`` (its
    position among the valid label rows)."""
    wf, wl, located = con.execute(f"SELECT _wf, _wl, _located FROM {_LAB} WHERE _pos = ?",
                                  [pos]).fetchone()
    if located:
        return f"{wf}:{wl}"
    n = con.execute(f"SELECT count(*) FROM {_LAB} WHERE NOT _bad AND _pos < ?",
                    [pos]).fetchone()[0]
    return f"row {int(n)}"


def load_labels(logs: Any, plan: PairsPlan, rows_table: str) -> LabelRows:
    """Read the label rows into a table, count them, and build the valid labels by id
    (``_abkit_pair_by_id``: ``_lid``, ``_v``, ``_p1`` the first row's position)."""
    con = logs.con
    out = LabelRows(0)
    bad_sql = "(_lv IS NULL OR isinf(_lv)" + (" OR _lv NOT IN (0, 1))" if plan.binary_labels
                                              else ")")
    if plan.labels_input is not None:
        lab = plan.labels_input.logs
        comma = getattr(lab.source, "decimal", ".") == ","
        with on_connection(lab, con):
            cols = set(lab.columns())
            located = {"file", "line"} <= cols
            exprs = {"_lid": id_sql(_text(lab, plan.label_id_column)),
                     "_lv": num_sql(_text(lab, plan.label_column or "label"), comma),
                     "_wf": _text(lab, "file") if located else "NULL",
                     "_wl": _text(lab, "line") if located else "NULL",
                     "_located": "true" if located else "false"}
            n, bad, ex = load_rows(lab, _LAB, exprs, more={"_bad": bad_sql})
        out.read = n + bad
        if bad:
            out.rejected["unparseable_line"] = bad
        if ex:
            out.examples["unparseable_line"] = ex
    else:  # the live rows with a non-empty label
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_LAB} AS SELECT _pos, _id AS _lid, _lv, "
                    f"NULL AS _wf, NULL AS _wl, false AS _located, {bad_sql} AS _bad FROM "
                    f"{rows_table} "
                    "WHERE _s = 0 AND _lt IS NOT NULL AND _lt <> ''")
        out.read = int(con.execute(f"SELECT count(*) FROM {_LAB}").fetchone()[0])
    n_bad = int(con.execute(f"SELECT count(*) FROM {_LAB} WHERE _bad").fetchone()[0])
    if n_bad:
        out.rejected["bad_label"] = n_bad
    c = out.counter
    c.read = out.read - out.rejected.get("unparseable_line", 0) - n_bad
    miss = con.execute(f"SELECT count(*), min(_pos) FROM {_LAB} WHERE NOT _bad AND "
                       "_lid IS NULL").fetchone()
    if miss[0]:
        c.reject("missing_id", f"{_where(con, miss[1])}: the label id is empty", int(miss[0]))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _abkit_pair_ids AS SELECT _lid, count(*) AS _n, "
        "CASE WHEN min(_lv) < max(_lv) THEN 2 ELSE 1 END AS _k, min(_pos) AS _p1, "
        "arg_min(_lv, _pos) AS _v "
        f"FROM {_LAB} WHERE NOT _bad AND _lid IS NOT NULL GROUP BY _lid")
    conflict = con.execute("SELECT sum(_n), arg_min(_lid, _p1), min(_p1) FROM _abkit_pair_ids "
                           "WHERE _k > 1").fetchone()
    if conflict[0]:
        c.reject("conflicting_label", f"{_where(con, conflict[2])}: id {conflict[1]!r} has "
                 "different labels", int(conflict[0]))
    repeat = con.execute(
        "SELECT (SELECT sum(_n - 1) FROM _abkit_pair_ids WHERE _k = 1 AND _n > 1), "
        f"min(l._pos), arg_min(l._lid, l._pos) FROM {_LAB} l JOIN _abkit_pair_ids i USING "
        "(_lid) WHERE NOT l._bad AND i._k = 1 AND i._n > 1 AND l._pos > i._p1").fetchone()
    if repeat[0]:
        c.reject("duplicate_label", f"{_where(con, repeat[1])}: id {repeat[2]!r} is labelled "
                 "more than once (first kept)", int(repeat[0]))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_BY_ID} AS SELECT _lid, _v, _p1 FROM "
                "_abkit_pair_ids WHERE _k = 1")
    con.execute("DROP TABLE _abkit_pair_ids")
    for k, n in c.rejected.items():
        out.rejected[k] = out.rejected.get(k, 0) + n
    for k, v in c.examples.items():
        out.examples.setdefault(k, v)
    return out


def label_accounting(logs: Any, labels: LabelRows, n_labelled: int, rows_table: str,
                     requests_table: str) -> tuple[_Counter, int, str]:
    """The pairing's label counter with ``labels_only`` (valid labels whose id no pair has):
    (counter, labels_only, its example)."""
    con = logs.con
    c = labels.counter
    c.used = n_labelled
    n_ids = int(con.execute(f"SELECT count(*) FROM {_BY_ID}").fetchone()[0])
    unmatched = n_ids - n_labelled
    example = ""
    if unmatched:
        first = con.execute(
            f"SELECT b._lid FROM {_BY_ID} b ANTI JOIN (SELECT _id FROM {requests_table} "
            "WHERE _n0 = 1 AND _n1 = 1) p ON p._id = b._lid ORDER BY b._p1 LIMIT 1"
        ).fetchone()[0]
        live = con.execute(f"SELECT count(*) FROM {rows_table} WHERE _s = 0 AND _id = ?",
                           [first]).fetchone()[0]
        hint = "it matches an unpaired live record" if live else "no live record has that id"
        example = f"label id {first!r} matches no pair ({hint})"
        c.reject("labels_only", example, unmatched)
    return c, unmatched, example

"""The DuckDB pairing of a SageMaker capture's records: the live and shadow records of the
same request joined on the request id, and the ground truth attached, in SQL.

:func:`pair_capture_columns` gives exactly what :func:`abkit.io.pairing.pair_capture` (the
pandas reference) gives for the same records, without a frame of every record: it reads the
per-record columns of a :class:`~abkit.io.datacapture.CaptureRead` read with
``columns_only=True`` and a :class:`~abkit.io.datacapture.LabelsRead`. Only the ids go to
DuckDB: one aggregation by request id counts each side's records and keeps the first one's
position (a request with one record on each side is a pair; more on either side is
``duplicate_request``; none on the other side ``live_only`` / ``shadow_only``), and one join
of the pairs' label keys (the live record's inferenceId, else its eventId, then its
eventId) with the valid labels gives each pair its label. The pairs' values are then taken
by position, so only per-pair arrays are built. ``tests/engine/test_conformance_capture.py``
holds the two to the same pairs, accounting and examples.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ..io.datacapture import Accounting, CaptureRead, LabelsRead, _Counter, _merge
from ..io.pairing import Pairs
from ..io.pairing_ids import _norm_ids, _same
from ..stats.results import Diagnostic
from .duckdb_pair_sql import id_sql
from .duckdb_pairs import _FROM_REQUESTS, _REQ, _ROWS, _by_request, _floats
from .pairs import SIDES, side_example

__all__ = ["pair_capture_columns"]

#: the valid labels, the duplicate and conflict rules of the reference (first row kept)
_LABELS = """
CREATE TEMP TABLE lab AS SELECT _lpos, {id} AS _lid, _lv,
    CASE WHEN {id} IS NULL THEN 'missing_id' WHEN _lv IS NULL OR NOT isfinite(_lv)
         THEN 'bad_label' END AS _bad
FROM labels_in
"""
_LABEL_RULES = """
CREATE TEMP TABLE labr AS SELECT _lpos, _lid, _lv,
    CASE WHEN count(DISTINCT _lv) OVER (PARTITION BY _lid) > 1 THEN 'conflicting_label'
         WHEN row_number() OVER (PARTITION BY _lid ORDER BY _lpos) > 1
         THEN 'duplicate_label' END AS _r
FROM lab WHERE _bad IS NULL
"""


def _ids(values: Any) -> pa.Array:
    """Ids as Arrow text, normalised in SQL (:func:`~abkit.engine.duckdb_pair_sql.id_sql`)
    as the reference normalises them. The readers' ids are always text: a lone surrogate,
    which Arrow text cannot hold, rejects its line."""
    return pa.array(np.asarray(values, dtype=object), pa.string(), from_pandas=True)


def _where(cols: dict[str, Any], i: int) -> str:
    return f"{cols['file'][i]}:{cols['line'][i]}"


def _side_rows(cap: CaptureRead, name: str) -> np.ndarray:
    """The record indexes of variant ``name``, in reading order."""
    cap.check_variant(name)
    var = cap.columns["variant"]
    cats = list(var.categories)
    if name not in cats:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.asarray(var.codes) == cats.index(name))


def _id_accounting(con, cols: dict[str, Any], rows: tuple[np.ndarray, np.ndarray],
                   counters: dict[str, _Counter], examples: dict[str, str]) -> None:
    """The rejected records of the id rules (missing, duplicate, one side only), in the
    reference's order: each reason's example is live's first, else shadow's first."""
    found = {}
    missing = con.execute(f"SELECT _s, count(*), min(_pos) FROM {_ROWS} WHERE _id IS NULL "
                          "GROUP BY _s").fetchall()
    for s, n, p in missing:
        found[(s, "missing_request_id")] = (int(n), int(p))
    for s, r, n, p in con.execute(_FROM_REQUESTS).fetchall():
        if n and r is not None:  # (0, NULL, pairs, NULL) counts the pairs
            found[(s, r)] = (int(n), int(p))
    for r in ("missing_request_id", "duplicate_request", "live_only", "shadow_only"):
        for s, side in enumerate(SIDES):
            if (s, r) not in found:
                continue
            n, p = found[(s, r)]
            i = int(rows[s][p])
            rid = _norm_ids(pd.Series([cols["request_id"][i]], dtype=object))[0]
            what = side_example(r, s, "request_id", rid, None)
            ex = f"{side} {_where(cols, i)}: {what}"
            counters[side].reject(r, ex, n)
            examples.setdefault(r, ex)


def _attach_labels(con, labels: pd.DataFrame, cols: dict[str, Any],
                   live_idx: np.ndarray, examples: dict[str, str]
                   ) -> tuple[np.ndarray, Accounting, int]:
    """Each pair's label (NaN when none), the labels' accounting and the labels that
    matched no pair (``labels_only``)."""
    lc = _Counter()
    lc.read = len(labels)
    con.register("labels_in", pa.table({
        "_lpos": pa.array(np.arange(len(labels), dtype=np.int64)),
        "_lid": _ids(labels["event_id"].to_numpy(dtype=object)),
        "_lv": pa.array(pd.to_numeric(labels["label"], errors="coerce").to_numpy(float),
                        pa.float64(), from_pandas=True)}))
    con.execute(_LABELS.format(id=id_sql("_lid")))
    con.execute(_LABEL_RULES)
    lf, ll = labels["file"], labels["line"]
    where = {"missing_id": "the label id is empty",
             "bad_label": "the label is not a finite number",
             "conflicting_label": "has different labels",
             "duplicate_label": "is labelled more than once (first kept)"}
    bad = con.execute("SELECT _bad, count(*), min(_lpos) FROM lab WHERE _bad IS NOT NULL "
                      "GROUP BY _bad").fetchall()
    dup = con.execute("SELECT _r, count(*), min(_lpos), arg_min(_lid, _lpos) "
                      "FROM labr WHERE _r IS NOT NULL GROUP BY _r").fetchall()
    got = {r: (n, p, None) for r, n, p in bad} | {r: (n, p, i) for r, n, p, i in dup}
    for r in ("missing_id", "bad_label", "conflicting_label", "duplicate_label"):
        if r in got:
            n, p, i = got[r]
            what = where[r] if i is None else f"id {i!r} {where[r]}"
            lc.reject(r, f"{lf.iloc[p]}:{ll.iloc[p]}: {what}", int(n))
    inf_id, ev_id = cols["inference_id"], cols["event_id"]
    con.register("keys", pa.table({
        "_k": pa.array(np.arange(len(live_idx), dtype=np.int64)),
        "_iid": _ids(np.asarray(inf_id, dtype=object)[live_idx]),
        "_eid": _ids(np.asarray(ev_id, dtype=object)[live_idx])}))
    con.execute(f"CREATE TEMP TABLE pk AS SELECT _k, coalesce({id_sql('_iid')}, "
                f"{id_sql('_eid')}) AS _lk, {id_sql('_eid')} AS _alt FROM keys")
    got = con.execute(
        "SELECT pk._k, coalesce(a._lv, b._lv) AS _v FROM pk "
        "LEFT JOIN labr a ON a._r IS NULL AND a._lid = pk._lk "
        "LEFT JOIN labr b ON b._r IS NULL AND b._lid = pk._alt ORDER BY pk._k").fetchnumpy()
    vals = _floats(got["_v"])
    hit, miss, first = con.execute(
        "SELECT count(*) FILTER (WHERE _h), count(*) FILTER (WHERE NOT _h), "
        "arg_min(_lid, _lpos) FILTER (WHERE NOT _h) FROM (SELECT _lid, _lpos, "
        "coalesce(_lid IN (SELECT _lk FROM pk), false) OR "
        "coalesce(_lid IN (SELECT _alt FROM pk), false) AS _h "
        "FROM labr WHERE _r IS NULL)").fetchone()
    lc.used = int(hit)
    if miss:
        live = con.execute(f"SELECT count(*) FROM {_ROWS} WHERE _s = 0 AND _id = ?",
                           [first]).fetchone()[0]
        hint = "it matches an unpaired live record" if live else "no live record has that id"
        ex = f"label id {first!r} matches no pair ({hint})"
        lc.reject("labels_only", ex, int(miss))
        examples.setdefault("labels_only", ex)
    return vals, lc.freeze(), int(miss)


def _take(col: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of a record column, typed as the column of the records' frame is (an
    object column of text alone is ``str`` there, and stays so when the pairs hold no
    number)."""
    if isinstance(col, pd.Series):
        return col.iloc[idx].reset_index(drop=True)
    if isinstance(col, pd.Categorical):
        return col.take(idx)
    arr = np.asarray(col)
    if arr.dtype == object:
        return pd.Series(arr[idx], dtype=pd.Series(arr).dtype)
    return arr[idx]


def _same_values(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """NaN-aware equality of two feature columns (as :func:`abkit.io.pairing_ids._same`)."""
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return (a == b) | (np.isnan(a) & np.isnan(b))
    return _same(pd.Series(np.asarray(a, dtype=object)), pd.Series(np.asarray(b, dtype=object)))


def _compare_features(feats: tuple[str, ...], L: dict[str, Any], S: dict[str, Any],
                      n: int) -> np.ndarray:
    """Pairs whose compared features differ; a side whose input was unreadable (every
    feature missing) is not compared."""
    mismatch = np.zeros(n, dtype=bool)
    for c in feats:
        mismatch |= ~_same_values(L[c], S[c])
    if feats:
        unread = np.logical_and.reduce([pd.isna(L[c]) for c in feats]) | \
            np.logical_and.reduce([pd.isna(S[c]) for c in feats])
        mismatch &= ~unread
    return mismatch


def _pair_ids(cols: dict[str, Any], rows: tuple[np.ndarray, np.ndarray],
              labels: LabelsRead | None) -> tuple:
    """The DuckDB part: (counters, examples, pair ids, live and shadow record indexes, the
    pairs' labels, the labels' accounting, labels_only)."""
    counters = {k: _Counter() for k in SIDES}
    examples: dict[str, str] = {}
    rid = np.asarray(cols["request_id"], dtype=object)
    y = np.asarray(cols["output"], dtype=float)
    con = duckdb.connect()
    try:
        con.register("recs_in", pa.table({
            "_s": pa.array(np.repeat(np.arange(2, dtype=np.int8),
                                     [len(rows[0]), len(rows[1])])),
            "_pos": pa.array(np.concatenate([np.arange(len(r), dtype=np.int64)
                                             for r in rows])),
            "_id": _ids(np.concatenate([rid[rows[0]], rid[rows[1]]])),
            "_y": pa.array(np.concatenate([y[rows[0]], y[rows[1]]]))}))
        # the generic pairs plan's tables and its aggregation by request id (the readers
        # kept finite outputs only, so every record with an id counts)
        con.execute(f"CREATE TEMP TABLE {_ROWS} AS SELECT _s, _pos, {id_sql('_id')} AS _id, "
                    "_y FROM recs_in")
        con.execute(_by_request())
        _id_accounting(con, cols, rows, counters, examples)
        got = con.execute(f"SELECT _id, _p0, _p1 FROM {_REQ} WHERE _n0 = 1 AND _n1 = 1 "
                          "ORDER BY _p0").fetchnumpy()
        key = np.asarray(got["_id"], dtype=object)
        li = rows[0][np.asarray(got["_p0"], dtype=np.int64)]
        si = rows[1][np.asarray(got["_p1"], dtype=np.int64)]
        label_vals, label_acc, unmatched_labels = np.full(len(li), np.nan), None, 0
        if labels is not None:
            label_vals, label_acc, unmatched_labels = _attach_labels(
                con, labels.frame, cols, li, examples)
    finally:
        con.close()
    return counters, examples, key, li, si, label_vals, label_acc, unmatched_labels


def pair_capture_columns(cap: CaptureRead, live: str, shadow: str,
                         labels: LabelsRead | None = None) -> Pairs:
    """:func:`abkit.io.pairing.pair_capture` of a capture read as columns (see the module
    docstring)."""
    if cap.columns is None:
        raise ValueError("pair_capture_columns reads a capture read with columns_only=True")
    cols = cap.columns
    rows = (_side_rows(cap, live), _side_rows(cap, shadow))
    y = np.asarray(cols["output"], dtype=float)
    if not np.isfinite(y).all():  # pragma: no cover
        raise AssertionError("a capture reader kept a record whose output is not finite")
    got = _pair_ids(cols, rows, labels)
    counters, examples, key, li, si, label_vals, label_acc, unmatched_labels = got
    n = len(li)
    feats = tuple(cap.features)
    L = {c: _take(cols[c], li) for c in feats}
    S = {c: _take(cols[c], si) for c in feats}
    out: dict[str, Any] = {"request_id": key, "time": _take(cols["inference_time"], li),
                           "time_shadow": _take(cols["inference_time"], si),
                           "output_live": y[li], "output_shadow": y[si],
                           "label": label_vals}
    mismatch = _compare_features(feats, L, S, n)
    out["input_mismatch"] = mismatch
    if "output_label" in cols:
        out["output_label_live"] = _take(cols["output_label"], li)
        out["output_label_shadow"] = _take(cols["output_label"], si)
    for c in feats:
        out.setdefault(c, L[c])
    frame = pd.DataFrame(out)
    diags: list[Diagnostic] = []
    n_mis = int(mismatch.sum()) if feats else None
    if n_mis:
        i = int(np.flatnonzero(mismatch)[0])
        diffs = [c for c in feats
                 if not _same_values(np.asarray(L[c][i:i + 1]), np.asarray(S[c][i:i + 1]))[0]]
        msg = (f"{n_mis} of {n} pairs have different live and shadow inputs (e.g. "
               f"request {key[i]!r}: {', '.join(diffs[:3])}); they are kept")
        diags.append(Diagnostic("INPUT_MISMATCH", msg))
        examples.setdefault("input_mismatch", msg)
    if n == 0:
        diags.append(Diagnostic("NO_PAIRS", "no request was answered by both live and shadow"))
    elif labels is not None and not np.isfinite(label_vals).any():
        diags.append(Diagnostic("NO_LABELLED_PAIRS", "no pair has a label"))
    for s, side in enumerate(SIDES):
        counters[side].read = len(rows[s])
        counters[side].used = n
    by_side = {k: c.freeze() for k, c in counters.items()}
    acc = _merge(by_side.values())
    unmatched = {"live_only": int(acc.rejected.get("live_only", 0)),
                 "shadow_only": int(acc.rejected.get("shadow_only", 0)),
                 "labels_only": unmatched_labels}
    return Pairs(frame=frame, unmatched=unmatched, examples=examples, accounting=acc,
                 by_side=by_side, labels=label_acc, input_mismatch=n_mis,
                 features=feats, diagnostics=tuple(diags))

"""Reading a SageMaker Data Capture tree with DuckDB: :func:`read_capture_duckdb`.

A drop-in for :func:`.capture.read_capture` (same parameters, same :class:`CaptureRead`,
same accounting, examples and warnings). File discovery, its caps and its symlink/FIFO
safety stay in Python (:mod:`.discover`); the lines are decided by DuckDB SQL where the SQL
is known to agree with the Python rules and by those rules otherwise
(:mod:`.duckdb_run`); timestamps, duplicates and the frame are then built exactly as the
reference reader builds them.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Sequence

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from .accounting import _Counter
from .capture import _dedupe_events, capture_result, read_capture
from .decode import _example, _feature_column
from .discover import capture_files
from .duckdb_run import decide_files
from .duckdb_sql import capture_sql, json_path
from .records import CaptureRules
from .results import CaptureRead


class _Rows:
    """Row ``i`` of the features as the list the Python reader would hold (built on demand,
    for the few records the duplicate rule compares)."""

    def __init__(self, cand: "_Cand") -> None:
        self.cand = cand

    def __getitem__(self, i: int) -> list:
        c = self.cand
        s = int(c.src[i])
        if s < c.n_fast:
            return [c.fast.column(f"t{k}")[s].as_py() for k in range(c.n_feat)]
        return list(c.slow[s - c.n_fast][2][5])


def _label(text: Any) -> Any:
    """A predicted label from its JSON text, as :func:`read_capture` keeps it."""
    if text is None:
        return math.nan
    v = json.loads(text)
    return math.nan if isinstance(v, (dict, list)) or v is None else v


class _Cand:
    """The used-candidate records of the fast (SQL) and slow (Python) lines, in reading
    order: ``src[i]`` is the fast row of record ``i`` (or ``n_fast + j`` for slow row j)."""

    def __init__(self, dec, n_feat: int, with_lab: bool) -> None:
        tables = [t for t in dec.fast if t.num_rows]
        self.fast = pa.concat_tables(tables) if tables else None
        self.slow = dec.slow_ok
        self.n_feat = n_feat
        self.n_fast = self.fast.num_rows if self.fast is not None else 0
        fcol = (lambda k: self.fast.column(k).to_numpy()) if self.n_fast else \
            (lambda k: np.zeros(0, dtype=np.int64))
        f = np.concatenate([fcol("f").astype(np.int64),
                            np.asarray([x[0] for x in self.slow], dtype=np.int64)])
        ln = np.concatenate([fcol("ln").astype(np.int64),
                             np.asarray([x[1] for x in self.slow], dtype=np.int64)])
        self.src = np.lexsort((ln, f)) if self.slow else np.arange(len(f))
        self.f, self.ln = f[self.src], ln[self.src]
        self.y = self.numbers("y", 3)
        self.eid, self.iid, self.ts = (self.objects(k, j) for j, k in enumerate(("eid", "iid",
                                                                                  "ts")))
        if with_lab:
            lab = np.empty(self.n_fast, dtype=object)
            if self.n_fast:
                lab[:] = [_label(t) for t in self.fast.column("lab").to_pylist()]
            self.lab = self._merge(lab, [x[2][4] for x in self.slow])
        else:
            self.lab = np.full(len(f), math.nan, dtype=object)
        self.bad = self._merge(np.full(self.n_fast, None, dtype=object),
                               [x[2][6] for x in self.slow])

    def _merge(self, fast: np.ndarray, slow: list) -> np.ndarray:
        out = np.empty(len(fast) + len(slow), dtype=object)
        out[:len(fast)] = fast
        out[len(fast):] = slow
        return out[self.src]

    def objects(self, name: str, j: int) -> np.ndarray:
        fast = np.asarray(self.fast.column(name).to_numpy(zero_copy_only=False), dtype=object) \
            if self.n_fast else np.zeros(0, dtype=object)
        return self._merge(fast, [x[2][j] for x in self.slow])

    def numbers(self, name: str, j: int) -> np.ndarray:
        fast = self.fast.column(name).to_numpy() if self.n_fast else np.zeros(0)
        out = np.concatenate([fast.astype(float), np.asarray([x[2][j] for x in self.slow],
                                                             dtype=float)])
        return out[self.src]

    def feature(self, k: int, idx: np.ndarray) -> np.ndarray:
        """Feature ``k`` of the records ``idx``, as :func:`_feature_column` makes it."""
        if self.n_fast and self.fast.column(f"x{k}").null_count == 0:
            # every SQL token is a plain number, read as float() reads it: the float column
            # _feature_column would make, if the lines the Python rules decided convert too
            slow = _feature_column([x[2][5][k] for x in self.slow])
            if slow.dtype == float:
                x = np.concatenate([self.fast.column(f"x{k}").to_numpy(), slow])
                return x[self.src[idx]]
        toks = np.asarray(self.fast.column(f"t{k}").to_numpy(zero_copy_only=False),
                          dtype=object) if self.n_fast else np.zeros(0, dtype=object)
        values = self._merge(toks, [x[2][5][k] for x in self.slow])
        return _feature_column(values[idx].tolist())

    def repeated(self, var: np.ndarray) -> np.ndarray:
        """Records whose (variant, eventId) occurs more than once (a superset of the
        duplicate rule's candidates: the timestamps are not checked yet)."""
        if not len(self.f):
            return np.zeros(0, dtype=bool)
        t = pa.table({"i": pa.array(np.arange(len(self.f), dtype=np.int64)),
                      "v": pa.array(var), "e": pa.array(self.eid.tolist(), pa.string())})
        con = duckdb.connect()
        try:
            con.register("t", t)
            hit = con.sql("SELECT i FROM t WHERE e IS NOT NULL "
                          "QUALIFY count(*) OVER (PARTITION BY v, e) > 1").fetchnumpy()["i"]
        finally:
            con.close()
        out = np.zeros(len(self.f), dtype=bool)
        out[np.asarray(hit, dtype=np.int64)] = True
        return out


def read_capture_duckdb(
    root: str | Path,
    *,
    features: Sequence[str] | None = None,
    output_field: str | None = None,
    output_label_field: str | None = None,
    endpoint: str | None = None,
    variants: Sequence[str] | None = None,
    output_range: tuple[float, float] | None = (0.0, 1.0),
    columns_only: bool = False,
) -> CaptureRead:
    """:func:`read_capture` (same parameters, same result) with the lines read by DuckDB.

    Paths with a key holding a quote or a backslash are read by :func:`read_capture`
    itself. See :func:`read_capture` for the parameters, the reasons and the duplicate rule.
    ``columns_only``: the records' columns without a frame (``CaptureRead.columns``).
    """
    t0 = time.perf_counter()
    rules = CaptureRules.from_options(features, output_field, output_label_field,
                                      output_range)
    feats, out_steps, lab_steps = rules.feats, rules.out_steps, rules.lab_steps
    lo, hi = rules.lo, rules.hi
    if any(s is not None and json_path(s) is None for s in (out_steps, lab_steps)):
        return read_capture(root, features=features, output_field=output_field,
                            output_label_field=output_label_field, endpoint=endpoint,
                            variants=variants, output_range=output_range,
                            columns_only=columns_only)
    files = capture_files(root, endpoint, variants)
    n_feat = len(feats)
    var_names: list[str] = []
    var_of_file = np.zeros(len(files), dtype=np.int64)
    for fi, f in enumerate(files):
        if f.names[1] not in var_names:
            var_names.append(f.names[1])
        var_of_file[fi] = var_names.index(f.names[1])
    dec = decide_files([f.path for f in files],
                       capture_sql(n_feat, out_steps, lab_steps, lo, hi), rules.decide,
                       var_of_file.tolist())
    counters = {v: _Counter() for v in var_names}
    for fi, n in enumerate(dec.read):
        counters[files[fi].names[1]].read += n
    for fi, ln, reason, msg in dec.rejects:
        counters[files[fi].names[1]].reject(reason, _example(files[fi].path, ln, msg))

    c = _Cand(dec, n_feat, lab_steps is not None)
    n = len(c.y)
    times = pd.to_datetime(pd.Series(c.ts, dtype=object), utc=True, format="ISO8601",
                           errors="coerce")
    bad_t = times.isna().to_numpy()
    keep = ~bad_t
    var_arr = var_of_file[c.f] if n else np.zeros(0, dtype=np.int64)
    if bad_t.any():
        for vi, k in enumerate(np.bincount(var_arr[bad_t], minlength=len(var_names)).tolist()):
            if k:
                i = int(np.flatnonzero(bad_t & (var_arr == vi))[0])
                counters[var_names[vi]].reject("bad_timestamp", _example(
                    files[c.f[i]].path, int(c.ln[i]),
                    f"inferenceTime {c.ts[i]!r} is not an ISO 8601 time"), n=k)
    # the duplicate rule of read_capture, on the records whose eventId repeats
    sub = keep & c.repeated(var_arr)
    kept_sub = sub.copy()
    _dedupe_events(kept_sub, var_arr, c.eid, c.iid, c.ts, c.y, c.lab,
                   _Rows(c) if n_feat else None,
                   lambda vi: counters[var_names[vi]],
                   lambda i: (files[c.f[i]].path, int(c.ln[i])))
    keep &= ~(sub & ~kept_sub)
    idx = np.flatnonzero(keep)
    bad = c.bad[idx]
    for i in np.flatnonzero(pd.notna(bad)).tolist():
        j = int(idx[i])
        r = bad[i]
        counters[var_names[var_arr[j]]].input_problem(_example(
            files[c.f[j]].path, int(c.ln[j]), f"{r.reason}: {r.message}"))
    used = np.bincount(var_arr[keep], minlength=len(var_names)).tolist() if n else []
    for vi, n_used in enumerate(used):
        counters[var_names[vi]].used = n_used

    endpoints = [f.names[0] for f in files]
    ep_names = sorted(set(endpoints))
    ep_codes = np.asarray([ep_names.index(e) for e in endpoints], dtype=np.int64)
    file_codes = c.f[idx]
    eid_k, iid_k = c.eid[idx], c.iid[idx]
    cols: dict[str, Any] = {
        "endpoint": pd.Categorical.from_codes(ep_codes[file_codes], categories=ep_names),
        "variant": pd.Categorical.from_codes(var_arr[idx], categories=var_names),
        "event_id": pd.array(eid_k, dtype=object),
        "inference_id": pd.array(iid_k, dtype=object),
        "request_id": pd.array(np.where(pd.isna(iid_k), eid_k, iid_k)
                               if len(idx) else eid_k, dtype=object),
        "inference_time": times[keep].reset_index(drop=True),
        "file": pd.Categorical.from_codes(file_codes, categories=[str(f.path) for f in files])
        if files else pd.Categorical([]),
        "line": c.ln[idx],
        "output": c.y[idx],
    }
    if lab_steps is not None:
        cols["output_label"] = _feature_column(c.lab[idx].tolist())
    for k, name in enumerate(feats):
        cols[name] = c.feature(k, idx)
    return capture_result(cols, counters, var_names, ep_names, feats, output_field,
                          output_range, files, t0, dec.warnings, columns_only)

"""Reading Model Monitor ground truth with DuckDB: :func:`read_ground_truth_duckdb`.

A drop-in for :func:`.ground_truth.read_ground_truth` (same parameters, same
:class:`LabelsRead`): lines decided by DuckDB SQL where it agrees with the Python rules, by
those rules otherwise (:mod:`.duckdb_run`); duplicates and the frame as the reference.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa

from .accounting import _Counter
from .decode import _example
from .discover import _discover
from .duckdb_run import decide_files
from .duckdb_sql import json_path, label_sql
from .ground_truth import labels_result, read_ground_truth
from .paths import parse_path
from .records import LabelRules
from .results import LabelsRead


def _columns(dec) -> tuple[np.ndarray, ...]:
    """(file, line, id, label, time) of the used-candidate lines, in reading order."""
    fast = pa.concat_tables(dec.fast) if dec.fast else None
    parts: list[tuple[np.ndarray, ...]] = []
    if fast is not None and fast.num_rows:
        parts.append((fast.column("f").to_numpy().astype(np.int64),
                      fast.column("ln").to_numpy(),
                      np.asarray(fast.column("eid").to_numpy(zero_copy_only=False), object),
                      fast.column("y").to_numpy(),
                      np.asarray(fast.column("ts").to_numpy(zero_copy_only=False), object)))
    if dec.slow_ok:
        s = dec.slow_ok
        ids = np.empty(len(s), dtype=object)
        ids[:] = [x[2][0] for x in s]
        ts = np.empty(len(s), dtype=object)
        ts[:] = [x[2][2] for x in s]
        parts.append((np.asarray([x[0] for x in s], np.int64),
                      np.asarray([x[1] for x in s], np.int64), ids,
                      np.asarray([x[2][1] for x in s], float), ts))
    if not parts:
        return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, object),
                np.zeros(0), np.zeros(0, object))
    cols = tuple(np.concatenate(c) for c in zip(*parts))
    if len(parts) > 1:
        order = np.lexsort((cols[1], cols[0]))
        cols = tuple(c[order] for c in cols)
    return cols


def read_ground_truth_duckdb(
    root: str | Path,
    *,
    endpoint: str | None = None,
    label_kind: Literal["binary", "numeric"] = "binary",
    label_field: str | None = None,
) -> LabelsRead:
    """:func:`read_ground_truth` (same parameters, same result) with the lines read by
    DuckDB. A ``label_field`` with a key holding a quote or a backslash is read by
    :func:`read_ground_truth` itself."""
    t0 = time.perf_counter()
    if label_kind not in ("binary", "numeric"):
        raise ValueError(f"label_kind must be 'binary' or 'numeric', got {label_kind!r}")
    steps = parse_path(label_field) if label_field is not None else None
    if steps is not None and json_path(steps) is None:
        return read_ground_truth(root, endpoint=endpoint, label_kind=label_kind,
                                 label_field=label_field)
    files = _discover(root, ("endpoint",), endpoint, "ground-truth")
    rules = LabelRules(steps, label_field, label_kind)
    dec = decide_files([f.path for f in files], label_sql(steps, label_kind), rules.decide)
    cnt = _Counter()
    cnt.read = sum(dec.read)
    for fi, ln, reason, msg in dec.rejects:
        cnt.reject(reason, _example(files[fi].path, ln, msg))
    g_file, g_line, g_id, g_lab, g_time = _columns(dec)

    return labels_result(cnt, files, g_file, g_line, g_id, g_lab, g_time, label_kind, t0,
                         dec.warnings)

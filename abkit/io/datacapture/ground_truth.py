"""Reading SageMaker Model Monitor ground truth: :func:`read_ground_truth`."""

from __future__ import annotations

import gzip
import time
import zlib
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd

from .accounting import _Counter
from .decode import _example
from .discover import _TooLarge, _discover, _lines, _no_gc
from .paths import parse_path
from .records import _FALSE, _TRUE, LabelRules, _label_value  # noqa: F401 (re-exported)
from .results import LabelsRead




def read_ground_truth(
    root: str | Path,
    *,
    endpoint: str | None = None,
    label_kind: Literal["binary", "numeric"] = "binary",
    label_field: str | None = None,
) -> LabelsRead:
    """Read SageMaker Model Monitor ground-truth JSON Lines into one label per id.

    Parameters
    ----------
    root
        The endpoint's ground-truth folder (``<endpoint>/yyyy/mm/dd/hh/*.jsonl[.gz]``), the
        prefix folder above it (``endpoint=`` picks one when there are several), or a file.
    label_kind
        ``"binary"`` (default: a classification label must be 0 or 1; ``"1"``, ``1``,
        ``1.0``, ``true`` are accepted spellings) or ``"numeric"`` (any finite number).
        Anything else is ``bad_label``.
    label_field
        Path (as :func:`parse_path`) to the label inside a JSON ``groundTruthData``;
        default ``None``: the JSON payload must be the value itself. CSV payloads use the
        first field.

    The id is ``eventMetadata.eventId``, or ``eventMetadata.inferenceId`` when there is no
    eventId. Duplicates (by that id, among otherwise good records): the same label more than once
    keeps the first (reading order) and rejects the repeats as ``duplicate_label``;
    different labels for one id reject every record of that id as ``conflicting_label``.
    """
    t0 = time.perf_counter()
    if label_kind not in ("binary", "numeric"):
        raise ValueError(f"label_kind must be 'binary' or 'numeric', got {label_kind!r}")
    steps = parse_path(label_field) if label_field is not None else None
    files = _discover(root, ("endpoint",), endpoint, "ground-truth")
    rules = LabelRules(steps, label_field, label_kind)
    cnt = _Counter()
    warnings: list[str] = []
    g_file: list[int] = []
    g_line: list[int] = []
    g_id: list[str] = []
    g_lab: list[float] = []
    g_time: list[Any] = []
    with _no_gc():  # millions of small objects: GC passes cost ~25 %
        for fi, f in enumerate(files):
            lineno = 0
            try:
                for raw in _lines(f.path, lineno_hint=lambda: lineno):
                    lineno += 1
                    cnt.read += 1
                    verdict, payload = rules.decide(raw)
                    if verdict == "reject":
                        cnt.reject(payload[0], _example(f.path, lineno, payload[1]))
                        continue
                    eid, y, ts = payload
                    g_file.append(fi)
                    g_line.append(lineno)
                    g_id.append(eid)
                    g_lab.append(y)
                    g_time.append(ts)
            except _TooLarge as e:
                lineno = e.reject_rest(cnt, warnings, f.path, lineno)
            except (EOFError, gzip.BadGzipFile, zlib.error) as e:
                lineno += 1
                cnt.read += 1
                msg = (f"the file could not be read past line {lineno - 1} ({type(e).__name__}: "
                       f"{e}); later records in it, if any, are lost")
                cnt.reject("unparseable_line", _example(f.path, lineno, msg))
                warnings.append(f"{f.path}: {msg}")

    return labels_result(cnt, files, g_file, g_line, g_id, g_lab, g_time, label_kind, t0,
                         warnings)


def labels_result(cnt: _Counter, files: list, g_file, g_line, g_id, g_lab, g_time,
                  label_kind: str, t0: float, warnings: Sequence[str]) -> LabelsRead:
    """The :class:`LabelsRead` of the label records that passed the per-line checks (their
    file index, line, id, label and inferenceTime text): ids with different labels are all
    rejected (``conflicting_label``), repeats of one label keep the first
    (``duplicate_label``), and a label's time is its inferenceTime, else its folder's hour.
    Both ground-truth readers end here."""
    g_file = np.asarray(g_file, dtype=np.int64)
    g_line = np.asarray(g_line, dtype=np.int64)
    ids = np.asarray(g_id, dtype=object)
    n = len(ids)
    df = pd.DataFrame({"event_id": pd.array(ids, dtype=object),
                       "label": np.asarray(g_lab, dtype=float), "line": g_line})
    keep = np.ones(n, dtype=bool)
    if n:
        nuniq = df.groupby("event_id", sort=False)["label"].transform("nunique").to_numpy()
        conflict = nuniq > 1
        repeat = df.duplicated("event_id", keep="first").to_numpy() & ~conflict
        conf = np.flatnonzero(conflict)
        if conf.size:
            i = int(conf[0])
            labels = sorted({float(g_lab[j]) for j in conf.tolist() if ids[j] == ids[i]})
            cnt.reject("conflicting_label", _example(
                files[g_file[i]].path, int(g_line[i]),
                f"eventId {ids[i]!r} has different labels {labels}"), n=int(conf.size))
        rep = np.flatnonzero(repeat)
        if rep.size:
            i = int(rep[0])
            j = int(np.flatnonzero(ids == ids[i])[0])
            cnt.reject("duplicate_label", _example(
                files[g_file[i]].path, int(g_line[i]),
                f"eventId {ids[i]!r} already labelled {float(g_lab[j]):g} at "
                f"{files[g_file[j]].path}:{int(g_line[j])}"), n=int(rep.size))
        keep = ~conflict & ~repeat
    cnt.used = int(keep.sum())
    hours = pd.Series([f.hour for f in files], dtype="datetime64[us, UTC]")  # per file
    t_meta = pd.to_datetime(pd.Series(g_time, dtype=object), utc=True, format="ISO8601",
                            errors="coerce")
    t_path = pd.Series(hours.array.take(g_file))
    label_time = t_meta.where(t_meta.notna(), t_path)
    frame = pd.DataFrame({
        "event_id": df["event_id"][keep].reset_index(drop=True),
        "label": df["label"][keep].reset_index(drop=True),
        "label_time": label_time[keep].reset_index(drop=True),
        "file": pd.Categorical.from_codes(g_file[keep],
                                          categories=[str(f.path) for f in files]),
        "line": df["line"][keep].reset_index(drop=True),
    })
    eps = sorted({f.names[0] for f in files})
    return LabelsRead(frame=frame, accounting=cnt.freeze(),
                      endpoint=eps[0] if len(eps) == 1 and eps[0] else None,
                      label_kind=label_kind, files=tuple(f.path for f in files),
                      seconds=time.perf_counter() - t0, warnings=tuple(warnings))

"""One capture or ground-truth line decided in Python: the rules of the reference readers.

The DuckDB readers (:mod:`.duckdb_capture`, :mod:`.duckdb_truth`) decide the common lines in
SQL and send every other line here, so a line gets the same verdict, values and message
whichever reader sees it. The rules are those of the loops of :func:`read_capture` and
:func:`read_ground_truth` (same checks, same order, same messages); the streaming
per-file loop :func:`python_file` repeats their handling of oversized, truncated and
gzip-bomb files.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path
from typing import Any, Callable

from ...core.columns import CAPTURE_RESERVED
from .decode import (
    _csv_row, _decode, _first_csv_field, _json_row, _norm_id, _number, _parse_line, _Reject,
    _scalar,
)
from .discover import _lines, _TooLarge
from .paths import extract_path, parse_path

_TRUE = {"1", "1.0", "true", "yes"}
_FALSE = {"0", "0.0", "false", "no"}


def _label_value(v: Any, kind: str) -> float:
    if kind == "binary":
        if isinstance(v, bool):
            return 1.0 if v else 0.0
        if isinstance(v, (int, float)) and v in (0, 1):
            return float(v)
        if isinstance(v, str):
            s = v.strip().strip('"').lower()
            if s in _TRUE:
                return 1.0
            if s in _FALSE:
                return 0.0
        raise _Reject("bad_label", f"the label {str(v)[:40]!r} is not 0 or 1")
    try:
        y = _number(v)
    except (ValueError, TypeError):
        raise _Reject("bad_label", f"the label {str(v)[:40]!r} is not a number") from None
    if not math.isfinite(y):
        raise _Reject("bad_label", f"the label {v!r} is not finite")
    return y


#: one decided line: ("ok", values) or ("reject", (reason, message))
Verdict = tuple[str, Any]


class CaptureRules:
    """The per-line capture rules, configured once per read.

    ``decide(raw)`` returns ``("ok", (eid, iid, ts, y, lab, row, bad_in))`` (``bad_in`` the
    :class:`_Reject` of an unreadable input, else None) or ``("reject", (reason, message))``.
    """

    def __init__(self, feats: tuple[str, ...], out_steps, lab_steps, output_field,
                 lo: float, hi: float) -> None:
        self.feats, self.n_feat = feats, len(feats)
        self.out_steps, self.lab_steps, self.output_field = out_steps, lab_steps, output_field
        self.lo, self.hi = lo, hi

    @classmethod
    def from_options(cls, features, output_field: str | None,
                     output_label_field: str | None,
                     output_range: tuple[float, float] | None) -> CaptureRules:
        """The rules of a read with :func:`read_capture`'s options, checked (ValueError for
        repeated feature names or an empty output range)."""
        feats = tuple(features) if features is not None else ()
        if len(set(feats)) != len(feats):
            raise ValueError("features has repeated names")
        reserved = [f for f in feats if f in CAPTURE_RESERVED]
        if reserved:
            raise ValueError(f"feature {reserved[0]!r} is the name of a column the reader "
                             "gives each record (or the pairing each pair); rename it")
        out_steps = parse_path(output_field) if output_field is not None else None
        lab_steps = parse_path(output_label_field) if output_label_field is not None else None
        if output_range is not None:
            lo, hi = float(output_range[0]), float(output_range[1])
            if not lo <= hi:
                raise ValueError(f"output_range must be (low, high) with low <= high, got "
                                 f"{output_range!r}")
        else:
            lo, hi = -math.inf, math.inf
        return cls(feats, out_steps, lab_steps, output_field, lo, hi)

    def decide(self, raw: bytes | None) -> Verdict:
        try:
            return "ok", self._values(raw)
        except _Reject as r:
            return "reject", (r.reason, r.message)
        except RecursionError:  # a payload nested too deeply for the checks
            return "reject", ("nested_too_deeply", "the JSON is nested too deeply to read")

    def _values(self, raw: bytes | None) -> tuple:
        rec = _parse_line(raw)
        cd = rec.get("captureData")
        if not isinstance(cd, dict):
            raise _Reject("missing_field", "no captureData object")
        out = cd.get("endpointOutput")
        if not isinstance(out, dict):
            raise _Reject("missing_field", "no captureData.endpointOutput")
        meta = rec.get("eventMetadata")
        if not isinstance(meta, dict):
            raise _Reject("missing_field", "no eventMetadata object")
        ts = meta.get("inferenceTime")
        if ts is None:
            raise _Reject("missing_field", "no eventMetadata.inferenceTime")
        eid = meta.get("eventId")
        eid = (eid.strip() or None) if type(eid) is str else _norm_id(eid)
        iid = meta.get("inferenceId")
        iid = (iid.strip() or None) if type(iid) is str else _norm_id(iid)
        if eid is None and iid is None:
            raise _Reject("missing_id", "neither eventId nor inferenceId")
        bad_in = None
        row = None
        if self.n_feat:  # an unreadable input keeps the record for its output
            try:
                inp = cd.get("endpointInput")
                if not isinstance(inp, dict):
                    raise _Reject("missing_field", "no captureData.endpointInput")
                kind, val = _decode(inp, "endpointInput")
                row = _csv_row(val, self.n_feat) if kind == "csv" else \
                    _json_row(val, self.feats)
            except _Reject as r:
                bad_in = r
                row = [None] * self.n_feat
        kind, val = _decode(out, "endpointOutput")
        lab: Any = math.nan
        if kind == "csv":
            v: Any = _first_csv_field(val)
            if v == "":
                raise _Reject("missing_output", "the CSV output is empty")
        else:
            if self.lab_steps is not None:
                try:
                    lab = extract_path(val, self.lab_steps)
                except KeyError:
                    lab = math.nan
                if isinstance(lab, (dict, list)) or lab is None:
                    lab = math.nan
            v = _scalar(val, self.out_steps, "output", self.output_field)
        try:
            y = float(v) if type(v) is str else _number(v)
        except (ValueError, TypeError):
            raise _Reject("non_numeric_output",
                          f"the output {str(v)[:40]!r} is not a number") from None
        if not math.isfinite(y):
            raise _Reject("non_finite_output", f"the output is {v!r}")
        if not self.lo <= y <= self.hi:
            raise _Reject("out_of_range_output",
                          f"the output {y:g} is outside [{self.lo:g}, {self.hi:g}]")
        if not isinstance(ts, str):
            raise _Reject("bad_timestamp", f"inferenceTime {ts!r} is not an ISO 8601 string")
        return eid, iid, ts, y, lab, row, bad_in


class LabelRules:
    """The per-line ground-truth rules: ``decide(raw)`` returns ``("ok", (eid, y, ts))``
    (``ts`` the inferenceTime string or None) or ``("reject", (reason, message))``."""

    def __init__(self, steps, label_field: str | None, label_kind: str) -> None:
        self.steps, self.label_field, self.label_kind = steps, label_field, label_kind

    def decide(self, raw: bytes | None) -> Verdict:
        try:
            rec = _parse_line(raw)
            gt = rec.get("groundTruthData")
            if not isinstance(gt, dict):
                raise _Reject("missing_field", "no groundTruthData object")
            meta = rec.get("eventMetadata")
            if not isinstance(meta, dict):
                raise _Reject("missing_field", "no eventMetadata object")
            eid = _norm_id(meta.get("eventId"))
            if eid is None:  # some pipelines key the label by inferenceId
                eid = _norm_id(meta.get("inferenceId"))
            if eid is None:
                raise _Reject("missing_id", "no eventMetadata.eventId or "
                              "eventMetadata.inferenceId")
            kind, val = _decode(gt, "groundTruthData")
            v = _first_csv_field(val) if kind == "csv" else \
                _scalar(val, self.steps, "label", self.label_field)
            y = _label_value(v, self.label_kind)
        except _Reject as r:
            return "reject", (r.reason, r.message)
        except RecursionError:
            return "reject", ("nested_too_deeply", "the JSON is nested too deeply to read")
        ts = meta.get("inferenceTime")
        return "ok", (eid, y, ts if isinstance(ts, str) else None)


def python_file(path: Path, decide: Callable[[bytes | None], Verdict],
                warnings: list[str]) -> tuple[int, list[tuple[int, str, Any]]]:
    """Stream one file line by line through ``decide`` (the reference readers' loop).

    Returns the number of records read and ``[(line, kind, payload)]`` in line order, where
    ``kind`` is ``"ok"`` or ``"reject"``; a truncated or corrupt gzip stream and a file past
    the decompressed-size cap add one rejected record, as the reference readers do (and a
    warning).
    """
    out: list[tuple[int, str, Any]] = []
    lineno = 0
    try:
        for raw in _lines(path, lineno_hint=lambda: lineno):
            lineno += 1
            kind, payload = decide(raw)
            out.append((lineno, kind, payload))
    except _TooLarge as e:
        lineno += 1
        msg = (f"the file decompresses to more than {e.args[1]:,} bytes; read up to line "
               f"{lineno - 1}, the rest (byte {e.args[0]:,} on) is rejected")
        out.append((lineno, "reject", ("decompressed_too_large", msg)))
        warnings.append(f"{path}: {msg}")
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        lineno += 1
        msg = (f"the file could not be read past line {lineno - 1} ({type(e).__name__}: "
               f"{e}); later records in it, if any, are lost")
        out.append((lineno, "reject", ("unparseable_line", msg)))
        warnings.append(f"{path}: {msg}")
    return lineno, out

"""SageMaker endpoint Data Capture trees and Model Monitor ground truth, read into tidy frames.

Layouts (as the SageMaker developer guide describes them: "Capture data from real-time
endpoint" and "Ingest Ground Truth labels and merge them with predictions",
docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html and
model-monitor-model-quality-merge.html):

* capture: ``<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`` (``.jsonl.gz`` too),
  one JSON object per line::

      {"captureData": {"endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                                          "data": "12,70.5,...", "encoding": "CSV"},
                       "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                          "data": "0.83", "encoding": "CSV"}},
       "eventMetadata": {"eventId": "<uuid>", "inferenceId": "<id>",
                         "inferenceTime": "2026-11-20T10:15:03Z"},
       "eventVersion": "0"}

* ground truth: ``<prefix>/<endpoint>/yyyy/mm/dd/hh/<file>.jsonl``, records
  ``{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "<id>"},
  "eventVersion": "0"}`` whose ``eventId`` is the capture's ``inferenceId``, or the capture's
  ``eventId`` when the request had no ``inferenceId``.

Accounting: every line of every file is one record, and every record is either used or
rejected with exactly one reason (the first check it fails; see :data:`CAPTURE_CHECKS` and
:data:`LABEL_CHECKS` for the order), so ``records_read = records_used + sum(rejected)`` holds
overall and per variant. One example per reason (``file:line: what``) is
kept. A bad record is never an error; an input that cannot be read at all (no such path, no
capture files, an unexpected folder layout, a variant folder that is missing) raises
:class:`abkit.errors.InputError`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import csv
import gc
import gzip
import json
import math
import re
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = [
    "CAPTURE_CHECKS", "LABEL_CHECKS", "REASONS", "Accounting", "CaptureRead", "LabelsRead",
    "parse_path", "extract_path", "read_capture", "read_ground_truth",
]

REASONS: dict[str, str] = {
    # capture and ground-truth records
    "unparseable_line": "the line is blank, truncated, not valid JSON, not a JSON object, or "
    "the rest of a gzip file could not be decompressed",
    "missing_field": "a required field is missing (captureData, endpointInput/endpointOutput, "
    "their data or encoding, eventMetadata, inferenceTime, groundTruthData)",
    "missing_id": "the record has neither an eventId nor an inferenceId",
    "undecodable_payload": "the payload cannot be decoded: unknown encoding, invalid base64, "
    "not UTF-8, invalid JSON, or a content type abkit does not read",
    "bad_input": "the input cannot be read as one row of the named features (wrong field "
    "count, a feature missing from a JSON input, a batch of several rows)",
    "missing_output": "the output payload is empty or holds no value at output_field",
    "non_numeric_output": "the output value is not a number",
    "non_finite_output": "the output value is NaN or infinite",
    "out_of_range_output": "the output value is outside output_range (default [0, 1])",
    "bad_timestamp": "inferenceTime is not an ISO 8601 time",
    "duplicate_event": "the eventId was already used by an earlier record of the same variant "
    "(the first record in reading order is kept)",
    "bad_label": "the label is missing, not 0/1 (label_kind='binary') or not a finite "
    "number (label_kind='numeric')",
    "duplicate_label": "the same id has the same label more than once (the first is kept)",
    "conflicting_label": "the same id has different labels (all of its labels are rejected)",
    # pairing (abkit.io.pairing)
    "missing_request_id": "the request id is null or empty",
    "duplicate_request": "the request id occurs more than once on one side (all rows with "
    "that id, on both sides, are rejected: the pairing would be ambiguous)",
    "live_only": "a live record with no shadow record of the same request",
    "shadow_only": "a shadow record with no live record of the same request",
    "labels_only": "a label whose id matches no live/shadow pair",
    "missing_variant": "the variant tag is null or empty",
    "unknown_variant": "the variant tag is neither the live nor the candidate name",
}

#: Capture reasons, roughly in the order they are checked; a record gets the first it fails.
#: Exact order: the line parses as a JSON object (``unparseable_line``); captureData,
#: endpointOutput, endpointInput (only when features are named), eventMetadata and
#: inferenceTime exist (``missing_field``); an eventId or inferenceId exists
#: (``missing_id``); the input decodes (``missing_field`` for a missing data/encoding,
#: ``undecodable_payload``) into one row of the features (``bad_input``); the output decodes
#: likewise and yields a value (``missing_output``) that is a number
#: (``non_numeric_output``), finite (``non_finite_output``) and in range
#: (``out_of_range_output``); inferenceTime is ISO 8601 (``bad_timestamp``); last, among the
#: records that pass all of that, a repeated eventId within a variant (``duplicate_event``).
CAPTURE_CHECKS = (
    "unparseable_line", "missing_field", "missing_id", "undecodable_payload", "bad_input",
    "missing_output", "non_numeric_output", "non_finite_output", "out_of_range_output",
    "bad_timestamp", "duplicate_event",
)
#: Ground-truth reasons in the order they are checked (duplicates last, among good records).
LABEL_CHECKS = (
    "unparseable_line", "missing_field", "missing_id", "undecodable_payload", "bad_label",
    "duplicate_label", "conflicting_label",
)

_SUFFIXES = (".jsonl", ".jsonl.gz")
_json_decode = json.JSONDecoder().decode


@dataclass(frozen=True)
class Accounting:
    """What happened to every record: ``records_read = records_used + sum(rejected)``.

    ``rejected`` maps a reason (see :data:`REASONS`) to its count; ``examples`` maps a reason
    to one example, ``"<file>:<line>: <what was wrong>"``.
    """

    records_read: int
    records_used: int
    rejected: dict[str, int]
    examples: dict[str, str] = field(default_factory=dict)

    @property
    def records_rejected(self) -> int:
        return int(sum(self.rejected.values()))

    def check(self) -> None:
        """Raise AssertionError if the counts do not add up (an abkit bug, never user data)."""
        if self.records_used + self.records_rejected != self.records_read:
            raise AssertionError(
                f"record accounting does not add up: read {self.records_read}, used "
                f"{self.records_used}, rejected {self.records_rejected} ({self.rejected})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "records_read": self.records_read,
            "records_used": self.records_used,
            "records_rejected": dict(sorted(self.rejected.items())),
            "examples": dict(sorted(self.examples.items())),
            "reason_descriptions": {k: REASONS.get(k, k) for k in sorted(self.rejected)},
        }


class _Counter:
    """Mutable tally behind an :class:`Accounting`."""

    __slots__ = ("read", "used", "rejected", "examples")

    def __init__(self) -> None:
        self.read = 0
        self.used = 0
        self.rejected: dict[str, int] = {}
        self.examples: dict[str, str] = {}

    def reject(self, reason: str, example: str | None = None, n: int = 1) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + n
        if example is not None and reason not in self.examples:
            self.examples[reason] = example

    def freeze(self) -> Accounting:
        acc = Accounting(self.read, self.used, dict(self.rejected), dict(self.examples))
        acc.check()
        return acc


def _merge(parts: Iterable[Accounting]) -> Accounting:
    c = _Counter()
    for a in parts:
        c.read += a.records_read
        c.used += a.records_used
        for k, n in a.rejected.items():
            c.reject(k, a.examples.get(k), n)
    return c.freeze()


# --------------------------------------------------------------------------- output paths

def parse_path(path: str) -> tuple[str | int, ...]:
    """Parse a small JSON path such as ``predictions[0].score`` into its steps.

    Grammar: keys separated by ``.``, list indices in brackets (``[0]``, ``[-1]``); an index
    may come first (``[0].score``) and indices may follow each other (``a[0][1]``). Keys may
    hold any character except ``.``, ``[`` and ``]``. Written here on purpose: no ``eval``,
    no JSONPath dependency. Raises ValueError for an empty or malformed path.
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError("the path must be a non-empty string such as 'predictions[0].score'")
    s = path.strip()
    steps: list[str | int] = []
    i, n = 0, len(s)

    def bad(at: int, what: str) -> ValueError:
        return ValueError(f"cannot parse the path {path!r} at character {at + 1}: {what} "
                          "(expected keys separated by '.', indices like [0])")

    while i < n:
        c = s[i]
        if c == "[":
            j = s.find("]", i)
            if j < 0:
                raise bad(i, "unclosed '['")
            tok = s[i + 1:j].strip()
            if not re.fullmatch(r"-?\d+", tok):
                raise bad(i, f"index {tok!r} is not an integer")
            steps.append(int(tok))
            i = j + 1
            continue
        if c == "]":
            raise bad(i, "unexpected ']'")
        if c == ".":
            if not steps:
                raise bad(i, "a path cannot start with '.'")
            i += 1
        elif steps:
            raise bad(i, "a key must follow '.'")
        j = i
        while j < n and s[j] not in ".[]":
            j += 1
        if j == i:
            raise bad(i, "empty key")
        steps.append(s[i:j])
        i = j
    return tuple(steps)


def extract_path(obj: Any, steps: Sequence[str | int]) -> Any:
    """Follow parsed path ``steps`` into a decoded JSON value; KeyError when absent."""
    for st in steps:
        if isinstance(st, int):
            if not isinstance(obj, list) or not -len(obj) <= st < len(obj):
                raise KeyError(st)
            obj = obj[st]
        else:
            if not isinstance(obj, dict) or st not in obj:
                raise KeyError(st)
            obj = obj[st]
    return obj


# --------------------------------------------------------------------------- file discovery

_YEAR = re.compile(r"^\d{4}$")
_TWO = re.compile(r"^\d{2}$")


def _is_data_file(p: Path) -> bool:
    n = p.name.lower()
    return n.endswith(_SUFFIXES)


def _hour_of(parts: Sequence[str]) -> pd.Timestamp | None:
    """UTC hour from the four folders ``yyyy/mm/dd/hh`` just above a file, or None."""
    if len(parts) < 5:
        return None
    y, m, d, h = parts[-5:-1]
    if not (_YEAR.match(y) and _TWO.match(m) and _TWO.match(d) and _TWO.match(h)):
        return None
    try:
        return pd.Timestamp(int(y), int(m), int(d), int(h), tz="UTC")
    except ValueError:
        return None


@dataclass(frozen=True)
class _File:
    path: Path
    names: tuple[str, ...]  # (endpoint, variant) for capture, (endpoint,) for ground truth
    hour: pd.Timestamp | None


def _discover(root: str | Path, levels: tuple[str, ...], endpoint: str | None,
              what: str) -> list[_File]:
    """Find the data files under ``root`` and the endpoint (and variant) of each.

    ``root`` may be a single file, the prefix folder above the endpoints (then ``endpoint``
    picks one when there are several), the endpoint folder, or (capture only) one variant
    folder. Files are returned sorted by (names, path): within a variant, chronological,
    because the hour folders are zero-padded.
    """
    root = Path(root)
    layout = "/".join(f"<{x}>" for x in levels) + "/yyyy/mm/dd/hh/<file>.jsonl"
    if not root.exists():
        raise InputError(f"no such file or folder: {root}",
                         f"give the {what} folder ({layout}) or one of its files")
    k = len(levels)
    if root.is_file():
        if not _is_data_file(root):
            raise InputError(f"{root} is not a JSON Lines file (.jsonl or .jsonl.gz)",
                             f"give a {what} file or folder")
        parts = root.resolve().parts
        hour = _hour_of(parts)
        if hour is not None and len(parts) >= 5 + k + 1:
            names = tuple(parts[-5 - k:-5])
        else:
            names = tuple([endpoint or ""] + [""] * (k - 1))
        if endpoint is not None and names[0] != endpoint:
            raise InputError(f"{root} belongs to endpoint {names[0]!r}, not {endpoint!r}",
                             "drop endpoint= or give a file of that endpoint")
        return [_File(root, names, hour)]
    files = sorted(f for f in root.rglob("*") if f.is_file() and _is_data_file(f))
    if not files:
        raise InputError(f"no {what} files (*.jsonl, *.jsonl.gz) under {root}",
                         f"give the folder that holds {layout}")
    depths: dict[int, Path] = {}
    found: list[tuple[tuple[str, ...], Path, pd.Timestamp]] = []
    for f in files:
        rel = f.relative_to(root).parts
        hour = _hour_of(rel)
        if hour is None:
            raise InputError(
                f"{f} is not in the {what} layout {layout} (no yyyy/mm/dd/hh folders above it)",
                "give the folder of one endpoint, or move stray .jsonl files out of the tree")
        depths.setdefault(len(rel) - 5, f)
        found.append((rel[:-5], f, hour))
    if len(depths) > 1:
        eg = "; ".join(f"{p} ({d} folder(s) above yyyy)" for d, p in sorted(depths.items()))
        raise InputError(f"{root} mixes folder depths: {eg}", f"expected {layout}")
    (depth,) = depths
    here = root.resolve()
    if depth == k:  # prefix folder above the endpoints
        lead: tuple[str, ...] = ()
    elif depth == k - 1:  # an endpoint folder
        lead = (here.name,)
    elif depth == k - 2:  # a variant folder (capture)
        lead = (here.parent.name, here.name)
    else:
        raise InputError(f"{root}: the files sit {depth} folder(s) below it before the "
                         f"yyyy/mm/dd/hh folders, which does not match {layout}",
                         "give the endpoint folder (or the prefix folder with endpoint=)")
    out = [_File(f, (*lead, *pre), hour) for pre, f, hour in found]
    endpoints = sorted({x.names[0] for x in out})
    if endpoint is not None:
        if endpoint not in endpoints:
            raise InputError(f"{root} holds no endpoint {endpoint!r} (found: "
                             f"{', '.join(endpoints)})", "check the endpoint name")
        out = [x for x in out if x.names[0] == endpoint]
    elif len(endpoints) > 1:
        raise InputError(f"{root} holds several endpoints ({', '.join(endpoints)})",
                         "pass endpoint= (or the endpoint's own folder)")
    out.sort(key=lambda x: (x.names, str(x.path)))
    return out


@contextlib.contextmanager
def _no_gc():
    """Pause the cyclic garbage collector while a reader builds millions of small objects
    (the readers make no reference cycles)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _lines(path: Path, lineno_hint=None):
    """Yield raw lines (bytes) of a plain or gzip JSON Lines file.

    gzip is recognised by its magic bytes, so a compressed file without ``.gz`` is read too.
    A file that cannot be opened or read (permissions, I/O error) raises InputError; a
    corrupt or truncated gzip stream raises EOFError / BadGzipFile / zlib.error for the
    caller to count.
    """
    try:
        with open(path, "rb") as probe:
            gz = probe.read(2) == b"\x1f\x8b"
        opener = gzip.open if gz else open
        with opener(path, "rb") as fh:
            yield from fh
    except (EOFError, gzip.BadGzipFile, zlib.error):
        raise
    except OSError as e:
        at = f" after line {lineno_hint()}" if lineno_hint is not None else ""
        raise InputError(f"cannot read {path}{at}: {e.strerror or e}",
                         "check the file's permissions and that it is complete") from None


# --------------------------------------------------------------------------- payloads


class _Reject(Exception):
    """A record is rejected: ``reason`` (a key of REASONS) and what was wrong."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message


def _sniff_is_json(text: str) -> bool:
    t = text.lstrip()
    return t[:1] in ("{", "[")


def _decode(part: dict, where: str) -> tuple[str, Any]:
    """Decode a capture/ground-truth payload into ("csv", text) or ("json", value).

    ``encoding`` CSV: ``data`` is the CSV text. JSON: ``data`` is the JSON text (an already
    structured value is accepted too). BASE64: ``data`` is base64 of the payload bytes,
    decoded as UTF-8 and then read as JSON when ``observedContentType`` mentions json, as
    CSV when it mentions csv or text/plain, and by sniffing (``{``/``[`` first means JSON)
    when there is no content type.
    """
    data = part.get("data")
    enc = part.get("encoding")
    if data is None:
        raise _Reject("missing_field", f"{where}.data is missing")
    if not isinstance(enc, str) or not enc:
        raise _Reject("missing_field", f"{where}.encoding is missing")
    e = enc.upper()
    if e == "CSV":
        if not isinstance(data, str):
            raise _Reject("undecodable_payload", f"{where}.data is not a string")
        return "csv", data
    if e == "JSON":
        if not isinstance(data, str):
            return "json", data
        try:
            return "json", json.loads(data)
        except ValueError:
            raise _Reject("undecodable_payload", f"{where}.data is not valid JSON") from None
    if e == "BASE64":
        if not isinstance(data, str):
            raise _Reject("undecodable_payload", f"{where}.data is not a base64 string")
        try:
            text = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise _Reject("undecodable_payload",
                          f"{where}.data is not valid base64 of UTF-8 text") from None
        ct = str(part.get("observedContentType") or "").lower()
        if "json" in ct or (not ct and _sniff_is_json(text)):
            try:
                return "json", json.loads(text)
            except ValueError:
                raise _Reject("undecodable_payload",
                              f"{where}: the base64 payload is not valid JSON") from None
        if "csv" in ct or "text/plain" in ct or not ct:
            return "csv", text
        raise _Reject("undecodable_payload", f"{where}: content type {ct!r} is neither CSV "
                      "nor JSON")
    raise _Reject("undecodable_payload",
                  f"{where}.encoding is {enc!r}; expected CSV, JSON or BASE64")


def _first_csv_field(text: str) -> str:
    if "," not in text and '"' not in text and "\n" not in text.strip():
        return text.strip()
    line = text.strip().split("\n", 1)[0].strip()
    if '"' in line:
        row = next(csv.reader([line]), [""])
        return row[0].strip() if row else ""
    return line.split(",", 1)[0].strip()


def _scalar(obj: Any, steps: tuple | None, what: str, path_text: str | None) -> Any:
    """The scalar a JSON payload holds: at ``steps``, or the payload itself when it is a
    scalar or nested one-element lists around one."""
    if steps is not None:
        try:
            obj = extract_path(obj, steps)
        except KeyError:
            raise _Reject("missing_output" if what == "output" else "bad_label",
                          f"the JSON {what} has no value at {path_text!r}") from None
    while isinstance(obj, list) and len(obj) == 1:
        obj = obj[0]
    if isinstance(obj, (dict, list)):
        kind = "an object" if isinstance(obj, dict) else f"a list of {len(obj)} items"
        hint = "set output_field" if what == "output" else "set label_field"
        raise _Reject("missing_output" if what == "output" else "bad_label",
                      f"the JSON {what} is {kind}, not a value ({hint})")
    return obj


def _number(v: Any) -> float:
    """Float of a JSON scalar or CSV token; raises ValueError/TypeError when not a number."""
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        return float(v.strip().strip('"'))
    raise TypeError(type(v).__name__)


def _json_row(obj: Any, features: tuple[str, ...]) -> list:
    """One row of feature values from a JSON input (see :func:`read_capture`)."""
    n = len(features)
    row: Any
    if isinstance(obj, dict):
        if "instances" in obj:
            rows = obj["instances"]
            if not isinstance(rows, list):
                raise _Reject("bad_input", "'instances' is not a list")
            if len(rows) != 1:
                raise _Reject("bad_input", f"'instances' holds {len(rows)} rows; abkit "
                              "reads one row per request")
            row = rows[0]
            if isinstance(row, dict) and not all(f in row for f in features) \
                    and isinstance(row.get("features"), list):
                row = row["features"]
        elif isinstance(obj.get("features"), list) and not all(f in obj for f in features):
            row = obj["features"]
        else:
            row = obj
    elif isinstance(obj, list):
        row = obj[0] if len(obj) == 1 and isinstance(obj[0], (list, dict)) else obj
        if row and all(isinstance(r, (list, dict)) for r in row):
            raise _Reject("bad_input", f"the JSON input holds {len(row)} rows; abkit reads "
                          "one row per request")
    else:
        raise _Reject("bad_input", "the JSON input is a single value, not a row of features")
    if isinstance(row, dict):
        missing = [f for f in features if f not in row]
        if missing:
            raise _Reject("bad_input", f"the JSON input lacks feature(s) "
                          f"{', '.join(map(repr, missing[:3]))}")
        vals = [row[f] for f in features]
    elif isinstance(row, list):
        if len(row) != n:
            raise _Reject("bad_input", f"the JSON input row has {len(row)} values but "
                          f"{n} features are named")
        vals = row
    else:
        raise _Reject("bad_input", "the JSON input row is neither a list nor an object")
    for f, v in zip(features, vals):
        if isinstance(v, (dict, list)):
            raise _Reject("bad_input", f"feature {f!r} is not a single value")
    return vals


def _csv_row(text: str, n: int) -> list:
    t = text.strip()
    if "\n" in t:
        raise _Reject("bad_input", f"the CSV input has {t.count(chr(10)) + 1} rows; abkit "
                      "reads one row per request")
    row = next(csv.reader([t]), []) if '"' in t else t.split(",")
    if len(row) != n:
        raise _Reject("bad_input", f"the CSV input has {len(row)} fields but {n} features "
                      "are named")
    return row


def _feature_column(values: Sequence[Any]) -> np.ndarray:
    """Numbers become float (empty/None -> NaN); any other token stays a string.

    Fast path: one vectorised float conversion; per-value fallback when it fails.
    """
    try:
        return np.asarray(values, dtype=float)
    except (ValueError, TypeError):
        pass

    def conv(v: Any) -> Any:
        if v is None:
            return math.nan
        if isinstance(v, bool):
            return 1.0 if v else 0.0
        if isinstance(v, (int, float)):
            return float(v)
        s = str(v).strip()
        if s == "":
            return math.nan
        try:
            return float(s)
        except ValueError:
            return s

    try:  # categorical columns repeat few values: convert each distinct value once
        table = {v: conv(v) for v in set(values)}
        out = [table[v] for v in values]
    except TypeError:  # an unhashable value
        out = [conv(v) for v in values]
    if all(isinstance(v, float) for v in out):
        return np.asarray(out, dtype=float)
    return np.asarray(out, dtype=object)


def _norm_id(v: Any) -> str | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        return str(int(v)) if float(v).is_integer() else repr(v)
    if isinstance(v, str):
        s = v.strip()
        return s or None
    return None


# --------------------------------------------------------------------------- capture


@dataclass(frozen=True, eq=False)
class CaptureRead:
    """The records of a capture tree, and what happened to every line.

    Attributes
    ----------
    frame : DataFrame
        One row per used record: ``endpoint, variant, event_id, inference_id, request_id
        (inference_id, else event_id), inference_time (UTC), file, line, output``, then
        ``output_label`` when ``output_label_field`` was given, then one column per feature
        (float, or object holding strings where a token was not a number).
    accounting : Accounting
        All variants together.
    by_variant : dict
        Variant name -> :class:`Accounting` of the lines in that variant's folder.
    """

    frame: pd.DataFrame
    accounting: Accounting
    by_variant: dict[str, Accounting]
    endpoint: str | None
    features: tuple[str, ...]
    output_field: str | None
    output_range: tuple[float, float] | None
    files: tuple[Path, ...]
    seconds: float
    warnings: tuple[str, ...] = ()

    @property
    def variants(self) -> tuple[str, ...]:
        return tuple(self.by_variant)

    def variant(self, name: str) -> pd.DataFrame:
        """The used records of one variant (a copy, index reset)."""
        if name not in self.by_variant:
            raise InputError(f"variant {name!r} is not in the capture (found: "
                             f"{', '.join(self.by_variant) or 'none'})",
                             "check the live/candidate names against the variant folders")
        sub = self.frame[self.frame["variant"] == name].reset_index(drop=True)
        return sub

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "features": list(self.features),
            "output_field": self.output_field,
            "output_range": list(self.output_range) if self.output_range else None,
            "files": len(self.files),
            **self.accounting.to_dict(),
            "by_variant": {k: v.to_dict() for k, v in self.by_variant.items()},
            "warnings": list(self.warnings),
        }


def _example(path: Path, line: int, message: str) -> str:
    return f"{path}:{line}: {message}"


def read_capture(
    root: str | Path,
    *,
    features: Sequence[str] | None = None,
    output_field: str | None = None,
    output_label_field: str | None = None,
    endpoint: str | None = None,
    variants: Sequence[str] | None = None,
    output_range: tuple[float, float] | None = (0.0, 1.0),
) -> CaptureRead:
    """Read a SageMaker Data Capture tree into one row per request and variant.

    Parameters
    ----------
    root
        The endpoint folder (``<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl[.gz]``); or the
        prefix folder above the endpoints (pass ``endpoint=`` when it holds several); or one
        variant folder; or one file (its endpoint and variant are read from its path when it
        sits in that layout). Endpoint and variant always come from the path.
    features
        Feature names, in the order of the CSV input fields (CSV inputs have no header).
        ``None`` (default): inputs are not decoded and the frame has no feature columns.
        Values: numbers become float, empty/null become NaN, other tokens stay strings
        (categorical handling is the caller's). JSON inputs accepted: a flat object keyed by
        feature name; ``{"instances": [row]}`` with exactly one row; ``{"features": [...]}``;
        a bare list ``[v1, ...]`` or ``[[v1, ...]]``; a row is a list (positional, in
        ``features`` order) or an object keyed by feature name (or holding a positional
        ``"features"`` list). More than one row is rejected as ``bad_input``.
    output_field
        Path to the score in a JSON output, e.g. ``"predictions[0].score"`` (syntax: see
        :func:`parse_path`). ``None`` (default): a JSON output must be a number (or nested
        one-element lists around one). CSV outputs always use the first field of the first
        line, whatever ``output_field`` says.
    output_label_field
        Optional path to a predicted label next to the score (e.g.
        ``"predictions[0].label"``); read into ``output_label`` (NaN when absent, never a
        reason to reject).
    endpoint
        With a prefix folder: which endpoint to read.
    variants
        Read only these variant folders (default: all). A named folder that does not exist
        raises InputError.
    output_range
        Closed interval the output must lie in, default ``(0, 1)`` for probabilities;
        ``None`` for regression outputs. Outside it: ``out_of_range_output``.

    Returns
    -------
    CaptureRead
        The frame and the accounting. Rejection reasons and the order they are checked in:
        :data:`CAPTURE_CHECKS`. Duplicates: within one variant, the first record (files in
        path order, which is chronological, then line order) that passes every other check
        is used; later records with the same ``eventId`` are rejected as
        ``duplicate_event`` (a rejected copy never hides a good one). ``inference_id`` is
        ``None`` when absent; ids are compared as strings.

    Speed: one JSON decode per line in Python, then vectorised timestamp parsing,
    duplicate detection and feature conversion. Measured (CSV inputs with 4 features, CSV
    outputs, 2-CPU machine): about 1.3-1.4 s of CPU per 100k records with features, 0.65 s
    without; 10^6 records in about 14 s (``tests/test_datacapture.py::test_speed_200k``
    prints the time on each run).
    """
    t0 = time.perf_counter()
    feats = tuple(features) if features is not None else ()
    if len(set(feats)) != len(feats):
        raise ValueError("features has repeated names")
    out_steps = parse_path(output_field) if output_field is not None else None
    lab_steps = parse_path(output_label_field) if output_label_field is not None else None
    if output_range is not None:
        lo, hi = float(output_range[0]), float(output_range[1])
        if not lo <= hi:
            raise ValueError(f"output_range must be (low, high) with low <= high, got "
                             f"{output_range!r}")
    else:
        lo, hi = -math.inf, math.inf
    files = _discover(root, ("endpoint", "variant"), endpoint, "Data Capture")
    if len(files) == 1 and files[0].names[1] == "":  # one file outside the layout
        if variants is None or len(variants) != 1:
            raise InputError(
                f"{files[0].path} is not inside <endpoint>/<variant>/yyyy/mm/dd/hh/, so its "
                "variant is unknown", "pass variants=[name] or give the capture tree")
        files = [_File(files[0].path, (files[0].names[0], variants[0]), files[0].hour)]
    found = sorted({f.names[1] for f in files})
    if variants is not None:
        missing = [v for v in variants if v not in found]
        if missing:
            raise InputError(
                f"{root} has no variant folder {', '.join(map(repr, missing))} (found: "
                f"{', '.join(found) or 'none'})",
                "check the variant names (they are the folders below the endpoint folder)")
        files = [f for f in files if f.names[1] in set(variants)]

    counters: dict[str, _Counter] = {}
    # used-candidate columns
    c_file: list[int] = []
    c_line: list[int] = []
    c_var: list[int] = []
    c_eid: list[str | None] = []
    c_iid: list[str | None] = []
    c_time: list[str] = []
    c_out: list[float] = []
    c_lab: list[Any] = []
    c_feat: list[list] = []
    var_names: list[str] = []
    var_index: dict[str, int] = {}
    warnings: list[str] = []
    n_feat = len(feats)

    with _no_gc():  # millions of small objects: GC passes cost ~25 %
        for fi, f in enumerate(files):
            variant = f.names[1]
            if variant not in var_index:
                var_index[variant] = len(var_names)
                var_names.append(variant)
                counters[variant] = _Counter()
            vi = var_index[variant]
            cnt = counters[variant]
            lineno = 0
            try:
                for raw in _lines(f.path, lineno_hint=lambda: lineno):
                    lineno += 1
                    cnt.read += 1
                    try:
                        try:
                            rec = _json_decode(raw.decode("utf-8-sig"))
                        except ValueError as e:
                            if not raw.strip():
                                raise _Reject("unparseable_line", "blank line") from None
                            msg = getattr(e, "msg", None) or "not UTF-8"
                            raise _Reject("unparseable_line",
                                          f"not valid JSON ({msg}; truncated?)") from None
                        if not isinstance(rec, dict):
                            raise _Reject("unparseable_line", "the line is JSON but not an object")
                        cd = rec.get("captureData")
                        if not isinstance(cd, dict):
                            raise _Reject("missing_field", "no captureData object")
                        out = cd.get("endpointOutput")
                        if not isinstance(out, dict):
                            raise _Reject("missing_field", "no captureData.endpointOutput")
                        if n_feat:
                            inp = cd.get("endpointInput")
                            if not isinstance(inp, dict):
                                raise _Reject("missing_field", "no captureData.endpointInput")
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
                        if n_feat:
                            kind, val = _decode(inp, "endpointInput")
                            row = _csv_row(val, n_feat) if kind == "csv" else _json_row(val, feats)
                        kind, val = _decode(out, "endpointOutput")
                        lab: Any = math.nan
                        if kind == "csv":
                            v: Any = _first_csv_field(val)
                            if v == "":
                                raise _Reject("missing_output", "the CSV output is empty")
                        else:
                            if lab_steps is not None:
                                try:
                                    lab = extract_path(val, lab_steps)
                                except KeyError:
                                    lab = math.nan
                                if isinstance(lab, (dict, list)) or lab is None:
                                    lab = math.nan
                            v = _scalar(val, out_steps, "output", output_field)
                        try:
                            y = float(v) if type(v) is str else _number(v)
                        except (ValueError, TypeError):
                            raise _Reject("non_numeric_output",
                                          f"the output {str(v)[:40]!r} is not a number") from None
                        if not math.isfinite(y):
                            raise _Reject("non_finite_output", f"the output is {v!r}")
                        if not lo <= y <= hi:
                            raise _Reject("out_of_range_output",
                                          f"the output {y:g} is outside [{lo:g}, {hi:g}]")
                        if not isinstance(ts, str):
                            raise _Reject("bad_timestamp",
                                          f"inferenceTime {ts!r} is not an ISO 8601 string")
                    except _Reject as r:
                        cnt.reject(r.reason, _example(f.path, lineno, r.message))
                        continue
                    c_file.append(fi)
                    c_line.append(lineno)
                    c_var.append(vi)
                    c_eid.append(eid)
                    c_iid.append(iid)
                    c_time.append(ts)
                    c_out.append(y)
                    c_lab.append(lab)
                    if n_feat:
                        c_feat.append(row)
            except (EOFError, gzip.BadGzipFile, zlib.error) as e:
                # a truncated or corrupt gzip stream: the rest of the file cannot be read
                lineno += 1
                cnt.read += 1
                msg = (f"the file could not be read past line {lineno - 1} ({type(e).__name__}: "
                       f"{e}); later records in it, if any, are lost")
                cnt.reject("unparseable_line", _example(f.path, lineno, msg))
                warnings.append(f"{f.path}: {msg}")

    n = len(c_out)
    times = pd.to_datetime(pd.Series(c_time, dtype=object), utc=True, format="ISO8601",
                           errors="coerce")
    bad_t = times.isna().to_numpy()
    keep = ~bad_t
    var_arr = np.asarray(c_var, dtype=np.int64)
    if bad_t.any():
        for vi, k in enumerate(np.bincount(var_arr[bad_t], minlength=len(var_names)).tolist()):
            if k:
                i = int(np.flatnonzero(bad_t & (var_arr == vi))[0])
                counters[var_names[vi]].reject("bad_timestamp", _example(
                    files[c_file[i]].path, c_line[i],
                    f"inferenceTime {c_time[i]!r} is not an ISO 8601 time"), n=k)
    # duplicate eventIds within a variant, among otherwise good records: keep the first
    cand = np.flatnonzero(keep)
    if cand.size:
        eids = pd.Series([c_eid[i] for i in cand.tolist()], dtype=object)
        dkey = pd.DataFrame({"v": var_arr[cand], "e": eids})
        has = eids.notna().to_numpy()
        dup = dkey.duplicated(keep="first").to_numpy() & has
        if dup.any():
            first_of = dkey[has & ~dup].reset_index().set_index(["v", "e"])["index"]
            seen_var: set[int] = set()
            for k in np.flatnonzero(dup).tolist():
                i = int(cand[k])
                vi = c_var[i]
                if vi in seen_var:
                    continue
                seen_var.add(vi)
                j = int(cand[int(first_of.loc[(vi, c_eid[i])])])
                counters[var_names[vi]].reject("duplicate_event", _example(
                    files[c_file[i]].path, c_line[i], f"eventId {c_eid[i]!r} already seen "
                    f"at {files[c_file[j]].path}:{c_line[j]}"), n=0)
            per_var = np.bincount(var_arr[cand[dup]], minlength=len(var_names)).tolist()
            for vi, k in enumerate(per_var):
                if k:
                    counters[var_names[vi]].reject("duplicate_event", None, n=k)
            keep[cand[dup]] = False
    idx = np.flatnonzero(keep).tolist()
    used_per_var = np.bincount(var_arr[keep],
                               minlength=len(var_names)).tolist() if n else []
    for vi, n_used in enumerate(used_per_var):
        counters[var_names[vi]].used = n_used

    def take(lst: list) -> list:
        return [lst[i] for i in idx]

    endpoints = [f.names[0] for f in files]
    eid_k, iid_k = take(c_eid), take(c_iid)
    var_cat = pd.Categorical.from_codes(var_arr[idx],
                                        categories=var_names) if n else \
        pd.Categorical([], categories=var_names)
    file_codes = np.asarray(c_file, dtype=np.int64)[idx] if n else np.zeros(0, np.int64)
    file_cat = pd.Categorical.from_codes(file_codes, categories=[str(f.path) for f in files]) \
        if files else pd.Categorical([])
    ep_names = sorted(set(endpoints))
    ep_codes = np.asarray([ep_names.index(endpoints[c]) for c in range(len(files))],
                          dtype=np.int64)
    cols: dict[str, Any] = {
        "endpoint": pd.Categorical.from_codes(ep_codes[file_codes], categories=ep_names),
        "variant": var_cat,
        "event_id": pd.array(eid_k, dtype=object),
        "inference_id": pd.array(iid_k, dtype=object),
        "request_id": pd.array([a if a is not None else b for a, b in zip(iid_k, eid_k)],
                               dtype=object),
        "inference_time": times[keep].reset_index(drop=True),
        "file": file_cat,
        "line": np.asarray(c_line, dtype=np.int64)[idx] if n else np.zeros(0, np.int64),
        "output": np.asarray(c_out, dtype=float)[idx] if n else np.zeros(0),
    }
    if lab_steps is not None:
        cols["output_label"] = _feature_column(take(c_lab))
    if n_feat:
        rows = take(c_feat)
        per_col = list(zip(*rows)) if rows else [()] * n_feat
        for name, values in zip(feats, per_col):
            cols[name] = _feature_column(values)
    frame = pd.DataFrame(cols)
    by_variant = {v: counters[v].freeze() for v in var_names}
    acc = _merge(by_variant.values())
    if acc.records_used != len(frame):  # pragma: no cover - an accounting bug
        raise AssertionError("capture accounting and frame disagree")
    return CaptureRead(
        frame=frame, accounting=acc, by_variant=by_variant,
        endpoint=ep_names[0] if len(ep_names) == 1 and ep_names[0] else None,
        features=feats, output_field=output_field,
        output_range=(lo, hi) if output_range is not None else None,
        files=tuple(f.path for f in files), seconds=time.perf_counter() - t0,
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- ground truth


@dataclass(frozen=True, eq=False)
class LabelsRead:
    """Ground-truth labels, one row per id, and what happened to every line.

    ``frame`` columns: ``event_id`` (the id to join on: the capture's inferenceId, or its
    eventId when it had none), ``label`` (float), ``label_time`` (UTC: the record's
    ``eventMetadata.inferenceTime`` when it has a valid one, else the hour of its
    ``yyyy/mm/dd/hh`` folder, else NaT), ``file``, ``line``.
    """

    frame: pd.DataFrame
    accounting: Accounting
    endpoint: str | None
    label_kind: str
    files: tuple[Path, ...]
    seconds: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "label_kind": self.label_kind,
                "files": len(self.files), **self.accounting.to_dict(),
                "warnings": list(self.warnings)}


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

    Duplicates (by ``eventId``, among otherwise good records): the same label more than once
    keeps the first (reading order) and rejects the repeats as ``duplicate_label``;
    different labels for one id reject every record of that id as ``conflicting_label``.
    """
    t0 = time.perf_counter()
    if label_kind not in ("binary", "numeric"):
        raise ValueError(f"label_kind must be 'binary' or 'numeric', got {label_kind!r}")
    steps = parse_path(label_field) if label_field is not None else None
    files = _discover(root, ("endpoint",), endpoint, "ground-truth")
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
                    try:
                        try:
                            rec = _json_decode(raw.decode("utf-8-sig"))
                        except ValueError as e:
                            if not raw.strip():
                                raise _Reject("unparseable_line", "blank line") from None
                            msg = getattr(e, "msg", None) or "not UTF-8"
                            raise _Reject("unparseable_line",
                                          f"not valid JSON ({msg}; truncated?)") from None
                        if not isinstance(rec, dict):
                            raise _Reject("unparseable_line", "the line is JSON but not an object")
                        gt = rec.get("groundTruthData")
                        if not isinstance(gt, dict):
                            raise _Reject("missing_field", "no groundTruthData object")
                        meta = rec.get("eventMetadata")
                        if not isinstance(meta, dict):
                            raise _Reject("missing_field", "no eventMetadata object")
                        eid = _norm_id(meta.get("eventId"))
                        if eid is None:
                            raise _Reject("missing_id", "no eventMetadata.eventId")
                        kind, val = _decode(gt, "groundTruthData")
                        v = _first_csv_field(val) if kind == "csv" else \
                            _scalar(val, steps, "label", label_field)
                        y = _label_value(v, label_kind)
                    except _Reject as r:
                        cnt.reject(r.reason, _example(f.path, lineno, r.message))
                        continue
                    ts = meta.get("inferenceTime")
                    g_file.append(fi)
                    g_line.append(lineno)
                    g_id.append(eid)
                    g_lab.append(y)
                    g_time.append(ts if isinstance(ts, str) else None)
            except (EOFError, gzip.BadGzipFile, zlib.error) as e:
                lineno += 1
                cnt.read += 1
                msg = (f"the file could not be read past line {lineno - 1} ({type(e).__name__}: "
                       f"{e}); later records in it, if any, are lost")
                cnt.reject("unparseable_line", _example(f.path, lineno, msg))
                warnings.append(f"{f.path}: {msg}")

    n = len(g_id)
    df = pd.DataFrame({"event_id": pd.array(g_id, dtype=object),
                       "label": np.asarray(g_lab, dtype=float),
                       "_f": np.asarray(g_file, dtype=np.int64),
                       "line": np.asarray(g_line, dtype=np.int64)})
    keep = np.ones(n, dtype=bool)
    if n:
        nuniq = df.groupby("event_id", sort=False)["label"].transform("nunique").to_numpy()
        conflict = nuniq > 1
        repeat = df.duplicated("event_id", keep="first").to_numpy() & ~conflict
        conf = np.flatnonzero(conflict)
        if conf.size:
            i = int(conf[0])
            labels = sorted({g_lab[j] for j in conf if g_id[j] == g_id[i]})
            cnt.reject("conflicting_label", _example(
                files[g_file[i]].path, g_line[i],
                f"eventId {g_id[i]!r} has different labels {labels}"), n=int(conf.size))
        rep = np.flatnonzero(repeat)
        if rep.size:
            i = int(rep[0])
            j = g_id.index(g_id[i])
            cnt.reject("duplicate_label", _example(
                files[g_file[i]].path, g_line[i],
                f"eventId {g_id[i]!r} already labelled {g_lab[j]:g} at "
                f"{files[g_file[j]].path}:{g_line[j]}"), n=int(rep.size))
        keep = ~conflict & ~repeat
    cnt.used = int(keep.sum())
    hours = [f.hour for f in files]
    t_meta = pd.to_datetime(pd.Series(g_time, dtype=object), utc=True, format="ISO8601",
                            errors="coerce")
    t_path = pd.Series([hours[i] for i in g_file], dtype="datetime64[us, UTC]")
    label_time = t_meta.where(t_meta.notna(), t_path)
    frame = pd.DataFrame({
        "event_id": df["event_id"][keep].reset_index(drop=True),
        "label": df["label"][keep].reset_index(drop=True),
        "label_time": label_time[keep].reset_index(drop=True),
        "file": pd.Categorical.from_codes(df["_f"].to_numpy()[keep],
                                          categories=[str(f.path) for f in files]),
        "line": df["line"][keep].reset_index(drop=True),
    })
    eps = sorted({f.names[0] for f in files})
    return LabelsRead(frame=frame, accounting=cnt.freeze(),
                      endpoint=eps[0] if len(eps) == 1 and eps[0] else None,
                      label_kind=label_kind, files=tuple(f.path for f in files),
                      seconds=time.perf_counter() - t0, warnings=tuple(warnings))

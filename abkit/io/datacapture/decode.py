"""Decoding one record: JSON lines, payload encodings, inputs, outputs, ids, rejections."""

from __future__ import annotations

import base64
import binascii
import csv
import json
import math
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .paths import extract_path

_json_decode = json.JSONDecoder().decode


class _Reject(Exception):
    """A record is rejected: ``reason`` (a key of REASONS) and what was wrong."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message


def _parse_line(raw: bytes | None) -> dict:
    """One capture or ground-truth line as a JSON object, or a :class:`_Reject`:
    ``oversized_line`` (``raw`` is None: the line was over the cap), ``nested_too_deeply``,
    ``unparseable_line`` (blank, not UTF-8, invalid JSON, not an object)."""
    if raw is None:
        from .discover import MAX_LINE_BYTES

        raise _Reject("oversized_line", f"the line is longer than {MAX_LINE_BYTES >> 20} MiB")
    try:
        rec = _json_decode(raw.decode("utf-8-sig"))
    except RecursionError:
        raise _Reject("nested_too_deeply", "the JSON is nested too deeply to read") from None
    except ValueError as e:
        if not raw.strip():
            raise _Reject("unparseable_line", "blank line") from None
        msg = getattr(e, "msg", None) or "not UTF-8"
        raise _Reject("unparseable_line", f"not valid JSON ({msg}; truncated?)") from None
    if not isinstance(rec, dict):
        raise _Reject("unparseable_line", "the line is JSON but not an object")
    if _lone_surrogate(raw.decode("utf-8-sig"), rec):
        raise _Reject("unparseable_line", "the line holds a lone surrogate escape (\\ud800 "
                      "to \\udfff without its pair), which is not text")
    return rec


#: a JSON escape of a UTF-16 surrogate (paired ones decode to one character)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogate(text: str, value: Any) -> bool:
    """True when ``value`` (decoded from the JSON ``text``) holds a lone surrogate: Python
    reads one, but no UTF-8 output (a report, an Arrow column) can hold it."""
    if not _SURROGATE_ESCAPE.search(text):
        return False
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


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
        return "json", _json_or_lines(data, where, f"{where}.data")
    if e == "BASE64":
        if not isinstance(data, str):
            raise _Reject("undecodable_payload", f"{where}.data is not a base64 string")
        try:
            text = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise _Reject("undecodable_payload",
                          f"{where}.data is not valid base64 of UTF-8 text") from None
        ct = str(part.get("observedContentType") or "").lower()
        if "json" in ct:
            return "json", _json_or_lines(text, where, "the base64 payload")
        if "csv" in ct or "text/plain" in ct:
            return "csv", text
        if not ct or any(g in ct for g in _GENERIC):
            # a generic type (a client sent CSV or JSON as application/octet-stream):
            # recognise the content; text that is neither JSON nor JSON Lines is CSV
            if _sniff_is_json(text):
                return "json", _json_or_lines(text, where, "the base64 payload")
            if any(ch in text for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f"):
                raise _Reject("undecodable_payload", f"{where}: the base64 payload "
                              f"({ct or 'no content type'}) is binary, not CSV or JSON")
            return "csv", text
        raise _Reject("undecodable_payload", f"{where}: content type {ct!r} is neither CSV "
                      "nor JSON")
    raise _Reject("undecodable_payload",
                  f"{where}.encoding is {enc!r}; expected CSV, JSON or BASE64")


#: content types that say nothing about the payload: its content decides
_GENERIC = ("octet-stream", "binary", "application/x-www-form-urlencoded", "text/")


def _json_or_lines(text: str, where: str, what: str) -> Any:
    """A JSON value, or the list of values of JSON Lines (several lines, one value each)."""
    try:
        value = json.loads(text)
    except ValueError:
        value = _NOT_JSON
        lines = [x for x in text.splitlines() if x.strip()]
        if len(lines) > 1:
            try:
                value = [json.loads(x) for x in lines]
            except ValueError:
                pass
    if value is _NOT_JSON:
        raise _Reject("undecodable_payload", f"{where}: {what} is not valid JSON")
    if _lone_surrogate(text, value):
        raise _Reject("undecodable_payload", f"{where}: {what} holds a lone surrogate escape, "
                      "which is not text")
    return value


_NOT_JSON = object()


def _first_csv_field(text: str) -> str:
    if "," not in text and '"' not in text and "\n" not in text.strip():
        return text.strip()
    line = text.strip().split("\n", 1)[0].strip()
    if '"' in line:
        try:
            row = next(csv.reader([line]), [""])
        except csv.Error as e:  # e.g. a bare carriage return in an unquoted field
            raise _Reject("undecodable_payload", f"the CSV payload cannot be read ({e})"
                          ) from None
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
    try:
        row = next(csv.reader([t]), []) if '"' in t else t.split(",")
    except csv.Error as e:  # e.g. a bare carriage return in an unquoted field
        raise _Reject("bad_input", f"the CSV input cannot be read as one row ({e})") from None
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


def _example(path: Path, line: int, message: str) -> str:
    return f"{path}:{line}: {message}"

"""One accounting registry: every rejection reason with its description, defined once, plus
the one reason-count loop and the hard stops every strategy applies to its row accounting.

A row (or capture record) is either used or rejected under exactly one of these codes, the
first that applies in the order its reader checks them. Engines and readers emit
``"code|column"`` labels (``column`` empty when the reason is not about a column);
:func:`count_reasons` turns them into the report's ``rows_rejected`` and
``rejected_columns``.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from ..errors import InputError, RejectedRowsError

__all__ = ["REASONS", "ROW_REASONS", "ReasonCounts", "check_rows", "count_reasons",
           "describe"]

REASONS: dict[str, str] = {
    # rows of tabular logs (A/B, canary / linear, blue/green, generic shadow logs), and lines
    # of capture and ground-truth files
    "unparseable_line": "the line could not be parsed (wrong number of fields, invalid JSON, "
    "a JSON value that is not an object, a blank or truncated capture line, or the rest of "
    "a gzip file that could not be decompressed)",
    "oversized_line": "the line is longer than the reader's cap (64 MiB); it was read "
    "through, never held in memory",
    "nested_too_deeply": "the JSON of the line (or of its payload) is nested too deeply to "
    "read safely",
    "decompressed_too_large": "the rest of a file past the decompressed-size cap (16 GiB "
    "per file), counted as one record: a gzip bomb is cut off, not expanded",
    "missing_variant": "the variant is null or empty",
    "unknown_variant": "the variant is not one of the spec's variants (split, live / "
    "candidate, blue / green)",
    "missing_unit_id": "the unit id is null or empty",
    "missing_value": "a metric column is null or empty",
    "non_numeric_value": "a metric column is not a number",
    "non_finite_value": "a metric column is NaN or infinite",
    "not_binary": "a proportion column is not 0 or 1",
    "missing_timestamp": "the timestamp column is null or empty",
    "bad_timestamp": "the timestamp is neither ISO 8601 text nor an epoch number "
    "(for capture records: inferenceTime is not an ISO 8601 time)",
    "timestamp_out_of_range": "the timestamp is far from the rest of the log (more than a "
    "year from the column's median time, or more than a day after the current clock; an "
    "epoch number in another unit than the column's lands there too)",
    "negative_count": "a count column is negative",
    "before_start": "the timestamp is before the rollout's start",
    "unit_in_multiple_variants": "the unit's usable rows appear in more than one variant "
    "(all those rows)",
    "duplicate_unit": "the unit has more than one usable row in a per-unit log (all those "
    "rows)",
    # SageMaker Data Capture and ground-truth records
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
    "duplicate_event": "an identical copy of an earlier record of the same variant with the "
    "same eventId (one copy is kept)",
    "conflicting_event": "the same eventId occurs in several records of one variant with "
    "different content (all of those records are rejected, whatever the reading order)",
    "bad_label": "the label is missing, not 0/1 (label_kind='binary') or not a finite "
    "number (label_kind='numeric')",
    "duplicate_label": "the same id has the same label more than once (the first is kept)",
    "conflicting_label": "the same id has different labels (all of its labels are rejected)",
    "unreadable_input": "not a rejection: the record's input could not be read as one row "
    "of the features (missing, undecodable, wrong field count); its output is still paired "
    "and compared, its features are missing, so drift leaves it out",
    # shadow pairing
    "missing_request_id": "the request id is null or empty",
    "duplicate_request": "the request id occurs more than once on one side (all rows with "
    "that id, on both sides, are rejected: the pairing would be ambiguous)",
    "live_only": "a live record with no shadow record of the same request",
    "shadow_only": "a shadow record with no live record of the same request",
    "labels_only": "a label whose id matches no live/shadow pair",
}

#: Row reasons of a tabular log, in the order the engines test them.
ROW_REASONS = (
    "unparseable_line", "missing_variant", "unknown_variant", "missing_unit_id",
    "missing_value", "non_numeric_value", "non_finite_value", "not_binary",
)


def describe(codes: Iterable[str]) -> dict[str, str]:
    """``{code: description}`` for the codes given, sorted (the JSON's reason_descriptions)."""
    return {k: REASONS.get(k, k) for k in sorted(codes)}


class ReasonCounts:
    """Rejections counted by reason, by column and (for ``unknown_variant``) by label."""

    def __init__(self) -> None:
        self.rejected: dict[str, int] = {}
        self.rejected_columns: dict[str, dict[str, int]] = {}
        self.unknown_variants: dict[str, int] = {}

    def add(self, label: str, n: int, variant: str | None = None) -> None:
        """Count ``n`` rows under ``label`` = ``"code|column"``; ``variant`` is the raw label
        of an ``unknown_variant`` row."""
        code, _, col = str(label).partition("|")
        n = int(n)
        self.rejected[code] = self.rejected.get(code, 0) + n
        if col:
            d = self.rejected_columns.setdefault(code, {})
            d[col] = d.get(col, 0) + n
        if code == "unknown_variant" and variant is not None:
            self.unknown_variants[str(variant)] = self.unknown_variants.get(str(variant), 0) + n


def count_reasons(labels: Mapping[str, int] | Iterable[tuple[str, int]],
                  unknown: Mapping[str, int] | None = None) -> ReasonCounts:
    """A :class:`ReasonCounts` from ``{"code|column": rows}`` (or pairs) and the
    ``{raw label: rows}`` of unknown variants."""
    out = ReasonCounts()
    items = labels.items() if isinstance(labels, Mapping) else labels
    for label, n in items:
        out.add(label, n)
    for v, n in (unknown or {}).items():
        out.unknown_variants[str(v)] = out.unknown_variants.get(str(v), 0) + int(n)
    return out


def check_rows(label: str, rows_read: int, rows_used: int, rejected: Mapping[str, int],
               on_rejected: str, check: str,
               examples: Mapping[str, str] | None = None) -> None:
    """The accounting's hard stops, for every strategy: no rows, every row rejected (the
    reasons, most frequent first, and the most frequent one's example: the column, three
    values and a fix where the engine found one), or any rejection with ``on_rejected =
    "fail"``."""
    if rows_read == 0:
        raise InputError(f"{label} has no data rows", "check the file is not empty")
    if rows_used == 0:
        ranked = sorted(rejected.items(), key=lambda kv: -kv[1])
        top = ", ".join(f"{k}: {v}" for k, v in ranked)
        example = (examples or {}).get(ranked[0][0]) if ranked else None
        hint = f"see the reasons; check {check}"
        if example:
            what, _, fix = str(example).partition("; ")
            return_msg = f"{label}: all {rows_read} rows were rejected ({top}): {what}"
            raise InputError(return_msg, fix or hint)
        raise InputError(f"{label}: all {rows_read} rows were rejected ({top})", hint)
    if on_rejected == "fail" and rejected:
        top = ", ".join(f"{k}: {v}" for k, v in sorted(rejected.items()))
        raise RejectedRowsError(
            f"{label}: {sum(rejected.values())} of {rows_read} rows rejected ({top}) and "
            "on_rejected = 'fail'",
            "fix the input, or drop --fail-on-rejected to reject and continue",
        )

"""Rejection reasons, their check order and the record accounting of the capture readers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ...core.accounting import REASONS  # noqa: F401  (re-exported)

# every reason and its description: the one registry, abkit.core.accounting

#: Capture reasons, roughly in the order they are checked; a record gets the first it fails.
#: Exact order: the line is within the size caps (``oversized_line``,
#: ``decompressed_too_large``) and parses as a JSON object (``unparseable_line``,
#: ``nested_too_deeply``); captureData, endpointOutput, eventMetadata and inferenceTime
#: exist (``missing_field``); an eventId or inferenceId exists (``missing_id``). An input
#: that is missing or cannot be decoded into one row of the features rejects nothing: the
#: record keeps its output, its features are missing, and it is counted as
#: ``unreadable_input`` (``Accounting.unreadable_input``). The output decodes
#: (``missing_field`` for a missing data/encoding, ``undecodable_payload``) and yields a value (``missing_output``) that is a number
#: (``non_numeric_output``), finite (``non_finite_output``) and in range
#: (``out_of_range_output``); inferenceTime is ISO 8601 (``bad_timestamp``); last, among the
#: records that pass all of that, a repeated eventId within a variant (``duplicate_event``).
CAPTURE_CHECKS = (
    "oversized_line", "decompressed_too_large", "unparseable_line", "nested_too_deeply", "missing_field", "missing_id", "undecodable_payload", "bad_input",
    "missing_output", "non_numeric_output", "non_finite_output", "out_of_range_output",
    "bad_timestamp", "conflicting_event", "duplicate_event",
)
#: Ground-truth reasons in the order they are checked (duplicates last, among good records).
LABEL_CHECKS = (
    "oversized_line", "decompressed_too_large", "unparseable_line", "nested_too_deeply", "missing_field", "missing_id", "undecodable_payload", "bad_label",
    "duplicate_label", "conflicting_label",
)


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
    #: used records whose input could not be read as features (``unreadable_input``): their
    #: output is used, their features are missing (so drift leaves them out); one example
    unreadable_input: int = 0
    unreadable_example: str = ""

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
        out = {
            "records_read": self.records_read,
            "records_used": self.records_used,
            "records_rejected": dict(sorted(self.rejected.items())),
            "examples": dict(sorted(self.examples.items())),
            "reason_descriptions": {k: REASONS.get(k, k) for k in sorted(self.rejected)},
        }
        if self.unreadable_input:
            out["unreadable_input"] = {"records": self.unreadable_input,
                                       "example": self.unreadable_example,
                                       "description": REASONS["unreadable_input"]}
        return out


class _Counter:
    """Mutable tally behind an :class:`Accounting`."""

    __slots__ = ("read", "used", "rejected", "examples", "unreadable", "unreadable_example")

    def __init__(self) -> None:
        self.read = 0
        self.used = 0
        self.rejected: dict[str, int] = {}
        self.examples: dict[str, str] = {}
        self.unreadable = 0
        self.unreadable_example = ""

    def input_problem(self, example: str, n: int = 1) -> None:
        """A record kept for its output whose input is unreadable (``unreadable_input``)."""
        self.unreadable += n
        if not self.unreadable_example:
            self.unreadable_example = example

    def reject(self, reason: str, example: str | None = None, n: int = 1) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + n
        if example is not None and reason not in self.examples:
            self.examples[reason] = example

    def freeze(self) -> Accounting:
        acc = Accounting(self.read, self.used, dict(self.rejected), dict(self.examples),
                         self.unreadable, self.unreadable_example)
        acc.check()
        return acc


def _merge(parts: Iterable[Accounting]) -> Accounting:
    c = _Counter()
    for a in parts:
        c.read += a.records_read
        c.used += a.records_used
        for k, n in a.rejected.items():
            c.reject(k, a.examples.get(k), n)
        if a.unreadable_input:
            c.input_problem(a.unreadable_example, a.unreadable_input)
    return c.freeze()

"""Rejection reasons, their check order and the record accounting of the capture readers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ...core.accounting import REASONS  # noqa: F401  (re-exported)

# every reason and its description: the one registry, abkit.core.accounting

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

"""The row checks of a plan, as data: :class:`RowRules` (see :mod:`abkit.engine.classify`
for the order and the pandas compilation, :mod:`abkit.engine.duckdb_classify` for SQL)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .timestamps import TimeRules

__all__ = ["RowRules"]

Check = tuple[str, "str | None"]


@dataclass(frozen=True)
class RowRules:
    """The row checks of a plan. ``variants`` None: any label is a variant."""

    variant_column: str
    variants: tuple[str, ...] | None
    columns: tuple[str, ...] = ()
    binary: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    unit_column: str | None = None
    timestamp_column: str | None = None
    origin: float | None = None
    #: the timestamp column's epoch unit and time range (None: decided from the rows)
    time: TimeRules | None = None

    def checks(self) -> tuple[Check, ...]:
        """The checks in the order they apply: ``(reason, column or None)``."""
        out: list[Check] = [("missing_variant", None)]
        if self.variants is not None:
            out.append(("unknown_variant", None))
        if self.unit_column:
            out.append(("missing_unit_id", None))
        ts = self.timestamp_column
        if ts:
            out += [("missing_timestamp", ts), ("bad_timestamp", ts),
                    ("timestamp_out_of_range", ts)]
        for code in ("missing_value", "non_numeric_value", "non_finite_value"):
            out += [(code, c) for c in self.columns]
        out += [("not_binary", c) for c in self.binary]
        out += [("negative_count", c) for c in self.counts]
        if ts and self.origin is not None:
            out.append(("before_start", ts))
        return tuple(out)

    def with_origin(self, origin: float | None) -> RowRules:
        return replace(self, origin=origin)

    def with_time(self, time: TimeRules | None) -> RowRules:
        return replace(self, time=time)

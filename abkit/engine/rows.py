"""A plan for methods that need per-record values (blue/green's switch detection, windows
and early looks): the used rows come back as arrays of only the columns the method reads.

:class:`RowsPlan` -> :class:`Rows`. The pandas compilation is :func:`reduce_frame_rows`, the
DuckDB one :func:`abkit.engine.duckdb_rows.reduce_rows`; both classify rows with the one
classifier (:class:`abkit.engine.rules.RowRules`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from .classify import classify
from .pandas_engine import reason_counts
from .rules import RowRules

__all__ = ["Rows", "RowsPlan", "reduce_frame_rows"]


@dataclass(frozen=True)
class RowsPlan:
    """Classify rows by ``rules``; return the used rows' time, variant and values."""

    kind: ClassVar[str] = "rows"
    rules: RowRules


@dataclass
class Rows:
    """The used rows, in input order (``time`` epoch seconds, ``variant`` labels,
    ``values[column]`` floats), and the accounting of every row."""

    rows_read: int
    rows_used: int
    rejected: dict[str, int]
    rejected_columns: dict[str, dict[str, int]]
    unknown_variants: dict[str, int]
    examples: dict[str, str]
    time: np.ndarray
    variant: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def check(self) -> None:
        total = self.rows_used + sum(self.rejected.values())
        if total != self.rows_read or len(self.time) != self.rows_used:  # pragma: no cover
            raise AssertionError(
                f"row accounting does not add up: read {self.rows_read}, used "
                f"{self.rows_used} ({len(self.time)} returned), rejected "
                f"{sum(self.rejected.values())}")

    #: the time and variant columns of :meth:`frame` (no log column can be named so)
    TIME, VARIANT = "\0time", "\0variant"

    def frame(self) -> pd.DataFrame:
        """The used rows as a DataFrame: :attr:`TIME`, :attr:`VARIANT`, the value columns."""
        time, variant = self.TIME, self.VARIANT
        out = pd.DataFrame({time: self.time, variant: self.variant})
        for c, x in self.values.items():
            out[c] = x
        return out


def reduce_frame_rows(df: pd.DataFrame, plan: RowsPlan) -> Rows:
    """The pandas compilation of ``plan``."""
    cl = classify(df, plan.rules)
    counts = reason_counts(cl.reason, cl.variant)
    ok = cl.ok.to_numpy()
    assert cl.time is not None
    rows = Rows(len(df), int(ok.sum()), dict(counts.rejected),
                {k: dict(d) for k, d in counts.rejected_columns.items()},
                dict(counts.unknown_variants), {},
                cl.time.to_numpy(float)[ok], cl.variant.to_numpy(object)[ok],
                {c: cl.values[c].to_numpy(float)[ok] for c in plan.rules.columns})
    rows.check()
    return rows

"""The one row classifier: which rows are used, and the first rejection reason of the others.

:class:`RowRules` describes the checks as data (an ordered tuple of ``(reason, column)``).
Each engine compiles the same rules: pandas here (:func:`classify`), DuckDB in
:mod:`abkit.engine.duckdb_classify`, so the two cannot drift apart. A row gets the first
reason that applies, in this order:

``missing_variant``, ``unknown_variant`` (when the variants are declared),
``missing_unit_id`` (with a unit column), ``missing_timestamp``, ``bad_timestamp``,
``timestamp_out_of_range`` (with a timestamp column; :mod:`abkit.engine.timestamps`),
``missing_value``, ``non_numeric_value``, ``non_finite_value`` (each
over all value columns before the next), ``not_binary``, ``negative_count``,
``before_start`` (with an origin). A reader can reject a line before any of these
(``unparseable_line``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .rules import RowRules
from .timestamps import rules_from_seconds, seconds

__all__ = ["Classified", "RowRules", "classify", "label_series", "numeric_series",
           "parse_times"]

@dataclass
class Classified:
    """Every row classified: ``reason`` is ``"code|column"`` (``"code|"`` without a column)
    or None for a used row; ``variant`` / ``unit`` the labels as text (None when missing),
    ``time`` epoch seconds (NaN when unparseable), ``values`` the parsed floats."""

    reason: pd.Series
    variant: pd.Series
    unit: pd.Series | None
    time: pd.Series | None
    values: dict[str, pd.Series]

    @property
    def ok(self) -> pd.Series:
        return self.reason.isna()


_NAN_WORDS = {"nan", "+nan", "-nan"}


def label_series(s: pd.Series) -> pd.Series:
    """Variant or unit labels as strings, as written; null or empty -> None."""
    out = s.astype(object).where(s.notna(), None)
    out = out.map(lambda x: None if x is None else str(x))
    if isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
        out = out.map(lambda x: None if x is None else x.lower())
    return out.map(lambda x: None if x == "" else x)


def numeric_series(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(is-missing, float value) for a metric column; unparseable text -> NaN, not missing."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        missing = s.isna()
        return missing, s.astype("float64")
    text = s.astype(object).where(s.notna(), None).map(
        lambda x: None if x is None else str(x).strip()
    )
    missing = text.isna() | (text == "")
    value = pd.to_numeric(text.where(~missing, None), errors="coerce").astype("float64")
    lower = text.str.lower()
    value = value.mask(value.isna() & (lower == "true"), 1.0)
    value = value.mask(value.isna() & (lower == "false"), 0.0)
    # pandas parses "nan" to NaN like garbage; keep it as a (non-finite) number as DuckDB does
    value = value.mask(lower.isin(_NAN_WORDS), np.inf)
    return missing, value.where(~missing)


def parse_times(s: pd.Series, scale: float | None = None) -> pd.Series:
    """Epoch seconds (float, NaN where unparseable) from timestamps as pandas holds them.

    Datetimes (naive = UTC) directly; ISO 8601 text (``2026-11-20T10:00:00Z``, offsets
    honoured) as times, never rescaled; numbers (and numeric text) as epoch numbers in one
    unit for the whole column, ``scale`` (decided from the column when None; see
    :mod:`abkit.engine.timestamps`).
    """
    return seconds(s, scale)[0]


def _is_missing(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return s.isna()
    return s.isna() | (s.astype(object).map(lambda v: str(v).strip() == "" if v is not None
                                              and v == v else True))


def classify(df: pd.DataFrame, rules: RowRules) -> Classified:
    """The pandas compilation of ``rules``: every row of ``df`` classified."""
    df = df.rename(columns=lambda c: str(c))  # integer column names are addressed as text
    v = label_series(df[rules.variant_column])
    u = label_series(df[rules.unit_column]) if rules.unit_column else None
    traw = df[rules.timestamp_column] if rules.timestamp_column else None
    t = window = None
    if traw is not None:
        t, scale = seconds(traw, rules.time.scale if rules.time else None)
        window = rules.time or rules_from_seconds(t.to_numpy(dtype=float), scale)
    parsed = {c: numeric_series(df[c]) for c in rules.columns}
    variants = list(rules.variants or ())

    def test(code: str, col: str | None) -> pd.Series:
        if code == "missing_variant":
            return v.isna()
        if code == "unknown_variant":
            return ~v.isin(variants)
        if code == "missing_unit_id":
            return u.isna()  # type: ignore[union-attr]
        if code == "missing_timestamp":
            return _is_missing(traw)  # type: ignore[arg-type]
        if code == "bad_timestamp":
            return t.isna()  # type: ignore[union-attr]
        if code == "timestamp_out_of_range":
            return (t < window.low) | (t > window.high)  # type: ignore[operator,union-attr]
        if code == "before_start":
            return t < rules.origin  # type: ignore[operator]
        missing, x = parsed[col]  # type: ignore[index]
        if code == "missing_value":
            return missing
        if code == "non_numeric_value":
            return x.isna()
        if code == "non_finite_value":
            return ~np.isfinite(x.fillna(0.0))
        if code == "not_binary":
            return ~x.isin([0.0, 1.0])
        if code == "negative_count":
            return x < 0
        raise AssertionError(f"unknown check {code}")  # pragma: no cover

    reason = pd.Series([None] * len(df), index=df.index, dtype=object)
    for code, col in rules.checks():
        hit = test(code, col).fillna(False).astype(bool)
        reason = reason.mask(reason.isna() & hit, f"{code}|{col or ''}")
    return Classified(reason, v, u, t, {c: parsed[c][1] for c in rules.columns})

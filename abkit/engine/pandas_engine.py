"""Reduce an in-memory pandas DataFrame with the same rules as the DuckDB engine.

The two engines must agree on every count and statistic (tested on the same data); the one
documented difference is that in a DataFrame a float NaN is pandas' missing value, so it is
rejected as ``missing_value`` rather than ``non_finite_value``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.accounting import count_reasons
from ..errors import InputError
from ..stats import MomentStats
from .plan import Plan, Reduced

__all__ = ["reduce_frame", "label_series", "numeric_series", "reason_counts"]


def reason_counts(reason: pd.Series, variants: pd.Series):
    """The accounting of a classified frame: ``reason`` holds ``"code|column"`` or None per
    row, ``variants`` the raw labels (counted for ``unknown_variant`` rows)."""
    bad = reason.notna()
    return count_reasons(
        {str(r): int(n) for r, n in reason[bad].value_counts().items()},
        {str(k): int(n) for k, n in variants[reason == "unknown_variant|"].value_counts().items()})

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


def reduce_frame(df: pd.DataFrame, plan: Plan) -> Reduced:
    """Classify, account for and reduce the rows of ``df`` to per-variant moments."""
    spec = plan.spec
    cols = plan.value_columns
    df = df.rename(columns=lambda c: str(c))  # integer column names are addressed as text
    for c in (spec.variant_column, spec.unit_column, *cols):
        if c is not None and c not in df.columns:
            raise InputError(f"DataFrame has no column {c!r}")  # checked earlier; safety net
    n_rows = len(df)
    v = label_series(df[spec.variant_column])
    reason = pd.Series([None] * n_rows, index=df.index, dtype=object)

    def mark(mask: pd.Series, code: str) -> None:
        nonlocal reason
        reason = reason.mask(reason.isna() & mask.fillna(False).astype(bool), code)

    mark(v.isna(), "missing_variant|")
    if spec.split is not None:
        mark(~v.isin(list(spec.split)), "unknown_variant|")
    u = None
    if spec.unit_column:
        u = label_series(df[spec.unit_column])
        mark(u.isna(), "missing_unit_id|")
    parsed = {c: numeric_series(df[c]) for c in cols}
    for c in cols:
        mark(parsed[c][0], f"missing_value|{c}")
    for c in cols:
        mark(parsed[c][1].isna(), f"non_numeric_value|{c}")
    for c in cols:
        x = parsed[c][1]
        mark(~np.isfinite(x.fillna(0.0)), f"non_finite_value|{c}")
    for c in plan.binary_columns:
        mark(~parsed[c][1].isin([0.0, 1.0]), f"not_binary|{c}")

    bad = reason.notna()
    counts = reason_counts(reason, v)
    rejected, rejected_columns, unknown = (counts.rejected, counts.rejected_columns,
                                           counts.unknown_variants)

    ok = ~bad
    # internal columns are "\0"-prefixed and user columns "=" + name: no collision possible
    V, U, N = "\0v", "\0u", "\0rows"
    frame = pd.DataFrame({V: v[ok]})
    for c in cols:
        frame["=" + c] = parsed[c][1][ok]
    variables = plan.variables
    if u is not None:
        frame[U] = u[ok]
        g = frame.groupby([U, V], sort=False)
        units = pd.DataFrame({N: g.size()})
        for var in variables:
            if var.agg == "count":
                units[var.key] = units[N].astype(float)
            else:
                series = g["=" + var.column]
                units[var.key] = {"value": series.sum, "sum": series.sum, "max": series.max,
                                  "avg": series.mean}[var.agg]()
        units = units.reset_index()
        nv = units.groupby(U)[V].transform("size")
        multi = int(units.loc[nv > 1, N].sum())
        keep = nv == 1
        dup = 0
        if spec.granularity == "unit":
            dup = int(units.loc[keep & (units[N] > 1), N].sum())
            keep &= units[N] == 1
        if multi:
            rejected["unit_in_multiple_variants"] = multi
        if dup:
            rejected["duplicate_unit"] = dup
        units = units[keep]
    else:
        units = frame.copy()
        units[N] = 1
        for var in variables:
            units[var.key] = units["=" + var.column]

    moments: dict[str, dict[str, MomentStats]] = {m.spec.name: {} for m in plan.metrics}
    units_by_variant: dict[str, int] = {}
    rows_used = 0
    for name, part in units.groupby(V, sort=True):
        units_by_variant[str(name)] = int(len(part))
        rows_used += int(part[N].sum())
        for m in plan.metrics:
            arr = part[[var.key for var in m.variables]].to_numpy(dtype=float)
            moments[m.spec.name][str(name)] = MomentStats.from_array(arr)
    red = Reduced(n_rows, rows_used, rejected, rejected_columns, units_by_variant, moments,
                  unknown)
    red.check()
    return red

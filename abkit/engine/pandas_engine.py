"""Reduce an in-memory pandas DataFrame with the same rules as the DuckDB engine.

The two engines must agree on every count and statistic (tested on the same data); the one
documented difference is that in a DataFrame a float NaN is pandas' missing value, so it is
rejected as ``missing_value`` rather than ``non_finite_value``.
"""

from __future__ import annotations

import pandas as pd

from ..core.accounting import count_reasons
from ..errors import InputError
from ..stats import MomentStats
from .classify import classify, label_series, numeric_series  # noqa: F401
from .plan import Plan, Reduced

__all__ = ["reduce_frame", "label_series", "numeric_series", "reason_counts"]


def reason_counts(reason: pd.Series, variants: pd.Series):
    """The accounting of a classified frame: ``reason`` holds ``"code|column"`` or None per
    row, ``variants`` the raw labels (counted for ``unknown_variant`` rows)."""
    bad = reason.notna()
    return count_reasons(
        {str(r): int(n) for r, n in reason[bad].value_counts().items()},
        {str(k): int(n) for k, n in variants[reason == "unknown_variant|"].value_counts().items()})


def reduce_frame(df: pd.DataFrame, plan: Plan) -> Reduced:
    """Classify, account for and reduce the rows of ``df`` to per-variant moments."""
    spec = plan.spec
    cols = plan.value_columns
    df = df.rename(columns=lambda c: str(c))  # integer column names are addressed as text
    for c in (spec.variant_column, spec.unit_column, *cols):
        if c is not None and c not in df.columns:
            raise InputError(f"DataFrame has no column {c!r}")  # checked earlier; safety net
    n_rows = len(df)
    cl = classify(df, plan.rules())
    reason, v, u, parsed = cl.reason, cl.variant, cl.unit, cl.values

    bad = reason.notna()
    counts = reason_counts(reason, v)
    rejected, rejected_columns, unknown = (counts.rejected, counts.rejected_columns,
                                           counts.unknown_variants)

    ok = ~bad
    # internal columns are "\0"-prefixed and user columns "=" + name: no collision possible
    V, U, N = "\0v", "\0u", "\0rows"
    frame = pd.DataFrame({V: v[ok]})
    for c in cols:
        frame["=" + c] = parsed[c][ok]
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

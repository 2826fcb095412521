"""Inferring a spec when none is given: only what can be inferred safely, always said aloud."""

from __future__ import annotations

from typing import Any

from .errors import InputError
from .spec import CONTROL_NAMES, ExperimentSpec, parse_spec

__all__ = ["infer_spec", "numeric_metrics", "pick_control"]

_ID_HINTS = ("id", "uuid", "key")
_TIME_HINTS = ("ts", "time", "timestamp", "date", "datetime", "created_at", "event_time")


def _is_id_or_time(name: str) -> bool:
    low = name.lower()
    return (
        low in _TIME_HINTS
        or low.endswith(("_id", "_ts", "_at", "_time", "_date"))
        or low in _ID_HINTS
    )


def infer_spec(
    columns: list[str],
    sample: Any,
    *,
    variant_column: str | None,
    unit_column: str | None,
    control: str | None,
    split: Any = None,
) -> tuple[ExperimentSpec, list[str]]:
    """A spec from column names and a sample of rows (pandas DataFrame of values).

    Metrics: every other column whose sampled values are all numeric; columns holding only
    0 and 1 are proportions. All inferred metrics are ``secondary`` with ``good =
    "increase"`` for the arithmetic, but their direction is unknown, so their verdicts read
    ``higher`` / ``lower``, never ``better`` / ``worse``: abkit does not guess which metric
    should drive the decision, so an inferred analysis is never ``go`` (write a spec with a
    primary metric for that). The designed split is ``split`` (from ``--split`` or an
    endpoint config); without it, it is unknown and no SRM verdict is given.
    """
    notes: list[str] = []
    vcol = variant_column or "variant"
    if variant_column is None:
        notes.append(f"variant column: {vcol!r} (default; set --variant-col to change)")
    skip = {vcol}
    if unit_column:
        skip.add(unit_column)
    metrics = numeric_metrics(columns, sample, skip)
    if not metrics:
        raise InputError(
            "no numeric metric columns found to analyse",
            "write a spec (--spec) naming the metric columns",
        )
    notes.append(
        "metrics: " + ", ".join(f"{m['name']} ({m['kind']})" for m in metrics)
        + " as secondary metrics, direction unknown (verdicts say higher / lower); write a "
        "spec with primary metrics and guardrails to get a go / no-go"
    )
    exp: dict[str, Any] = {"strategy": "ab", "variant_column": vcol}
    granularity = "unit"
    if unit_column:
        exp["unit_column"] = unit_column
        if unit_column in sample.columns and sample[unit_column].duplicated().any():
            granularity = "request"
            notes.append(
                f"granularity: per-request (units repeat in {unit_column!r}); each metric is "
                "a per-request mean analysed over units"
            )
    exp["granularity"] = granularity
    if control:
        exp["control"] = control
    if split is not None:
        exp["split"] = dict(split)
        notes.append("split: " + ", ".join(f"{k} {v:g}" for k, v in split.items())
                     + " (given)")
    else:
        notes.append("split: unknown, so no sample ratio verdict; pass --split (e.g. "
                     "--split control=0.5,treatment=0.5) or --endpoint-config")
    spec = parse_spec({"experiment": exp, "metrics": metrics}, source="inferred")
    return spec, notes


def pick_control(variants: list[str], given: str | None, label: str) -> tuple[str, str | None]:
    """The control variant, and a note when it was inferred."""
    if given is not None:
        if given not in variants:
            raise InputError(
                f"control variant {given!r} not found in {label}",
                f"variants present: {', '.join(variants) or '(none)'}; fix `control` in the "
                "spec or --control",
            )
        return given, None
    by_lower = {v.lower(): v for v in variants}
    for name in CONTROL_NAMES:
        if name in by_lower:
            c = by_lower[name]
            return c, f"control: {c!r} (inferred from its name; set control to change)"
    raise InputError(
        f"cannot tell which variant is the control in {label}",
        f"variants present: {', '.join(variants)}; set `control` in the spec or pass --control",
    )


def numeric_metrics(columns: list[str], sample: Any, skip: set[str],
                    stray: float = 0.0) -> list[dict[str, str]]:
    """A metric entry (name, kind, column) per column of ``sample`` that is almost all
    numbers, skipping ``skip`` and id- or time-like names; 0/1 columns are proportions
    (allowing a share ``stray`` of other values, which the run rejects as not_binary)."""
    import pandas as pd

    metrics = []
    for c in columns:
        if c in skip or _is_id_or_time(c):
            continue
        s = sample[c] if c in sample.columns else None
        if s is None:
            continue
        text = s.dropna().astype(str).str.strip()
        text = text[text != ""]
        if text.empty:
            continue
        vals = pd.to_numeric(text, errors="coerce")
        special = text.str.lower().isin(["nan", "+nan", "-nan", "inf", "+inf", "-inf",
                                         "infinity", "-infinity", "true", "false"])
        numeric = vals.notna() | special
        # a column is a metric when almost all its values are numbers; the rest will be
        # rejected row by row with a reason, which the report shows
        if numeric.mean() < 0.9:
            continue
        finite = vals.dropna()
        binary = finite.isin([0.0, 1.0])
        kind = ("proportion" if len(finite) and (1.0 - binary.mean()) <= stray
                and binary.any() else "mean")
        metrics.append({"name": c, "kind": kind, "column": c})
    return metrics

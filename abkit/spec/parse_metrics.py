"""Parsing of one ``[[metrics]]`` table of an A/B, canary, linear or blue/green spec."""

from __future__ import annotations

from typing import Any, Mapping

from .bounds import show
from .checker import _Checker
from .model import (
    AGGREGATES,
    GOODS,
    KINDS,
    ROLES,
    SEQUENTIAL_KINDS,
    SEQUENTIAL_STRATEGIES,
    MetricSpec,
)

_METRIC_KEYS = {
    "name", "kind", "column", "numerator", "denominator", "covariate", "role", "good",
    "margin", "aggregate", "quantile", "baseline", "unit",
}


def _parse_metric(ck: _Checker, path: str, m: Any, granularity: str,
                  strategy: str = "ab") -> MetricSpec:
    if not isinstance(m, Mapping):
        raise ck.fail(path, f"expected a table, got {show(m)}")
    ck.unknown(path, set(m), _METRIC_KEYS)
    name = ck.string(f"{path}.name", m.get("name"), optional=False)
    kind = ck.choice(f"{path}.kind", m.get("kind"), KINDS, None)
    sequential = strategy in SEQUENTIAL_STRATEGIES
    if sequential and kind not in SEQUENTIAL_KINDS:
        raise ck.fail(f"{path}.kind", f"kind {show(kind)} is not available for a {strategy} gate",
                      f"use one of: {', '.join(SEQUENTIAL_KINDS)}")
    if not sequential and kind in ("count", "quantile"):
        raise ck.fail(f"{path}.kind", f"kind {show(kind)} is only available for canary and "
                      "linear gates", f"use one of: {', '.join(KINDS[:3])}")
    quantile = None
    if kind == "quantile":
        q = m.get("quantile")
        if q is None:
            raise ck.fail(f"{path}.quantile", "a quantile metric needs quantile, e.g. 0.99")
        quantile = ck.number(f"{path}.quantile", q, 0.5, 0.5, 0.9999)
    elif m.get("quantile") is not None:
        raise ck.fail(f"{path}.quantile", "quantile only applies to kind = \"quantile\"")
    baseline = None
    if m.get("baseline") is not None:
        if not sequential:
            raise ck.fail(f"{path}.baseline", "baseline only applies to canary and linear gates")
        baseline = ck.number(f"{path}.baseline", m.get("baseline"), 0.0, -1e300, 1e300)
    if sequential and (m.get("covariate") is not None or m.get("aggregate") is not None):
        raise ck.fail(path, f"covariate and aggregate do not apply to a {strategy} gate")
    column = ck.string(f"{path}.column", m.get("column"))
    numerator = ck.string(f"{path}.numerator", m.get("numerator"))
    denominator = ck.string(f"{path}.denominator", m.get("denominator"))
    if kind == "ratio":
        if not numerator or not denominator:
            raise ck.fail(path, "a ratio metric needs numerator and denominator columns")
        if column:
            raise ck.fail(f"{path}.column", "a ratio metric takes numerator/denominator, not column")
    else:
        if not column:
            raise ck.fail(f"{path}.column", f"a {kind} metric needs column")
        if numerator or denominator:
            raise ck.fail(path, "numerator/denominator only apply to kind = \"ratio\"")
    aggregate = m.get("aggregate")
    if aggregate is not None:
        aggregate = ck.choice(f"{path}.aggregate", aggregate, AGGREGATES, None)
        if kind == "ratio" and aggregate != "sum":
            raise ck.fail(
                f"{path}.aggregate", "a ratio metric always sums numerator and denominator per unit"
            )
    margin = ck.margin(f"{path}.margin", m.get("margin"))
    role = ck.choice(f"{path}.role", m.get("role"), ROLES, "secondary")
    if margin and role != "guardrail":
        raise ck.fail(f"{path}.margin", "a margin only applies to role = \"guardrail\"")
    unit = ck.string(f"{path}.unit", m.get("unit"))
    if unit is not None and (len(unit) > 20 or not unit.isprintable()):
        raise ck.fail(f"{path}.unit", "a unit is a short printable label",
                      'e.g. unit = "ms"')
    return MetricSpec(
        name=str(name),
        kind=kind,
        column=column,
        numerator=numerator,
        denominator=denominator,
        covariate=ck.string(f"{path}.covariate", m.get("covariate")),
        role=role,
        good=ck.choice(f"{path}.good", m.get("good"), GOODS, "increase"),
        margin=margin,
        aggregate=aggregate,
        quantile=quantile,
        baseline=baseline,
        unit=unit,
    )

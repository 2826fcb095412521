"""What to reduce: the per-unit variables each metric needs, and the accounting vocabulary.

Both engines (DuckDB for files, pandas for DataFrames) compute the same :class:`Reduced`
from the same :class:`Plan`, so the statistics never see rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..core.accounting import REASONS, ROW_REASONS  # noqa: F401  (re-exported)
from ..spec import ExperimentSpec, MetricSpec
from ..stats import Estimand, MomentStats
from .rules import RowRules

__all__ = ["REASONS", "Plan", "MetricPlan", "Reduced", "Variable", "build_plan"]

# The rejection reasons (and their test order) are defined once, in abkit.core.accounting.


@dataclass(frozen=True)
class Variable:
    """A per-unit variable: ``agg`` of ``column`` over the unit's rows.

    ``agg`` is ``value`` (per-unit log), ``sum``, ``max``, ``avg`` or ``count`` (rows).
    """

    agg: str
    column: str | None

    @property
    def key(self) -> str:
        return f"{self.agg}({self.column or '*'})"


@dataclass(frozen=True)
class MetricPlan:
    spec: MetricSpec
    variables: tuple[Variable, ...]
    metric: Estimand
    covariate: Estimand | None
    test: str  # "welch" or "z"
    aggregate: str | None


@dataclass(frozen=True)
class Plan:
    kind: ClassVar[str] = "ab"
    spec: ExperimentSpec
    metrics: tuple[MetricPlan, ...]

    @property
    def value_columns(self) -> tuple[str, ...]:
        cols: list[str] = []
        for m in self.metrics:
            cols.extend(m.spec.columns)
        return tuple(dict.fromkeys(cols))

    @property
    def binary_columns(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(m.spec.column for m in self.metrics if m.spec.kind == "proportion")
        )  # type: ignore[arg-type]

    @property
    def variables(self) -> tuple[Variable, ...]:
        out: list[Variable] = []
        for m in self.metrics:
            out.extend(m.variables)
        return tuple(dict.fromkeys(out))

    @property
    def covariances(self) -> tuple[tuple[Variable, Variable, str], ...]:
        """Every ``(a, b, "cov:<a>:<b>")`` co-moment a metric needs, once each, in plan
        order (what every engine aggregates beside the means)."""
        out: dict[str, tuple[Variable, Variable, str]] = {}
        for m in self.metrics:
            for i, a in enumerate(m.variables):
                for b in m.variables[i:]:
                    key = f"cov:{a.key}:{b.key}"
                    out.setdefault(key, (a, b, key))
        return tuple(out.values())

    def rules(self) -> RowRules:
        """The row checks of this plan."""
        spec = self.spec
        return RowRules(spec.variant_column,
                        tuple(spec.split) if spec.split is not None else None,
                        columns=self.value_columns, binary=self.binary_columns,
                        unit_column=spec.unit_column)


def build_plan(spec: ExperimentSpec) -> Plan:
    request = spec.granularity == "request"
    plans = []
    for m in spec.metrics:
        cov_var: list[Variable] = []
        if m.covariate:
            cov_var = [Variable("avg" if request else "value", m.covariate)]
        agg = None
        if m.kind == "ratio":
            a = "sum" if request else "value"
            vars_ = [Variable(a, m.numerator), Variable(a, m.denominator)]
            metric = Estimand("ratio", (0, 1))
            test = "z"
            agg = "sum" if request else None
        elif request and (m.aggregate or "mean") == "mean":
            vars_ = [Variable("sum", m.column), Variable("count", None)]
            metric = Estimand("ratio", (0, 1))
            test = "z"
            agg = "mean"
        else:
            agg = (m.aggregate or "mean") if request else None
            vars_ = [Variable(agg if request else "value", m.column)]
            metric = Estimand("mean", (0,))
            test = "welch"
        covariate = Estimand("mean", (len(vars_),)) if cov_var else None
        plans.append(MetricPlan(m, tuple(vars_ + cov_var), metric, covariate, test, agg))
    return Plan(spec, tuple(plans))


@dataclass
class Reduced:
    """Everything the statistics need, and the row accounting.

    ``moments[metric_name][variant]`` holds the per-unit variable moments of that metric's
    variables (in :attr:`MetricPlan.variables` order).
    """

    rows_read: int
    rows_used: int
    rejected: dict[str, int]
    rejected_columns: dict[str, dict[str, int]]
    units: dict[str, int]
    moments: dict[str, dict[str, MomentStats]]
    unknown_variants: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        total = self.rows_used + sum(self.rejected.values())
        if total != self.rows_read:  # pragma: no cover - an accounting bug
            raise AssertionError(
                f"row accounting does not add up: read {self.rows_read}, used {self.rows_used}, "
                f"rejected {sum(self.rejected.values())}"
            )

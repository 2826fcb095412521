"""The spec model: the vocabularies (strategies, kinds, roles, ...) and the frozen parts of a
spec (:class:`MetricSpec`, :class:`RolloutSpec`, :class:`ShadowSpec`, :class:`BlueGreenSpec`).

The whole-experiment :class:`~abkit.spec.experiment.ExperimentSpec` lives next to
``parse_spec`` in :mod:`abkit.spec.experiment`, since ``ExperimentSpec.with_`` re-parses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

STRATEGIES = ("ab", "canary", "linear", "shadow", "bluegreen")
SEQUENTIAL_STRATEGIES = ("canary", "linear")
PLANNED_STRATEGIES: tuple[str, ...] = ()
SHADOW_METRICS = {  # name -> (kind, good)
    "auc": ("quality", "increase"), "accuracy": ("quality", "increase"),
    "brier": ("quality", "decrease"), "log_loss": ("quality", "decrease"),
    "latency_p50": ("latency", "decrease"), "latency_p95": ("latency", "decrease"),
    "latency_p99": ("latency", "decrease"), "error_rate": ("errors", "decrease"),
    "bias_dppl": ("bias", "decrease"),
}
INPUT_FORMATS = ("sagemaker-capture", "log")
KINDS = ("mean", "proportion", "ratio", "count", "quantile")
SEQUENTIAL_KINDS = ("mean", "proportion", "count", "quantile")
METHODS = ("cs", "gst")
SPENDINGS = ("obrien-fleming", "pocock")
ROLES = ("primary", "guardrail", "secondary")
GOODS = ("increase", "decrease")
GRANULARITIES = ("unit", "request")
AGGREGATES = ("mean", "sum", "max")
CORRECTIONS = ("none", "bonferroni", "holm", "bh")
ON_REJECTED = ("continue", "fail")
CONTROL_NAMES = ("control", "baseline", "blue", "live", "a")


@dataclass(frozen=True)
class MetricSpec:
    """One metric: what to read, how to aggregate per unit, and its role in the decision.

    ``margin`` is relative to the control value (0.02 = 2 %) and only matters for guardrails;
    a spec writes one above 100 % as a percentage string (``"250%"``).
    ``aggregate`` says how a per-request log is reduced to units (``mean``: per-request mean,
    analysed as a ratio over units; ``sum``: per-unit total; ``max``: per-unit any/maximum).
    """

    name: str
    kind: str
    column: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    covariate: str | None = None
    role: str = "secondary"
    good: str = "increase"
    margin: float = 0.0
    aggregate: str | None = None
    quantile: float | None = None
    baseline: float | None = None
    #: the values' unit, shown beside them in reports (``"ms"``); None: no unit
    unit: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Input columns this metric reads, covariate last."""
        cols = [self.column] if self.kind != "ratio" else [self.numerator, self.denominator]
        if self.covariate:
            cols.append(self.covariate)
        return tuple(c for c in cols if c)

    def to_dict(self) -> dict[str, Any]:
        d = {
            "name": self.name,
            "kind": self.kind,
            "column": self.column,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "covariate": self.covariate,
            "role": self.role,
            "good": self.good,
            # above 100 % a margin is written as a percentage (see _Checker.margin)
            "margin": self.margin if self.margin <= 1 else f"{self.margin * 100!r}%",
            "aggregate": self.aggregate,
            "quantile": self.quantile,
            "baseline": self.baseline,
            "unit": self.unit,
        }
        return {k: v for k, v in d.items() if v is not None}


@dataclass(frozen=True)
class RolloutSpec:
    """The sequential part of a canary or linear spec (keys of the ``experiment`` table).

    ``schedule`` is the parsed :class:`abkit.rollout.schedule.Schedule`; ``raw`` keeps the
    keys as written so that the spec echoes back unchanged in reports.
    """

    timestamp_column: str
    look_every: float
    candidate: str
    schedule: Any
    start: str | None = None
    method: str = "cs"
    spending: str = "obrien-fleming"
    max_samples: int | None = None
    min_samples: int = 100
    min_duration: float = 0.0
    tightest_at: int = 10000
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ShadowSpec:
    """The shadow-test keys of the ``experiment`` table (see the README's shadow section).

    Paths (``labels``, ``cloudwatch``, ``endpoint_config``) are resolved against ``base``,
    the spec file's folder (the working directory for a spec given as a dict).
    """

    input_format: str
    live: str
    candidate: str
    labels: str | None = None
    threshold: float = 0.5
    features: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    output_field: str | None = None
    id_column: str = "request_id"
    score_column: str = "score"
    label_column: str | None = None
    latency_column: str | None = None
    error_column: str | None = None
    timestamp_column: str | None = None
    group: str | None = None
    cloudwatch: str | None = None
    endpoint_config: str | None = None
    min_labelled_pairs: int = 200
    output_kind: str = "probability"
    base: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def path(self, value: str | None) -> Path | None:
        if value is None:
            return None
        p = Path(value)
        return p if p.is_absolute() or self.base is None else Path(self.base) / p


@dataclass(frozen=True)
class BlueGreenSpec:
    """The blue/green keys of the ``experiment`` table."""

    timestamp_column: str
    blue: str
    green: str
    switch_at: str | None = None
    window: float | None = None
    exclude: float = 0.0
    look_every: float = 60.0
    tightest_at: int = 10000
    match: str = "auto"
    early_reference: str = "auto"
    min_rows: int = 30
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

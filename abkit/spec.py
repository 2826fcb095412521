"""Experiment specs: TOML or YAML files (or dicts) parsed into frozen, validated objects.

Unknown keys are errors, every value is checked once here, and each message names the key
path (``metrics[2].kind``) and the file.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import SpecError

__all__ = ["ExperimentSpec", "MetricSpec", "load_spec", "parse_spec"]

STRATEGIES = ("ab",)
PLANNED_STRATEGIES = ("canary", "linear", "shadow", "bluegreen")
KINDS = ("mean", "proportion", "ratio")
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

    ``margin`` is relative to the control value (0.02 = 2 %) and only matters for guardrails.
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
            "margin": self.margin,
            "aggregate": self.aggregate,
        }
        return {k: v for k, v in d.items() if v is not None}


@dataclass(frozen=True)
class ExperimentSpec:
    """A whole experiment: columns, variants and design, metrics, and decision settings."""

    metrics: tuple[MetricSpec, ...]
    strategy: str = "ab"
    name: str | None = None
    variant_column: str = "variant"
    unit_column: str | None = None
    granularity: str = "unit"
    control: str | None = None
    split: Mapping[str, float] | None = None
    alpha: float = 0.05
    correction: str = "holm"
    srm_threshold: float = 0.001
    on_rejected: str = "continue"
    source: str | None = field(default=None, compare=False)

    @property
    def confidence_level(self) -> float:
        return 1.0 - self.alpha

    def with_(self, **changes: Any) -> ExperimentSpec:
        """A copy with some fields changed (re-validated)."""
        return parse_spec(
            {**self.to_dict(), **{"experiment": {**self.to_dict()["experiment"], **changes}}},
            source=self.source,
        )

    def to_dict(self) -> dict[str, Any]:
        exp: dict[str, Any] = {
            "strategy": self.strategy,
            "name": self.name,
            "variant_column": self.variant_column,
            "unit_column": self.unit_column,
            "granularity": self.granularity,
            "control": self.control,
            "split": dict(self.split) if self.split is not None else None,
            "alpha": self.alpha,
            "correction": self.correction,
            "srm_threshold": self.srm_threshold,
            "on_rejected": self.on_rejected,
        }
        return {
            "experiment": {k: v for k, v in exp.items() if v is not None},
            "metrics": [m.to_dict() for m in self.metrics],
        }

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the spec (what the report echoes)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


# --------------------------------------------------------------------------- parsing

_EXPERIMENT_KEYS = {
    "strategy", "name", "variant_column", "unit_column", "granularity", "control", "split",
    "alpha", "correction", "srm_threshold", "on_rejected",
}
_METRIC_KEYS = {
    "name", "kind", "column", "numerator", "denominator", "covariate", "role", "good",
    "margin", "aggregate",
}


class _Checker:
    def __init__(self, source: str | None) -> None:
        self.where = f" in {source}" if source else ""

    def fail(self, path: str, problem: str, hint: str | None = None) -> SpecError:
        return SpecError(f"spec error{self.where}: {path}: {problem}", hint)

    def unknown(self, path: str, keys: set[str], allowed: set[str]) -> None:
        extra = sorted(keys - allowed)
        if extra:
            raise self.fail(
                path or "top level",
                f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}",
                f"allowed keys: {', '.join(sorted(allowed))}",
            )

    def string(self, path: str, v: Any, optional: bool = True) -> str | None:
        if v is None and optional:
            return None
        if not isinstance(v, str) or not v.strip():
            raise self.fail(path, f"expected a non-empty string, got {v!r}")
        return v

    def choice(self, path: str, v: Any, choices: tuple[str, ...], default: str | None) -> str:
        if v is None:
            if default is None:
                raise self.fail(path, "is required", f"one of: {', '.join(choices)}")
            return default
        if v not in choices:
            raise self.fail(path, f"{v!r} is not one of {', '.join(choices)}")
        return v

    def number(self, path: str, v: Any, default: float, lo: float, hi: float, lo_open=False,
               hi_open=False) -> float:
        if v is None:
            return default
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.fail(path, f"expected a number, got {v!r}")
        bad = (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi)
        if bad:
            lb = "(" if lo_open else "["
            hb = ")" if hi_open else "]"
            raise self.fail(path, f"{v!r} is out of range {lb}{lo:g}, {hi:g}{hb}")
        return float(v)


def parse_spec(data: Mapping[str, Any], source: str | None = None) -> ExperimentSpec:
    """Validate a spec given as a mapping (the parsed TOML/YAML, or a dict from Python)."""
    ck = _Checker(source)
    if not isinstance(data, Mapping):
        raise ck.fail("top level", f"expected a table/mapping, got {type(data).__name__}")
    ck.unknown("", set(data), {"experiment", "metrics"})
    exp = data.get("experiment", {}) or {}
    if not isinstance(exp, Mapping):
        raise ck.fail("experiment", "expected a table")
    ck.unknown("experiment", set(exp), _EXPERIMENT_KEYS)

    strategy = exp.get("strategy", "ab")
    if strategy in PLANNED_STRATEGIES:
        raise ck.fail(
            "experiment.strategy",
            f"strategy {strategy!r} is not available in this version of abkit",
            "use strategy = \"ab\" (fixed-horizon A/B analysis)",
        )
    strategy = ck.choice("experiment.strategy", strategy, STRATEGIES, "ab")
    unit_column = ck.string("experiment.unit_column", exp.get("unit_column"))
    granularity = ck.choice(
        "experiment.granularity", exp.get("granularity"), GRANULARITIES, "unit"
    )
    if granularity == "request" and unit_column is None:
        raise ck.fail(
            "experiment.granularity",
            "a per-request log needs unit_column (the randomization unit, e.g. user id)",
        )
    split = exp.get("split")
    if split is not None:
        if not isinstance(split, Mapping) or len(split) < 2:
            raise ck.fail(
                "experiment.split",
                "expected a table of at least two variants and their traffic shares",
                'e.g. split = { control = 0.5, treatment = 0.5 }',
            )
        clean = {}
        for k, v in split.items():
            clean[_label(k)] = ck.number(f"experiment.split.{k}", v, 0, 0, 1e12, lo_open=True)
        split = clean
    control = exp.get("control")
    if control is not None:
        if isinstance(control, (bool, int, float)):
            control = _label(control)
        control = str(ck.string("experiment.control", control))
        if split is not None and control not in split:
            raise ck.fail(
                "experiment.control",
                f"control {control!r} is not one of the split's variants "
                f"({', '.join(split)})",
            )

    raw_metrics = data.get("metrics", [])
    if not isinstance(raw_metrics, list):
        raise ck.fail("metrics", "expected an array of tables ([[metrics]] in TOML)")
    metrics = []
    names: set[str] = set()
    for i, m in enumerate(raw_metrics):
        metrics.append(_parse_metric(ck, f"metrics[{i}]", m, granularity))
        if metrics[-1].name in names:
            raise ck.fail(f"metrics[{i}].name", f"duplicate metric name {metrics[-1].name!r}")
        names.add(metrics[-1].name)

    return ExperimentSpec(
        metrics=tuple(metrics),
        strategy=strategy,
        name=ck.string("experiment.name", exp.get("name")),
        variant_column=ck.string("experiment.variant_column", exp.get("variant_column"))
        or "variant",
        unit_column=unit_column,
        granularity=granularity,
        control=control,
        split=split,
        alpha=ck.number("experiment.alpha", exp.get("alpha"), 0.05, 0, 0.5, lo_open=True),
        correction=ck.choice("experiment.correction", exp.get("correction"), CORRECTIONS, "holm"),
        srm_threshold=ck.number(
            "experiment.srm_threshold", exp.get("srm_threshold"), 0.001, 0, 0.5, lo_open=True
        ),
        on_rejected=ck.choice(
            "experiment.on_rejected", exp.get("on_rejected"), ON_REJECTED, "continue"
        ),
        source=source,
    )


def _label(k: Any) -> str:
    """A variant name from a spec key, spelt as the engines spell variant labels."""
    if isinstance(k, bool):
        return "true" if k else "false"
    return str(k)


def _parse_metric(ck: _Checker, path: str, m: Any, granularity: str) -> MetricSpec:
    if not isinstance(m, Mapping):
        raise ck.fail(path, "expected a table")
    ck.unknown(path, set(m), _METRIC_KEYS)
    name = ck.string(f"{path}.name", m.get("name"), optional=False)
    kind = ck.choice(f"{path}.kind", m.get("kind"), KINDS, None)
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
    margin = ck.number(f"{path}.margin", m.get("margin"), 0.0, 0.0, 10.0)
    role = ck.choice(f"{path}.role", m.get("role"), ROLES, "secondary")
    if margin and role != "guardrail":
        raise ck.fail(f"{path}.margin", "a margin only applies to role = \"guardrail\"")
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
    )


def load_spec(spec: str | Path | Mapping[str, Any] | ExperimentSpec) -> ExperimentSpec:
    """Load a spec from a ``.toml``/``.yaml``/``.yml`` file, a dict, or pass a spec through."""
    if isinstance(spec, ExperimentSpec):
        return spec
    if isinstance(spec, Mapping):
        return parse_spec(spec)
    path = Path(spec)
    if not path.is_file():
        raise SpecError(f"spec file not found: {path}", "check the path given to --spec")
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise SpecError(f"spec error in {path}: not UTF-8 text ({e.reason} at byte {e.start})")
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise SpecError(f"spec error in {path}: invalid TOML: {e}") from None
    elif suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise SpecError(f"spec error in {path}: invalid YAML: {e}") from None
        if data is None:
            data = {}
    else:
        raise SpecError(
            f"spec file {path} has an unknown extension {suffix!r}",
            "use a .toml, .yaml or .yml file",
        )
    return parse_spec(data, source=str(path))


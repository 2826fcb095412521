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

STRATEGIES = ("ab", "canary", "linear")
SEQUENTIAL_STRATEGIES = ("canary", "linear")
PLANNED_STRATEGIES = ("shadow", "bluegreen")
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
    quantile: float | None = None
    baseline: float | None = None

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
            "quantile": self.quantile,
            "baseline": self.baseline,
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
    rollout: RolloutSpec | None = None
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
        if self.rollout is not None:
            exp.update(self.rollout.raw)
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
_ROLLOUT_KEYS = {
    "timestamp_column", "look_every", "candidate", "schedule", "start", "method", "spending",
    "max_samples", "min_samples", "min_duration", "tightest_at", "instances",
}
_METRIC_KEYS = {
    "name", "kind", "column", "numerator", "denominator", "covariate", "role", "good",
    "margin", "aggregate", "quantile", "baseline",
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
    strategy = exp.get("strategy", "ab")
    sequential = strategy in SEQUENTIAL_STRATEGIES
    ck.unknown("experiment", set(exp), _EXPERIMENT_KEYS | (_ROLLOUT_KEYS if sequential else set()))

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
        metrics.append(_parse_metric(ck, f"metrics[{i}]", m, granularity, strategy))
        if metrics[-1].name in names:
            raise ck.fail(f"metrics[{i}].name", f"duplicate metric name {metrics[-1].name!r}")
        names.add(metrics[-1].name)

    rollout = None
    if sequential:
        if unit_column or granularity != "unit":
            raise ck.fail(
                "experiment.unit_column" if unit_column else "experiment.granularity",
                f"a {strategy} gate treats every row as one request (traffic is split per "
                "request); unit_column and granularity do not apply",
                "remove the key",
            )
        if not any(m.role != "secondary" for m in metrics):
            raise ck.fail("metrics", f"a {strategy} gate needs at least one metric with "
                          "role = \"guardrail\" (or \"primary\")")
        rollout, split, control = _parse_rollout(ck, exp, strategy, split, control)

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
        rollout=rollout,
        source=source,
    )


def _label(k: Any) -> str:
    """A variant name from a spec key, spelt as the engines spell variant labels."""
    if isinstance(k, bool):
        return "true" if k else "false"
    return str(k)


def _parse_metric(ck: _Checker, path: str, m: Any, granularity: str,
                  strategy: str = "ab") -> MetricSpec:
    if not isinstance(m, Mapping):
        raise ck.fail(path, "expected a table")
    ck.unknown(path, set(m), _METRIC_KEYS)
    name = ck.string(f"{path}.name", m.get("name"), optional=False)
    kind = ck.choice(f"{path}.kind", m.get("kind"), KINDS, None)
    sequential = strategy in SEQUENTIAL_STRATEGIES
    if sequential and kind not in SEQUENTIAL_KINDS:
        raise ck.fail(f"{path}.kind", f"kind {kind!r} is not available for a {strategy} gate",
                      f"use one of: {', '.join(SEQUENTIAL_KINDS)}")
    if not sequential and kind in ("count", "quantile"):
        raise ck.fail(f"{path}.kind", f"kind {kind!r} is only available for canary and "
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
        quantile=quantile,
        baseline=baseline,
    )


def _parse_rollout(ck: _Checker, exp: Mapping[str, Any], strategy: str,
                   split: Mapping[str, float] | None, control: str | None):
    """The canary/linear keys; returns (RolloutSpec, split, control)."""
    from .rollout.schedule import constant, parse_duration, parse_schedule

    raw = {k: exp[k] for k in _ROLLOUT_KEYS if k in exp}
    ts = ck.string("experiment.timestamp_column", exp.get("timestamp_column"), optional=False)

    def duration(key: str, default: float) -> float:
        if exp.get(key) is None:
            return default
        try:
            return parse_duration(exp[key])
        except ValueError as e:
            raise ck.fail(f"experiment.{key}", str(e)) from None

    def integer(key: str, default: int | None, lo: int) -> int | None:
        v = exp.get(key)
        if v is None:
            return default
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ck.fail(f"experiment.{key}", f"expected a whole number >= {lo}, got {v!r}")
        return v

    look = duration("look_every", 60.0)
    if control is None:
        raise ck.fail("experiment.control", f"a {strategy} gate needs control (the current "
                      "model's variant label)")
    candidate = exp.get("candidate")
    if candidate is not None:
        candidate = str(ck.string("experiment.candidate", _label(candidate)))
    if split is not None:
        others = [v for v in split if v != control]
        if len(others) != 1:
            raise ck.fail("experiment.split", f"a {strategy} gate compares one candidate with "
                          f"the control; split names {len(split)} variants")
        if candidate is not None and candidate != others[0]:
            raise ck.fail("experiment.candidate", f"{candidate!r} is not in split")
        candidate = others[0]
    if candidate is None:
        raise ck.fail("experiment.candidate", "name the candidate variant (candidate = "
                      "\"...\") or give split = { <control> = ..., <candidate> = ... }")
    if candidate == control:
        raise ck.fail("experiment.candidate", "the candidate must differ from the control")
    instances = integer("instances", None, 1)
    if exp.get("schedule") is not None:
        try:
            schedule = parse_schedule(exp["schedule"], instances)
        except ValueError as e:
            raise ck.fail("experiment.schedule", str(e)) from None
    elif split is not None:
        total = sum(split.values())
        schedule = constant(split[candidate] / total)
    else:
        raise ck.fail("experiment.schedule", f"a {strategy} gate needs the intended split: "
                      "split = { ... } (constant) or schedule = ...",
                      'e.g. schedule = "Linear10PercentEvery1Minute" or schedule = '
                      '{ steps = [0.1, 0.3, 0.6], wait = "10m" }')
    if split is None:
        split = {control: 1.0 - schedule.steps[0][1], candidate: schedule.steps[0][1]}
        if split[control] <= 0:
            split = {control: 0.5, candidate: 0.5}  # all-at-once: no intended control share
    if not any(0 < p < 1 for _, p in schedule.steps):
        raise ck.fail("experiment.schedule", "the schedule never splits traffic between "
                      "control and candidate, so there is nothing to compare",
                      "an all-at-once switch is a blue/green deployment")
    start = exp.get("start")
    if start is not None:
        start = str(ck.string("experiment.start", str(start)))
        import datetime as _dt

        try:
            _dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            raise ck.fail("experiment.start", f"{start!r} is not an ISO 8601 timestamp",
                          'e.g. start = "2026-11-20T10:00:00Z"') from None
    method = ck.choice("experiment.method", exp.get("method"), METHODS, "cs")
    max_samples = integer("max_samples", None, 2)
    if method == "gst" and max_samples is None:
        raise ck.fail("experiment.max_samples", "a group sequential design (method = \"gst\") "
                      "needs max_samples: the planned number of requests (both variants) at "
                      "the final look, which sets each look's information fraction")
    rollout = RolloutSpec(
        timestamp_column=str(ts),
        look_every=look,
        candidate=candidate,
        schedule=schedule,
        start=start,
        method=method,
        spending=ck.choice("experiment.spending", exp.get("spending"), SPENDINGS,
                           "obrien-fleming"),
        max_samples=max_samples,
        min_samples=int(integer("min_samples", 100, 0) or 0),
        min_duration=duration("min_duration", 0.0) if exp.get("min_duration") != 0 else 0.0,
        tightest_at=int(integer("tightest_at", 10000, 2) or 10000),
        raw=raw,
    )
    return rollout, split, control


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


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
    shadow: ShadowSpec | None = None
    bluegreen: BlueGreenSpec | None = None
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
        for part in (self.rollout, self.shadow, self.bluegreen):
            if part is not None:
                exp.update(part.raw)
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
_SHADOW_KEYS = {
    "input_format", "live", "candidate", "labels", "threshold", "features", "categorical",
    "output_field", "id_column", "score_column", "label_column", "latency_column",
    "error_column", "timestamp_column", "group", "cloudwatch", "endpoint_config",
    "min_labelled_pairs", "output_kind",
}
_BLUEGREEN_KEYS = {
    "timestamp_column", "blue", "green", "switch_at", "window", "exclude", "look_every",
    "tightest_at", "match", "early_reference", "min_rows",
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
    extra = {"shadow": _SHADOW_KEYS, "bluegreen": _BLUEGREEN_KEYS}.get(
        strategy, _ROLLOUT_KEYS if sequential else set())
    ck.unknown("experiment", set(exp), _EXPERIMENT_KEYS | extra)
    if strategy == "shadow":
        return _parse_shadow(ck, exp, data, source)

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
    if strategy == "bluegreen" and unit_column:
        raise ck.fail("experiment.unit_column", "a blue/green analysis compares requests "
                      "before and after the switch; unit_column does not apply")
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
    bluegreen = None
    if strategy == "bluegreen":
        bluegreen = _parse_bluegreen(ck, exp)
        control = bluegreen.blue
        split = None
        if not metrics:
            raise ck.fail("metrics", "a blue/green analysis needs at least one metric")

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
        bluegreen=bluegreen,
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

    raw = {k: v for k, v in exp.items() if k in _ROLLOUT_KEYS}  # in the order written
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
        # default: 10,000 rows, or an eighth of the planned rows (bench/SEQUENTIAL.md: then
        # within 1 % of an mSPRT tuned to the very effect, with unchanged A/A rates)
        tightest_at=int(integer("tightest_at", max(2, max_samples // 8) if max_samples
                                else 10000, 2) or 10000),
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



def _strings(ck: _Checker, path: str, v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise ck.fail(path, "expected a list of non-empty strings")
    if len(set(v)) != len(v):
        raise ck.fail(path, "names must be unique")
    return tuple(v)


def _parse_shadow(ck: _Checker, exp: Mapping[str, Any], data: Mapping[str, Any],
                  source: str | None) -> ExperimentSpec:
    raw = {k: v for k, v in exp.items() if k in _SHADOW_KEYS}
    fmt = ck.choice("experiment.input_format", exp.get("input_format"), INPUT_FORMATS, "log")
    live = ck.string("experiment.live", exp.get("live"), optional=False)
    cand = ck.string("experiment.candidate", exp.get("candidate"), optional=False)
    if live == cand:
        raise ck.fail("experiment.candidate", "live and candidate must differ")
    features = _strings(ck, "experiment.features", exp.get("features"))
    categorical = _strings(ck, "experiment.categorical", exp.get("categorical"))
    unknown = [c for c in categorical if c not in features]
    if unknown:
        raise ck.fail("experiment.categorical", f"{', '.join(unknown)} not in features")
    group = ck.string("experiment.group", exp.get("group"))
    if group is not None and fmt == "sagemaker-capture" and group not in features:
        raise ck.fail("experiment.group", f"{group!r} is not one of the features",
                      "the bias group must be an input feature of the captured requests")
    mlp = exp.get("min_labelled_pairs", 200)
    if isinstance(mlp, bool) or not isinstance(mlp, int) or mlp < 2:
        raise ck.fail("experiment.min_labelled_pairs", f"expected a whole number >= 2, got {mlp!r}")
    shadow = ShadowSpec(
        input_format=fmt, live=str(live), candidate=str(cand),
        labels=ck.string("experiment.labels", exp.get("labels")),
        threshold=ck.number("experiment.threshold", exp.get("threshold"), 0.5, 0, 1),
        features=features, categorical=categorical,
        output_field=ck.string("experiment.output_field", exp.get("output_field")),
        id_column=ck.string("experiment.id_column", exp.get("id_column")) or "request_id",
        score_column=ck.string("experiment.score_column", exp.get("score_column")) or "score",
        label_column=ck.string("experiment.label_column", exp.get("label_column")),
        latency_column=ck.string("experiment.latency_column", exp.get("latency_column")),
        error_column=ck.string("experiment.error_column", exp.get("error_column")),
        timestamp_column=ck.string("experiment.timestamp_column", exp.get("timestamp_column")),
        group=group,
        cloudwatch=ck.string("experiment.cloudwatch", exp.get("cloudwatch")),
        endpoint_config=ck.string("experiment.endpoint_config", exp.get("endpoint_config")),
        min_labelled_pairs=mlp,
        output_kind=ck.choice("experiment.output_kind", exp.get("output_kind"),
                              ("probability", "regression"), "probability"),
        base=str(Path(source).parent) if source else None,
        raw=raw,
    )
    raw_metrics = data.get("metrics", [])
    if not isinstance(raw_metrics, list):
        raise ck.fail("metrics", "expected an array of tables ([[metrics]] in TOML)")
    metrics = []
    for i, m in enumerate(raw_metrics):
        path = f"metrics[{i}]"
        if not isinstance(m, Mapping):
            raise ck.fail(path, "expected a table")
        ck.unknown(path, set(m), {"name", "role", "margin", "kind", "good"})
        name = ck.string(f"{path}.name", m.get("name"), optional=False)
        if name not in SHADOW_METRICS:
            raise ck.fail(f"{path}.name", f"{name!r} is not a shadow-test metric",
                          f"one of: {', '.join(SHADOW_METRICS)}")
        kind, good = SHADOW_METRICS[str(name)]
        if kind in ("quality", "bias") and exp.get("output_kind") == "regression":
            raise ck.fail(f"{path}.name", f"{name} needs probability outputs and 0/1 labels; "
                          "with output_kind = \"regression\" abkit compares score "
                          "differences, latency and errors")
        if m.get("kind") not in (None, kind) or m.get("good") not in (None, good):
            raise ck.fail(path, f"{name} is kind = {kind!r}, good = {good!r}; leave them out")
        if any(x.name == name for x in metrics):
            raise ck.fail(f"{path}.name", f"duplicate metric name {name!r}")
        role = ck.choice(f"{path}.role", m.get("role"), ("guardrail", "secondary"), "guardrail")
        margin = ck.number(f"{path}.margin", m.get("margin"), 0.0, 0.0, 10.0)
        metrics.append(MetricSpec(name=str(name), kind=kind, role=role, good=good,
                                  margin=margin))
    return ExperimentSpec(
        metrics=tuple(metrics), strategy="shadow",
        name=ck.string("experiment.name", exp.get("name")),
        variant_column=ck.string("experiment.variant_column", exp.get("variant_column"))
        or "variant",
        control=str(live),
        alpha=ck.number("experiment.alpha", exp.get("alpha"), 0.05, 0, 0.5, lo_open=True),
        srm_threshold=ck.number("experiment.srm_threshold", exp.get("srm_threshold"), 0.001, 0,
                                0.5, lo_open=True),
        on_rejected=ck.choice("experiment.on_rejected", exp.get("on_rejected"), ON_REJECTED,
                              "continue"),
        shadow=shadow,
        source=source,
    )


def _parse_bluegreen(ck: _Checker, exp: Mapping[str, Any]) -> BlueGreenSpec:
    from .rollout.schedule import parse_duration

    raw = {k: v for k, v in exp.items() if k in _BLUEGREEN_KEYS}

    def duration(key: str, default: float | None) -> float | None:
        if exp.get(key) is None:
            return default
        if exp[key] == 0 and key == "exclude":
            return 0.0
        try:
            return parse_duration(exp[key])
        except ValueError as e:
            raise ck.fail(f"experiment.{key}", str(e)) from None

    blue = exp.get("blue", exp.get("control"))
    blue = ck.string("experiment.blue", None if blue is None else _label(blue), optional=False)
    green = ck.string("experiment.green", None if exp.get("green") is None
                      else _label(exp["green"]), optional=False)
    if blue == green:
        raise ck.fail("experiment.green", "blue and green must differ")
    switch = exp.get("switch_at")
    if switch is not None:
        import datetime as _dt

        try:
            _dt.datetime.fromisoformat(str(switch).replace("Z", "+00:00"))
        except ValueError:
            raise ck.fail("experiment.switch_at", f"{switch!r} is not an ISO 8601 timestamp",
                          'e.g. switch_at = "2026-11-20T12:00:00Z"') from None
    tight = exp.get("tightest_at", 10000)
    if isinstance(tight, bool) or not isinstance(tight, int) or tight < 2:
        raise ck.fail("experiment.tightest_at", f"expected a whole number >= 2, got {tight!r}")
    return BlueGreenSpec(
        timestamp_column=str(ck.string("experiment.timestamp_column",
                                       exp.get("timestamp_column"), optional=False)),
        blue=str(blue), green=str(green),
        switch_at=None if switch is None else str(switch),
        window=duration("window", None), exclude=duration("exclude", 0.0) or 0.0,
        look_every=duration("look_every", 60.0) or 60.0, tightest_at=tight,
        match=ck.choice("experiment.match", exp.get("match"),
                        ("auto", "hour-of-day", "hour-of-week"), "auto"),
        early_reference=ck.choice("experiment.early_reference", exp.get("early_reference"),
                                  ("auto", "matched-hours", "before-window"), "auto"),
        min_rows=int(exp.get("min_rows", 30)) if isinstance(exp.get("min_rows", 30), int)
        and not isinstance(exp.get("min_rows", 30), bool) and exp.get("min_rows", 30) >= 2
        else _bad_min_rows(ck, exp.get("min_rows")),
        raw=raw,
    )


def _bad_min_rows(ck: _Checker, v: Any) -> int:
    raise ck.fail("experiment.min_rows", f"expected a whole number >= 2, got {v!r}")

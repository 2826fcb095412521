"""The whole-experiment :class:`ExperimentSpec`, ``parse_spec`` (the top-level and A/B keys,
dispatching to the per-strategy parsers) and the shadow-test parser ``_parse_shadow``.

They share one module because ``ExperimentSpec.with_`` calls ``parse_spec`` and the shadow
parser builds an ``ExperimentSpec`` itself; apart they would import each other.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..core.columns import CAPTURE_RESERVED
from .bounds import check_depth, cut, show
from .checker import _Checker, _label, _strings
from .model import (
    CORRECTIONS,
    GRANULARITIES,
    INPUT_FORMATS,
    ON_REJECTED,
    PLANNED_STRATEGIES,
    SEQUENTIAL_STRATEGIES,
    SHADOW_METRICS,
    STRATEGIES,
    BlueGreenSpec,
    MetricSpec,
    RolloutSpec,
    ShadowSpec,
)
from .parse_bluegreen import _BLUEGREEN_KEYS, _parse_bluegreen
from .parse_metrics import _parse_metric
from .parse_rollout import _ROLLOUT_KEYS, _parse_rollout


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
    delimiter: str | None = None  # CSV field separator (None: "," for .csv, tab for .tsv)
    decimal: str | None = None  # CSV decimal mark ("." or ","; None: ".")
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
            "delimiter": self.delimiter,
            "decimal": self.decimal,
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


_EXPERIMENT_KEYS = {
    "strategy", "name", "variant_column", "unit_column", "granularity", "control", "split",
    "alpha", "correction", "srm_threshold", "on_rejected", "delimiter", "decimal",
}
_SHADOW_KEYS = {
    "input_format", "live", "candidate", "labels", "threshold", "features", "categorical",
    "output_field", "id_column", "score_column", "label_column", "latency_column",
    "error_column", "timestamp_column", "group", "cloudwatch", "endpoint_config",
    "min_labelled_pairs", "output_kind",
}


def parse_spec(data: Mapping[str, Any], source: str | None = None) -> ExperimentSpec:
    """Validate a spec given as a mapping (the parsed TOML/YAML, or a dict from Python)."""
    ck = _Checker(source)
    if not isinstance(data, Mapping):
        raise ck.fail("top level", f"expected a table/mapping, got {type(data).__name__}")
    check_depth(data, source)
    exp = data.get("experiment", {}) or {}
    if not isinstance(exp, Mapping):
        raise ck.fail("experiment", f"expected a table, got {show(exp)}")
    # the strategy decides which keys are allowed: a misspelt one is reported as that,
    # before the key errors it would cause
    strategy = exp.get("strategy", "ab")
    if strategy not in PLANNED_STRATEGIES:
        strategy = ck.choice("experiment.strategy", strategy, STRATEGIES, "ab")
    ck.unknown("", set(data), {"experiment", "metrics"})
    sequential = strategy in SEQUENTIAL_STRATEGIES
    extra = {"shadow": _SHADOW_KEYS, "bluegreen": _BLUEGREEN_KEYS}.get(
        strategy, _ROLLOUT_KEYS if sequential else set())
    ck.unknown("experiment", set(exp), _EXPERIMENT_KEYS | extra)
    if strategy == "shadow":
        return _parse_shadow(ck, exp, data, source)

    if strategy in PLANNED_STRATEGIES:
        raise ck.fail(
            "experiment.strategy",
            f"strategy {show(strategy)} is not available in this version of abkit",
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
            clean[_label(k)] = ck.number(f"experiment.split.{_label(k)}", v, 0, 0, 1e12,
                                         lo_open=True)
        total = math.fsum(clean.values())
        if abs(total - 1.0) > 1e-9:
            raise ck.fail("experiment.split", f"the shares sum to {total:.10g}, not 1",
                          "write each variant's share of the traffic as a fraction, the "
                          f"shares summing to 1: split = {{ {_normalised(clean, total)} }}")
        split = clean
    control = exp.get("control")
    if control is not None:
        if isinstance(control, (bool, int, float)):
            control = _label(control)
        control = str(ck.string("experiment.control", control))
        if split is not None and control not in split:
            raise ck.fail(
                "experiment.control",
                f"control {show(control)} is not one of the split's variants "
                f"({cut(', '.join(split))})",
                "control names the split's key of the current model's variant",
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
            raise ck.fail(f"metrics[{i}].name",
                          f"duplicate metric name {show(metrics[-1].name)}")
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
        **_csv_options(ck, exp),
        rollout=rollout,
        bluegreen=bluegreen,
        source=source,
    )


def _csv_options(ck: _Checker, exp: Mapping[str, Any]) -> dict[str, str | None]:
    """``experiment.delimiter`` and ``experiment.decimal`` (the spec keys of ``--delimiter``
    and ``--decimal``; the command-line options win)."""
    delimiter = ck.string("experiment.delimiter", exp.get("delimiter"))
    if delimiter is not None and (len(delimiter) != 1 or delimiter in "\"\r\n"):
        raise ck.fail("experiment.delimiter", "must be one character other than a quote or "
                      f"a newline, got {show(delimiter)}", 'e.g. delimiter = ";"')
    decimal = None
    if exp.get("decimal") is not None:
        decimal = ck.choice("experiment.decimal", exp.get("decimal"), (".", ","), ".")
    if decimal == "," and (delimiter or ",") == ",":
        raise ck.fail("experiment.decimal", 'decimal = "," needs another delimiter (a comma '
                      "cannot separate both fields and decimals)",
                      'e.g. delimiter = ";" and decimal = ","')
    return {"delimiter": delimiter, "decimal": decimal}


def _normalised(split: dict[str, float], total: float) -> str:
    """The shares as fractions of ``total``, rounded to 4 decimals and summing to 1 exactly
    (the last takes the rounding), for the hint of a split that does not sum to 1."""
    keys = list(split)
    shares = [round(split[k] / total, 4) for k in keys[:-1]]
    shares.append(round(1.0 - math.fsum(shares), 4))
    return cut(", ".join(f"{k} = {v:g}" for k, v in zip(keys, shares)), 160)


def _parse_shadow(ck: _Checker, exp: Mapping[str, Any], data: Mapping[str, Any],
                  source: str | None) -> ExperimentSpec:
    raw = {k: v for k, v in exp.items() if k in _SHADOW_KEYS}
    fmt = ck.choice("experiment.input_format", exp.get("input_format"), INPUT_FORMATS, "log")
    live = ck.string("experiment.live", exp.get("live"), optional=False)
    cand = ck.string("experiment.candidate", exp.get("candidate"), optional=False)
    if live == cand:
        raise ck.fail("experiment.candidate", "live and candidate must differ")
    features = _strings(ck, "experiment.features", exp.get("features"))
    reserved = [f for f in features if f in CAPTURE_RESERVED]
    if reserved and fmt == "sagemaker-capture":
        raise ck.fail("experiment.features", f"{show(reserved[0])} is the name of a column "
                      "abkit gives each capture record or pair",
                      "rename the feature: features name the CSV input's fields in order, "
                      "so any other name reads the same field")
    categorical = _strings(ck, "experiment.categorical", exp.get("categorical"))
    unknown = [c for c in categorical if c not in features]
    if unknown:
        raise ck.fail("experiment.categorical", f"{', '.join(unknown)} not in features")
    group = ck.string("experiment.group", exp.get("group"))
    if group is not None and fmt == "sagemaker-capture" and group not in features:
        raise ck.fail("experiment.group", f"{show(group)} is not one of the features",
                      "the bias group must be an input feature of the captured requests")
    mlp = int(ck.integer("experiment.min_labelled_pairs", exp.get("min_labelled_pairs"), 200, 2)
              or 200)
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
            raise ck.fail(f"{path}.name", f"{show(name)} is not a shadow-test metric",
                          f"one of: {', '.join(SHADOW_METRICS)}")
        kind, good = SHADOW_METRICS[str(name)]
        if kind in ("quality", "bias") and exp.get("output_kind") == "regression":
            raise ck.fail(f"{path}.name", f"{name} needs probability outputs and 0/1 labels; "
                          "with output_kind = \"regression\" abkit compares score "
                          "differences, latency and errors")
        if m.get("kind") not in (None, kind) or m.get("good") not in (None, good):
            raise ck.fail(path, f"{name} is kind = {kind!r}, good = {good!r}; leave them out")
        if any(x.name == name for x in metrics):
            raise ck.fail(f"{path}.name", f"duplicate metric name {show(name)}")
        role = ck.choice(f"{path}.role", m.get("role"), ("guardrail", "secondary"), "guardrail")
        margin = ck.margin(f"{path}.margin", m.get("margin"))
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
        **_csv_options(ck, exp),
        shadow=shadow,
        source=source,
    )

"""Spec parsing: the issue's spec works as written; every bad spec is one clear SpecError."""

from __future__ import annotations

import pytest

from abkit.errors import SpecError
from abkit.spec import load_spec, parse_spec

ISSUE_SPEC = '''
[experiment]
strategy = "ab"
variant_column = "variant"
unit_column = "unit_id"
control = "control"
split = { control = 0.5, treatment = 0.5 }
alpha = 0.05
correction = "holm"

[[metrics]]
name = "conversion"
kind = "proportion"
column = "converted"
role = "primary"
good = "increase"

[[metrics]]
name = "revenue"
kind = "mean"
column = "revenue"
covariate = "pre_revenue"
role = "primary"
good = "increase"

[[metrics]]
name = "ctr"
kind = "ratio"
numerator = "clicks"
denominator = "sessions"
role = "secondary"
good = "increase"

[[metrics]]
name = "latency"
kind = "mean"
column = "latency_ms"
role = "guardrail"
good = "decrease"
margin = 0.02
'''


def test_issue_spec_parses_as_written(tmp_path):
    p = tmp_path / "ab.toml"
    p.write_text(ISSUE_SPEC)
    spec = load_spec(p)
    assert [m.name for m in spec.metrics] == ["conversion", "revenue", "ctr", "latency"]
    assert spec.metrics[1].covariate == "pre_revenue"
    assert spec.metrics[3].margin == 0.02 and spec.metrics[3].good == "decrease"
    assert spec.split == {"control": 0.5, "treatment": 0.5}
    assert spec.correction == "holm" and spec.alpha == 0.05
    assert spec.digest().startswith("sha256:")


def test_yaml_equivalent(tmp_path):
    import tomllib

    import yaml

    p = tmp_path / "ab.yaml"
    p.write_text(yaml.safe_dump(tomllib.loads(ISSUE_SPEC)))
    t = tmp_path / "ab.toml"
    t.write_text(ISSUE_SPEC)
    assert load_spec(p).to_dict() == load_spec(t).to_dict()


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda d: d["experiment"].update(colour="red"), "unknown key 'colour'"),
        (lambda d: d["metrics"][0].update(kindd="mean"), "metrics[0]: unknown key 'kindd'"),
        (lambda d: d.update(extra=1), "unknown key 'extra'"),
        (lambda d: d["experiment"].update(alpha=0.7), "experiment.alpha: 0.7 is out of range"),
        (lambda d: d["experiment"].update(alpha=0), "experiment.alpha: 0 is out of range"),
        (lambda d: d["experiment"].update(alpha="0.05"), "expected a number"),
        (lambda d: d["metrics"][3].update(margin=-0.1), "metrics[3].margin: -0.1 is out of range"),
        (lambda d: d["metrics"][0].update(margin=0.1), "only applies to role"),
        (lambda d: d["metrics"][0].update(kind="median"), "'median' is not one of"),
        (lambda d: d["metrics"][0].pop("column"), "needs column"),
        (lambda d: d["metrics"][2].pop("denominator"), "needs numerator and denominator"),
        (lambda d: d["metrics"][1].update(name="conversion"), "duplicate metric name"),
        (lambda d: d["experiment"].update(control="ctrl"), "not one of the split's variants"),
        (lambda d: d["experiment"].update(correction="sidak"), "'sidak' is not one of"),
        (lambda d: d["experiment"].update(split={"control": 1.0}), "at least two variants"),
        (lambda d: d["experiment"].update(split={"control": 0.5, "treatment": -1}),
         "out of range"),
        (lambda d: d["experiment"].update(granularity="request", unit_column=None),
         "needs unit_column"),
        (lambda d: d["experiment"].update(strategy="shadow"), "experiment.live"),
        (lambda d: d["metrics"][0].update(good="up"), "'up' is not one of"),
    ],
)
def test_bad_specs(ab_spec, mutate, needle):
    mutate(ab_spec)
    ab_spec["experiment"] = {k: v for k, v in ab_spec["experiment"].items() if v is not None}
    with pytest.raises(SpecError) as e:
        parse_spec(ab_spec, source="spec.toml")
    assert needle in str(e.value)
    assert "spec.toml" in str(e.value)


def test_toml_syntax_error_names_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[experiment\nstrategy = 'ab'\n")
    with pytest.raises(SpecError, match="bad.toml: invalid TOML"):
        load_spec(p)


def test_yaml_python_tags_are_refused(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("experiment: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(SpecError, match="invalid YAML"):
        load_spec(p)


def test_missing_and_unknown_extension(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "nope.toml")
    p = tmp_path / "spec.ini"
    p.write_text("x")
    with pytest.raises(SpecError, match="unknown extension"):
        load_spec(p)


def test_defaults():
    spec = parse_spec({"metrics": [{"name": "m", "kind": "mean", "column": "x"}]})
    assert spec.variant_column == "variant" and spec.alpha == 0.05
    assert spec.correction == "holm" and spec.srm_threshold == 0.001
    assert spec.metrics[0].role == "secondary" and spec.metrics[0].good == "increase"

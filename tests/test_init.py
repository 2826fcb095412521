"""``abkit init LOGS``: a starter spec that states what it read and leaves the rest blank."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from abkit.cli import main
from abkit.spec import load_spec

DATA = Path(__file__).resolve().parents[1] / "data"


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _filled(text: str) -> str:
    """The user's edit: a direction for every metric; a margin for each guardrail, none
    for a secondary metric."""
    text = text.replace('good = "FILL IN"', 'good = "decrease"')
    if 'role = "guardrail"' in text:
        return text.replace('margin = "FILL IN"', "margin = 0.5")
    return "\n".join(line for line in text.splitlines() if not line.startswith("margin = "))


@pytest.mark.parametrize("log, strategy", [
    ("ab_example.csv", "ab"), ("canary.csv", "canary"), ("linear.csv.gz", "linear"),
    ("bluegreen_smoke.csv.gz", "bluegreen")])
def test_blanks_are_reported_until_filled_then_the_spec_runs(tmp_path, capsys, log, strategy):
    spec = tmp_path / "spec.toml"
    extra = ["--schedule", "Linear10PercentEvery2Minutes"] if strategy == "linear" else []
    rc, _, err = run(capsys, "init", DATA / log, "--strategy", strategy, "-o", spec, *extra)
    assert rc == 0 and "fill in its blanks" in err
    text = spec.read_text()
    assert 'good = "FILL IN"' in text and 'margin = "FILL IN"' in text
    # validate-spec names the first blank (never a guess of a direction or a margin)
    rc, _, err = run(capsys, "validate-spec", spec)
    assert rc == 2 and re.search(r"metrics\[0\]\.(good|margin).*blank left by `abkit init`", err)
    spec.write_text(_filled(text))
    rc, out, err = run(capsys, "validate-spec", spec)
    assert rc == 0, err
    assert load_spec(spec).strategy == strategy
    rc, out, err = run(capsys, "report", DATA / log, "--spec", spec)
    assert rc == 0, err


def test_what_it_reads_off_the_data(capsys):
    rc, out, _ = run(capsys, "init", DATA / "ab_example.csv")
    assert rc == 0
    assert 'variant_column = "variant"' in out and 'control = "control"' in out
    assert 'unit_column = "unit_id"' in out and 'granularity = "unit"' in out
    # the 1-row typo arm is named and left out of the split
    assert "'treatmnet' (1 row) is left out" in out
    assert "split = { control = 0.5042, treatment = 0.4958 }" in out
    kinds = dict(re.findall(r'name = "(\w+)"\nkind = "(\w+)"', out))
    assert kinds["converted"] == "proportion" and kinds["revenue"] == "mean"
    assert "unit_id" not in kinds


def test_split_from_an_endpoint_config_and_schedule_from_sagemaker(tmp_path, capsys):
    cfg = tmp_path / "endpoint.json"
    cfg.write_text(json.dumps({"ProductionVariants": [
        {"VariantName": "baseline", "InitialVariantWeight": 9},
        {"VariantName": "canary", "InitialVariantWeight": 1}]}))
    rc, out, _ = run(capsys, "init", DATA / "canary.csv", "--strategy", "canary",
                     "--endpoint-config", cfg)
    assert rc == 0 and "split = { baseline = 0.9, canary = 0.1 }" in out
    assert f"the production weights of {cfg}" in out
    sched = tmp_path / "deploy.json"
    sched.write_text(json.dumps({"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20},
        "WaitIntervalInSeconds": 600}}}))
    rc, out, _ = run(capsys, "init", DATA / "linear.csv.gz", "--strategy", "linear",
                     "--schedule", sched)
    assert rc == 0 and '"Type" = "LINEAR"' not in out and "schedule = {" in out
    spec = tmp_path / "s.toml"
    spec.write_text(_filled(out))
    steps = load_spec(spec).rollout.schedule.steps
    assert [s for _, s in steps] == [0.2, 0.4, 0.6, 0.8, 1.0]


def test_never_overwrites(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text("mine")
    rc, _, err = run(capsys, "init", DATA / "ab_example.csv", "-o", spec)
    assert rc == 2 and "does not overwrite" in err and spec.read_text() == "mine"
    log = tmp_path / "log.csv"
    log.write_bytes((DATA / "ab_example.csv").read_bytes())
    before = log.read_bytes()
    rc, _, err = run(capsys, "init", log, "-o", log)
    assert rc == 2 and "destroy the input" in err and log.read_bytes() == before


def test_unusable_logs_are_exit_2(tmp_path, capsys):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    rc, _, err = run(capsys, "init", p)
    assert rc == 2 and "no variant column found" in err
    rc, _, err = run(capsys, "init", p, "--variant-col", "a")
    assert rc == 2 and "holds 1 label" in err


def test_a_linear_spec_without_a_schedule_leaves_it_blank(tmp_path, capsys):
    rc, out, _ = run(capsys, "init", DATA / "linear.csv.gz", "--strategy", "linear")
    assert rc == 0 and 'schedule = "FILL IN"' in out
    spec = tmp_path / "s.toml"
    spec.write_text(_filled(out))
    rc, _, err = run(capsys, "validate-spec", spec)
    assert rc == 2 and "experiment.schedule" in err and "blank" in err

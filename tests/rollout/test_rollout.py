"""Canary and linear gates: spec, schedules, replay, accounting, monitor, report, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import abkit
from abkit.cli import main
from abkit.datasets import make_rollout_log, write_log
from abkit.errors import SpecError
from abkit.monitor import RolloutMonitor
from abkit.spec.schedule import codedeploy_schedule, parse_duration, parse_schedule
from abkit.spec import parse_spec

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DATA = ROOT / "data"

ISSUE_SPEC = {
    "experiment": {
        "strategy": "canary", "variant_column": "variant", "control": "baseline",
        "timestamp_column": "ts", "look_every": "1m",
        "split": {"baseline": 0.9, "canary": 0.1}, "alpha": 0.05,
    },
    "metrics": [
        {"name": "error_rate", "kind": "proportion", "column": "error", "role": "guardrail",
         "good": "decrease", "margin": 0.0},
        {"name": "latency", "kind": "mean", "column": "latency_ms", "role": "guardrail",
         "good": "decrease", "margin": 0.0},
    ],
}


def linear_spec(**exp):
    e = {"strategy": "linear", "control": "current", "candidate": "candidate",
         "timestamp_column": "ts", "look_every": "30s",
         "schedule": "Linear10PercentEvery1Minute", "min_samples": 500}
    e.update(exp)
    return {"experiment": e, "metrics": [
        {"name": "error_rate", "kind": "proportion", "column": "error", "role": "guardrail",
         "good": "decrease", "margin": 0.5},
        {"name": "latency", "kind": "mean", "column": "latency_ms", "role": "guardrail",
         "good": "decrease", "margin": 0.05},
    ]}


# ---------------------------------------------------------------------- spec and schedules


def test_issue_spec_parses_as_dict_and_file(tmp_path):
    sp = parse_spec(ISSUE_SPEC)
    assert sp.strategy == "canary" and sp.rollout.look_every == 60.0
    assert sp.rollout.candidate == "canary"
    assert sp.rollout.schedule.steps == ((0.0, 0.1),)
    f = tmp_path / "canary.toml"
    f.write_text((DATA / "canary.toml").read_text())
    assert abkit.load_spec(f).rollout.look_every == 60.0


@pytest.mark.parametrize("text,secs", [("90s", 90), ("5m", 300), ("1h30m", 5400),
                                       ("250ms", 0.25), (30, 30), ("2h", 7200)])
def test_durations(text, secs):
    assert parse_duration(text) == secs


@pytest.mark.parametrize("bad", ["5 minutes", "", "-1m", 0, True, "m5", "2 h", "1 min"])
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_codedeploy_names():
    s = codedeploy_schedule("CodeDeployDefault.LambdaCanary10Percent5Minutes")
    assert s.steps == ((0.0, 0.1), (300.0, 1.0))
    s = codedeploy_schedule("Linear10PercentEvery1Minute")
    assert [p for _, p in s.steps] == pytest.approx([0.1 * i for i in range(1, 11)])
    assert s.steps[-1] == (540.0, 1.0)
    s = codedeploy_schedule("ECSLinear10PercentEvery3Minutes")
    assert s.steps[1] == (180.0, 0.2)
    assert codedeploy_schedule("CodeDeployDefault.AllAtOnce").steps == ((0.0, 1.0),)
    with pytest.raises(ValueError, match="CodeDeploy"):
        codedeploy_schedule("Canary10PercentFast")


def test_sagemaker_traffic_routing():
    s = parse_schedule({"Type": "LINEAR", "WaitIntervalInSeconds": 600,
                        "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20}})
    assert s.steps == ((0.0, 0.2), (600.0, 0.4), (1200.0, 0.6), (1800.0, 0.8), (2400.0, 1.0))
    s = parse_schedule({"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "CANARY", "WaitIntervalInSeconds": 300,
        "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}}}, instances=4)
    assert s.steps == ((0.0, 0.25), (300.0, 1.0))
    with pytest.raises(ValueError, match="instances"):
        parse_schedule({"Type": "CANARY", "WaitIntervalInSeconds": 300,
                        "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}})
    s = parse_schedule({"steps": [0.05, 0.25, 0.5], "wait": "10m"})
    assert s.steps == ((0.0, 0.05), (600.0, 0.25), (1200.0, 0.5), (1800.0, 1.0))


@pytest.mark.parametrize("change,match", [
    ({"timestamp_column": None}, "timestamp_column"),
    ({"look_every": "soon"}, "look_every"),
    ({"split": {"baseline": 0.8, "canary": 0.1, "other": 0.1}}, "one candidate"),
    ({"schedule": "AllAtOnce", "split": None, "candidate": "canary"}, "never splits"),
    ({"unit_column": "user"}, "every row as one request"),
    ({"method": "gst"}, "max_samples"),
    ({"schedule": {"steps": [0.5, 0.2], "wait": "1m"}}, "increase"),
])
def test_rollout_spec_errors(change, match):
    exp = {**ISSUE_SPEC["experiment"], **change}
    exp = {k: v for k, v in exp.items() if v is not None}
    with pytest.raises(SpecError, match=match):
        parse_spec({"experiment": exp, "metrics": ISSUE_SPEC["metrics"]})


def test_sequential_kinds_only_in_rollouts():
    with pytest.raises(SpecError, match="only available for canary"):
        parse_spec({"metrics": [{"name": "x", "kind": "count", "column": "x"}]})
    with pytest.raises(SpecError, match="not available for a canary"):
        parse_spec({"experiment": ISSUE_SPEC["experiment"],
                    "metrics": [{"name": "r", "kind": "ratio", "numerator": "a",
                                 "denominator": "b", "role": "guardrail"}]})


# ---------------------------------------------------------------------- replay on samples


def test_canary_sample_rolls_back(validate_report):
    rep = abkit.analyze(DATA / "canary.csv", DATA / "canary.toml")
    doc = rep.to_dict()
    validate_report(doc)
    assert doc["decision"] == "no-go"
    k = doc["decided_at_look"]
    assert isinstance(k, int) and 1 <= k < len(doc["timeline"])
    assert doc["timeline"][k - 1]["signal"] == "no-go"
    assert all(x["decision"] == "inconclusive" for x in doc["timeline"][:k - 1])
    assert all(x["decision"] == "no-go" for x in doc["timeline"][k - 1:])  # it stands
    assert doc["decided_at"] == doc["timeline"][k - 1]["at"]
    assert doc["rollout"]["stopped_at_step"] == 1
    assert "roll back" in doc["reasons"][0]
    # accounting: the three dirty rows, each with its reason
    assert doc["data"]["rows_rejected"] == {"bad_timestamp": 1, "missing_variant": 1,
                                            "non_numeric_value": 1}
    d = doc["data"]
    assert d["rows_read"] == d["rows_used"] + 3
    entry = doc["timeline"][0]
    assert set(entry) >= {"at", "n", "decision", "metrics"}
    assert set(entry["metrics"]["error_rate"]) >= {"estimate", "ci"}


def test_linear_sample_is_promoted(validate_report):
    rep = abkit.analyze(DATA / "linear.csv.gz", DATA / "linear.toml")
    doc = rep.to_dict()
    validate_report(doc)
    assert doc["decision"] == "go", doc["reasons"]
    assert doc["rollout"]["promoted_at_step"] >= 1
    steps = {x["step"] for x in doc["timeline"]}
    assert len(steps) > 2  # the replay went through several steps of the schedule
    assert doc["rollout"]["schedule"]["source"].startswith("CodeDeploy")


def test_decision_is_last_look_when_none_decided():
    df = make_rollout_log("canary", "healthy", seed=1, minutes=3, dirty=False)
    rep = abkit.analyze(df, ISSUE_SPEC)  # margin 0: a healthy canary is never promoted
    doc = rep.to_dict()
    assert doc["decision"] == "inconclusive"
    assert doc["decided_at_look"] is None and doc["decided_at"] is None
    assert doc["timeline"][-1]["decision"] == "inconclusive"


def test_srm_against_the_schedule_stops_the_rollout():
    df = make_rollout_log("linear", "srm", seed=4, rate=40, minutes=10, control="current",
                          candidate="candidate", dirty=False)
    doc = abkit.analyze(df, linear_spec()).to_dict()
    assert doc["decision"] == "no-go"
    assert any("departs from the schedule" in r for r in doc["reasons"])
    assert doc["srm"]["passed"] is False


def test_engines_agree_on_files_and_frames(tmp_path):
    df = make_rollout_log("linear", "regression", seed=8, rate=30, minutes=6,
                          control="current", candidate="candidate")
    spec = linear_spec()
    a = abkit.analyze(df, spec).to_dict()
    paths = [write_log(df, tmp_path / f"log.{ext}") for ext in ("csv", "jsonl.gz", "parquet")]
    for p in paths:
        if p.suffix == ".parquet":
            continue  # mixed object columns; written from the clean frame below
    clean = make_rollout_log("linear", "regression", seed=8, rate=30, minutes=6,
                             control="current", candidate="candidate", dirty=False)
    paths.append(write_log(clean, tmp_path / "clean.parquet"))
    ref_clean = abkit.analyze(clean, spec).to_dict()
    for p in paths:
        b = abkit.analyze(p, spec).to_dict()
        ref = ref_clean if p.name == "clean.parquet" else a
        assert b["data"]["rows_rejected"] == ref["data"]["rows_rejected"], p
        assert b["decided_at_look"] == ref["decided_at_look"], p
        assert len(b["timeline"]) == len(ref["timeline"])
        for x, y in zip(b["timeline"], ref["timeline"]):
            assert x["n"] == y["n"] and x["decision"] == y["decision"]
            for name, m in x["metrics"].items():
                e1, e2 = m["estimate"], y["metrics"][name]["estimate"]
                assert (e1 is None) == (e2 is None)
                if e1 is not None:
                    assert math.isclose(e1, e2, rel_tol=1e-9, abs_tol=1e-12)


def test_timestamps_in_many_forms(tmp_path):
    df = make_rollout_log("canary", "regression", seed=2, minutes=5, dirty=False)
    ts = pd.to_datetime(df["ts"], utc=True)
    epoch = (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    ref = abkit.analyze(df, ISSUE_SPEC).to_dict()
    for variant in (epoch, (epoch * 1000).round(), ts, ts.dt.tz_convert("Europe/Paris")
                    .dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z")):
        d2 = df.assign(ts=variant)
        doc = abkit.analyze(d2, ISSUE_SPEC).to_dict()
        assert [x["n"] for x in doc["timeline"]] == [x["n"] for x in ref["timeline"]]
    p = write_log(df.assign(ts=ts), tmp_path / "ts.parquet")  # a real TIMESTAMP column
    doc = abkit.analyze(p, ISSUE_SPEC).to_dict()
    assert [x["n"] for x in doc["timeline"]] == [x["n"] for x in ref["timeline"]]


def test_start_key_rejects_earlier_rows():
    df = make_rollout_log("canary", "healthy", seed=2, minutes=4, dirty=False)
    exp = {**ISSUE_SPEC["experiment"], "start": "2026-11-20T10:01:00Z"}
    doc = abkit.analyze(df, {"experiment": exp, "metrics": ISSUE_SPEC["metrics"]}).to_dict()
    early = int((pd.to_datetime(df["ts"]) < pd.Timestamp("2026-11-20T10:01:00Z")).sum())
    assert doc["data"]["rows_rejected"] == {"before_start": early}
    assert doc["rollout"]["start"] == "2026-11-20T10:01:00Z"


# ---------------------------------------------------------------------- metric kinds


def test_count_and_quantile_metrics_detect_a_regression(validate_report):
    df = make_rollout_log("canary", "regression", seed=11, rate=40, minutes=20, dirty=False)
    spec = {"experiment": {**ISSUE_SPEC["experiment"]}, "metrics": [
        {"name": "timeouts", "kind": "count", "column": "timeouts", "role": "guardrail",
         "good": "decrease", "margin": 0.1},
        {"name": "p99_latency", "kind": "quantile", "column": "latency_ms", "quantile": 0.99,
         "role": "guardrail", "good": "decrease", "margin": 0.2},
    ]}
    doc = abkit.analyze(df, spec).to_dict()
    validate_report(doc)
    assert doc["decision"] == "no-go"
    thr = doc["rollout"]["quantile_thresholds"]["p99_latency"]
    ctrl = pd.to_numeric(df.loc[df.variant == "baseline", "latency_ms"])
    assert np.quantile(ctrl, 0.97) < thr["value"] < np.quantile(ctrl, 0.999)
    first = doc["timeline"][0]["metrics"]["p99_latency"]
    assert first["estimate"] is None  # the baseline look
    last = doc["timeline"][-1]["metrics"]["timeouts"]
    assert last["estimate"] == pytest.approx(1.0, abs=0.6)  # rate ratio ~2 -> +100 %


def test_gst_method(validate_report):
    df = make_rollout_log("canary", "regression", seed=12, rate=30, minutes=20, dirty=False)
    exp = {**ISSUE_SPEC["experiment"], "method": "gst", "max_samples": 30000,
           "spending": "pocock"}
    doc = abkit.analyze(df, {"experiment": exp, "metrics": ISSUE_SPEC["metrics"]}).to_dict()
    validate_report(doc)
    assert doc["settings"]["method"] == "gst"
    assert doc["decision"] == "no-go"
    assert "Lan-DeMets pocock" in doc["comparisons"][0]["method"]


# ---------------------------------------------------------------------- monitor


@pytest.mark.parametrize("seed", [0, 1])
def test_monitor_equals_replay(seed):
    df = make_rollout_log("linear", "regression", seed=20 + seed, rate=30, minutes=8,
                          control="current", candidate="candidate")
    spec = {**linear_spec(), "metrics": linear_spec()["metrics"] + [
        {"name": "p95", "kind": "quantile", "column": "latency_ms", "quantile": 0.95,
         "role": "guardrail", "good": "decrease", "margin": 0.3},
        {"name": "timeouts", "kind": "count", "column": "timeouts", "role": "secondary"}]}
    ref = abkit.analyze(df, spec).to_dict()
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, len(df)), size=25, replace=False))
    mon = RolloutMonitor(spec)
    decisions = []
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(df)]):
        decisions.append(mon.update(df.iloc[lo:hi]))
    got = mon.report().to_dict()
    assert got["decision"] == ref["decision"] == decisions[-1]
    assert got["decided_at_look"] == ref["decided_at_look"]
    assert got["data"]["rows_rejected"] == ref["data"]["rows_rejected"]
    assert got["rollout"]["quantile_thresholds"] == ref["rollout"]["quantile_thresholds"]
    assert len(got["timeline"]) == len(ref["timeline"])
    for x, y in zip(got["timeline"], ref["timeline"]):
        assert x["n"] == y["n"] and x["signal"] == y["signal"]
        for name, m in x["metrics"].items():
            for key in ("estimate", "harm_lower", "harm_upper"):
                a, b = m[key], y["metrics"][name][key]
                assert (a is None) == (b is None), (name, key)
                if a is not None:
                    assert math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-9), (name, key)
    assert mon.buffer == []  # nothing of the rows is kept after the baseline


def test_monitor_decision_stands_and_is_cheap():
    df = make_rollout_log("canary", "regression", seed=3, dirty=False)
    mon = RolloutMonitor(DATA / "canary.toml")
    seen = []
    for lo in range(0, len(df), len(df) // 60 + 1):
        seen.append(mon.update(df.iloc[lo:lo + len(df) // 60 + 1]))
    first = seen.index("no-go")
    assert all(s == "no-go" for s in seen[first:])
    # O(batch): the monitor keeps cells, not rows
    assert sum(len(v) for v in mon.red.cells.values()) < 200


def test_monitor_rejects_bad_batches():
    mon = RolloutMonitor(ISSUE_SPEC)
    with pytest.raises(abkit.errors.InputError, match="latency_ms"):
        mon.update(pd.DataFrame({"ts": [], "variant": [], "error": []}))
    with pytest.raises(SpecError):
        RolloutMonitor({"metrics": [{"name": "x", "kind": "mean", "column": "x"}]})


# ---------------------------------------------------------------------- report and CLI


def test_report_renders_everywhere(tmp_path):
    rep = abkit.analyze(DATA / "canary.csv", DATA / "canary.toml")
    text = rep.to_text()
    assert "timeline:" in text and "NO-GO" in text
    md = rep.to_markdown()
    assert "<details><summary>timeline</summary>" in md
    html = rep.to_html()
    assert 'id="timeline-table"' in html and "<svg" in html
    fig = rep.plot()
    assert len([a for a in fig.axes if a.get_visible()]) == 3  # 2 metrics + the share panel
    frame = rep.to_frame()
    assert set(frame["metric"]) == {"error_rate", "latency"}
    json.loads(rep.to_json())


def test_cli_gate_exit_codes(capsys):
    assert main(["gate", str(DATA / "canary.csv"), "--spec", str(DATA / "canary.toml")]) == 1
    assert main(["gate", str(DATA / "linear.csv.gz"), "--spec", str(DATA / "linear.toml")]) == 0
    out = capsys.readouterr().out
    assert "timeline" in out
    assert main(["report", str(DATA / "canary.csv"), "--spec", str(DATA / "canary.toml"),
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["strategy"] == "canary" and doc["decided_at_look"]


@pytest.mark.slow
def test_shipped_samples_are_what_the_generator_writes(tmp_path):
    from abkit.datasets import write_samples

    for p in write_samples(tmp_path):
        assert p.read_bytes() == (DATA / p.name).read_bytes(), p.name


@pytest.mark.slow
@pytest.mark.parametrize("data,spec", [
    ("canary.csv", "canary.toml"), ("linear.csv.gz", "linear.toml"),
    ("shadow/datacapture/churn-endpoint", "shadow/guardrails.toml"),
    ("bluegreen_smoke.csv.gz", "bluegreen.toml")])
def test_json_is_the_same_whatever_the_hash_seed(data, spec):
    import os
    import subprocess
    import sys

    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        r = subprocess.run([sys.executable, "-m", "abkit", "report", str(DATA / data), "--spec",
                            str(DATA / spec), "--format", "json"], capture_output=True,
                           text=True, env=env, check=True)
        doc = json.loads(r.stdout)
        doc.pop("generated_at")
        outs.append(json.dumps(doc))
    assert outs[0] == outs[1]

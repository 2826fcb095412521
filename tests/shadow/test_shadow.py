"""Shadow strategy end to end: capture trees and generic logs, known differences, decisions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import abkit
from abkit.cli import main
from abkit.datasets import write_log
from abkit.datasets_capture import write_shadow_capture
from abkit.errors import InputError, SpecError

ROOT = Path(__file__).resolve().parents[2]
SHADOW = ROOT / "data" / "shadow"
MANIFEST = json.loads((SHADOW / "manifest.json").read_text())


def truth(endpoint: str) -> dict:
    return MANIFEST["endpoints"][endpoint]


# ---------------------------------------------------------------------- the issue's spec


def test_issue_spec_on_the_sample_tree(validate_report):
    rep = abkit.analyze(SHADOW / "datacapture" / "churn-endpoint", SHADOW / "shadow.toml")
    doc = rep.to_dict()
    validate_report(doc)
    assert doc["strategy"] == "shadow" and doc["decision"] == "no-go"
    sh = doc["shadow"]
    t = truth("churn-endpoint")
    assert set(sh) >= {"pairs", "unmatched", "agreement", "flips", "mcnemar", "quality",
                       "latency", "errors", "drift", "bias"}
    assert sh["pairs"] == t["pairs"]
    assert sh["labelled_pairs"] == t["labels"]["labelled_pairs"]
    for name in ("auc", "accuracy", "brier", "log_loss"):
        q = sh["quality"][name]
        assert set(q) >= {"live", "shadow", "diff", "ci"}
        for key in ("live", "shadow", "diff"):
            assert q[key] == pytest.approx(t["quality"][name][key], abs=2e-6), (name, key)
    assert sh["mcnemar"]["b"] == t["mcnemar"]["b"] and sh["mcnemar"]["c"] == t["mcnemar"]["c"]
    assert sh["flips"]["neg_to_pos"]["count"] == t["flips"]["negative_to_positive"]
    assert sh["flips"]["pos_to_neg"]["count"] == t["flips"]["positive_to_negative"]
    assert sh["agreement"]["estimate"] == pytest.approx(t["agreement"], abs=1e-6)
    assert sh["scores"]["spearman"]["estimate"] == pytest.approx(t["spearman"], abs=1e-6)
    # the reader counts a record without inferenceId as unmatched (its partner has none)
    assert sh["unmatched"]["live_only"] == t["unmatched"]["live_only_counting_missing_inference_id"]
    assert sh["unmatched"]["shadow_only"] == \
        t["unmatched"]["shadow_only_counting_missing_inference_id"]
    assert sh["unmatched"]["labels_only"] == t["labels"]["labels_not_in_pairs"]
    assert set(sh["unmatched"]) == {"live_only", "shadow_only", "labels_only"}
    d = doc["data"]
    assert d["rows_read"] == d["rows_used"] + sum(d["rows_rejected"].values())
    assert d["rows_used"] == 2 * sh["pairs"] + sh["labelled_pairs"]


def test_same_model_is_not_flagged(validate_report):
    doc = abkit.analyze(SHADOW / "datacapture" / "churn-endpoint-same",
                        SHADOW / "shadow-same.toml").to_dict()
    validate_report(doc)
    assert doc["decision"] == "go"
    sh = doc["shadow"]
    assert sh["quality"]["auc"]["diff"] == 0.0
    assert sh["flips"]["neg_to_pos"]["count"] == 0 and sh["flips"]["pos_to_neg"]["count"] == 0
    assert sh["agreement"]["estimate"] == 1.0


def test_all_guardrails_on_the_sample(validate_report):
    bad = abkit.analyze(SHADOW / "datacapture" / "churn-endpoint", SHADOW / "guardrails.toml")
    good = abkit.analyze(SHADOW / "datacapture" / "churn-endpoint-same",
                         SHADOW / "guardrails-same.toml")
    for rep in (bad, good):
        validate_report(rep.to_dict())
    assert bad.decision == "no-go" and good.decision == "go"
    sh = bad.to_dict()["shadow"]
    t = truth("churn-endpoint")
    # CloudWatch: window p99 from per-minute aggregates, not the mean of per-minute p99s
    p99 = sh["latency"]["quantiles"]["p99"]
    true_live = t["latency"]["variant-live"]["p99_us"] / 1000.0
    naive = t["latency"]["variant-live"]["mean_of_minute_p99_us"] / 1000.0
    assert abs(p99["live"]["estimate"] - true_live) < abs(naive - true_live)
    assert p99["live"]["estimate"] == pytest.approx(true_live, rel=0.1)
    assert p99["ratio"] == pytest.approx(t["latency"]["ratio"]["p99"], rel=0.1)
    assert p99["ratio_ci"]["low"] > 1.0  # the injected x1.3 tail is seen
    errs = sh["errors"]
    assert errs["candidate"]["errors"] == t["errors"]["variant-shadow"]["5xx"]
    assert errs["live"]["errors"] == t["errors"]["variant-live"]["5xx"]
    # drift injected in the traffic at drift_hour: found in monthly_charges, blamed on traffic
    onset = t["drift"]["onset_time"]
    hits = [d for d in sh["drift"] if d["feature"] == "monthly_charges" and d["flags"]]
    assert any(d["drifted"] for d in hits)
    assert any(d["onset"] == onset for d in hits)
    assert any("belongs to the traffic" in w for w in bad.to_dict()["warnings"])
    # bias: the candidate raises month-to-month's positive rate more than the others'
    comps = {c["facet_d"]: c for c in sh["bias"]["comparisons"]}
    assert comps["month-to-month"]["q_d_candidate"] - comps["month-to-month"]["q_d_live"] > \
        comps["two-year"]["q_d_candidate"] - comps["two-year"]["q_d_live"]


def test_record_accounting_matches_the_manifest():
    doc = abkit.analyze(SHADOW / "datacapture" / "churn-endpoint", SHADOW / "shadow.toml"
                        ).to_dict()
    rej = doc["data"]["rows_rejected"]
    t = truth("churn-endpoint")["records"]
    for reason, key in (("unparseable_line", "unparseable_lines"),
                        ("duplicate_event", "duplicate_records"),
                        ("non_finite_output", "non_finite_output"),
                        ("out_of_range_output", "out_of_range_output")):
        want = sum(t[v][key] for v in ("variant-live", "variant-shadow"))
        assert rej.get(reason, 0) == want, reason


@pytest.mark.slow
def test_bigger_tree_recovers_the_injected_differences(tmp_path):
    man = write_shadow_capture(tmp_path, seed=7, requests=6000)
    spec = (tmp_path / "guardrails.toml")
    rep = abkit.analyze(tmp_path / "datacapture" / "churn-endpoint", spec)
    doc = rep.to_dict()
    t = man["endpoints"]["churn-endpoint"]
    q = doc["shadow"]["quality"]["auc"]
    assert q["diff"] == pytest.approx(t["quality"]["auc"]["diff"], abs=2e-6)
    assert q["ci"]["low"] < q["diff"] < q["ci"]["high"] < 0
    assert doc["decision"] == "no-go"
    same = abkit.analyze(tmp_path / "datacapture" / "churn-endpoint-same",
                         tmp_path / "guardrails-same.toml")
    assert same.decision == "go", same.reasons


# ---------------------------------------------------------------------- generic logs


def _generic(seed: int = 3, n: int = 3000, worse: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x * 1.5 - 1)))).astype(int)
    live = 1 / (1 + np.exp(-(x * 1.5 - 1 + rng.normal(0, 0.5, n))))
    cand = 1 / (1 + np.exp(-(x * 1.5 - 1 + rng.normal(0, 1.2 if worse else 0.5, n))))
    lat_l = rng.lognormal(np.log(40), 0.3, n)
    lat_c = lat_l * (1.3 if worse else 1.0) * rng.lognormal(0, 0.05, n)
    ts = pd.Timestamp("2026-11-20T08:00:00Z") + pd.to_timedelta(np.sort(rng.uniform(0, 4 * 3600, n)), unit="s")
    ids = [f"r{i}" for i in range(n)]
    common = {"request_id": ids, "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "x": np.round(x, 4),
              "label": y}
    a = pd.DataFrame({**common, "variant": "live", "score": np.round(live, 5),
                      "latency_ms": np.round(lat_l, 2), "error": (rng.random(n) < 0.005) * 1})
    b = pd.DataFrame({**common, "variant": "cand", "score": np.round(cand, 5),
                      "latency_ms": np.round(lat_c, 2),
                      "error": (rng.random(n) < (0.03 if worse else 0.005)) * 1})
    return pd.concat([a, b], ignore_index=True)


GENERIC_SPEC = {
    "experiment": {"strategy": "shadow", "live": "live", "candidate": "cand",
                   "label_column": "label", "latency_column": "latency_ms",
                   "error_column": "error", "timestamp_column": "ts", "features": ["x"]},
    "metrics": [{"name": "auc", "margin": 0.01}, {"name": "latency_p95", "margin": 0.1},
                {"name": "error_rate", "margin": 0.01}, {"name": "brier", "role": "secondary"}],
}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_generic_one_file(tmp_path, fmt, validate_report):
    df = _generic()
    p = write_log(df, tmp_path / f"log.{fmt}")
    doc = abkit.analyze(p, GENERIC_SPEC).to_dict()
    validate_report(doc)
    assert doc["decision"] == "no-go"
    sh = doc["shadow"]
    assert sh["pairs"] == 3000 and sh["labelled_pairs"] == 3000
    assert sh["latency"]["source"] == "requests"
    r = sh["latency"]["quantiles"]["p95"]["ratio"]
    assert r == pytest.approx(1.3, rel=0.05)
    statuses = {c["metric"]: c["status"] for c in doc["comparisons"]}
    assert statuses["latency_p95"] == "fail" and statuses["error_rate"] == "fail"


def test_generic_two_files_and_a_healthy_candidate(tmp_path):
    df = _generic(worse=False)
    live = write_log(df[df.variant == "live"].drop(columns="variant"), tmp_path / "live.csv")
    cand = write_log(df[df.variant == "cand"].drop(columns="variant"), tmp_path / "cand.csv")
    doc = abkit.analyze([live, cand], GENERIC_SPEC).to_dict()
    assert doc["shadow"]["pairs"] == 3000
    assert doc["decision"] == "go", doc["reasons"]


def test_generic_accounting_of_bad_rows(tmp_path):
    df = _generic(n=500).astype(object)
    df.loc[0, "variant"] = None              # missing_variant
    df.loc[1, "variant"] = "canary"          # unknown_variant
    df.loc[2, "score"] = "abc"               # non_numeric_output (its partner: live_only)
    df = pd.concat([df, df.iloc[[10]]])      # a duplicated request on one side
    p = write_log(df, tmp_path / "log.csv")
    doc = abkit.analyze(p, GENERIC_SPEC).to_dict()
    d = doc["data"]
    assert d["rows_read"] == d["rows_used"] + sum(d["rows_rejected"].values())
    rej = d["rows_rejected"]
    assert rej["missing_variant"] == 1 and rej["unknown_variant"] == 1
    assert rej["non_numeric_output"] == 1
    assert rej["duplicate_request"] == 3  # both copies and the partner on the other side


def test_too_few_labels_is_inconclusive(tmp_path):
    df = _generic(n=400, worse=False)
    spec = json.loads(json.dumps(GENERIC_SPEC))
    spec["experiment"]["min_labelled_pairs"] = 1000
    doc = abkit.analyze(write_log(df, tmp_path / "l.csv"), spec).to_dict()
    auc = next(c for c in doc["comparisons"] if c["metric"] == "auc")
    assert auc["status"] == "inconclusive" and "labelled pairs" in auc["reason"]
    assert doc["decision"] == "inconclusive"


def _same_report(a: dict, b: dict) -> None:
    a, b = dict(a), dict(b)
    for k in ("input", "generated_at"):
        a.pop(k), b.pop(k)
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True,
                                                                  default=str)


def test_generic_logs_are_reduced_by_the_engines(tmp_path):
    """A generic log goes through the pairs plan: the engine is named in the report, and the
    deterministic and parallel DuckDB runs, a DataFrame on pandas and on DuckDB give the
    same report."""
    df = _generic(n=800)
    p = write_log(df, tmp_path / "log.csv")
    rep = abkit.analyze(p, GENERIC_SPEC).to_dict()
    assert rep["input"]["engine"] == "duckdb" and rep["input"]["format"] == "log"
    _same_report(rep, abkit.analyze(p, GENERIC_SPEC, deterministic=False).to_dict())
    text = df.astype(str)
    on_pandas = abkit.analyze(text, GENERIC_SPEC, engine="pandas").to_dict()
    assert on_pandas["input"]["engine"] == "pandas"
    _same_report(rep, on_pandas)
    _same_report(rep, abkit.analyze(text, GENERIC_SPEC, engine="duckdb").to_dict())


def test_generic_logs_take_the_csv_options(tmp_path):
    df = _generic(n=600)
    ref = abkit.analyze(write_log(df, tmp_path / "a.csv"), GENERIC_SPEC).to_dict()
    semi = tmp_path / "b.csv"
    text = df.astype(str)
    for c in ("score", "latency_ms"):  # the numbers the pairing reads (features stay text)
        text[c] = text[c].str.replace(".", ",", regex=False)
    text.to_csv(semi, sep=";", index=False)
    got = abkit.analyze(semi, GENERIC_SPEC, delimiter=";", decimal=",",
                        memory_limit="1GB").to_dict()
    assert got["data"] == ref["data"]
    assert got["shadow"]["pairs"] == 600 and got["decision"] == ref["decision"]


def test_a_capture_tree_refuses_the_options_of_log_files():
    for kw in ({"memory_limit": "1GB"}, {"delimiter": ";"}, {"decimal": ","}):
        with pytest.raises(InputError, match="does not apply"):
            abkit.analyze(SHADOW / "datacapture" / "churn-endpoint", SHADOW / "shadow.toml",
                          **kw)


def test_a_capture_tree_takes_duckdb_or_pandas_and_refuses_spark():
    tree, spec = SHADOW / "datacapture" / "churn-endpoint", SHADOW / "shadow.toml"
    a = abkit.analyze(tree, spec, engine="duckdb").to_dict()
    b = abkit.analyze(tree, spec, engine="pandas").to_dict()
    assert (a["input"]["engine"], b["input"]["engine"]) == ("duckdb", "pandas")
    assert a["shadow"] == b["shadow"] and a["data"] == b["data"]
    with pytest.raises(InputError, match="cannot be read with engine 'spark'"):
        abkit.analyze(tree, spec, engine="spark")


def test_generic_log_missing_columns_are_named(tmp_path):
    df = _generic(n=100)
    p = write_log(df.drop(columns="latency_ms"), tmp_path / "l.csv")
    with pytest.raises(InputError, match="live rows have no column.*latency_ms"):
        abkit.analyze(p, GENERIC_SPEC)
    with pytest.raises(InputError, match="no column 'tag'"):
        abkit.analyze(write_log(df, tmp_path / "m.csv"), GENERIC_SPEC, variant_column="tag")


# ---------------------------------------------------------------------- errors and CLI


def test_spec_errors():
    with pytest.raises(SpecError, match="not a shadow-test metric"):
        abkit.spec.parse_spec({"experiment": {"strategy": "shadow", "live": "a",
                                              "candidate": "b"},
                               "metrics": [{"name": "ctr"}]})
    with pytest.raises(SpecError, match="not in features"):
        abkit.spec.parse_spec({"experiment": {"strategy": "shadow", "live": "a",
                                              "candidate": "b", "features": ["x"],
                                              "categorical": ["y"]}})


def test_wrong_variant_name_is_a_clear_error(tmp_path):
    spec = (SHADOW / "shadow.toml").read_text().replace("variant-shadow", "variant-shaddow")
    (tmp_path / "s.toml").write_text(spec)
    with pytest.raises(InputError, match="variant-shaddow"):
        abkit.analyze(SHADOW / "datacapture" / "churn-endpoint", tmp_path / "s.toml")


def test_cli_gate_and_formats(tmp_path, capsys):
    ep = str(SHADOW / "datacapture" / "churn-endpoint")
    assert main(["gate", ep, "--spec", str(SHADOW / "shadow.toml")]) == 1
    assert main(["gate", str(SHADOW / "datacapture" / "churn-endpoint-same"), "--spec",
                 str(SHADOW / "shadow-same.toml")]) == 0
    out = tmp_path / "r.html"
    assert main(["report", ep, "--spec", str(SHADOW / "guardrails.toml"), "--format", "html",
                 "-o", str(out)]) == 0
    html = out.read_text()
    assert 'id="shadow-summary"' in html and "<svg" in html
    capsys.readouterr()
    assert main(["report", ep, "--spec", str(SHADOW / "shadow.toml"), "--format",
                 "markdown"]) == 0
    assert "McNemar" in capsys.readouterr().out
    assert main(["report", "/no/such/tree", "--spec", str(SHADOW / "shadow.toml")]) == 2


def test_report_json_is_finite():
    rep = abkit.analyze(SHADOW / "datacapture" / "churn-endpoint", SHADOW / "guardrails.toml")
    text = rep.to_json()
    json.loads(text)  # allow_nan=False in to_json already
    assert not any(isinstance(v, float) and not math.isfinite(v)
                   for v in _walk(json.loads(text)))
    fig = rep.plot()
    assert len(fig.axes) == 8  # quality row (4), curves (3), drift (1)


def _walk(x):
    if isinstance(x, dict):
        for v in x.values():
            yield from _walk(v)
    elif isinstance(x, list):
        for v in x:
            yield from _walk(v)
    else:
        yield x


def test_regression_outputs(tmp_path):
    rng = np.random.default_rng(2)
    n = 800
    ids = [f"q{i}" for i in range(n)]
    truth_ = rng.normal(100, 20, n)
    live = pd.DataFrame({"request_id": ids, "variant": "live",
                         "score": truth_ + rng.normal(0, 5, n), "label": truth_})
    cand = live.assign(variant="cand", score=live["score"] + 3.0)
    p = write_log(pd.concat([live, cand]), tmp_path / "reg.csv")
    spec = {"experiment": {"strategy": "shadow", "live": "live", "candidate": "cand",
                           "output_kind": "regression", "label_column": "label"}}
    doc = abkit.analyze(p, spec).to_dict()
    assert doc["shadow"]["pairs"] == n
    assert doc["shadow"]["scores"]["mean"]["estimate"] == pytest.approx(3.0, abs=1e-6)
    assert doc["data"]["rows_rejected"] == {}
    with pytest.raises(SpecError, match="probability outputs"):
        abkit.spec.parse_spec({"experiment": {**spec["experiment"]},
                               "metrics": [{"name": "auc"}]})


def test_hourly_windows_format_each_hour_as_strftime_does():
    """The window labels (each distinct hour formatted once) equal ``dt.strftime`` of every
    pair's hour, missing times included, on the frame's own index."""
    from abkit.shadow.drift_check import _hourly_windows

    rng = np.random.default_rng(5)
    for trial in range(20):
        n = int(rng.integers(2, 3000))
        t = pd.Series(pd.to_datetime(1.79e9 + rng.integers(0, 20000, n), unit="s", utc=True),
                      index=np.arange(n) * 3 + 1)
        if trial % 2:
            t[rng.random(n) < 0.2] = pd.NaT
        want = t.dt.floor("h").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        if t.dt.floor("h").nunique() >= 2:
            pd.testing.assert_series_equal(_hourly_windows(t), want)

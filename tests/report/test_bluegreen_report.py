"""strategy = "bluegreen" end to end: spec, row accounting, report, CLI, sample data."""

from __future__ import annotations

from pathlib import Path

import pytest

import abkit
from abkit.bluegreen import make_bluegreen_log
from abkit.cli import main
from abkit.datasets import write_log
from abkit.errors import InputError, SpecError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


@pytest.mark.parametrize("name,decision", [("regression", "no-go"), ("smoke", "go")])
def test_samples(name, decision, validate_report):
    rep = abkit.analyze(DATA / f"bluegreen_{name}.csv.gz", DATA / "bluegreen.toml")
    doc = rep.to_dict()
    validate_report(doc)
    assert doc["decision"] == decision
    bg = doc["bluegreen"]
    assert bg["rollback"]["recommended"] is (decision == "no-go")
    assert doc["warnings"] and "different times" in doc["warnings"][0]
    if name == "regression":
        assert bg["early"]["first_regression"]["elapsed"] <= 30 * 60  # caught early
    else:
        assert bg["smoke_test"]["available"]
    text = rep.to_text()
    assert "switch at" in text and ("rollback recommended" in text) is (decision == "no-go")
    assert 'id="bluegreen-summary"' in rep.to_html()


def test_rows_are_accounted(tmp_path):
    df = make_bluegreen_log("healthy", seed=4, rate=0.2, history_hours=10, after_hours=2)
    df = df.astype(object)
    df.loc[0, "ts"] = "not a time"
    df.loc[1, "variant"] = "grean"
    df.loc[2, "latency_ms"] = "NaN"
    df.loc[3, "error"] = 2
    p = write_log(df, tmp_path / "bg.csv")
    doc = abkit.analyze(p, DATA / "bluegreen.toml").to_dict()
    d = doc["data"]
    assert d["rows_rejected"] == {"bad_timestamp": 1, "unknown_variant": 1,
                                  "non_finite_value": 1, "not_binary": 1}
    assert d["unknown_variants"] == {"grean": 1}
    assert d["rows_read"] == len(df) == d["rows_used"] + 4


def test_frame_and_file_agree(tmp_path):
    df = make_bluegreen_log("regression", seed=5, rate=0.2, history_hours=10, after_hours=2)
    a = abkit.analyze(df, DATA / "bluegreen.toml").to_dict()
    b = abkit.analyze(write_log(df, tmp_path / "x.parquet"), DATA / "bluegreen.toml").to_dict()
    assert a["decision"] == b["decision"]
    for x, y in zip(a["comparisons"], b["comparisons"]):
        assert x["effect"] == pytest.approx(y["effect"], rel=1e-9)


def test_spec_and_input_errors(tmp_path):
    with pytest.raises(SpecError, match="experiment.green"):
        abkit.spec.parse_spec({"experiment": {"strategy": "bluegreen", "timestamp_column": "ts",
                                              "blue": "b"},
                               "metrics": [{"name": "m", "kind": "mean", "column": "y"}]})
    with pytest.raises(SpecError, match="unit_column"):
        abkit.spec.parse_spec({"experiment": {"strategy": "bluegreen", "timestamp_column": "ts",
                                              "blue": "b", "green": "g", "unit_column": "u"},
                               "metrics": [{"name": "m", "kind": "mean", "column": "y"}]})
    df = make_bluegreen_log("healthy", seed=1, rate=0.1, history_hours=5, after_hours=1)
    with pytest.raises(InputError, match="latency_ms"):
        abkit.analyze(df.drop(columns="latency_ms"), DATA / "bluegreen.toml")


def test_cli_exit_codes():
    assert main(["gate", str(DATA / "bluegreen_regression.csv.gz"), "--spec",
                 str(DATA / "bluegreen.toml")]) == 1
    assert main(["gate", str(DATA / "bluegreen_smoke.csv.gz"), "--spec",
                 str(DATA / "bluegreen.toml")]) == 0

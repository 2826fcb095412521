from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def report_schema() -> dict:
    return json.loads((ROOT / "abkit" / "schemas" / "report-v1.json").read_text())


@pytest.fixture
def validate_report(report_schema):
    import jsonschema

    def check(doc: dict) -> dict:
        jsonschema.validate(doc, report_schema)
        d = doc["data"]
        assert d["rows_read"] == d["rows_used"] + sum(d["rows_rejected"].values())
        return doc

    return check


AB_SPEC = {
    "experiment": {
        "strategy": "ab",
        "variant_column": "variant",
        "unit_column": "unit_id",
        "control": "control",
        "split": {"control": 0.5, "treatment": 0.5},
    },
    "metrics": [
        {"name": "conversion", "kind": "proportion", "column": "converted", "role": "primary"},
        {"name": "revenue", "kind": "mean", "column": "revenue", "covariate": "pre_revenue",
         "role": "primary"},
        {"name": "ctr", "kind": "ratio", "numerator": "clicks", "denominator": "sessions"},
        {"name": "latency", "kind": "mean", "column": "latency_ms", "role": "guardrail",
         "good": "decrease", "margin": 0.02},
    ],
}


@pytest.fixture
def ab_spec() -> dict:
    return json.loads(json.dumps(AB_SPEC))

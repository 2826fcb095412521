"""A quantile guardrail is shown as the quantile itself (#11): each variant's p99 in the
metric's units, within 0.5 % of the exact order statistic of the same rows, and their ratio;
the test's shares of rows above the frozen threshold are kept beside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import abkit
from abkit.stats.log_buckets import ALPHA

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def linear():
    return abkit.analyze(DATA / "linear.csv.gz", DATA / "linear.toml").to_dict()


def _exact_p99(doc: dict) -> dict[str, float]:
    """numpy's inverted_cdf 0.99-quantile of each variant's used rows up to the deciding
    look's end, read independently of abkit's engines."""
    df = pd.read_csv(DATA / "linear.csv.gz", dtype=str)
    x = pd.to_numeric(df["latency_ms"], errors="coerce")
    t = pd.to_datetime(df["ts"], errors="coerce", utc=True, format="ISO8601")
    start = pd.Timestamp(doc["rollout"]["start"])
    end = pd.Timestamp(doc["decided_at"])  # the deciding look's end
    keep = x.notna() & np.isfinite(x) & t.notna() & (t >= start) & (t < end)
    return {v: float(np.quantile(x[keep & (df["variant"] == v)], 0.99, method="inverted_cdf"))
            for v in ("current", "candidate")}


def test_p99_in_ms_per_variant_and_ratio(linear):
    row = next(c for c in linear["comparisons"] if c["metric"] == "p99_latency")
    exact = _exact_p99(linear)
    assert row["control_value"] == pytest.approx(exact["current"], rel=ALPHA)
    assert row["treatment_value"] == pytest.approx(exact["candidate"], rel=ALPHA)
    assert row["rel_effect"] == pytest.approx(row["treatment_value"] / row["control_value"] - 1)
    assert row["rel_ci"] is None  # no interval is claimed for the ratio
    # the test is unchanged: shares above the frozen threshold, their difference the effect
    tested = row["tested"]
    assert 0.0 < tested["control"] < 0.05 and 0.0 < tested["candidate"] < 0.05
    assert row["effect"] == pytest.approx(tested["candidate"] - tested["control"], abs=5e-3)
    assert row["threshold"] == linear["rollout"]["quantile_thresholds"]["p99_latency"]["value"]


def test_the_text_says_how_it_is_shown_and_tested(linear):
    text = abkit.analyze(DATA / "linear.csv.gz", DATA / "linear.toml").to_text()
    row = next(line for line in text.splitlines() if line.startswith("p99_latency "))
    assert " ms " in row and "%" in row  # p99 in ms, the ratio as a percentage
    note = next(line for line in text.splitlines() if line.startswith("p99_latency: p99"))
    assert "ratio" in note and "share of rows above current's baseline p99" in note


def test_every_look_carries_the_quantiles(linear):
    looks = [look["metrics"]["p99_latency"] for look in linear["timeline"]]
    assert looks and all(set(m["quantiles"]) == {"control", "candidate"} for m in looks)
    last = linear["timeline"][-1]["metrics"]["p99_latency"]["quantiles"]
    assert last["control"] > 0 and last["candidate"] > 0
    assert all("quantiles" not in look["metrics"]["latency"] for look in linear["timeline"])

"""Timestamps: one row cannot move a rollout (issue #11). The epoch unit is decided once per
column, ISO text is never rescaled, and rows far outside the log's time range are
``timestamp_out_of_range``, identically in pandas and DuckDB."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import abkit
from abkit.datasets import make_rollout_log, write_log
from abkit.engine.classify import parse_times
from abkit.engine.timestamps import FUTURE, SPAN, epoch_scale, time_rules

T0 = 1_795_168_800.0  # 2026-11-20T10:00:00Z


def test_epoch_unit_from_the_column_median():
    assert epoch_scale(np.array([T0, T0 + 1])) == 1.0
    assert epoch_scale(np.array([T0 * 1e3])) == 1e-3
    assert epoch_scale(np.array([T0 * 1e6])) == 1e-6
    assert epoch_scale(np.array([T0 * 1e9])) == 1e-9
    assert epoch_scale(np.array([np.nan])) == 1.0


def test_one_row_in_another_unit_is_not_rescaled_on_its_own():
    # a milliseconds column with one row in seconds: the old per-row rule (x > 1e11 means
    # ms) read every row right and so hid nothing; here the column is ms, so the seconds
    # row is read as ms (1970) and lands out of range instead of silently in the log
    ms = pd.Series([T0 * 1e3 + i * 1000 for i in range(9)] + [T0 + 5])
    t = parse_times(ms)
    assert t.iloc[0] == pytest.approx(T0) and t.iloc[-1] == pytest.approx((T0 + 5) / 1e3)
    rules = time_rules(ms, now=T0 + 3600)
    assert rules.unit == "ms" and not rules.low <= t.iloc[-1] <= rules.high


def test_iso_text_is_never_read_as_epoch_milliseconds():
    # year 9999 is 2.5e11 epoch seconds; the old rule (abs > 1e11 -> / 1000) made it 1978
    s = pd.Series(["2026-11-20T10:00:00Z", "9999-12-31T00:00:00Z", "1795168801"])
    t = parse_times(s)
    assert t.iloc[0] == T0 and t.iloc[1] > 2.5e11 and t.iloc[2] == T0 + 1


def test_range_is_a_year_around_the_median_and_a_day_past_the_clock():
    s = pd.Series([T0 + i for i in range(100)])
    r = time_rules(s, now=T0 + 3600)
    assert r.low == pytest.approx(T0 + 49.5 - SPAN)
    assert r.high == pytest.approx(T0 + 3600 + FUTURE)


def _canary_with(rows: list[dict]) -> pd.DataFrame:
    df = make_rollout_log("canary", "healthy", seed=3, minutes=10.0, dirty=False)
    extra = pd.DataFrame(rows)
    return pd.concat([df, extra.reindex(columns=df.columns)], ignore_index=True)


SPEC = {"experiment": {"strategy": "canary", "variant_column": "variant",
                       "control": "baseline", "timestamp_column": "ts", "look_every": "1m",
                       "split": {"baseline": 0.9, "canary": 0.1}},
        "metrics": [{"name": "error_rate", "kind": "proportion", "column": "error",
                     "role": "guardrail", "good": "decrease", "margin": 0.5}]}


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
@pytest.mark.parametrize("stray", ["1970-01-01T00:00:05Z", "2019-03-01T00:00:00Z",
                                   "2099-01-01T00:00:00Z", "9999-12-31T00:00:00Z"])
def test_a_stray_row_cannot_move_the_rollout(tmp_path, engine, stray):
    base = make_rollout_log("canary", "healthy", seed=3, minutes=10.0, dirty=False)
    df = _canary_with([{"ts": stray, "variant": "baseline", "error": 0,
                        "latency_ms": 100.0}])
    data = df if engine == "pandas" else write_log(df, tmp_path / "log.csv")
    rep = abkit.analyze(data, SPEC, engine=engine).to_dict()
    clean = abkit.analyze(base, SPEC).to_dict()
    assert rep["data"]["rows_rejected"].get("timestamp_out_of_range") == 1
    assert rep["rollout"]["start"] == clean["rollout"]["start"] == "2026-11-20T10:00:00Z"
    assert rep["decision"] == clean["decision"]
    assert len(rep["timeline"]) == len(clean["timeline"])


def test_epoch_milliseconds_column_with_a_seconds_row(tmp_path):
    df = make_rollout_log("canary", "healthy", seed=3, minutes=10.0, dirty=False)
    secs = pd.to_datetime(df["ts"], utc=True, format="ISO8601")
    df["ts"] = ((secs - pd.Timestamp(0, tz="UTC")).dt.total_seconds() * 1000).round()
    df.loc[len(df)] = {**df.iloc[0].to_dict(), "ts": T0 + 30}  # one row in seconds
    for data in (df, write_log(df, tmp_path / "ms.parquet")):
        rep = abkit.analyze(data, SPEC).to_dict()
        assert rep["data"]["rows_rejected"] == {"timestamp_out_of_range": 1}
        assert rep["rollout"]["start"] == "2026-11-20T10:00:00Z"

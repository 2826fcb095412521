"""Fast and deterministic together (abkit.engine.duckdb_passes.run_passes).

The A/B reduction's ``K`` passes run ``W`` at a time on one-thread DuckDB connections and
their statistics are added in pass order, so the JSON report is byte-identical (apart from
``generated_at``) run after run and whatever the number of connections or their timing; a
failure in one connection interrupts the others and is the same exit-2 error as on one.
"""

from __future__ import annotations

import gzip
import json

import duckdb
import numpy as np
import pandas as pd
import pytest

import abkit
from abkit.engine import duckdb_passes
from abkit.engine.duckdb_engine import DuckDBLogs
from abkit.engine.duckdb_passes import choose_passes, run_passes, worker_count
from abkit.engine.plan import build_plan
from abkit.engine.progress import PassesProgress
from abkit.errors import InputError
from abkit.io.sources import resolve_sources
from abkit.spec import load_spec

SPEC = {
    "experiment": {"strategy": "ab", "variant_column": "variant", "unit_column": "unit_id",
                   "granularity": "request", "control": "a", "split": {"a": 0.5, "b": 0.5}},
    "metrics": [
        {"name": "conversion", "kind": "proportion", "column": "converted",
         "aggregate": "max"},
        {"name": "revenue", "kind": "mean", "column": "revenue", "covariate": "pre",
         "aggregate": "sum"},
        {"name": "ctr", "kind": "ratio", "numerator": "clicks", "denominator": "sessions"},
        {"name": "latency", "kind": "mean", "column": "latency", "role": "guardrail",
         "good": "decrease", "margin": 0.05},
    ],
}


def _log(n_rows: int = 20000, n_units: int = 3000, seed: int = 11) -> pd.DataFrame:
    """Units scattered over the log, with leaks into the other variant, typos, missing
    units and values: every kind of row lands in some pass."""
    rng = np.random.default_rng(seed)
    unit = rng.integers(0, n_units, n_rows)
    variant = np.where(unit % 2 == 0, "a", "b").astype(object)
    leak = rng.random(n_rows) < 0.005
    variant[leak] = np.where(variant[leak] == "a", "b", "a")
    variant[rng.random(n_rows) < 0.005] = "typo"
    units = np.array([f"u{u:05d}" for u in unit], dtype=object)
    units[rng.random(n_rows) < 0.005] = None
    revenue = rng.gamma(2.0, 10.0, n_rows) * (1 + 0.05 * (variant == "b"))
    revenue[rng.random(n_rows) < 0.005] = np.nan
    return pd.DataFrame({
        "unit_id": units, "variant": variant,
        "converted": (rng.random(n_rows) < 0.1).astype(float),
        "revenue": revenue, "pre": (unit % 23).astype(float) + 0.25,
        "clicks": rng.poisson(1.5, n_rows).astype(float),
        "sessions": rng.integers(1, 4, n_rows).astype(float),
        "latency": rng.gamma(5.0, 20.0, n_rows),
    })


@pytest.fixture(scope="module")
def logs_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("deterministic")
    df = _log()
    df.to_parquet(d / "log.parquet", index=False)
    text = df.to_csv(index=False, na_rep="").splitlines()
    text.insert(50, "u00001,a,1")  # too few fields: a reader reject, counted once
    (d / "log.csv").write_text("\n".join(text) + "\n")
    df.to_json(d / "log.jsonl", orient="records", lines=True)
    for name in ("log.csv", "log.jsonl"):  # a gzip stream has no size DuckDB can cap by
        (d / f"{name}.gz").write_bytes(gzip.compress((d / name).read_bytes()))
    return d


def _json(path, monkeypatch, passes: int | None, threads: int | None) -> str:
    for name, value in (("ABKIT_DUCKDB_PASSES", passes), ("ABKIT_DUCKDB_THREADS", threads)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(value))
    out = json.loads(abkit.analyze(str(path), SPEC).to_json())
    out.pop("generated_at")
    return json.dumps(out, indent=1)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl", "csv.gz", "jsonl.gz"])
def test_same_bytes_whatever_the_connections(logs_dir, fmt, monkeypatch):
    """K = 6 passes on 1 (one after the other), 2, 4 or 6 connections: the same bytes, also
    when each connection holds a sixth of a 1 GB limit (the CSV reader's buffer must fit)."""
    monkeypatch.setenv("ABKIT_DUCKDB_MEMORY_LIMIT", "1GB")
    path = logs_dir / f"log.{fmt}"
    first = _json(path, monkeypatch, 6, 1)
    report = json.loads(first)
    assert report["data"]["rows_rejected"].get("unit_in_multiple_variants", 0) > 0
    assert report["data"]["rows_rejected"].get("unknown_variant", 0) > 0
    if fmt.startswith("csv"):
        assert report["data"]["rows_rejected"]["unparseable_line"] == 1
    for threads in (2, 4, 6, 2):
        assert _json(path, monkeypatch, 6, threads) == first, threads


def test_same_bytes_run_after_run(logs_dir, monkeypatch):
    path = logs_dir / "log.parquet"
    for passes in (None, 3):
        runs = {_json(path, monkeypatch, passes, 3) for _ in range(4)}
        assert len(runs) == 1, passes


def test_passes_agree_with_one_pass(logs_dir, monkeypatch):
    """Different K give the same report up to the last bits of the statistics."""
    path = logs_dir / "log.parquet"
    one = json.loads(_json(path, monkeypatch, 1, 1))
    for k in (2, 5):
        many = json.loads(_json(path, monkeypatch, k, 2))
        assert many["data"] == one["data"]
        assert many["decision"] == one["decision"]
        for a, b in zip(one["comparisons"], many["comparisons"]):
            assert (a["metric"], a["verdict"]) == (b["metric"], b["verdict"])
            for key in ("control_value", "treatment_value", "effect", "se", "pvalue"):
                assert b[key] == pytest.approx(a[key], rel=1e-9, abs=1e-300), key


def test_large_inputs_use_every_connection(logs_dir, monkeypatch):
    """From PARALLEL_MIN_BYTES on, K >= W passes, W the connections asked for."""
    monkeypatch.delenv("ABKIT_DUCKDB_PASSES", raising=False)
    monkeypatch.setattr(duckdb_passes, "PARALLEL_MIN_BYTES", 1)
    logs = DuckDBLogs(resolve_sources([str(logs_dir / "log.parquet")]), threads=3)
    assert worker_count(logs) == 3
    k, w = choose_passes(logs, logs.label_expr("unit_id"), 7, worker_count(logs))
    assert (k, w) == (3, 3)
    monkeypatch.setattr(duckdb_passes, "PARALLEL_MIN_BYTES", 1 << 40)
    assert choose_passes(logs, logs.label_expr("unit_id"), 7, 3) == (1, 1)
    # the automatic count: the cores, at most one per WORKER_MIN_BYTES of the limit
    small = DuckDBLogs(resolve_sources([str(logs_dir / "log.parquet")]), memory_limit="200MB")
    small.threads = 0
    assert worker_count(small) == 1


def test_parallel_reduction_equals_one_connection(logs_dir, monkeypatch):
    """The engine's reduction itself, W = 3 against W = 1, K = 3: equal to the last bit."""
    monkeypatch.setenv("ABKIT_DUCKDB_PASSES", "3")
    plan = build_plan(load_spec(SPEC))
    got = []
    for threads in (1, 3):
        logs = DuckDBLogs(resolve_sources([str(logs_dir / "log.parquet")]), threads=threads)
        got.append(logs.reduce(plan))
        # the limit of the main connection is restored after the passes
        assert duckdb_passes.limit_bytes(logs.con.execute(
            "SELECT current_setting('memory_limit')").fetchone()[0]) > 1.5e9
    assert got[0].moments == got[1].moments
    assert got[0].rejected == got[1].rejected and got[0].units == got[1].units


def test_out_of_memory_in_a_connection(tmp_path, monkeypatch):
    """A connection out of memory interrupts the others; the error names the limit (exit 2),
    and with retries on, doubled K completes with the one-pass counts."""
    path = tmp_path / "oom.parquet"
    _log(n_rows=400_000, n_units=300_000, seed=5).to_parquet(path, index=False)
    plan = build_plan(load_spec(SPEC))
    monkeypatch.setenv("ABKIT_DUCKDB_PASSES", "2")
    monkeypatch.setenv("ABKIT_DUCKDB_RETRY", "0")
    with pytest.raises(InputError) as e:
        DuckDBLogs(resolve_sources([str(path)]), threads=2, memory_limit="40MB").reduce(plan)
    assert "out of memory" in str(e.value) and "40MB" in str(e.value)
    assert "ABKIT_DUCKDB_MEMORY_LIMIT" in str(e.value) and e.value.exit_code == 2
    monkeypatch.delenv("ABKIT_DUCKDB_RETRY")
    small = DuckDBLogs(resolve_sources([str(path)]), threads=2, memory_limit="40MB")
    red = small.reduce(plan)
    monkeypatch.setenv("ABKIT_DUCKDB_PASSES", "1")
    one = DuckDBLogs(resolve_sources([str(path)]), threads=1).reduce(plan)
    assert red.rejected == one.rejected and red.units == one.units
    assert red.rows_read == one.rows_read == 400_000


def test_a_bad_query_is_an_input_error(logs_dir):
    logs = DuckDBLogs(resolve_sources([str(logs_dir / "log.parquet")]))
    with pytest.raises(InputError, match="cannot read"):
        run_passes(logs, ["SELECT 1 AS x", "SELECT CAST('x' AS INTEGER) AS x"], 2)
    assert run_passes(logs, ["SELECT 1 AS x", "SELECT 2 AS x"], 2) == [[{"x": 1}], [{"x": 2}]]


def test_passes_progress_counts_finished_passes():
    cons = [duckdb.connect(), duckdb.connect()]
    tracker = PassesProgress(cons, 4)
    assert tracker.query_progress() == 0.0  # idle connections report nothing
    tracker.finished()
    tracker.finished()
    tracker.finished()
    assert tracker.query_progress() == pytest.approx(75.0)

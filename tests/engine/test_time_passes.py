"""Time cells on every core, deterministic (abkit.engine.duckdb_passes.time_passes): the
blue/green scan (abkit.engine.duckdb_rows) runs in passes by whole second on one-thread
connections.

All the rows of a cell are in one pass and summed in file order by one thread, so the
blue/green report is byte-identical (apart from ``generated_at``) whatever the number of
connections; every row is counted in exactly one pass, and the reader's rejects once.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import abkit
from abkit.engine import duckdb_passes
from abkit.engine.duckdb_engine import DuckDBLogs
from abkit.engine.duckdb_passes import time_pass_filter, time_passes
from abkit.io.sources import resolve_sources

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "data" / "bluegreen.toml"


@pytest.mark.parametrize("k", [2, 3, 5])
def test_every_second_falls_in_exactly_one_pass(k):
    """Ordinary seconds go to ``s mod k`` (negative ones too); no time, or a time too large
    for the arithmetic, to pass 0; nothing to two passes or to none."""
    values = [None, 0.0, 1.0, 2.0, 3.0, 4.0, 7.0, -1.0, -2.0, -7.0, 1714608240.0,
              2.0 ** 53 + 2, 1e300, -1e300, 1.7976931348623157e308]
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest(?::DOUBLE[]) AS s", [values])
    hits = {i: con.execute(f"SELECT s FROM t WHERE {time_pass_filter('s', k, i)}")
            .fetchall() for i in range(k)}
    seen = [v for rows in hits.values() for (v,) in rows]
    assert sorted(seen, key=repr) == sorted(values, key=repr)  # each once, none lost
    for i, rows in hits.items():
        for (v,) in rows:
            if v is not None and abs(v) < 2 ** 52:
                assert v % k == i, (v, i)
    assert (None,) in hits[0]


def _report(path: Path, monkeypatch, threads: int) -> str:
    monkeypatch.setenv("ABKIT_DUCKDB_THREADS", str(threads))
    out = json.loads(abkit.analyze(str(path), str(SPEC)).to_json())
    out.pop("generated_at")
    return json.dumps(out, indent=1)


@pytest.fixture(scope="module")
def spoiled_csv(tmp_path_factory) -> Path:
    """The regression sample with hostile rows, and a line with too few fields (a reader
    reject, stored by pass 0 only)."""
    from test_conformance import _spoil  # the hostile rows of every strategy

    from abkit.spec import load_spec

    frame = pd.read_csv(ROOT / "data" / "bluegreen_regression.csv.gz", dtype=str,
                        keep_default_na=False)
    text = _spoil(frame, load_spec(SPEC)).to_csv(index=False).splitlines()
    text.insert(40, "1714608240.5,blue")
    path = tmp_path_factory.mktemp("rows") / "log.csv"
    path.write_text("\n".join(text) + "\n")
    return path


def test_same_bytes_whatever_the_connections(spoiled_csv, tmp_path, monkeypatch):
    monkeypatch.setattr(duckdb_passes, "PARALLEL_MIN_BYTES", 1)
    frame = pd.read_csv(ROOT / "data" / "bluegreen_regression.csv.gz")
    frame.to_parquet(tmp_path / "log.parquet", index=False)
    for path in (spoiled_csv, tmp_path / "log.parquet"):
        logs = DuckDBLogs(resolve_sources([str(path)]), threads=3)
        assert time_passes(logs) == 3
        first = _report(path, monkeypatch, 1)
        if path.suffix == ".csv":
            rejected = json.loads(first)["data"]["rows_rejected"]
            assert rejected["unparseable_line"] == 1 and len(rejected) > 2
        for threads in (2, 3):
            assert _report(path, monkeypatch, threads) == first, (path.name, threads)


def test_small_inputs_and_parallel_mode_take_one_pass(spoiled_csv, monkeypatch):
    logs = DuckDBLogs(resolve_sources([str(spoiled_csv)]), threads=3)
    assert time_passes(logs) == 1  # under PARALLEL_MIN_BYTES
    monkeypatch.setattr(duckdb_passes, "PARALLEL_MIN_BYTES", 1)
    fast = DuckDBLogs(resolve_sources([str(spoiled_csv)]), threads=3, deterministic=False)
    assert time_passes(fast) == 1  # --parallel: one query on every thread

"""Replay speed of a canary gate on a large log, against a hand-written DuckDB floor.

    .venv/bin/python bench/canary_replay.py [--rows 10000000] [--looks 120]

Writes bench/out/canary_<rows>.parquet (seeded; columns ts as epoch seconds, variant,
error 0/1, latency_ms) unless it exists, then times (a) the floor: one DuckDB query that
groups the rows by look window and variant into count, sum and sum of squares per metric,
the sufficient statistics, with no validation (on every core, and on one thread); (b) ``abkit.analyze`` on the same file with
a canary spec (two guardrails, one look per minute), end to end: classification and
accounting of every row, the reduction, and the sequential gate at every look. Prints one
Markdown table row per measurement; the results are recorded in bench/README.md.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make(path: Path, rows: int, minutes: int, seed: int = 20261126) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    start = 1795687200.0  # 2026-11-26T10:00:00Z
    chunk = 1_000_000
    with pq.ParquetWriter(path, pa.schema([("ts", pa.float64()), ("variant", pa.string()),
                                           ("error", pa.int8()),
                                           ("latency_ms", pa.float64())])) as w:
        for lo in range(0, rows, chunk):
            n = min(chunk, rows - lo)
            t = start + np.sort(rng.uniform(lo / rows, (lo + n) / rows, n)) * minutes * 60
            cand = rng.random(n) < 0.1
            err = (rng.random(n) < np.where(cand, 0.011, 0.01)).astype(np.int8)
            lat = rng.lognormal(np.log(120.0) - 0.125, 0.5, n)
            w.write_table(pa.table({"ts": t, "variant": np.where(cand, "canary", "baseline"),
                                    "error": err, "latency_ms": lat}))


SPEC = {
    "experiment": {"strategy": "canary", "control": "baseline", "timestamp_column": "ts",
                   "look_every": "1m", "split": {"baseline": 0.9, "canary": 0.1}},
    "metrics": [
        {"name": "error_rate", "kind": "proportion", "column": "error", "role": "guardrail",
         "good": "decrease", "margin": 0.2},
        {"name": "latency", "kind": "mean", "column": "latency_ms", "role": "guardrail",
         "good": "decrease", "margin": 0.05},
    ],
}


def floor(path: Path, threads: int | None = None) -> float:
    """The floor query's time: on DuckDB's defaults (every core), or on ``threads``."""
    import duckdb

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    t0 = time.perf_counter()
    con.execute(
        "SELECT floor((ts - (SELECT min(ts) FROM read_parquet(?))) / 60) AS look, variant, "
        "count(*), sum(error), sum(error * error), sum(latency_ms), "
        "sum(latency_ms * latency_ms) FROM read_parquet(?) GROUP BY ALL",
        [str(path), str(path)]).fetchall()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--looks", type=int, default=120)
    a = ap.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"canary_{a.rows}.parquet"
    if not path.exists():
        make(path, a.rows, a.looks)
    import abkit

    f = min(floor(path) for _ in range(3))
    f1 = min(floor(path, 1) for _ in range(3))
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        rep = abkit.analyze(path, SPEC)
        times.append(time.perf_counter() - t0)
    doc = rep.to_dict()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = min(times)
    print("| rows | looks | floor, every core (s) | floor, 1 thread (s) | abkit (s) | ratio "
          "(every core) | ratio (1 thread) | peak RSS (MB) | decision |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print(f"| {a.rows:,} | {len(doc['timeline'])} | {f:.2f} | {f1:.2f} | {t:.2f} | "
          f"{t / f:.2f}x | {t / f1:.2f}x | {rss:.0f} | "
          f"{doc['decision']} at look {doc['decided_at_look']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

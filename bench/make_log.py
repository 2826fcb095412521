"""Write the seeded per-request Parquet log the benchmark runs on.

    python bench/make_log.py                      # 10,000,000 rows, 2,000,000 users
    python bench/make_log.py --rows 1000000 --users 200000 --out bench/out/small.parquet

One row per request (``sessions`` is 1 on every row), randomized by user: each user has a
fixed variant (50/50), a fixed pre-period revenue and a fixed activity profile. Every user
gets at least one row (the first ``--users`` rows visit the users in a random order), the
remaining rows go to users drawn at random, so a user's rows are scattered over the file.
Rows are generated and written in chunks with ``pyarrow.parquet.ParquetWriter`` (one row
group per chunk), so memory stays at a few hundred MB whatever ``--rows`` is.

Columns: unit_id (string "u0001234"), variant ("control" / "treatment"), converted (0/1),
revenue (double), pre_revenue (double, per user), clicks (int64), sessions (int64, 1),
latency_ms (double).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out" / "requests_10m.parquet"

# effects (treatment vs control); small, so the report has something to find
CONVERSION_BASE = 0.030
CONVERSION_LIFT = 0.05  # relative
REVENUE_LIFT = 0.03  # relative, on revenue per converted request
LATENCY_SLOWDOWN = 0.005  # relative


def build_users(rng: np.random.Generator, users: int) -> dict[str, np.ndarray]:
    """Per-user constants."""
    treated = rng.random(users) < 0.5
    value = rng.lognormal(mean=0.0, sigma=0.8, size=users)  # spend propensity
    pre_revenue = np.round(value * rng.gamma(2.0, 10.0, size=users), 2)
    click_rate = rng.gamma(2.0, 0.15, size=users)  # mean 0.3 clicks / request
    return {"treated": treated, "value": value, "pre_revenue": pre_revenue,
            "click_rate": click_rate}


def build_chunk(rng: np.random.Generator, u: dict[str, np.ndarray], uid: np.ndarray,
                unit_ids: pa.Array, variants: pa.Array) -> pa.Table:
    n = len(uid)
    treated = u["treated"][uid]
    p = CONVERSION_BASE * np.where(treated, 1.0 + CONVERSION_LIFT, 1.0)
    converted = (rng.random(n) < p).astype(np.int64)
    basket = u["value"][uid] * rng.lognormal(mean=3.0, sigma=0.6, size=n)
    basket *= np.where(treated, 1.0 + REVENUE_LIFT, 1.0)
    revenue = np.round(np.where(converted == 1, basket, 0.0), 2)
    clicks = rng.poisson(u["click_rate"][uid])
    latency = rng.lognormal(mean=np.log(120.0), sigma=0.35, size=n)
    latency *= np.where(treated, 1.0 + LATENCY_SLOWDOWN, 1.0)
    idx = pa.array(uid)
    return pa.table({
        "unit_id": unit_ids.take(idx),
        "variant": variants.take(pa.array(treated.astype(np.int8))),
        "converted": pa.array(converted),
        "revenue": pa.array(revenue),
        "pre_revenue": pa.array(u["pre_revenue"][uid]),
        "clicks": pa.array(clicks.astype(np.int64)),
        "sessions": pa.array(np.ones(n, dtype=np.int64)),
        "latency_ms": pa.array(np.round(latency, 3)),
    })


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows (default 10,000,000)")
    ap.add_argument("--users", type=int, default=2_000_000, help="users (default 2,000,000)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--chunk", type=int, default=1_000_000, help="rows per chunk / row group")
    args = ap.parse_args(argv)
    if args.users < 1 or args.rows < args.users:
        ap.error("need 1 <= --users <= --rows (every user gets at least one row)")

    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    users = build_users(rng, args.users)
    first_visit = rng.permutation(args.users)
    width = max(7, len(str(args.users - 1)))
    unit_ids = pa.array([f"u{i:0{width}d}" for i in range(args.users)], type=pa.string())
    variants = pa.array(["control", "treatment"], type=pa.string())

    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    writer = None
    try:
        for start in range(0, args.rows, args.chunk):
            stop = min(start + args.chunk, args.rows)
            # rows [0, users) visit every user once, in a random order; the rest are random
            fixed = first_visit[start:min(stop, args.users)]
            extra = rng.integers(0, args.users, size=(stop - start) - len(fixed))
            uid = np.concatenate([fixed, extra]) if len(fixed) else extra
            table = build_chunk(rng, users, uid, unit_ids, variants)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=args.chunk)
        if writer is not None:
            writer.close()
            writer = None
        tmp.replace(args.out)
    finally:
        if writer is not None:
            writer.close()
        if tmp.exists():
            tmp.unlink()

    size = args.out.stat().st_size / 2**20
    print(f"wrote {args.out}: {args.rows:,} rows, {args.users:,} users, {size:.0f} MiB "
          f"in {time.perf_counter() - t0:.1f} s (seed {args.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

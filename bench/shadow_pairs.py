"""Generic shadow logs, 2 x N rows: abkit's pairs reduction against a floor (see SHADOW.md).

    .venv/bin/python bench/shadow_pairs.py                      # 2 x 5M rows, 3 rounds
    .venv/bin/python bench/shadow_pairs.py --rows 200000 --rounds 1

The log: one CSV with a variant column, ``request_id, variant, ts, score, latency_ms,
error, label`` (seeded; 0.5 % of the live requests have no candidate answer, so the
accounting has something to count). The floor: one hand-written DuckDB query that does the
join on the id and its aggregates (count and sums of both scores and the labels) in a fresh
connection, on every core. abkit: ``ShadowStrategy`` open -> plan -> reduce on DuckDB, i.e.
the whole accounting (every reason, one example each, the labels' accounting) and the per-pair
arrays fetched into numpy; ``--parallel`` as well as the default deterministic (one-thread)
run; and ``abkit.analyze`` end to end (the statistics too; ``--analyze-rounds``, default 1). Each run is a fresh child
process under ``/usr/bin/time -v`` (peak RSS); floor and abkit alternate; medians of
``--rounds``.

``--before DIR`` also runs ``abkit`` and ``analyze`` on an untouched export of older code
(``git archive REV | tar -x -C DIR``; the child asserts that it imported abkit from DIR), and
compares the two ``analyze`` reports number by number (``bluegreen.py``'s comparison).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

SPEC = {"experiment": {"strategy": "shadow", "live": "live", "candidate": "cand",
                       "label_column": "label", "latency_column": "latency_ms",
                       "error_column": "error", "timestamp_column": "ts"},
        "metrics": [{"name": "auc", "margin": 0.01}, {"name": "latency_p95", "margin": 0.1},
                    {"name": "error_rate", "margin": 0.01}]}


def generate(path: Path, n: int, seed: int = 20261203) -> None:
    """2 x ``n`` rows (live, then candidate), written with pyarrow's CSV writer."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 1)))).astype(np.int8)
    t0 = np.datetime64("2026-11-20T08:00:00", "s")
    ts = (t0 + np.sort(rng.integers(0, 6 * 3600, n)).astype("timedelta64[s]")).astype(str)
    ids = np.char.add("r", np.arange(n).astype(str))
    keep = rng.random(n) >= 0.005  # the candidate missed 0.5 % of the requests
    parts = []
    for v, noise, sel in (("live", 0.5, slice(None)), ("cand", 0.7, keep)):
        score = np.round(1 / (1 + np.exp(-(1.5 * x - 1 + rng.normal(0, noise, n)))), 5)
        lat = np.round(rng.lognormal(np.log(40), 0.3, n), 2)
        err = (rng.random(n) < 0.01).astype(np.int8)
        parts.append(pa.table({"request_id": ids[sel], "variant": np.full(n, v)[sel],
                               "ts": np.char.add(ts, "Z")[sel], "score": score[sel],
                               "latency_ms": lat[sel], "error": err[sel],
                               "label": y[sel]}))
    pacsv.write_csv(pa.concat_tables(parts), str(path))


def floor_sql(path: str) -> str:
    return (
        "WITH t AS (SELECT request_id, variant, TRY_CAST(score AS DOUBLE) AS y, "
        "TRY_CAST(label AS DOUBLE) AS lab FROM read_csv("
        f"'{path}', header = true, all_varchar = true)) "
        "SELECT count(*) AS pairs, sum(l.y) AS live, sum(s.y) AS cand, sum(l.lab) AS labels "
        "FROM t l JOIN t s ON l.request_id = s.request_id "
        "WHERE l.variant = 'live' AND s.variant = 'cand'")


def child(kind: str, path: str) -> None:
    t0 = time.perf_counter()
    before = os.environ.get("ABKIT_BEFORE_DIR")
    if kind.endswith("-before"):
        import abkit

        assert before and os.path.realpath(abkit.__file__).startswith(
            os.path.realpath(before) + os.sep), abkit.__file__
        kind = kind[: -len("-before")]
    if kind == "floor":
        import duckdb

        rows = duckdb.connect().execute(floor_sql(path)).fetchall()
        out = {"pairs": int(rows[0][0])}
    elif kind == "analyze":
        import abkit

        rep = abkit.analyze(path, SPEC).to_dict()
        out = {"pairs": rep["shadow"]["pairs"], "decision": rep["decision"]}
        name = "shadow_report_before.json" if before else "shadow_report.json"
        (ROOT / "bench" / "out" / name).write_text(json.dumps(rep, default=str))
    else:
        from abkit.spec import parse_spec
        from abkit.strategies.base import Overrides
        from abkit.strategies.shadow import ShadowStrategy

        st = ShadowStrategy()
        src = st.open(path, Overrides(deterministic=kind != "abkit-parallel"))
        red = st.reduce(src, st.plan(parse_spec(SPEC), src))
        out = {"pairs": red.data["pairs"], "rejected": red.data["rows_rejected"]}
    out["seconds"] = time.perf_counter() - t0
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5_000_000, help="rows per side")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--analyze-rounds", type=int, default=1,
                    help="rounds that also run abkit.analyze end to end")
    ap.add_argument("--log", type=Path, default=None)
    ap.add_argument("--child", nargs=2, metavar=("KIND", "PATH"))
    ap.add_argument("--before", type=Path, default=None,
                    help="export of older code: also time it (abkit, analyze)")
    a = ap.parse_args()
    if a.child:
        return child(*a.child)
    from run import machine, measure

    log = a.log or ROOT / "bench" / "out" / f"shadow_2x{a.rows}.csv"
    if not log.exists():
        log.parent.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        generate(log, a.rows)
        print(f"generated {log} ({log.stat().st_size / 2**20:.0f} MiB) in "
              f"{time.perf_counter() - t:.0f} s", flush=True)
    kinds = ["floor", "abkit", "abkit-parallel", "analyze"]
    if a.before:
        kinds[2:2] = ["abkit-before"]
        kinds.append("analyze-before")
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    for r in range(a.rounds):
        for k in kinds:  # alternating: floor, abkit, ... each round
            if k.startswith("analyze") and r >= a.analyze_rounds:
                continue
            env = None
            if k.endswith("-before"):
                env = {"ABKIT_BEFORE_DIR": str(a.before), "PYTHONPATH": str(a.before)}
            m = measure([sys.executable, "-P", __file__, "--child", k, str(log)], env)
            res = json.loads(m["stdout"].strip().splitlines()[-1])
            runs[k].append({"wall_s": m["wall_s"], "rss_mb": m.get("rss_mb"), **res})
            print(f"round {r + 1} {k}: {m['wall_s']:.1f} s, {m.get('rss_mb', 0):.0f} MB, "
                  f"pairs {res['pairs']}", flush=True)
    floor = statistics.median(x["wall_s"] for x in runs["floor"])
    print(json.dumps({"machine": machine(), "rows_per_side": a.rows}, default=str))
    print("| run | median wall s | x floor | median peak RSS MB |\n|---|---|---|---|")
    for k in kinds:
        w = statistics.median(x["wall_s"] for x in runs[k])
        rss = statistics.median(x["rss_mb"] or 0 for x in runs[k])
        print(f"| {k} | {w:.1f} | {w / floor:.2f} | {rss:.0f} |")
    if a.before and a.analyze_rounds:
        from bluegreen import compare

        out = ROOT / "bench" / "out"
        compare(out / "shadow_report.json", out / "shadow_report_before.json")


if __name__ == "__main__":
    main()

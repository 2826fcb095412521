"""Time ``abkit.analyze(pandas_frame, spec)`` against tea-tasting on the same metrics.

    pip install tea-tasting          # for this benchmark only; not an abkit dependency
    python bench/frames.py           # ~1 min; prints the table, writes bench/out/frames.md

The frame: ``abkit.datasets.make_ab_log(1_000_000, seed=20261203, dirty=False)``, one row
per user (``unit_id``, ``variant``, ``converted``, ``revenue``, ``pre_revenue``, ``clicks``,
``sessions``, ``latency_ms``), written once to ``bench/out/frame_1m.parquet`` and read back
with pandas by every child process (not timed). The metrics, as in ``data/ab_example.toml``:
conversion (mean of 0/1), revenue with ``pre_revenue`` as CUPED covariate, ctr (ratio of
means clicks / sessions), latency (mean), and the sample ratio check. tea-tasting:
``Experiment(conversion=Mean("converted"), revenue=Mean("revenue", covariate="pre_revenue"),
ctr=RatioOfMeans("clicks", "sessions"), latency=Mean("latency_ms"), srm=SampleRatio())``.

Configurations, each in its own fresh child process, alternating, ``--repeat`` rounds
(default 3), medians shown:

* ``abkit``: the default engine (DuckDB through Arrow; deterministic, one DuckDB thread);
* ``abkit --parallel``: ``deterministic=False`` (every core);
* ``abkit pandas``: ``engine="pandas"``, the default for DataFrames before;
* ``tea-tasting``.

In each child: **first** = ``import`` of the library + the first analysis; **warm** = the
median of three more analyses in the same process. abkit does more than tea-tasting here:
it checks every row (labels, values, a unit in two variants or twice) and accounts for it.
As a cross-check the per-variant means of conversion, ctr and latency and the SRM counts of
abkit and tea-tasting must agree (to 1e-9 relative).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
FRAME = OUT / "frame_1m.parquet"
SPEC = ROOT / "data" / "ab_example.toml"
RESULTS = OUT / "frames.md"
SEED = 20261203
TARGET_RATIO = 1.5  # issue #13: a 1M-row pandas frame <= 1.5x tea-tasting
CONFIGS = ["abkit", "abkit --parallel", "abkit pandas", "tea-tasting"]


def make_frame(rows: int, path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from abkit.datasets import make_ab_log

    path.parent.mkdir(parents=True, exist_ok=True)
    make_ab_log(rows, seed=SEED, dirty=False).to_parquet(path, index=False)


# ---------------------------------------------------------------------------- children
def _abkit_runner(config: str):
    import abkit

    kw = {"engine": "pandas"} if config == "abkit pandas" else (
        {"deterministic": False} if config == "abkit --parallel" else {})

    def run(frame):
        d = abkit.analyze(frame, str(SPEC), **kw).to_dict()
        by = {c["metric"]: c for c in d["comparisons"]}
        return {"decision": d["decision"], "engine": d["input"]["engine"],
                "srm": d["srm"]["observed"],
                "means": {m: [by[m]["control_value"], by[m]["treatment_value"]]
                          for m in ("conversion", "ctr", "latency")}}
    return run


def _tea_runner():
    import tea_tasting as tt

    exp = tt.Experiment(conversion=tt.Mean("converted"),
                        revenue=tt.Mean("revenue", covariate="pre_revenue"),
                        ctr=tt.RatioOfMeans(numer="clicks", denom="sessions"),
                        latency=tt.Mean("latency_ms"), srm=tt.SampleRatio())

    def run(frame):
        res = exp.analyze(frame, control="control")
        rows = {r["metric"]: r for r in res.to_dicts()}
        return {"srm": {"control": rows["srm"]["control"],
                        "treatment": rows["srm"]["treatment"]},
                "means": {m: [rows[m]["control"], rows[m]["treatment"]]
                          for m in ("conversion", "ctr", "latency")}}
    return run


def child(config: str, path: str) -> None:
    import pandas as pd

    frame = pd.read_parquet(path)
    t0 = time.perf_counter()
    run = _tea_runner() if config == "tea-tasting" else _abkit_runner(config)
    out = run(frame)
    first = time.perf_counter() - t0
    warm = []
    for _ in range(3):
        t = time.perf_counter()
        run(frame)
        warm.append(time.perf_counter() - t)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"first": first, "warm": statistics.median(warm), "rss_mb": rss,
                      "result": out}))


def measure(config: str, path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ABKIT_")}
    proc = subprocess.run([sys.executable, __file__, "--child", config, str(path)],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{config} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- reporting
def _same(a: dict, b: dict) -> bool:
    if {k: int(v) for k, v in a["srm"].items()} != {k: int(v) for k, v in b["srm"].items()}:
        return False
    return all(abs(x - y) <= 1e-9 * max(abs(x), abs(y))
               for m in a["means"] for x, y in zip(a["means"][m], b["means"][m]))


def table(runs: dict[str, list[dict]], rows: int, facts: dict[str, str], load: str) -> str:
    tea_first = statistics.median(r["first"] for r in runs["tea-tasting"])
    tea_warm = statistics.median(r["warm"] for r in runs["tea-tasting"])
    lines = [f"{rows:,}-row pandas DataFrame, {len(runs['abkit'])} alternating rounds, "
             f"medians; load average before: {load}", "",
             "| configuration | first (import + 1st) s | warm s | warm / tea-tasting | "
             "first / tea-tasting | peak RSS MB |", "|---|---|---|---|---|---|"]
    for cfg in CONFIGS:
        rs = runs[cfg]
        first = statistics.median(r["first"] for r in rs)
        warm = statistics.median(r["warm"] for r in rs)
        rss = statistics.median(r["rss_mb"] for r in rs)
        lines.append(f"| {cfg} | {first:.2f} | {warm:.2f} | {warm / tea_warm:.2f}x | "
                     f"{first / tea_first:.2f}x | {rss:.0f} |")
    ref = runs["tea-tasting"][0]["result"]
    agree = all(_same(r["result"], ref) for cfg in CONFIGS if cfg != "tea-tasting"
                for r in runs[cfg])
    warm = statistics.median(r["warm"] for r in runs["abkit"]) / tea_warm
    lines += ["", f"target: abkit (default) warm <= {TARGET_RATIO}x tea-tasting: "
              f"{'met' if warm <= TARGET_RATIO else 'NOT met'} ({warm:.2f}x); means and "
              f"SRM counts agree with tea-tasting: {'yes' if agree else 'NO'}", "",
              "machine: " + ", ".join(f"{k} {v}" for k, v in facts.items())]
    return "\n".join(lines)


def machine() -> dict[str, str]:
    sys.path.insert(0, str(HERE))
    from run import machine as base  # bench/run.py: CPU, RAM, Python, duckdb, pyarrow

    import pandas
    import tea_tasting

    facts = base()
    facts.update(pandas=pandas.__version__, tea_tasting=tea_tasting.__version__)
    return facts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--frame", type=Path, default=None)
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--child", nargs=2, metavar=("CONFIG", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    path = args.frame or (FRAME if args.rows == 1_000_000
                          else OUT / f"frame_{args.rows}.parquet")
    if not path.exists():
        make_frame(args.rows, path)
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() \
        else "?"
    runs: dict[str, list[dict]] = {c: [] for c in CONFIGS}
    for i in range(args.repeat):
        for cfg in CONFIGS:
            r = measure(cfg, path)
            runs[cfg].append(r)
            print(f"round {i + 1} {cfg}: first {r['first']:.2f} s, warm {r['warm']:.2f} s",
                  file=sys.stderr)
    text = table(runs, args.rows, machine(), load)
    print(text)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text + "\n")


if __name__ == "__main__":
    main()

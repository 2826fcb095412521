"""Blue/green out of core: ``abkit report`` on a 10M-row blue/green log against a floor.

* input (``--make``): seeded (``numpy.random.default_rng(20261203)``), written in 1M-row
  chunks to ``bench/out/bluegreen_10m.parquet``: 10,000,000 requests over 4 days (~29 per
  second, millisecond timestamps ``ts`` in epoch seconds), blue until the switch at day 3,
  a 5 % green smoke test in the hour before it, 1 % of blue draining after it. Columns
  ``ts, variant, latency_ms, error, converted``; spec ``data/bluegreen.toml`` (3 metrics,
  2-minute warm-up, a look every minute: 1,440 looks over the 1-day window).
* floor: one hand-written DuckDB query in a fresh process (DuckDB defaults, every core):
  per hour of day x variant, ``count(*)`` and ``sum(x)``, ``sum(x * x)`` of each metric.
* abkit (new): ``abkit report FILE --spec data/bluegreen.toml --format json -o ...`` as
  shipped (deterministic: one DuckDB thread), written to ``bench/out/bluegreen_report.json``.
* before: the same command run by an untouched copy of the code before the time-cell change
  (``--before DIR``, default ``/tmp/abkit_head``; ``PYTHONPATH=DIR python -P -c ...`` so the
  working tree is not imported; the child checks ``abkit.__file__``), written to
  ``bench/out/bluegreen_report_before.json``; ``--before-repeat N`` (default ``--repeat``),
  ``--before-repeat 0`` leaves it out.

floor, abkit and before alternate, ``--repeat`` rounds (default 3), each in a fresh child
process; medians; peak RSS and CPU time from ``/usr/bin/time -v`` (see ``bench/run.py``,
whose measuring helpers this reuses). The machine is shared: before each round the script
waits until the 1-minute load average is below ``--max-load`` (1.5; polled every 10 s, at
most ``--max-wait`` s, 600) and records the load before every run.

At the end the new and the before JSON reports are compared (``--compare A B`` does it for
any two reports): the same keys, lists and strings, and every number equal to ``--rel``
(1e-9) relative (or 1e-12 absolute), apart from ``generated_at`` and ``input``.

    .venv/bin/python bench/bluegreen.py --make   # once (~5-30 s)
    .venv/bin/python bench/bluegreen.py          # prints the table and the comparison
    .venv/bin/python bench/bluegreen.py --compare A.json B.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, _med, machine, measure  # noqa: E402

OUT = ROOT / "bench" / "out"
LOG = OUT / "bluegreen_10m.parquet"
SPEC = ROOT / "data" / "bluegreen.toml"
START = 1_714_521_600.0  # 2024-05-01 00:00 UTC
DAYS, SWITCH_DAY = 4.0, 3.0
BEFORE = Path("/tmp/abkit_head")  # plain export of the code before the time-cell change
IGNORED = ("generated_at", "input")  # keys that legitimately differ between two runs

# child program for "before": refuses to run if the working tree's abkit got imported
_BEFORE_PY = (
    "import sys, os, abkit, abkit.cli; d = os.environ['ABKIT_BEFORE_DIR']; "
    "assert os.path.realpath(abkit.__file__).startswith(os.path.realpath(d) + os.sep), "
    "abkit.__file__; sys.exit(abkit.cli.main(sys.argv[1:]))"
)

FLOOR_SQL = """
SELECT CAST(floor(ts / 3600) AS BIGINT) % 24 AS hour, variant, count(*) AS n,
       sum(latency_ms) AS s1, sum(latency_ms * latency_ms) AS q1,
       sum(error) AS s2, sum(error * error) AS q2,
       sum(converted) AS s3, sum(converted * converted) AS q3
FROM read_parquet({file}) GROUP BY ALL
"""


def make(rows: int, out: Path, seed: int = 20261203) -> None:
    """Write the seeded log in 1M-row chunks, in time order."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    span = DAYS * 86400.0
    switch = START + SWITCH_DAY * 86400.0
    chunk = 1_000_000
    writer = None
    for lo in range(0, rows, chunk):
        n = min(chunk, rows - lo)
        t0 = START + span * lo / rows
        t = np.round(np.sort(rng.uniform(t0, t0 + span * n / rows, n)), 3)
        u = rng.uniform(size=n)
        green = np.where(t < switch, (t >= switch - 3600.0) & (u < 0.05), u >= 0.01)
        hour = np.mod(t / 3600.0, 24.0)
        daily = 1.0 + 0.1 * np.cos(2 * np.pi * (hour - 15.0) / 24.0)
        latency = rng.gamma(4.0, 25.0, n) * daily * np.where(green, 1.03, 1.0)
        error = (rng.uniform(size=n) < np.where(green, 0.012, 0.01)).astype(np.int64)
        converted = (rng.uniform(size=n) < 0.05).astype(np.int64)
        table = pa.table({"ts": t, "variant": np.where(green, "green", "blue"),
                          "latency_ms": np.round(latency, 3), "error": error,
                          "converted": converted})
        if writer is None:
            writer = pq.ParquetWriter(out, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def run_floor(file: str) -> int:
    t0 = time.perf_counter()
    import duckdb

    con = duckdb.connect()
    rows = con.execute(FLOOR_SQL.format(file="'" + file.replace("'", "''") + "'")).fetchall()
    print(json.dumps({"query_s": time.perf_counter() - t0,
                      "rows": sum(int(r[2]) for r in rows)}))
    return 0


def _loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_for_load(max_load: float, max_wait: float, poll: float = 10.0) -> dict:
    """Wait until the 1-minute load average is below ``max_load`` (at most ``max_wait`` s)."""
    t0 = time.monotonic()
    load = _loadavg()
    while load >= max_load and time.monotonic() - t0 < max_wait:
        time.sleep(poll)
        load = _loadavg()
    waited = time.monotonic() - t0
    return {"load": load, "waited_s": waited, "ok": load < max_load}


def diff_reports(a: object, b: object, rel: float = 1e-9, abs_tol: float = 1e-12,
                 path: str = "") -> tuple[list[tuple[str, object, object, float | None]],
                                          dict[str, float]]:
    """Every place where two JSON documents differ beyond ``rel`` (numbers) or at all."""
    diffs: list[tuple[str, object, object, float | None]] = []
    stats = {"numbers": 0, "not_bit_equal": 0, "max_rel": 0.0}
    where = {"max_rel_at": ""}

    def walk(x: object, y: object, p: str) -> None:
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                q = f"{p}.{k}" if p else str(k)
                if k not in x or k not in y:
                    diffs.append((q, x.get(k, "<missing>"), y.get(k, "<missing>"), None))
                else:
                    walk(x[k], y[k], q)
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                diffs.append((f"{p}.len", len(x), len(y), None))
            for i, (u, v) in enumerate(zip(x, y)):
                walk(u, v, f"{p}[{i}]")
        elif (isinstance(x, (int, float)) and isinstance(y, (int, float))
              and not isinstance(x, bool) and not isinstance(y, bool)):
            stats["numbers"] += 1
            if x == y or (math.isnan(x) and math.isnan(y)):
                return
            stats["not_bit_equal"] += 1
            d = abs(x - y)
            r = d / max(abs(x), abs(y)) if math.isfinite(d) else math.inf
            if r > stats["max_rel"]:
                stats["max_rel"], where["max_rel_at"] = r, p
            if d > abs_tol and r > rel:
                diffs.append((p, x, y, r))
        elif x != y or type(x) is not type(y):
            diffs.append((p, x, y, None))

    walk(a, b, path)
    return diffs, {**stats, **where}


def compare(new: Path, before: Path, rel: float = 1e-9, show: int = 40) -> bool:
    a, b = json.loads(new.read_text()), json.loads(before.read_text())
    for k in IGNORED:
        a.pop(k, None)
        b.pop(k, None)
    diffs, st = diff_reports(a, b, rel)
    print(f"compare {new.name} vs {before.name}: decision {a.get('decision')} / "
          f"{b.get('decision')}; {st['numbers']} numbers, {st['not_bit_equal']} not "
          f"bit-identical, max relative difference {st['max_rel']:.3g} at {st['max_rel_at']}; "
          f"{len(diffs)} difference(s) beyond {rel:g} relative (ignoring {', '.join(IGNORED)})")
    for p, x, y, r in diffs[:show]:
        rr = "" if r is None else f" (rel {r:.3g})"
        print(f"  {p}: {json.dumps(x)[:120]} != {json.dumps(y)[:120]}{rr}")
    if len(diffs) > show:
        print(f"  ... {len(diffs) - show} more")
    return not diffs and a.get("decision") == b.get("decision")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--make", action="store_true", help="write the 10M-row log")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--log", type=Path, default=LOG)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--before", type=Path, default=BEFORE,
                    help="untouched copy of the old code (default /tmp/abkit_head)")
    ap.add_argument("--before-repeat", type=int, default=None,
                    help="rounds that also run 'before' (default --repeat; 0: leave it out)")
    ap.add_argument("--max-load", type=float, default=1.5)
    ap.add_argument("--max-wait", type=float, default=600.0)
    ap.add_argument("--rel", type=float, default=1e-9)
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("NEW", "BEFORE"),
                    help="only compare two JSON reports")
    ap.add_argument("--floor", metavar="FILE", help=argparse.SUPPRESS)  # child mode
    args = ap.parse_args(argv)
    if args.floor:
        return run_floor(args.floor)
    if args.compare:
        return 0 if compare(*args.compare, rel=args.rel) else 1
    if args.make:
        OUT.mkdir(parents=True, exist_ok=True)
        make(args.rows, args.log)
        print(f"wrote {args.log}")
        return 0
    py = sys.executable
    abkit = str(Path(py).with_name("abkit"))
    report = OUT / "bluegreen_report.json"
    report_before = OUT / "bluegreen_report_before.json"
    n_before = args.repeat if args.before_repeat is None else args.before_repeat
    args.log.read_bytes()  # page cache warm
    floor_cmd = [py, str(Path(__file__).resolve()), "--floor", str(args.log)]
    tail = ["report", str(args.log), "--spec", str(SPEC), "--format", "json", "-o"]
    abkit_cmd = [abkit, *tail, str(report)]
    before_cmd = [py, "-P", "-c", _BEFORE_PY, *tail, str(report_before)]
    before_env = {"PYTHONPATH": str(args.before.resolve()),
                  "ABKIT_BEFORE_DIR": str(args.before.resolve())}
    floors, runs, befores, waits = [], [], [], []
    for i in range(args.repeat):
        w = wait_for_load(args.max_load, args.max_wait)
        waits.append(w)
        f = measure(floor_cmd)
        f.update(json.loads(f["stdout"]), load=w["load"])
        floors.append(f)
        a = measure(abkit_cmd)
        a["load"] = _loadavg()
        runs.append(a)
        line = (f"round {i + 1} (load {w['load']:.2f} after {w['waited_s']:.0f} s): "
                f"floor {f['wall_s']:.2f} s, abkit {a['wall_s']:.2f} s "
                f"({a.get('rss_mb', float('nan')):.0f} MB)")
        if i < n_before:
            b_load = _loadavg()
            b = measure(before_cmd, env=before_env)
            b["load"] = b_load
            befores.append(b)
            line += f", before {b['wall_s']:.2f} s ({b.get('rss_mb', float('nan')):.0f} MB)"
        print(line + f"; load at runs {f['load']:.2f}/{a['load']:.2f}"
              + (f"/{befores[-1]['load']:.2f}" if i < n_before else ""), flush=True)
    doc = json.loads(report.read_text())
    same = doc["data"]["rows_used"] == floors[-1]["rows"]
    fw, aw = _med(floors, "wall_s"), _med(runs, "wall_s")
    m = machine()
    print(f"\nmachine: {m}")
    print("| | wall s (median) | x floor | runs | CPU s (user+sys) | peak RSS MB |")
    print("|---|---:|---:|---|---:|---:|")
    configs = [("floor (one DuckDB query, every core)", floors),
               ("new: abkit report (deterministic, 1 thread)", runs)]
    if befores:
        configs.append(("before: abkit report, old code", befores))
    for name, rs in configs:
        cpu = statistics.median(r["user_s"] + r["sys_s"] for r in rs) \
            if all("user_s" in r for r in rs) else float("nan")
        print(f"| {name} | {_med(rs, 'wall_s'):.2f} | {_med(rs, 'wall_s') / fw:.1f} | "
              f"{', '.join(format(r['wall_s'], '.2f') for r in rs)} | {cpu:.1f} | "
              f"{_med(rs, 'rss_mb'):.0f} |")
    print(f"\nratio {aw / fw:.2f}x the floor (target <= 2x); floor query alone "
          f"{_med(floors, 'query_s'):.2f} s; rows used equal the floor's rows: {same}; "
          f"decision: {doc.get('verdict', {}).get('decision', doc.get('decision'))}")
    if befores:
        print(f"new is {_med(befores, 'wall_s') / aw:.1f}x faster than before, "
              f"{_med(befores, 'rss_mb') / _med(runs, 'rss_mb'):.1f}x less peak RSS")
    print("load waits: " + ", ".join(f"{w['load']:.2f} ({w['waited_s']:.0f} s"
                                     f"{'' if w['ok'] else ', gave up'})" for w in waits))
    if befores:
        ok = compare(report, report_before, rel=args.rel)
        print(f"new and before agree: {ok}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

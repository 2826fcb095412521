"""Time ``abkit report`` end to end against the floor (the same reduction as hand-written SQL).

    python bench/run.py                 # after: python bench/make_log.py

In one run, each in its own fresh child process (so peak memory is per command):

* floor: ``python bench/run.py --floor FILE``: a fresh ``duckdb.connect()`` running one
  hand-written query over the Parquet file: per (unit_id, variant) the same per-user sums
  abkit forms, then per variant the count, means and covariances abkit needs. No validation,
  no accounting, no statistics, no report.
* abkit: ``abkit report FILE --spec bench/requests.toml --format json -o bench/out/report.json``;
  as shipped (deterministic: parallel passes on one-thread connections, byte-identical
  output) and a second time with ``--parallel`` (``ABKIT_DETERMINISTIC=0``: each query on
  every DuckDB thread; see ``abkit/engine/duckdb_passes.py``), written to
  ``bench/out/report_parallel.json``. The JSON of every run is hashed (without
  ``generated_at``) and the table says whether all runs of a configuration gave the same bytes.
* startup: ``abkit --help``.

floor and abkit run alternately ``--repeat`` times (default 3), ``abkit --help`` 5 times;
the table shows medians. Wall time is measured around the child process; peak RSS comes from
``/usr/bin/time -v`` ("Maximum resident set size") when it exists, else from
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a fresh wrapper process per command.
The table is printed and written to ``bench/out/results.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
LOG = OUT / "requests_10m.parquet"
SPEC = HERE / "requests.toml"
REPORT = OUT / "report.json"
RESULTS = OUT / "results.md"
TIME_BIN = "/usr/bin/time"
TARGET_RATIO = 1.3  # issue #13: 10M rows <= 1.3x the floor (100M: 1.5x, --target-ratio)
TARGET_RSS_MB = 1024  # "under 1 GB" (100M: 2048, --target-rss-mb)

# per user, then per variant: the moments abkit's plan needs for bench/requests.toml
# (conversion: max(converted); revenue: sum(revenue) + avg(pre_revenue) covariate;
#  ctr: sum(clicks) / sum(sessions); latency: sum(latency_ms) / count(*))
_PAIRS = [
    ("conv", "conv"),
    ("rev", "rev"), ("rev", "pre"), ("pre", "pre"),
    ("clk", "clk"), ("clk", "ses"), ("ses", "ses"),
    ("lat", "lat"), ("lat", "n"), ("n", "n"),
]
FLOOR_SQL = """
WITH per_user AS (
    SELECT unit_id, variant,
           max(converted)   AS conv,
           sum(revenue)     AS rev,
           avg(pre_revenue) AS pre,
           sum(clicks)      AS clk,
           sum(sessions)    AS ses,
           sum(latency_ms)  AS lat,
           count(*)         AS n
    FROM read_parquet({file})
    GROUP BY unit_id, variant
)
SELECT variant, count(*) AS units, sum(n) AS rows_used,
       {means},
       {covs}
FROM per_user
GROUP BY variant
ORDER BY variant
"""


def floor_sql(file: str) -> str:
    names = ["conv", "rev", "pre", "clk", "ses", "lat", "n"]
    return FLOOR_SQL.format(
        file="'" + file.replace("'", "''") + "'",
        means=", ".join(f"avg({c}) AS mean_{c}" for c in names),
        covs=", ".join(f"covar_samp({a}, {b}) AS cov_{a}_{b}" for a, b in _PAIRS),
    )


def run_floor(file: str) -> int:
    """Child mode: run the floor query in a fresh connection, print JSON on stdout."""
    t0 = time.perf_counter()
    import duckdb

    t1 = time.perf_counter()
    con = duckdb.connect()
    cur = con.execute(floor_sql(file))
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    t2 = time.perf_counter()
    print(json.dumps({"import_s": t1 - t0, "query_s": t2 - t1, "rows": rows}))
    return 0


# ---------------------------------------------------------------------------- measuring
def _parse_time_v(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Maximum resident set size (kbytes):"):
            out["rss_mb"] = int(line.rsplit(":", 1)[1]) / 1024
        elif line.startswith("User time (seconds):"):
            out["user_s"] = float(line.rsplit(":", 1)[1])
        elif line.startswith("System time (seconds):"):
            out["sys_s"] = float(line.rsplit(":", 1)[1])
    return out


# used without /usr/bin/time: a fresh wrapper process runs the command and reports the
# children's peak RSS (Linux: ru_maxrss in KiB), so the maximum is that command's alone
_RUSAGE_WRAPPER = r"""
import json, resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stdout.write(p.stdout)
sys.stderr.write(p.stderr)
sys.stderr.write("\n__RUSAGE__" + json.dumps({"rss_mb": ru.ru_maxrss / 1024,
    "user_s": ru.ru_utime, "sys_s": ru.ru_stime}) + "\n")
sys.exit(p.returncode)
"""


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``cmd`` in a fresh child process; wall time, peak RSS, CPU time, stdout."""
    full_env = {**os.environ, **(env or {})}
    if METHOD == "time -v":
        with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
            t0 = time.perf_counter()
            p = subprocess.run([TIME_BIN, "-v", "-o", tf.name, *cmd], capture_output=True,
                               text=True, env=full_env, cwd=ROOT)
            wall = time.perf_counter() - t0
            stats = _parse_time_v(Path(tf.name).read_text())
    else:
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", _RUSAGE_WRAPPER, *cmd], capture_output=True,
                           text=True, env=full_env, cwd=ROOT)
        wall = time.perf_counter() - t0
        head, _, tail = p.stderr.rpartition("__RUSAGE__")
        stats = json.loads(tail) if tail.strip() else {}
        p = subprocess.CompletedProcess(p.args, p.returncode, p.stdout, head)
    if p.returncode != 0:
        raise SystemExit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    return {"wall_s": wall, **stats, "stdout": p.stdout, "stderr": p.stderr}


METHOD = "time -v" if shutil.which(TIME_BIN) or Path(TIME_BIN).exists() else "getrusage"


# ---------------------------------------------------------------------------- reporting
def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    import duckdb
    import pyarrow

    return {"nproc": str(os.cpu_count()), "cpu": cpu, "ram": ram,
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "pyarrow": pyarrow.__version__, "os": platform.platform()}


def _med(runs: list[dict], key: str) -> float:
    vals = [r[key] for r in runs if key in r]
    return statistics.median(vals) if vals else float("nan")


def _check_same(floor_rows: list[dict], report: dict) -> bool:
    """Cross-check: units and rows per variant in abkit's report equal the floor's."""
    units = report["data"]["units"]
    ok = all(units.get(r["variant"]) == r["units"] for r in floor_rows)
    return ok and report["data"]["rows_used"] == sum(r["rows_used"] for r in floor_rows)


def report_digest(path: Path) -> str:
    """SHA-256 of a JSON report without its ``generated_at`` (the bytes that must repeat)."""
    import hashlib

    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
             if not ln.lstrip().startswith('"generated_at"')]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _rel(p: Path) -> str:
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=Path, default=LOG)
    ap.add_argument("--spec", type=Path, default=SPEC)
    ap.add_argument("--repeat", type=int, default=3, help="alternating rounds (default 3)")
    ap.add_argument("--help-runs", type=int, default=5, help="abkit --help runs (default 5)")
    ap.add_argument("--no-parallel", action="store_true",
                    help="skip the extra abkit run with --parallel")
    ap.add_argument("--results", type=Path, default=RESULTS,
                    help=f"Markdown table to write (default {_rel(RESULTS)}; JSON next to it)")
    ap.add_argument("--target-ratio", type=float, default=TARGET_RATIO,
                    help=f"wall-time target against the floor (default {TARGET_RATIO})")
    ap.add_argument("--target-rss-mb", type=float, default=TARGET_RSS_MB,
                    help=f"peak RSS target in MB (default {TARGET_RSS_MB})")
    ap.add_argument("--floor", metavar="FILE", help=argparse.SUPPRESS)  # child mode
    args = ap.parse_args(argv)
    if args.floor:
        return run_floor(args.floor)

    if not args.log.exists():
        raise SystemExit(f"{args.log} not found: run  python bench/make_log.py  first")
    OUT.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    abkit = str(Path(py).with_name("abkit"))
    if not Path(abkit).exists():
        abkit = shutil.which("abkit") or "abkit"
    floor_cmd = [py, str(Path(__file__).resolve()), "--floor", str(args.log)]
    help_cmd = [abkit, "--help"]
    abkit_env = {k: v for k, v in os.environ.items() if k.startswith("ABKIT_")}

    # the abkit configurations timed, each writing its own report
    configs: list[tuple[str, dict[str, str], Path]] = [
        ("`abkit report` (as configured: defaults unless ABKIT_* is set)", {}, REPORT)]
    if not args.no_parallel and abkit_env.get("ABKIT_DETERMINISTIC") != "0":
        configs.append(("`abkit report --parallel`", {"ABKIT_DETERMINISTIC": "0"},
                        OUT / "report_parallel.json"))

    def report_cmd(out: Path) -> list[str]:
        return [abkit, "report", str(args.log), "--spec", str(args.spec),
                "--format", "json", "-o", str(out)]

    print(f"peak RSS via: {METHOD}; ABKIT_* env: {abkit_env or 'none'}", flush=True)
    # warm the page cache (and the interpreter's .pyc files) so run 1 is not penalized
    subprocess.run([py, "-c", f"open({str(args.log)!r}, 'rb').read()"], check=True)
    subprocess.run(help_cmd, check=True, capture_output=True)

    load_before = os.getloadavg()
    floor_runs: list[dict] = []
    abkit_runs: list[list[dict]] = [[] for _ in configs]
    for i in range(args.repeat):
        f = measure(floor_cmd)
        out = json.loads(f["stdout"])
        f["query_s"] = out["query_s"]
        f["rows"] = out["rows"]
        floor_runs.append(f)
        print(f"round {i + 1}: floor {f['wall_s']:.2f} s (query {f['query_s']:.2f} s), "
              f"{f.get('rss_mb', float('nan')):.0f} MB", flush=True)
        for (name, env, path), runs in zip(configs, abkit_runs):
            a = measure(report_cmd(path), env)
            a["json_sha256"] = report_digest(path)
            runs.append(a)
            print(f"round {i + 1}: {name} {a['wall_s']:.2f} s, "
                  f"{a.get('rss_mb', float('nan')):.0f} MB", flush=True)
    help_runs = [measure(help_cmd) for _ in range(args.help_runs)]
    load_after = os.getloadavg()
    same = all(_check_same(floor_runs[-1]["rows"], json.loads(path.read_text()))
               for _, _, path in configs)

    def cpu_s(runs: list[dict]) -> float:
        return statistics.median(r.get("user_s", float("nan")) + r.get("sys_s", float("nan"))
                                 for r in runs)

    def runs_txt(runs: list[dict], key: str = "wall_s") -> str:
        return ", ".join(f"{r[key]:.2f}" for r in runs)

    def row(name: str, runs: list[dict], digits: int = 2) -> str:
        return (f"| {name} | {_med(runs, 'wall_s'):.{digits}f} | {runs_txt(runs)} | "
                f"{cpu_s(runs):.2f} | {_med(runs, 'rss_mb'):.0f} |")

    fw, fq = _med(floor_runs, "wall_s"), _med(floor_runs, "query_s")
    m = machine()
    rows_n = sum(r["rows_used"] for r in floor_runs[-1]["rows"])
    units_n = sum(r["units"] for r in floor_runs[-1]["rows"])
    lines = [
        f"### abkit benchmark, {dt.date.today().isoformat()}",
        "",
        f"Input: `{_rel(args.log)}` ({rows_n:,} rows, {units_n:,} users, "
        f"{args.log.stat().st_size / 2**20:.0f} MiB Parquet); spec `{_rel(args.spec)}`.",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram']} RAM, Python {m['python']}, "
        f"duckdb {m['duckdb']}, pyarrow {m['pyarrow']}.",
        f"Peak RSS via `{METHOD}`; ABKIT_* environment: "
        + (", ".join(f"`{k}={v}`" for k, v in abkit_env.items()) or "none (defaults)") + "; "
        f"{args.repeat} alternating rounds, medians; load average (1 min) "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after.",
        "",
        "| command | wall, median (s) | runs (s) | CPU user+sys, median (s) | peak RSS, median (MB) |",
        "|---|---:|---|---:|---:|",
        row("floor: hand-written DuckDB SQL, whole process", floor_runs),
        f"| floor: the query alone (in-process) | {fq:.2f} | "
        f"{runs_txt(floor_runs, 'query_s')} | | |",
    ]
    for (name, _, _), runs in zip(configs, abkit_runs):
        lines.append(row(name, runs))
    lines.append(row("`abkit --help` (startup)", help_runs, 3))
    lines.append("")
    summary: dict[str, dict[str, float]] = {}
    for (name, _, _), runs in zip(configs, abkit_runs):
        aw, arss = _med(runs, "wall_s"), _med(runs, "rss_mb")
        ratio = aw / fw
        summary[name] = {"ratio": ratio, "ratio_query": aw / fq, "rss_mb": arss,
                         "cpu_ratio": cpu_s(runs) / cpu_s(floor_runs)}
        lines.append(
            f"- {name}: **{ratio:.2f}x** the floor "
            f"(target <= {args.target_ratio}x: "
            f"{'met' if ratio <= args.target_ratio else 'NOT met'}); "
            f"{aw / fq:.2f}x the floor query alone; CPU time {cpu_s(runs) / cpu_s(floor_runs):.2f}x; "
            f"peak RSS **{arss:.0f} MB** (target < {args.target_rss_mb:.0f} MB: "
            f"{'met' if arss < args.target_rss_mb else 'NOT met'})"
        )
    for (name, _, _), runs in zip(configs, abkit_runs):
        digests = {r["json_sha256"] for r in runs}
        lines.append(f"- {name}: JSON byte-identical in all {len(runs)} runs (apart from "
                     f"generated_at): {'yes' if len(digests) == 1 else f'NO ({len(digests)} distinct)'}")
    lines.append(f"- units and rows per variant in abkit's reports equal the floor's: "
                 f"{'yes' if same else 'NO'}")
    table = "\n".join(lines) + "\n"
    print()
    print(table)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(table, encoding="utf-8")

    def strip(runs: list[dict]) -> list[dict]:
        return [{k: v for k, v in r.items() if k not in ("stdout", "stderr")} for r in runs]

    args.results.with_suffix(".json").write_text(json.dumps({
        "machine": m, "method": METHOD, "env": abkit_env, "loadavg": [load_before, load_after],
        "floor": strip(floor_runs), "help": strip(help_runs), "summary": summary,
        "abkit": {name: strip(runs) for (name, _, _), runs in zip(configs, abkit_runs)},
    }, indent=1, default=str), encoding="utf-8")
    print(f"wrote {_rel(args.results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

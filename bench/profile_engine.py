"""Where ``abkit report`` spends its time and memory on the benchmark log (a diagnostic).

    python bench/profile_engine.py                 # phases of one in-process analysis
    python bench/profile_engine.py --variants      # + edited variants of abkit's SQL
    python bench/profile_engine.py --explain       # + EXPLAIN ANALYZE of abkit's queries

Read-only with respect to abkit. It wraps ``DuckDBLogs.run`` to capture and time every query
abkit issues (the SQL is built in ``abkit/engine/duckdb_engine.py``) and times the import of
``scipy.stats`` (which the statistics import lazily) separately.

``--variants`` takes the reduction query abkit issued and removes one ingredient at a time
(ordered float aggregates, the min/max of the variant, trim of the labels, the rejection
CASE, parallelism), running each variant in a fresh child process so its wall time, CPU time
and peak RSS are its own (``/usr/bin/time -v`` as in ``bench/run.py``). The floor query of
``bench/run.py`` is the reference. ``--determinism`` reruns the order-dependent variants to
show whether their results change from run to run.
ABKIT_DUCKDB_THREADS / ABKIT_DUCKDB_MEMORY_LIMIT / ABKIT_DETERMINISTIC are honoured as in abkit (the variant names below predate the switch of the default to plain sums).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench_run  # noqa: E402  (bench/run.py: floor_sql, measure)

LOG = HERE / "out" / "requests_10m.parquet"
SPEC = HERE / "requests.toml"


def _short(sql: str, n: int = 100) -> str:
    s = re.sub(r"\s+", " ", sql).strip()
    return s if len(s) <= n else s[: n - 3] + "..."


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _connect(threads: int | None = None):
    import duckdb

    con = duckdb.connect(":memory:")
    threads = threads or int(os.environ.get("ABKIT_DUCKDB_THREADS", "0") or 0)
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if os.environ.get("ABKIT_DUCKDB_MEMORY_LIMIT"):
        con.execute(f"SET memory_limit = '{os.environ['ABKIT_DUCKDB_MEMORY_LIMIT']}'")
    con.execute("SET preserve_insertion_order = false")  # as abkit does
    return con


# ------------------------------------------------------------------------- phases
class _Replay:
    """A fetched result that quacks like the cursor abkit expects."""

    def __init__(self, description, rows):
        self.description = description
        self._rows = rows

    def fetchall(self):
        return self._rows

    def fetchone(self):
        return self._rows[0] if self._rows else None


def profile_abkit(log: Path, spec: Path) -> list[str]:
    t0 = time.perf_counter()
    import duckdb  # noqa: F401

    from abkit.analysis import analyze
    from abkit.engine import duckdb_engine

    t_import = time.perf_counter() - t0
    timings: list[tuple[float, float, float, str]] = []
    orig = duckdb_engine.DuckDBLogs.run

    def timed(self, sql, params=None):
        t, c = time.perf_counter(), time.process_time()
        cur = orig(self, sql, params)
        # fetch here, so the time is the query's (DuckDB streams results)
        rows = cur.fetchall() if cur.description else None
        timings.append((time.perf_counter() - t, time.process_time() - c, _rss_mb(), sql))
        return cur if rows is None else _Replay(cur.description, rows)

    duckdb_engine.DuckDBLogs.run = timed
    try:
        t_sc = time.perf_counter()
        import scipy.stats  # noqa: F401  (what abkit.stats imports lazily)

        t_scipy = time.perf_counter() - t_sc
        t1 = time.perf_counter()
        report = analyze(str(log), str(spec))
        t_an = time.perf_counter() - t1
        t2 = time.perf_counter()
        report.to_json()
        t_json = time.perf_counter() - t2
    finally:
        duckdb_engine.DuckDBLogs.run = orig

    t_sql = sum(t[0] for t in timings)
    env = {k: v for k, v in os.environ.items() if k.startswith("ABKIT_")}
    print(f"in-process analysis of {log.name} (ABKIT_* env: {env or 'none'})")
    print(f"  import abkit.analysis + duckdb         {t_import:6.2f} s")
    print(f"  import scipy.stats (lazy, by stats)    {t_scipy:6.2f} s")
    print(f"  DuckDB queries issued by abkit         {t_sql:6.2f} s")
    print(f"  rest of analyze (spec, stats, decide)  {t_an - t_sql:6.2f} s")
    print(f"  report.to_json()                       {t_json:6.2f} s")
    print(f"  peak RSS of this process               {_rss_mb():6.0f} MB")
    print("  per query: wall (s), CPU user+sys of all threads (s), peak RSS so far (MB):")
    for t, c, rss, sql in timings:
        print(f"    {t:6.2f}  {c:6.2f}  {rss:5.0f}  {_short(sql)}")
    return [sql for *_, sql in timings]


def explain(sqls: list[str]) -> None:
    con = _connect()
    con.execute("PRAGMA enable_profiling = 'no_output'")  # keep the plan off stdout
    for sql in sqls:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        print()
        print("=" * 100)
        print(_short(sql, 300))
        rows = con.execute("EXPLAIN ANALYZE " + sql).fetchall()
        print("\n".join(r[-1] for r in rows))


# ------------------------------------------------------------------------- variants
_ORDER = re.compile(r" ORDER BY [^()]*?\)")  # "sum(_x1 ORDER BY _x1)" -> "sum(_x1)"
_UNITS_START = "(SELECT CASE WHEN _r IS NULL THEN _u END AS _uu"
_UNITS_END = "GROUP BY _uu, _uv, _r)"


def _split(sql: str) -> tuple[str, str, str]:
    """(outer head, inner units subquery, outer tail) of abkit's one-query reduction."""
    i = sql.index(_UNITS_START)
    j = sql.index(_UNITS_END, i) + len(_UNITS_END)
    return sql[:i], sql[i:j], sql[j:]


def _unordered(sql: str) -> str:
    return _ORDER.sub(")", sql)


def derive(sqls: list[str], log: Path) -> dict[str, tuple[str, int | None]]:
    """Name -> (SQL, threads) of the variants; each removes one ingredient of abkit's query."""
    main = next(q for q in sqls if _UNITS_START in q)
    head, units, tail = _split(main)
    fast = _unordered(main)
    fhead, funits, ftail = _split(fast)
    no_minmax = (funits.replace("min(_v) AS _vmin, max(_v) AS _vmax",
                                "_v AS _vmin, _v AS _vmax")
                 .replace(_UNITS_END, "GROUP BY _uu, _uv, _r, _v)"))
    # the same check on a small integer code of the variant (position in the spec's split)
    known = re.search(r"_v NOT IN \(([^)]*)\)", funits)
    int_minmax = funits.replace(
        "min(_v) AS _vmin, max(_v) AS _vmax",
        f"CAST(min(list_position([{known.group(1)}], _v)) AS VARCHAR) AS _vmin, "
        f"CAST(max(list_position([{known.group(1)}], _v)) AS VARCHAR) AS _vmax"
    ) if known else funits
    no_trim = funits
    for col in ("variant", "unit_id"):
        no_trim = no_trim.replace(f"NULLIF(trim(CAST(\"{col}\" AS VARCHAR)), '')", f'"{col}"')
    k = funits.index("CASE WHEN _v IS NULL")
    m = funits.index(" AS _r FROM", k)
    no_case = funits[:k] + "CAST(NULL AS VARCHAR)" + funits[m:]
    bare = no_minmax
    for col in ("variant", "unit_id"):
        bare = bare.replace(f"NULLIF(trim(CAST(\"{col}\" AS VARCHAR)), '')", f'"{col}"')
    k = bare.index("CASE WHEN _v IS NULL")
    m = bare.index(" AS _r FROM", k)
    bare = bare[:k] + "CAST(NULL AS VARCHAR)" + bare[m:]
    # exact (order-independent) per-unit sums: DECIMAL sums are integer sums, so parallel
    # partial aggregates combine to the same value in any order; inputs rounded to 10 decimals
    exact = re.sub(r"(sum|avg)\((_x\d+)\)", r"\1(CAST(\2 AS DECIMAL(38,10)))", funits)
    zs = sorted(set(re.findall(r"AS (_z\d+)", exact)))
    exact = ("(SELECT * REPLACE (" + ", ".join(f"CAST({z} AS DOUBLE) AS {z}" for z in zs)
             + ") FROM " + exact + ")")
    return {
        "F   floor query (bench/run.py)": (bench_run.floor_sql(str(log)), None),
        "A   abkit as issued": (main, None),
        "A1  ordered aggregates only in the inner (per-unit) stage": (
            _unordered(head) + units + _unordered(tail), None),
        "A2  ordered aggregates only in the outer (per-variant) stage": (
            head + _unordered(units) + tail, None),
        "B   no ordered aggregates (= ABKIT_FAST_SUMS=1)": (fast, None),
        "B1  B without min/max(_v) (variant as a group key)": (fhead + no_minmax + ftail, None),
        "B1b B with min/max of an integer variant code (1 = control, ...)": (
            fhead + int_minmax + ftail, None),
        "B2  B without NULLIF(trim(CAST(..))) of unit and variant": (
            fhead + no_trim + ftail, None),
        "B3  B without the rejection CASE": (fhead + no_case + ftail, None),
        "B4  B without all three (B1+B2+B3)": (fhead + bare + ftail, None),
        "C   B on 1 thread": (fast, 1),
        "D   exact DECIMAL(38,10) per-unit sums, outer stage ordered as issued": (
            head + exact + tail, None),
        "C1  abkit as issued, on 1 thread": (main, 1),
    }


def child(sql_file: str, threads: int) -> int:
    """Child mode: run one query in a fresh connection; print wall / CPU time as JSON."""
    sql = Path(sql_file).read_text()
    con = _connect(threads or None)
    t, c = time.perf_counter(), time.process_time()
    rows = con.execute(sql).fetchall()
    print(json.dumps({"query_s": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                      "rows": len(rows)}))
    return 0


def run_variants(sqls: list[str], log: Path, repeat: int, only: str | None) -> None:
    variants = derive(sqls, log)
    print()
    print(f"variants: median of {repeat} fresh processes; query wall / query CPU user+sys "
          f"(s); peak RSS of the process (MB, via {bench_run.METHOD})")
    for name, (sql, threads) in variants.items():
        if only and not re.search(only, name):
            continue
        res = []
        with tempfile.NamedTemporaryFile("w", suffix=".sql") as f:
            f.write(sql)
            f.flush()
            for _ in range(repeat):
                r = bench_run.measure([sys.executable, __file__, "--child", f.name,
                                       "--threads", str(threads or 0)])
                res.append({**json.loads(r["stdout"]), "rss_mb": r.get("rss_mb", float("nan"))})
        med = {k: statistics.median(x[k] for x in res) for k in ("query_s", "cpu_s", "rss_mb")}
        print(f"  {med['query_s']:6.2f}  {med['cpu_s']:6.2f}  {med['rss_mb']:6.0f}  {name}",
              flush=True)


def determinism(sqls: list[str], log: Path, runs: int = 3) -> None:
    variants = derive(sqls, log)
    print()
    print(f"determinism: distinct results over {runs} runs (fresh connection each)")
    for name in ("A   abkit as issued", "B   no ordered aggregates (= ABKIT_FAST_SUMS=1)",
                 "C   B on 1 thread",
                 "D   exact DECIMAL(38,10) per-unit sums, outer stage ordered as issued"):
        sql, threads = variants[name]
        results = set()
        for _ in range(runs):
            con = _connect(threads)
            results.add(repr(sorted(con.execute(sql).fetchall(), key=repr)))
            con.close()
        print(f"  {len(results)}  {name}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=Path, default=LOG)
    ap.add_argument("--spec", type=Path, default=SPEC)
    ap.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE abkit's queries")
    ap.add_argument("--variants", action="store_true", help="time edited variants of its SQL")
    ap.add_argument("--only", help="regex: run only the variants whose name matches")
    ap.add_argument("--determinism", action="store_true",
                    help="rerun order-dependent variants and count distinct results")
    ap.add_argument("--repeat", type=int, default=3, help="runs per variant (median)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.threads)
    sqls = profile_abkit(args.log, args.spec)
    if args.variants:
        run_variants(sqls, args.log, args.repeat, args.only)
    if args.determinism:
        determinism(sqls, args.log)
    if args.explain:
        explain(sqls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

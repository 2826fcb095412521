"""Where ``abkit report`` spends its time on the benchmark log (a diagnostic, not the benchmark).

    python bench/profile_engine.py                    # per-phase and per-query wall times
    python bench/profile_engine.py --explain          # + EXPLAIN ANALYZE of the heavy queries
    python bench/profile_engine.py --variants         # + hand-written variants of abkit's SQL

Read-only with respect to abkit: it wraps ``DuckDBLogs._run`` to time every query abkit
issues (the SQL is built in ``abkit/engine/duckdb_engine.py``), and times the import of
``scipy.stats`` (pulled in by the statistics) separately. ``--variants`` runs alternative
formulations of the two heavy steps in fresh connections, to show which part costs what.
ABKIT_DUCKDB_THREADS / ABKIT_DUCKDB_MEMORY_LIMIT are honoured as in abkit.
"""

from __future__ import annotations

import argparse
import re
import resource
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOG = HERE / "out" / "requests_10m.parquet"
SPEC = HERE / "requests.toml"


def _short(sql: str, n: int = 110) -> str:
    s = re.sub(r"\s+", " ", sql).strip()
    return s if len(s) <= n else s[: n - 3] + "..."


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _explain(con, sql: str) -> str:
    con.execute("PRAGMA enable_profiling = 'no_output'")  # keep the plan out of stdout
    rows = con.execute("EXPLAIN ANALYZE " + sql).fetchall()
    con.execute("PRAGMA disable_profiling")
    return "\n".join(r[-1] for r in rows)


def profile_abkit(log: Path, spec: Path, explain: bool) -> None:
    t0 = time.perf_counter()
    import duckdb  # noqa: F401

    from abkit.analysis import analyze
    from abkit.engine import duckdb_engine

    t_import = time.perf_counter() - t0
    timings: list[tuple[float, float, str]] = []
    heavy: list[str] = []
    orig = duckdb_engine.DuckDBLogs._run

    def timed(self, sql, params=None):
        t, c = time.perf_counter(), time.process_time()
        cur = orig(self, sql, params)
        # materialize the result here, so the time is the query's (DuckDB streams results)
        rows = cur.fetchall() if cur.description else None
        dt = time.perf_counter() - t
        timings.append((dt, time.process_time() - c, _rss_mb(), sql))
        if dt > 0.2 and sql.lstrip().upper().startswith(("SELECT", "CREATE")):
            heavy.append(sql)
        if rows is None:
            return cur
        return _Replay(cur.description, rows)

    duckdb_engine.DuckDBLogs._run = timed
    try:
        t1 = time.perf_counter()
        t_sc = time.perf_counter()
        import scipy.stats  # noqa: F401  (what the statistics import lazily)

        t_scipy = time.perf_counter() - t_sc
        report = analyze(str(log), str(spec))
        t_an = time.perf_counter() - t1
        t2 = time.perf_counter()
        report.to_json()
        t_json = time.perf_counter() - t2
    finally:
        duckdb_engine.DuckDBLogs._run = orig

    t_sql = sum(t[0] for t in timings)
    print(f"import abkit.analysis + duckdb         {t_import:6.2f} s")
    print(f"import scipy.stats (lazy, by stats)     {t_scipy:6.2f} s")
    print(f"DuckDB queries issued by abkit         {t_sql:6.2f} s")
    print(f"rest of analyze (spec, stats, decide)  {t_an - t_scipy - t_sql:6.2f} s")
    print(f"report.to_json()                       {t_json:6.2f} s")
    print(f"peak RSS of this process               {_rss_mb():6.0f} MB")
    print()
    print("per query: wall (s), CPU user+sys of all threads (s), peak RSS so far (MB):")
    for t, c, rss, sql in timings:
        print(f"  {t:6.2f}  {c:6.2f}  {rss:5.0f}  {_short(sql)}")
    if explain:
        # re-run the heavy queries under EXPLAIN ANALYZE in a fresh abkit connection
        from abkit.io.sources import resolve_sources

        logs = duckdb_engine.DuckDBLogs(resolve_sources(str(log)))
        for sql in heavy:
            print()
            print("=" * 100)
            print(_short(sql, 400))
            print(_explain(logs.con, sql))


class _Replay:
    """A fetched result that quacks like the cursor abkit expects."""

    def __init__(self, description, rows):
        self.description = description
        self._rows = rows

    def fetchall(self):
        return self._rows

    def fetchone(self):
        return self._rows[0] if self._rows else None


# ------------------------------------------------------------------------- variants
def _variants(log: Path) -> dict[str, str]:
    f = "'" + str(log).replace("'", "''") + "'"
    plain_cols = ("max(converted) AS z0, sum(revenue) AS z1, avg(pre_revenue) AS z2, "
                  "sum(clicks) AS z3, sum(sessions) AS z4, sum(latency_ms) AS z5")
    cast_cols = ("max(CAST(converted AS DOUBLE)) AS z0, sum(CAST(revenue AS DOUBLE)) AS z1, "
                 "avg(CAST(pre_revenue AS DOUBLE)) AS z2, sum(CAST(clicks AS DOUBLE)) AS z3, "
                 "sum(CAST(sessions AS DOUBLE)) AS z4, sum(CAST(latency_ms AS DOUBLE)) AS z5")
    trim = "NULLIF(trim(CAST({} AS VARCHAR)), '')"
    return {
        "A  floor step 1: GROUP BY unit_id, variant -> temp table":
            f"CREATE TEMP TABLE g AS SELECT unit_id AS _u, variant AS _v, count(*) AS n, "
            f"{plain_cols} FROM read_parquet({f}) GROUP BY ALL",
        "B  + CAST(... AS DOUBLE) on the inputs":
            f"CREATE TEMP TABLE g AS SELECT unit_id AS _u, variant AS _v, count(*) AS n, "
            f"{cast_cols} FROM read_parquet({f}) GROUP BY ALL",
        "C  + NULLIF(trim(CAST(.. AS VARCHAR)),'') on unit and variant":
            f"CREATE TEMP TABLE g AS SELECT {trim.format('unit_id')} AS _u, "
            f"{trim.format('variant')} AS _v, count(*) AS n, "
            f"{cast_cols} FROM read_parquet({f}) GROUP BY ALL",
        "D  + a NULL third group key (_r VARCHAR) via CASE":
            f"CREATE TEMP TABLE g AS SELECT CASE WHEN _r IS NULL THEN _u END AS _u, "
            f"CASE WHEN _r IS NULL THEN _v END AS _v, _r, count(*) AS n, "
            f"max(x0) z0, sum(x1) z1, avg(x2) z2, sum(x3) z3, sum(x4) z4, sum(x5) z5 FROM ("
            f"SELECT *, CASE WHEN _u IS NULL THEN 'missing' END AS _r FROM ("
            f"SELECT {trim.format('unit_id')} AS _u, {trim.format('variant')} AS _v, "
            f"CAST(converted AS DOUBLE) x0, CAST(revenue AS DOUBLE) x1, "
            f"CAST(pre_revenue AS DOUBLE) x2, CAST(clicks AS DOUBLE) x3, "
            f"CAST(sessions AS DOUBLE) x4, CAST(latency_ms AS DOUBLE) x5 "
            f"FROM read_parquet({f}))) GROUP BY ALL",
    }


_STEP2 = {
    "E  step 2, window form (as abkit): count(*) OVER (PARTITION BY _u)":
        "SELECT _v, count(*), avg(z1), covar_samp(z1, z2) FROM (SELECT *, count(*) OVER "
        "(PARTITION BY _u) AS _nv FROM g) WHERE _nv = 1 GROUP BY _v",
    "F  step 2, group form: units with count(DISTINCT variant) = 1 via GROUP BY _u":
        "SELECT _v, count(*), avg(z1), covar_samp(z1, z2) FROM g WHERE _u IN "
        "(SELECT _u FROM g GROUP BY _u HAVING count(*) = 1) GROUP BY _v",
    "G  step 2, no filter (the floor)":
        "SELECT _v, count(*), avg(z1), covar_samp(z1, z2) FROM g GROUP BY _v",
}


def run_variants(log: Path, args_repeat: int = 3) -> None:
    import os

    import duckdb

    threads = os.environ.get("ABKIT_DUCKDB_THREADS")
    mem = os.environ.get("ABKIT_DUCKDB_MEMORY_LIMIT")

    def connect():
        con = duckdb.connect()
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        if mem:
            con.execute(f"SET memory_limit = '{mem}'")
        con.execute("SET preserve_insertion_order = false")
        return con

    print()
    print(f"variants (median of {args_repeat} runs; wall s, CPU user+sys s; step 1 in a fresh "
          "connection each):")

    def clock(con, sql):
        t, c = time.perf_counter(), time.process_time()
        cur = con.execute(sql)
        if cur.description:
            cur.fetchall()
        return time.perf_counter() - t, time.process_time() - c

    def show(name, ts):
        w = sorted(x[0] for x in ts)[len(ts) // 2]
        c = sorted(x[1] for x in ts)[len(ts) // 2]
        print(f"  {w:6.2f}  {c:6.2f}  {name}", flush=True)

    for name, sql in _variants(log).items():
        ts = []
        for _ in range(args_repeat):
            con = connect()
            ts.append(clock(con, sql))
            con.close()
        show(name, ts)
    con = connect()
    con.execute(_variants(log)["A  floor step 1: GROUP BY unit_id, variant -> temp table"])
    for name, sql in _STEP2.items():
        show(name, [clock(con, sql) for _ in range(args_repeat)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=Path, default=LOG)
    ap.add_argument("--spec", type=Path, default=SPEC)
    ap.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the heavy queries")
    ap.add_argument("--variants", action="store_true", help="time alternative SQL forms")
    ap.add_argument("--repeat", type=int, default=3, help="runs per variant (median)")
    args = ap.parse_args()
    profile_abkit(args.log, args.spec, args.explain)
    if args.variants:
        run_variants(args.log, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

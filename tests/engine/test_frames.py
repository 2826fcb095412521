"""In-memory sources on the DuckDB engine (:mod:`abkit.engine.duckdb_frames`).

Every kind of source (pandas, Arrow table / batch / stream, polars, a DuckDB relation, an
``abkit.sql`` query with and without a database file) gives the same report as the file it
was read from, on an A/B, a canary and a blue/green sample. A pandas DataFrame, now on
DuckDB by default, gives the report the pandas engine gives (the default before), on typed
and hostile frames: mixed ``object`` columns, missing labels, categories, nullable dtypes,
non-text column names, tz-aware timestamps; repeated column names are refused.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import abkit
from abkit.engine.input import LogInput
from abkit.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
SAMPLES = {  # log, spec: one plan kind each (ab, rollout, rows)
    "ab": (DATA / "ab_example.csv", DATA / "ab_example.toml"),
    "canary": (DATA / "canary.csv", DATA / "canary.toml"),
    "bluegreen": (DATA / "bluegreen_smoke.csv.gz", DATA / "bluegreen.toml"),
}
REL = 1e-9


def differences(a, b, path: str = "") -> list[str]:
    """Where two report documents differ (numbers to 1e-9 relative; the generation time and
    the ``input`` section, which names the source, are left out)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k in ("generated_at", "input"):
                continue
            if k not in a or k not in b:
                out.append(f"{path}/{k}: in one report only")
            else:
                out += differences(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = [] if len(a) == len(b) else [f"{path}: {len(a)} != {len(b)} items"]
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, f"{path}[{i}]")
        return out
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        if a == b or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= REL * max(abs(a),
                                                                                   abs(b)):
            return []
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def report(data, spec, **kw) -> dict:
    return abkit.analyze(data, spec, **kw).to_dict()


def text_frame(path: Path) -> pd.DataFrame:
    """The log as the file engine reads it: every value text, an empty field missing."""
    return pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)


def _arrow(path):
    pa = pytest.importorskip("pyarrow")
    return pa.Table.from_pandas(text_frame(path), preserve_index=False)


def _relation(path):
    import duckdb

    con = duckdb.connect()  # the relation's own connection, not abkit's
    return con.sql(f"SELECT * FROM read_csv('{path}', all_varchar = true)")


def _polars(path):
    pl = pytest.importorskip("polars")
    return pl.from_arrow(_arrow(path))


SOURCES = {
    "pandas": text_frame,
    "arrow_table": _arrow,
    "arrow_batch": lambda p: _arrow(p).combine_chunks().to_batches()[0],
    "arrow_reader": lambda p: _arrow(p).to_reader(max_chunksize=997),
    "polars": _polars,
    "polars_lazy": lambda p: _polars(p).lazy(),
    "duckdb_relation": _relation,
    "sql_on_files": lambda p: abkit.sql(f"SELECT * FROM read_csv('{p}', all_varchar = true)"),
}


@pytest.mark.parametrize("sample", sorted(SAMPLES))
@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_every_in_memory_source_reports_like_its_file(kind, sample):
    log, spec = SAMPLES[sample]
    expected = report(str(log), spec)
    data = SOURCES[kind](log)
    got = abkit.analyze(data, spec)
    assert got.to_dict()["input"]["engine"] == "duckdb"
    assert differences(expected, got.to_dict()) == []


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_a_query_on_a_database_file_reports_like_the_file(sample, tmp_path):
    import duckdb

    log, spec = SAMPLES[sample]
    db = tmp_path / "logs.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE requests AS SELECT * FROM read_csv('{log}', "
                    "all_varchar = true)")
    got = report(abkit.sql("SELECT * FROM requests;", database=db), spec)
    assert got["input"]["label"] == f"SQL query on {db}"
    assert got["input"]["format"] == "sql"
    assert differences(report(str(log), spec), got) == []
    # read-only: a second reader (and the writer afterwards) are not locked out
    assert report(abkit.sql("SELECT * FROM requests", database=db), spec)["decision"]
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM requests").fetchone()[0] > 0


def test_sql_errors_name_the_problem(tmp_path):
    import duckdb

    with pytest.raises(InputError, match="no DuckDB database file"):
        LogInput(abkit.sql("SELECT 1", database=tmp_path / "missing.duckdb"))
    db = tmp_path / "logs.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE events AS SELECT 1 AS x")
    with pytest.raises(InputError, match="tables and views there: events"):
        LogInput(abkit.sql("SELECT * FROM evnts", database=db))
    with pytest.raises(InputError, match="empty"):
        abkit.sql("  ")
    not_a_db = tmp_path / "logs.csv"
    not_a_db.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="cannot open the DuckDB database"):
        LogInput(abkit.sql("SELECT 1", database=not_a_db))


def test_a_relation_is_read_without_changing_its_connection():
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/New_York'").fetchall()
    con.execute("SET threads = 2").fetchall()
    rel = con.sql(f"SELECT * FROM read_csv('{SAMPLES['ab'][0]}', all_varchar = true)")
    rep = report(rel, SAMPLES["ab"][1])
    assert rep["input"] == {"label": "DuckDB relation", "format": "duckdb_relation",
                            "files": [], "engine": "duckdb"}
    assert con.execute("SELECT current_setting('TimeZone'), current_setting('threads')"
                       ).fetchall() == [("America/New_York", 2)]
    assert len(rel.fetchall()) == 20007  # still usable


@pytest.mark.parametrize("engine", ["pandas", "spark"])
def test_other_engines_are_refused_for_non_pandas_sources(engine):
    pa = pytest.importorskip("pyarrow")
    with pytest.raises(InputError, match="reduced with the duckdb engine") as e:
        LogInput(pa.table({"variant": ["a"]}), engine=engine)
    assert e.value.exit_code == 2 and ".to_pandas()" in e.value.hint


# ------------------------------------------------------------------ pandas: as before
def _typed(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name)


TYPED = {  # frame, spec
    "ab_typed": (lambda: _typed("ab_example.csv"), DATA / "ab_example.toml"),
    "ab_latency_typed": (lambda: _typed("ab_latency_regression.csv"), DATA / "ab_example.toml"),
    "ab_inferred": (lambda: _typed("ab_example.csv"), None),
    "canary_typed": (lambda: _typed("canary.csv"), DATA / "canary.toml"),
    "linear_typed": (lambda: _typed("linear.csv.gz"), DATA / "linear.toml"),
    "bluegreen_typed": (lambda: _typed("bluegreen_regression.csv.gz"), DATA / "bluegreen.toml"),
}


@pytest.mark.parametrize("name", sorted(TYPED))
def test_a_pandas_frame_reports_as_the_pandas_engine_did(name):
    make, spec = TYPED[name]
    frame = make()
    new = report(frame, spec)
    assert new["input"] == {"label": "DataFrame", "format": "dataframe", "files": [],
                            "engine": "duckdb"}
    assert differences(report(frame, spec, engine="pandas"), new) == []


def _ab_frame(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame({
        "unit_id": [f"u{i}" for i in range(n)],
        "variant": np.where(np.arange(n) % 2 == 0, "control", "treatment").astype(object),
        "converted": (rng.random(n) < 0.3).astype(int),
        "revenue": rng.gamma(2.0, 5.0, n).round(2),
        "pre_revenue": rng.gamma(2.0, 5.0, n).round(2),
        "clicks": rng.integers(0, 5, n),
        "sessions": rng.integers(1, 6, n),
        "latency_ms": rng.normal(100, 10, n).round(1),
    })


AB_SPEC = DATA / "ab_example.toml"
MIXED = ["abc", " 2.5 ", None, np.nan, pd.NA, True, "inf", "nan", b"7", Decimal("1.25"),
         "", "  ", 3, 1e-7, "1,5", "-0"]


def _mixed(df: pd.DataFrame, col: str, values=MIXED) -> pd.DataFrame:
    df = df.copy()
    df[col] = df[col].astype(object)
    for i, v in enumerate(values):
        df.at[7 + 13 * i, col] = v
    return df


def _hostile() -> dict:
    base = _ab_frame()
    labels = _mixed(base, "variant", ["", None, np.nan, pd.NA, 1, "Control", "control ",
                                      b"control", True])
    cat = base.copy()
    cat["variant"] = pd.Categorical(base["variant"].where(base.index % 31 != 0, ""))
    cat["converted"] = pd.Categorical(base["converted"].astype(str).where(
        base.index % 17 != 0, "x"))
    nullable = base.copy()
    nullable["clicks"] = pd.array(base["clicks"], dtype="Int64")
    nullable.loc[::23, "clicks"] = pd.NA
    nullable["converted"] = pd.array(base["converted"].astype(bool), dtype="boolean")
    nullable.loc[::29, "converted"] = pd.NA
    nullable["variant"] = pd.array(base["variant"], dtype="string")
    nullable.loc[::37, "variant"] = pd.NA
    nullable["revenue"] = pd.array(base["revenue"], dtype="Float64")
    nullable.loc[::41, "revenue"] = pd.NA
    floats = base.copy()
    floats["unit_id"] = np.arange(len(base), dtype=float)
    floats.loc[::19, "unit_id"] = np.nan
    floats.loc[::43, "latency_ms"] = np.inf
    floats.loc[::47, "latency_ms"] = np.nan
    floats["sessions"] = floats["sessions"].astype(np.float32)
    dup_units = base.copy()
    dup_units.loc[10:20, "unit_id"] = "u1"  # in both arms, and duplicated
    odd_index = base.set_index(pd.Index(np.arange(len(base))[::-1] * 7))
    return {
        "mixed_metrics": _mixed(_mixed(base, "revenue"), "clicks"),
        "mixed_labels": labels,
        "categorical": cat,
        "nullable_dtypes": nullable,
        "floats_nan_inf": floats,
        "duplicate_units": dup_units,
        "odd_index": odd_index,
        "bool_metric": base.assign(converted=base["converted"].astype(bool)),
        "unicode_labels": base.assign(unit_id=[f"ü\u202e{i}" for i in range(len(base))]),
        "datetime_metric": base.assign(latency_ms=pd.Timestamp("2026-11-20")),
    }


HOSTILE = _hostile()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_frames_are_accounted_as_the_pandas_engine_does(name):
    frame = HOSTILE[name]
    outcomes = []
    for engine in (None, "pandas"):
        try:
            outcomes.append(report(frame, AB_SPEC, engine=engine))
        except InputError as e:
            outcomes.append(e.message)
    new, old = outcomes
    if isinstance(old, str):  # DuckDB may add an example of the rejected values
        assert new.startswith(old)
    else:
        assert differences(old, new) == []


def test_mixed_object_columns_are_text_as_str_gives_it():
    from abkit.engine.duckdb_frames import open_frame

    values = [v for v in MIXED] + [float("1e300"), -2.5, np.float32(0.1), "x"]
    logs = open_frame(pd.DataFrame({"m": pd.Series(values, dtype=object)}))
    got = [r[0] for r in logs.con.execute("SELECT m FROM abkit_frame").fetchall()]
    missing = pd.isna(pd.Series(values, dtype=object))
    assert got == [None if m else str(v) for v, m in zip(values, missing)]


def test_column_names_are_text_and_may_hold_any_character():
    base = _ab_frame()
    frame = base.rename(columns={"revenue": 7, "latency_ms": "lat\x00ency"})
    spec = {"experiment": {"unit_column": "unit_id", "control": "control"},
            "metrics": [{"name": "revenue", "kind": "mean", "column": "7"},
                        {"name": "latency", "kind": "mean", "column": "lat\x00ency"}]}
    assert differences(report(frame, spec, engine="pandas"), report(frame, spec)) == []


def test_repeated_column_names_are_refused():
    frame = _ab_frame()
    frame.columns = ["unit_id", "variant", "revenue", "revenue", *frame.columns[4:]]
    with pytest.raises(InputError, match="'revenue' appear more than once") as e:
        abkit.analyze(frame, AB_SPEC)
    assert "unique name" in e.value.hint
    clash = _ab_frame().rename(columns={"clicks": 1, "sessions": "1"})
    with pytest.raises(InputError, match="'1' appear more than once"):
        LogInput(clash)


@pytest.mark.parametrize("frame", [pd.DataFrame(), _ab_frame().iloc[:0]],
                         ids=["no_columns", "no_rows"])
def test_an_empty_frame_is_an_input_error_on_both_engines(frame):
    messages = []
    for engine in (None, "pandas"):
        with pytest.raises(InputError) as e:
            abkit.analyze(frame, AB_SPEC, engine=engine)
        messages.append(e.value.message)
    assert messages[0] == messages[1]


@pytest.mark.parametrize("tz", [None, "UTC", "Europe/Paris", "America/Los_Angeles"])
def test_datetime_columns_naive_or_tz_aware(tz):
    log, spec = SAMPLES["canary"]
    frame = pd.read_csv(log)
    ts = pd.to_datetime(frame["ts"], utc=True, format="ISO8601", errors="coerce")
    frame["ts"] = ts.dt.tz_convert(tz) if tz else ts.dt.tz_localize(None)
    frame.loc[[5, 500], "ts"] = pd.NaT
    new = report(frame, spec)
    assert differences(report(frame, spec, engine="pandas"), new) == []
    assert new["data"]["rows_rejected"]["missing_timestamp"] == frame["ts"].isna().sum() > 2


def test_deterministic_by_default_and_parallel_when_asked():
    frame = _typed("ab_example.csv")
    a, b = report(frame, AB_SPEC), report(frame, AB_SPEC)
    assert differences(a, b) == [] and a["comparisons"] == b["comparisons"]
    par = report(frame, AB_SPEC, deterministic=False)
    assert differences(a, par) == []


def test_the_pandas_engine_still_reads_a_frame_and_spark_is_still_offered():
    frame = _typed("ab_example.csv")
    src = LogInput(frame, engine="pandas")
    assert src.engine == "pandas" and src.logs is None and src.frame is frame
    assert LogInput(frame).engine == "duckdb"
    with pytest.raises(InputError, match="cannot read a list"):
        from abkit.engine.duckdb_frames import open_frame

        open_frame([1, 2])

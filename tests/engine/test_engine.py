"""Reading and reduction: every format, both engines, exact row accounting."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from abkit.analysis import reduce_logs
from abkit.datasets import make_ab_log, write_log
from abkit.errors import InputError

SUFFIXES = ["csv", "csv.gz", "tsv", "tsv.gz", "parquet", "jsonl", "jsonl.gz", "ndjson"]


def _same(a, b, rel=1e-9):
    assert a.rows_read == b.rows_read
    assert a.rows_used == b.rows_used
    assert a.rejected == b.rejected
    assert a.units == b.units
    for metric, arms in a.moments.items():
        for v, m in arms.items():
            o = b.moments[metric][v]
            assert m.n == o.n
            assert m.mean == pytest.approx(o.mean, rel=rel, abs=1e-12)
            assert np.asarray(m.m2) == pytest.approx(np.asarray(o.m2), rel=rel, abs=1e-9)


@pytest.fixture(scope="module")
def dirty_log():
    return make_ab_log(3000, seed=3)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_format_matches_pandas_engine(tmp_path, dirty_log, ab_spec, suffix):
    path = write_log(dirty_log, tmp_path / f"log.{suffix}")
    from_file = reduce_logs(path, ab_spec)
    # the same rows as an in-memory frame of text, reduced by pandas
    frame = dirty_log.astype(object).where(dirty_log.notna(), None)
    frame = frame.map(lambda x: None if x is None else str(x))
    from_frame = reduce_logs(frame, ab_spec, engine="pandas")
    _same(from_file, from_frame)
    assert from_file.rows_read == len(dirty_log)
    assert from_file.rejected == {
        "duplicate_unit": 2, "missing_unit_id": 1, "missing_variant": 1,
        "non_finite_value": 1, "non_numeric_value": 1, "not_binary": 1, "unknown_variant": 1,
    }


def test_duckdb_and_pandas_agree_on_a_frame(dirty_log, ab_spec):
    _same(reduce_logs(dirty_log, ab_spec, engine="duckdb"),
          reduce_logs(dirty_log, ab_spec, engine="pandas"))


def test_request_level_reduction_matches_hand_groupby(tmp_path):
    """Per-request rows are reduced to users: checked against a direct pandas groupby."""
    df = make_ab_log(1500, seed=5, per_request=True, dirty=False)
    spec = {
        "experiment": {"unit_column": "unit_id", "granularity": "request", "control": "control"},
        "metrics": [
            {"name": "conv", "kind": "proportion", "column": "converted", "aggregate": "max"},
            {"name": "rev", "kind": "mean", "column": "revenue", "aggregate": "sum",
             "covariate": "pre_revenue"},
            {"name": "lat", "kind": "mean", "column": "latency_ms"},
            {"name": "ctr", "kind": "ratio", "numerator": "clicks", "denominator": "sessions"},
        ],
    }
    path = write_log(df, tmp_path / "req.parquet")
    red = reduce_logs(path, spec)
    _same(red, reduce_logs(df, spec, engine="pandas"))
    g = df.groupby(["variant", "unit_id"])
    users = pd.DataFrame({
        "conv": g["converted"].max(), "rev": g["revenue"].sum(), "pre": g["pre_revenue"].mean(),
        "lat_sum": g["latency_ms"].sum(), "n": g.size(), "clicks": g["clicks"].sum(),
        "sessions": g["sessions"].sum(),
    }).reset_index()
    for v, part in users.groupby("variant"):
        assert red.units[v] == len(part)
        m = red.moments["conv"][v]
        assert m.mean[0] == pytest.approx(part["conv"].mean())
        m = red.moments["rev"][v]
        assert m.mean == pytest.approx((part["rev"].mean(), part["pre"].mean()))
        assert m.cov() == pytest.approx(np.cov(part[["rev", "pre"]].to_numpy().T))
        m = red.moments["lat"][v]  # per-request mean: (sum, count) per user
        assert m.mean == pytest.approx((part["lat_sum"].mean(), part["n"].mean()))
        assert m.cov() == pytest.approx(np.cov(part[["lat_sum", "n"]].to_numpy(float).T))
        m = red.moments["ctr"][v]
        assert m.mean == pytest.approx((part["clicks"].mean(), part["sessions"].mean()))
    assert red.rows_used == len(df) == red.rows_read


def test_unit_in_two_variants_and_duplicates(ab_spec):
    df = make_ab_log(200, seed=1, dirty=False)
    leak = df.iloc[[0]].copy()
    leak["variant"] = "treatment" if df.iloc[0]["variant"] == "control" else "control"
    dup = df.iloc[[1]].copy()
    both = pd.concat([df, leak, dup], ignore_index=True)
    for engine in ("duckdb", "pandas"):
        red = reduce_logs(both, ab_spec, engine=engine)
        assert red.rejected == {"duplicate_unit": 2, "unit_in_multiple_variants": 2}
        assert red.rows_used == 198
    req = {**ab_spec, "experiment": {**ab_spec["experiment"], "granularity": "request"}}
    for engine in ("duckdb", "pandas"):
        red = reduce_logs(both, req, engine=engine)
        assert red.rejected == {"unit_in_multiple_variants": 2}
        assert red.rows_used == 200


def test_unparseable_csv_lines_are_counted_with_their_line(tmp_path, ab_spec):
    df = make_ab_log(100, seed=2, dirty=False)
    p = tmp_path / "log.csv"
    write_log(df, p)
    lines = p.read_text().splitlines()
    lines.insert(5, "garbage,with,too,few")
    lines.insert(9, ",".join(["1"] * 20))
    p.write_text("\n".join(lines) + "\n")
    red = reduce_logs(p, ab_spec)
    assert red.rows_read == 102
    assert red.rejected == {"unparseable_line": 2}
    assert "line 6" in red.examples["unparseable_line"]


def test_jsonl_bad_lines_blank_lines_and_non_objects(tmp_path, ab_spec):
    df = make_ab_log(50, seed=2, dirty=False)
    p = tmp_path / "log.jsonl"
    write_log(df, p)
    text = p.read_text().splitlines()
    text[3] = text[3][: len(text[3]) // 2]  # truncated record
    text.insert(10, "")                    # blank line: not a row
    text.insert(12, "[1, 2, 3]")           # valid JSON, not an object
    text.insert(14, '{"variant": "control"}')  # object missing every metric key
    p.write_text("\n".join(text) + "\n")
    red = reduce_logs(p, ab_spec)
    assert red.rows_read == 52
    assert red.rejected == {"unparseable_line": 2, "missing_unit_id": 1}
    assert red.rows_used == 49


def test_folder_and_glob(tmp_path, ab_spec):
    df = make_ab_log(400, seed=4, dirty=False)
    (tmp_path / "logs").mkdir()
    write_log(df.iloc[:150], tmp_path / "logs" / "a.csv")
    write_log(df.iloc[150:], tmp_path / "logs" / "b.csv.gz")
    whole = reduce_logs(df, ab_spec)
    _same(reduce_logs(tmp_path / "logs", ab_spec), whole)
    _same(reduce_logs(str(tmp_path / "logs" / "*.csv*"), ab_spec), whole)
    _same(reduce_logs([tmp_path / "logs" / "a.csv", tmp_path / "logs" / "b.csv.gz"], ab_spec),
          whole)


def test_input_errors_name_the_problem(tmp_path, ab_spec):
    with pytest.raises(InputError, match="no such file"):
        reduce_logs(tmp_path / "missing.csv", ab_spec)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no log files"):
        reduce_logs(tmp_path / "empty", ab_spec)
    p = tmp_path / "log.txt"
    p.write_text("a,b\n")
    with pytest.raises(InputError, match="cannot tell the format"):
        reduce_logs(p, ab_spec)
    df = make_ab_log(30, seed=1, dirty=False).drop(columns=["revenue"])
    q = write_log(df, tmp_path / "x.csv")
    with pytest.raises(InputError, match=r"x.csv: no column of metric 'revenue' 'revenue'"):
        reduce_logs(q, ab_spec)
    bad = tmp_path / "trunc.csv.gz"
    blob = gzip.compress(b"variant,x\n" + b"".join(b"a,%d\n" % (i * 7919 % 1000)
                                                     for i in range(50000)))
    bad.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(InputError, match="trunc.csv.gz.*(GZIP|end-of-stream)"):
        reduce_logs(bad, {"metrics": [{"name": "x", "kind": "mean", "column": "x"}]})


def test_mixed_headers_are_refused(tmp_path, ab_spec):
    df = make_ab_log(60, seed=1, dirty=False)
    write_log(df, tmp_path / "a.csv")
    write_log(df[list(reversed(df.columns))], tmp_path / "b.csv")
    with pytest.raises(InputError, match="differs from"):
        reduce_logs(tmp_path, ab_spec)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_sample_is_the_first_rows_in_file_order(tmp_path, fmt):
    """Spec inference and the timestamp rules read the engine's sample: on several files
    and two threads it must be the first rows of the first file, run after run."""
    from abkit.engine.duckdb_engine import DuckDBLogs
    from abkit.io.sources import resolve_sources

    paths = []
    for i in range(4):
        n = 150_000
        frame = pd.DataFrame({"f": np.full(n, i), "r": np.arange(n),
                              "x": np.random.default_rng(i).random(n)})
        path = tmp_path / f"p{i}.{fmt}"
        if fmt == "parquet":
            frame.to_parquet(path, row_group_size=10_000)
        else:
            frame.to_csv(path, index=False)
        paths.append(str(path))
    for _ in range(5):
        sample = DuckDBLogs(resolve_sources(paths), threads=2).sample()
        assert (sample["f"] == "0").all()
        np.testing.assert_array_equal(sample["r"].astype(int).to_numpy(), np.arange(10_000))

"""The Spark engine: files read by Spark, a Spark DataFrame passed to ``abkit.analyze``, the
CLI flags, the text-parsing rules against DuckDB's, and the spark-submit recipe.

The plan-by-plan comparison with DuckDB on every sample is the engine conformance test
(``test_conformance.py``); here the same comparison runs on the files Spark reads itself.
Skipped when pyspark is not installed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

pytest.importorskip("pyspark", reason='pyspark is not installed (pip install -e ".[dev,spark]")')

import abkit  # noqa: E402
from abkit.cli import main  # noqa: E402
from abkit.engine.duckdb_classify import classified_sql  # noqa: E402
from abkit.engine.input import LogInput  # noqa: E402
from abkit.engine.rules import RowRules  # noqa: E402
from abkit.engine.timestamps import TimeRules  # noqa: E402
from abkit.errors import InputError  # noqa: E402
from abkit.spec import load_spec  # noqa: E402
from abkit.strategies.base import get_strategy  # noqa: E402

from test_conformance import SAMPLES, _spoil, _text_frame, assert_same_reduction  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def spark(spark_session):
    """The local Spark session of tests/engine/conftest.py."""
    return spark_session


def _plan(spec_path, path):
    spec = load_spec(ROOT / spec_path)
    source = LogInput(str(path))
    plan = get_strategy(spec.strategy).plan(spec, source)
    return plan, source.reduce(plan)


def _write(frame: pd.DataFrame, fmt: str, path: Path) -> Path:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "jsonl":
        lines = [json.dumps({k: v for k, v in row.items()}) for row in
                 frame.to_dict(orient="records")]
        # lines the reader rejects (unparseable_line), and blank lines it skips
        lines[3] = "{not json"
        lines[7] = "[1, 2, 3]"
        lines.insert(11, "")
        lines.insert(12, "   ")
        path.write_text("\n".join(lines) + "\n")
    elif fmt == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def test_spark_stages_show_progress(spark, monkeypatch, capsys):
    """The running stages' tasks (SparkProgress), polled while a reduction runs."""
    from abkit.engine import progress as prog

    monkeypatch.setattr(prog, "_EVERY", 0.01)
    monkeypatch.setenv("ABKIT_PROGRESS_AFTER", "0")
    log, spec_path = SAMPLES["ab_example"]
    plan, _ = _plan(spec_path, ROOT / log)
    with prog.progress_setting(True):
        LogInput(str(ROOT / log), engine="spark").reduce(plan)
    err = capsys.readouterr().err
    assert f"abkit: reducing {ROOT / log} ..." in err and "%" in err and "done in" in err
    with prog.progress_setting(False):
        LogInput(str(ROOT / log), engine="spark").reduce(plan)
    assert "abkit: reducing" not in capsys.readouterr().err


# ----------------------------------------------------------------- files read by Spark
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_spark_reads_each_sample_file_like_duckdb(name, spark):
    log, spec_path = SAMPLES[name]
    plan, reference = _plan(spec_path, ROOT / log)
    got = LogInput(str(ROOT / log), engine="spark").reduce(plan)
    assert_same_reduction(reference, got)


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "tsv", "csv.gz"])
@pytest.mark.parametrize("name", ["ab_example", "canary", "bluegreen_smoke"])
def test_spark_reads_every_format_of_a_spoiled_log_like_duckdb(name, fmt, spark, tmp_path):
    log, spec_path = SAMPLES[name]
    frame = _spoil(_text_frame(ROOT / log), load_spec(ROOT / spec_path))
    if fmt == "csv.gz":
        path = tmp_path / "log.csv.gz"
        frame.to_csv(path, index=False, compression="gzip")
    else:
        path = _write(frame, fmt, tmp_path / f"log.{fmt}")
    plan, reference = _plan(spec_path, path)
    assert reference.rejected
    if fmt == "jsonl":
        assert reference.rejected["unparseable_line"] == 2
    got = LogInput(str(path), engine="spark").reduce(plan)
    assert_same_reduction(reference, got)
    assert got.rows_read == reference.rows_read


def test_a_url_is_handed_to_spark(spark):
    """URLs (s3a://, hdfs://, file://) go to Spark as they are; the format is the name's."""
    url = (ROOT / "data/canary.csv").as_uri()
    plan, reference = _plan("data/canary.toml", ROOT / "data/canary.csv")
    source = LogInput(url, engine="spark")
    assert source.description["format"] == "csv"
    assert source.description["files"] == [url] and source.description["label"] == url
    assert_same_reduction(reference, source.reduce(plan))
    with pytest.raises(InputError, match="cannot tell the log format"):
        LogInput("file:///nowhere/logs", engine="spark")


def test_typed_parquet_is_reduced_like_duckdb(spark, tmp_path):
    frame = pd.read_csv(ROOT / "data/ab_example.csv")  # int and float columns
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path, index=False)
    plan, reference = _plan("data/ab_example.toml", path)
    assert_same_reduction(reference, LogInput(str(path), engine="spark").reduce(plan))


def test_csv_lines_with_the_wrong_number_of_fields_are_unparseable(spark, tmp_path):
    text = (ROOT / "data/ab_example.csv").read_text().splitlines()
    text[5] = text[5] + ",extra"            # one field too many
    text[9] = ",".join(text[9].split(",")[:3])  # too few
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(text) + "\n")
    # a spec that reads only some of the columns: Spark must still see the bad lines
    spec = tmp_path / "spec.toml"
    spec.write_text((ROOT / "data/ab_example.toml").read_text().split("[[metrics]]")[0]
                    + '[[metrics]]\nname = "conversion"\nkind = "proportion"\n'
                    'column = "converted"\nrole = "primary"\ngood = "increase"\n')
    plan, reference = _plan(spec, path)
    assert reference.rejected["unparseable_line"] == 2
    got = LogInput(str(path), engine="spark").reduce(plan)
    assert_same_reduction(reference, got)
    assert "wrong number of fields" in got.examples["unparseable_line"]


@pytest.mark.parametrize("case", ["quoted_line_break", "unclosed_quote"])
def test_quoted_line_breaks_and_unclosed_quotes_are_counted_like_duckdb(case, spark, tmp_path):
    """RFC 4180: a quoted field may hold a line break (one record); an unclosed quote
    swallows the lines after it, each counted as unparseable_line."""
    lines = (ROOT / "data/ab_example.csv").read_text().splitlines()
    lines[5] = lines[5].replace("control", '"cont\nrol"').replace("treatment", '"treat\nment"')
    if case == "unclosed_quote":
        lines[20] = 'u9999999,"control,0,0.0,1.0,1,5,100.0'
    path = tmp_path / "quotes.csv"
    path.write_text("\n".join(lines) + "\n")
    plan, reference = _plan("data/ab_example.toml", path)
    assert bool(reference.rejected.get("unparseable_line")) == (case == "unclosed_quote")
    assert_same_reduction(reference, LogInput(str(path), engine="spark").reduce(plan))


# ----------------------------------------------------------------- the text rules
NUMBERS = ["1e3", " 5 ", "\t7\t", "\u00a05\u3000", "inf", "+inf", "-Infinity", "nan", "-nan",
           "NaN", "inFinIty", "infinit", "1,5", "0x10", "1.5d", "1.5f", "1_000", "1__0", "_1",
           "1_", "1_0.5", ".5_5", "1._5", "1e1_0", "1e_10", ".5", "5.", ".", "+", "-0",
           "00012", "1e", "e5", "+5", "--5", "1e400", "1e-400", "1.2.3", "true", "FALSE",
           "yes", "", "   ", "\u0661", "1 2", "1.7976931348623157e309", "0.1", "-2.5e-3"]
TIMES = ["2026-11-20", "2026-11", "2026-11-20T10:00:00Z", "2026-11-20 10:00:00",
         "2026-11-20T10:00:00+01:00", "2026-11-20T10:00:00+0100", "2026-11-20T10:00:00+01",
         "2026-11-20T10:00", "2026-11-20T10", "2026-11-20T10:00:00.123456789Z",
         "2026-02-30T10:00:00Z", "2026-11-20T25:00:00", "2026-11-20T10:00:60",
         "2026-1-2", "20261120", "1795168800", "1795168800.5", "2026-11-20T10:00:00.5Z",
         "2026-11-20T10:00:00-12:30:15", "not a time", "", " 2026-11-20T10:00:00Z ", "inf"]


def _classify_both(frame: pd.DataFrame, rules: RowRules):
    from abkit.engine.spark_classify import classified
    from abkit.engine.spark_logs import SparkLogs, utc

    from abkit.engine.duckdb_frames import open_frame

    logs = open_frame(frame, deterministic=True)
    sql, xs = classified_sql(logs, rules, store_rejects=False)
    duck = logs.con.execute(f"SELECT _r, {xs['x']}, _t FROM {sql}").fetchall()
    slogs = SparkLogs.from_pandas(frame)
    with utc(slogs.spark):
        df, sx = classified(slogs, rules, with_id=True)
        rows = df.orderBy("_id").select("_r", sx["x"], "_t").collect()
    return duck, [tuple(r) for r in rows]


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


@pytest.mark.parametrize("column", ["x", "ts"])
def test_text_is_parsed_by_duckdbs_rules(column, spark):
    """Every hostile number and timestamp text gets DuckDB's reason and value, row by row."""
    values = NUMBERS if column == "x" else TIMES
    n = len(values)
    frame = pd.DataFrame({"variant": ["a"] * n, "x": ["1.5"] * n,
                          "ts": ["2026-11-20T10:00:00Z"] * n}, dtype=object)
    frame[column] = values
    rules = RowRules("variant", ("a",), columns=("x",), timestamp_column="ts",
                     time=TimeRules(1.0, -np.inf, np.inf))
    duck, spark_rows = _classify_both(frame, rules)
    for text, d, s in zip(values, duck, spark_rows):
        assert all(_same(p, q) for p, q in zip(d, s)), (text, d, s)


# ----------------------------------------------------------------- a Spark DataFrame
def _assert_close(a, b, where="report"):
    """The same JSON document, numbers equal to 1e-9 relative."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12, nan_ok=True), where
    else:
        assert a == b, where


def test_analyze_a_spark_dataframe_gives_duckdbs_report(spark):
    sdf = spark.read.csv(str(ROOT / "data/ab_example.csv"), header=True)
    got = abkit.analyze(sdf, ROOT / "data/ab_example.toml").to_dict()
    ref = abkit.analyze(str(ROOT / "data/ab_example.csv"), ROOT / "data/ab_example.toml"
                        ).to_dict()
    assert got["decision"] == ref["decision"] == "go"
    assert got.pop("input") == {"label": "Spark DataFrame", "format": "spark", "files": [],
                                "engine": "spark"}
    ref.pop("input")
    got.pop("generated_at", None)
    ref.pop("generated_at", None)
    _assert_close(got, ref)


def test_spark_moments_match_scipy(spark):
    """Per-variant mean and variance of a per-unit metric, against scipy.stats.describe."""
    rng = np.random.default_rng(13)
    frame = pd.DataFrame({"variant": rng.choice(["a", "b"], 5000),
                          "x": rng.lognormal(3.0, 1.0, 5000)})
    spec = {"experiment": {"strategy": "ab", "variant_column": "variant", "control": "a"},
            "metrics": [{"name": "x", "kind": "mean", "column": "x", "role": "primary",
                         "good": "increase"}]}
    source = LogInput(spark.createDataFrame(frame), engine="spark")
    sp = load_spec(spec)
    red = source.reduce(get_strategy("ab").plan(sp, source))
    for variant, part in frame.groupby("variant"):
        ref = stats.describe(part["x"].to_numpy(float))  # mean, variance (ddof=1)
        m = red.moments["x"][variant]
        assert m.n == ref.nobs
        assert m.mean[0] == pytest.approx(ref.mean, rel=1e-12)
        assert m.m2[0][0] / (m.n - 1) == pytest.approx(ref.variance, rel=1e-9)


def test_a_spark_dataframe_refuses_another_engine(spark):
    sdf = spark.createDataFrame(pd.DataFrame({"variant": ["a"], "x": ["1"]}))
    with pytest.raises(InputError, match="reduced on Spark"):
        LogInput(sdf, engine="pandas")


# ----------------------------------------------------------------- the CLI
def test_cli_engine_spark_gives_duckdbs_verdict(spark, tmp_path, capsys, validate_report):
    from abkit.engine import spark_logs

    out_s, out_d = tmp_path / "s.json", tmp_path / "d.json"
    args = ["report", str(ROOT / "data/ab_example.csv"), "--spec",
            str(ROOT / "data/ab_example.toml"), "--format", "json"]
    try:
        assert main(args + ["-o", str(out_s), "--engine", "spark", "--spark-master",
                            "local[2]"]) == 0
        assert spark_logs.master() == "local[2]"
    finally:
        spark_logs.set_master(None)
    assert main(args + ["-o", str(out_d)]) == 0
    s, d = json.loads(out_s.read_text()), json.loads(out_d.read_text())
    assert s["input"]["engine"] == "spark" and d["input"]["engine"] == "duckdb"
    assert s["decision"] == d["decision"]
    validate_report(s)  # report-v1 names the spark engine


def test_cli_refuses_spark_master_without_spark_and_pandas_on_files(capsys):
    base = ["report", str(ROOT / "data/ab_example.csv"), "--spec",
            str(ROOT / "data/ab_example.toml")]
    assert main(base + ["--spark-master", "local[2]"]) == 2
    assert "--engine spark" in capsys.readouterr().err
    assert main(base + ["--engine", "pandas"]) == 2


# ----------------------------------------------------------------- spark-submit
@pytest.mark.skipif(shutil.which("spark-submit", path=str(Path(sys.executable).parent))
                    is None, reason="spark-submit is not installed")
def test_spark_submit_recipe_exits_by_verdict(tmp_path):
    submit = str(Path(sys.executable).with_name("spark-submit"))
    out = tmp_path / "report.json"
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    r = subprocess.run(
        [submit, "--master", "local[2]", "--conf", "spark.ui.enabled=false",
         "--conf", "spark.ui.showConsoleProgress=false",
         str(ROOT / "recipes/spark_submit_example.py"),
         str(ROOT / "data/ab_latency_regression.csv"), str(ROOT / "data/ab_example.toml"),
         "--format", "csv", "--output", str(out)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert r.returncode == 1, r.stderr[-2000:]  # the regression is a NO-GO
    assert json.loads(out.read_text())["decision"] == "no-go"
    assert json.loads(out.read_text())["input"]["engine"] == "spark"

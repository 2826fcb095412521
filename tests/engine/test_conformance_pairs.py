"""Engine conformance of the shadow pairs plan: pandas (the reference: the log read as text
and paired by ``pair_shadow``), DuckDB and Spark give the same accounting (counts, reasons,
examples, each side's and the labels' own) and the same per-pair arrays in the same order.

Cases: the generic shadow logs of the tests (one log with a variant column; two logs and a
labels file), in CSV, JSON Lines and Parquet, clean and spoiled with rows that trip every
reason (empty, unknown and blank variants, empty ids, ids with Unicode spaces, outputs that
are text, empty, NaN, infinite or written ``1_0``, duplicated requests, unmatched requests,
unparseable lines, bad, conflicting, repeated and unmatched labels). The shipped samples
(``data/shadow/``) are capture trees, read by the capture reader, not by this plan.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abkit.datasets.files import write_log
from abkit.engine.duckdb_pairs import id_sql, num_sql
from abkit.engine.pairs import PairsReduction, reduce_frame_pairs
from abkit.spec import parse_spec
from abkit.strategies.base import Overrides
from abkit.strategies.shadow import ShadowStrategy

SPEC = {
    "experiment": {"strategy": "shadow", "live": "live", "candidate": "cand",
                   "label_column": "label", "latency_column": "latency_ms",
                   "error_column": "error", "timestamp_column": "ts", "features": ["x"],
                   "group": "segment"},
    "metrics": [{"name": "auc", "margin": 0.01}, {"name": "latency_p95", "margin": 0.1}],
}


def _log(n: int = 300, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    ts = pd.Timestamp("2026-11-20T08:00:00Z") + pd.to_timedelta(
        np.sort(rng.uniform(0, 3 * 3600, n)), unit="s")
    common = {"request_id": [f"r{i}" for i in range(n)],
              "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "x": np.round(x, 4), "label": y,
              "segment": rng.choice(["a", "b"], n)}
    sides = []
    for v, noise in (("live", 0.5), ("cand", 0.8)):
        sides.append(pd.DataFrame({**common, "variant": v, "score": np.round(
            1 / (1 + np.exp(-(x + rng.normal(0, noise, n)))), 5),
            "latency_ms": np.round(rng.lognormal(np.log(40), 0.3, n), 2),
            "error": (rng.random(n) < 0.02) * 1}))
    return pd.concat(sides, ignore_index=True).astype(object)


def _spoil(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    n = len(df) // 2
    for i, (col, v) in enumerate([
            ("variant", None), ("variant", "canary"), ("variant", " live "),
            ("variant", "\u3000cand"), ("score", "abc"), ("score", None), ("score", "inf"),
            ("score", "nan"), ("score", "1_0"), ("score", " -inf "), ("score", ""),
            ("request_id", "  "), ("request_id", None), ("request_id", "\xa0r30\u2003"),
            ("label", "x"), ("label", 2), ("label", "nan"), ("latency_ms", "slow"),
            ("error", ""), ("ts", "not a time")]):
        df.loc[3 * i + 1 + (n if i % 3 == 0 else 0), col] = v
    extra = [df.iloc[[10, n + 11]], df.iloc[[40]].assign(label=1 - int(df.loc[40, "label"])),
             df.iloc[[45]], df.iloc[[n + 50]].assign(request_id="only-cand")]
    return pd.concat([df, *extra], ignore_index=True)


def _two_logs(tmp: Path, fmt: str, spoiled: bool) -> tuple[list[str], dict]:
    df = _log(200, seed=5)
    live = df[df.variant == "live"].drop(columns=["variant", "label"])
    cand = df[df.variant == "cand"].drop(columns=["variant", "label"])
    lab = df[df.variant == "live"][["request_id", "label"]]
    if spoiled:
        live = live.copy()
        live.iloc[3, 0] = ""
        cand = cand.iloc[10:]  # live_only
        cand = pd.concat([cand, cand.iloc[[5]], cand.iloc[[6]].assign(request_id="new")])
        y8 = int(lab["label"].iloc[8])
        lab = pd.concat([lab, pd.DataFrame({"request_id": ["", "r7", "r8", "r9", "zz", "r1"],
                                            "label": [1, None, 1 - y8, lab["label"].iloc[9],
                                                      1, "7"]})])
    paths = [str(write_log(live, tmp / f"live.{fmt}")), str(write_log(cand, tmp / f"cand.{fmt}"))]
    spec = json.loads(json.dumps(SPEC))
    del spec["experiment"]["label_column"]
    spec["experiment"]["labels"] = str(write_log(lab, tmp / f"labels.{fmt}"))
    return paths, spec


def _write_one(tmp: Path, fmt: str, spoiled: bool, bad_lines: bool = True) -> str:
    df = _spoil(_log()) if spoiled else _log()
    p = write_log(df, tmp / f"log.{fmt}")
    if spoiled and bad_lines and fmt in ("csv", "jsonl"):  # lines the reader cannot parse
        with open(p, "a") as fh:
            fh.write('"unclosed,quote\n' if fmt == "csv" else "{not json\n[1, 2]\n")
    return str(p)


def _plan(data, specd, engine: str | None):
    st = ShadowStrategy()
    spec = parse_spec(specd)
    src = st.open(data, Overrides(engine=engine))
    return src, st.plan(spec, src)


def _as_dict(r: PairsReduction) -> dict:
    return {"read": r.rows_read, "used": r.rows_used, "rejected": r.rejected,
            "examples": r.examples, "unmatched": r.unmatched, "info": r.pairs_info()}


def _texts(a) -> list:
    """Text per pair, missing as None (an object array holds None, a pandas text array NaN)."""
    return [None if v is None or v != v else v for v in a]


def assert_same_pairs(a: PairsReduction, b: PairsReduction) -> None:
    assert _as_dict(a) == _as_dict(b)
    assert _texts(a.request_id) == _texts(b.request_id)
    for name in ("output_live", "output_shadow", "label"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    # an engine may give the times already parsed (``time_utc``): the frames compare them
    assert (a.time is None and a.time_utc is None) == (b.time is None and b.time_utc is None)
    assert a.carried.keys() == b.carried.keys() and a.columns.keys() == b.columns.keys()
    for c in a.carried:
        for x, y in zip(a.carried[c], b.carried[c]):
            np.testing.assert_array_equal(x, y, err_msg=c)
    for c in a.columns:
        assert _texts(a.columns[c]) == _texts(b.columns[c]), c
    pd.testing.assert_frame_equal(a.frame(), b.frame())


CASES = [(layout, fmt, spoiled) for layout in ("one", "two")
         for fmt in ("csv", "jsonl", "parquet") for spoiled in (False, True)]


def _case(tmp: Path, layout: str, fmt: str, spoiled: bool, bad_lines: bool = True):
    if layout == "one":
        return _write_one(tmp, fmt, spoiled, bad_lines), SPEC
    return _two_logs(tmp, fmt, spoiled)


@pytest.mark.parametrize("layout,fmt,spoiled", CASES)
def test_duckdb_pairs_like_the_pandas_reference(layout, fmt, spoiled, tmp_path):
    data, specd = _case(tmp_path, layout, fmt, spoiled)
    src, plan = _plan(data, specd, None)
    ref = reduce_frame_pairs(src.logs, plan.pairs)
    got = src.logs.reduce(plan.pairs)
    assert_same_pairs(ref, got)
    if spoiled:  # the spoiled rows were all seen, each under its reason
        assert got.rejected.keys() >= {"duplicate_request", "live_only", "shadow_only"}
        if layout == "one":
            assert got.rejected.keys() >= {
                "missing_variant", "unknown_variant", "missing_request_id",
                "non_numeric_output", "non_finite_output", "bad_label", "conflicting_label",
                "duplicate_label", "labels_only"}
        else:
            assert got.rejected.keys() >= {"missing_id", "bad_label", "conflicting_label",
                                           "duplicate_label", "labels_only"}


@pytest.mark.parametrize("layout", ["one", "two"])
def test_pairs_of_shuffled_rows_come_in_the_live_order(layout, tmp_path):
    """Each side's values are taken by position: with the rows in random order (one log),
    or the candidate's (two logs), every pair still carries its own two rows' values."""
    df = _spoil(_log(seed=11)).sample(frac=1, random_state=7).reset_index(drop=True)
    if layout == "one":
        data, specd = str(write_log(df, tmp_path / "log.csv")), SPEC
    else:
        live = df[df.variant == "live"].drop(columns=["variant", "label"])
        cand = df[df.variant == "cand"].drop(columns=["variant", "label"])
        data = [str(write_log(live, tmp_path / "live.csv")),
                str(write_log(cand.iloc[::-1], tmp_path / "cand.csv"))]
        specd = json.loads(json.dumps(SPEC))
        del specd["experiment"]["label_column"]
        lab = df[df.variant == "live"][["request_id", "label"]]
        specd["experiment"]["labels"] = str(write_log(lab, tmp_path / "labels.csv"))
    src, plan = _plan(data, specd, None)
    got = src.logs.reduce(plan.pairs)
    assert_same_pairs(reduce_frame_pairs(src.logs, plan.pairs), got)
    assert got.pairs_info()["pairs"] > 250


@pytest.mark.parametrize("paired", [False, True])
def test_pairs_times_are_read_by_duckdb_unless_a_pairs_time_is_not_strict_iso(paired, tmp_path):
    """A time pandas may read differently (``yesterday``) on a paired row sends every
    pair's time to pandas as text; on an unpaired row it changes nothing."""
    df = _log(seed=13)  # rows 0..299 live, 300..599 the candidate's, by request
    df.loc[5, "ts"] = "yesterday"
    if not paired:  # request 5 loses its candidate row: its live row is live_only
        df = df.drop(index=len(df) // 2 + 5)
    src, plan = _plan(str(write_log(df, tmp_path / "log.csv")), SPEC, None)
    got = src.logs.reduce(plan.pairs)
    assert_same_pairs(reduce_frame_pairs(src.logs, plan.pairs), got)
    assert (got.time is not None) == paired and (got.time_utc is not None) == (not paired)


@pytest.mark.parametrize("layout,fmt,spoiled", [c for c in CASES if c[1] != "jsonl"])
def test_spark_pairs_like_the_pandas_reference(layout, fmt, spoiled, tmp_path, request):
    request.getfixturevalue("spark_session")
    # no unparseable lines: their example is each reader's own message
    data, specd = _case(tmp_path, layout, fmt, spoiled, bad_lines=False)
    src, plan = _plan(data, specd, None)
    ref = reduce_frame_pairs(src.logs, plan.pairs)
    s_src, s_plan = _plan(data, specd, "spark")
    assert s_src.logs.engine == "spark"
    assert_same_pairs(ref, s_src.logs.reduce(s_plan.pairs))


def test_a_text_dataframe_pairs_alike_on_pandas_and_duckdb():
    df = _spoil(_log()).map(lambda v: None if v is None else str(v))
    src, plan = _plan(df, SPEC, "pandas")
    assert src.logs.engine == "pandas"
    d_src, d_plan = _plan(df, SPEC, "duckdb")
    assert d_src.logs.engine == "duckdb"
    assert_same_pairs(src.logs.reduce(plan.pairs), d_src.logs.reduce(d_plan.pairs))


@pytest.mark.parametrize("text", ["0.5", " 0.5", "1e3", "inf", " inf ", "-Infinity", "nan",
                                  "NaN", "", "1_000", "1e1_0", "0x10", "1,5", "true", "+1",
                                  ".5", "5.", "1e400", "- 1", "\t2\n", "\xa01"])
def test_numbers_are_read_as_pandas_reads_text(text):
    import duckdb

    want = pd.to_numeric(pd.Series([text], dtype=object), errors="coerce").iloc[0]
    got = duckdb.connect().execute(f"SELECT {num_sql('$1')}", [text]).fetchone()[0]
    if np.isnan(want):
        assert got is None
    else:
        assert got == want


@pytest.mark.parametrize("text", ["r1", " r1 ", "\u3000r1\xa0", "", "  ", "\t\n", "a b"])
def test_ids_are_stripped_as_pandas_strips_text(text):
    import duckdb

    got = duckdb.connect().execute(f"SELECT {id_sql('$1')}", [text]).fetchone()[0]
    assert got == (text.strip() or None)


def test_the_comparison_can_fail(tmp_path):
    data, specd = _case(tmp_path, "one", "csv", True)
    src, plan = _plan(data, specd, None)
    ref = reduce_frame_pairs(src.logs, plan.pairs)
    got = src.logs.reduce(plan.pairs)
    got.examples = {**got.examples, "live_only": "something else"}
    with pytest.raises(AssertionError):
        assert_same_pairs(ref, got)

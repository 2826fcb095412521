"""Bounded memory of the DuckDB A/B reduction (abkit.engine.duckdb_passes).

The units reduced in K passes by ``hash(unit) % K`` (forced with the private knob
``ABKIT_DUCKDB_PASSES``) give the one-pass reduction: equal counts and accounting, moments
to 1e-12 relative; an engine out of memory says so, naming the limit and how to raise it.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from abkit.engine.duckdb_engine import DuckDBLogs
from abkit.engine.duckdb_passes import DEFAULT_MEMORY_LIMIT, limit_bytes, pass_filter
from abkit.engine.plan import build_plan
from abkit.errors import InputError
from abkit.io.sources import resolve_sources
from abkit.spec import load_spec

REL = 1e-12


def _spec(granularity: str) -> dict:
    metrics = [
        {"name": "conversion", "kind": "proportion", "column": "converted"},
        {"name": "revenue", "kind": "mean", "column": "revenue", "covariate": "pre"},
        {"name": "ctr", "kind": "ratio", "numerator": "clicks", "denominator": "sessions"},
    ]
    if granularity == "request":
        metrics[0]["aggregate"] = "max"
        metrics[1]["aggregate"] = "sum"
    return {"experiment": {"strategy": "ab", "variant_column": "variant",
                           "unit_column": "unit_id", "granularity": granularity,
                           "control": "a", "split": {"a": 0.5, "b": 0.5}},
            "metrics": metrics}


def _log(n_rows: int = 6000, n_units: int = 900, seed: int = 7) -> pd.DataFrame:
    """Rows of units scattered over the log, with every unit-level problem: units in both
    variants, duplicate units, missing unit ids, unknown variants, bad values."""
    rng = np.random.default_rng(seed)
    unit = rng.integers(0, n_units, n_rows)
    variant = np.where(unit % 2 == 0, "a", "b").astype(object)
    leak = rng.random(n_rows) < 0.01  # these rows put their unit in the other variant
    variant[leak] = np.where(variant[leak] == "a", "b", "a")
    variant[rng.random(n_rows) < 0.01] = "typo"
    units = np.array([f"u{u:05d}" for u in unit], dtype=object)
    units[rng.random(n_rows) < 0.01] = None
    revenue = rng.gamma(2.0, 10.0, n_rows)
    revenue[rng.random(n_rows) < 0.01] = np.nan
    return pd.DataFrame({
        "unit_id": units, "variant": variant,
        "converted": (rng.random(n_rows) < 0.1).astype(float),
        "revenue": revenue, "pre": (unit % 17).astype(float) + 0.5,
        "clicks": rng.poisson(1.5, n_rows).astype(float),
        "sessions": rng.integers(1, 4, n_rows).astype(float),
    })


def _reduce(path, spec: dict, passes: int | None, monkeypatch, **kw):
    if passes is None:
        monkeypatch.delenv("ABKIT_DUCKDB_PASSES", raising=False)
    else:
        monkeypatch.setenv("ABKIT_DUCKDB_PASSES", str(passes))
    logs = DuckDBLogs(resolve_sources([str(path)]), **kw)
    return logs.reduce(build_plan(load_spec(spec)))


def _same(one, many) -> None:
    assert many.rows_read == one.rows_read
    assert many.rows_used == one.rows_used
    assert many.rejected == one.rejected
    assert many.rejected_columns == one.rejected_columns
    assert many.units == one.units
    assert many.unknown_variants == one.unknown_variants
    assert many.examples == one.examples
    assert many.moments.keys() == one.moments.keys()
    for name, by_variant in one.moments.items():
        assert many.moments[name].keys() == by_variant.keys()
        for v, a in by_variant.items():
            b = many.moments[name][v]
            assert b.n == a.n
            np.testing.assert_allclose(b.mean, a.mean, rtol=REL, atol=0)
            # co-moments to 1e-12 of their scale sqrt(M2_ii * M2_jj): an off-diagonal
            # entry near 0 (uncorrelated variables) is a difference of large sums
            ma, mb = np.asarray(a.m2), np.asarray(b.m2)
            scale = np.sqrt(np.outer(np.diag(ma), np.diag(ma)))
            assert np.all(np.abs(mb - ma) <= REL * scale), (name, v, mb - ma)


@pytest.fixture(scope="module")
def logs_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("memory")
    df = _log()
    df.to_parquet(d / "log.parquet", index=False)
    csv = df.astype({"clicks": object})
    csv.loc[5, "clicks"] = "x"  # a non-numeric value
    text = csv.to_csv(index=False, na_rep="")
    lines = text.splitlines()
    lines.insert(40, "u00001,a,1,2")  # a line with too few fields: a reader reject
    (d / "log.csv").write_text("\n".join(lines) + "\n")
    return d


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("granularity", ["request", "unit"])
@pytest.mark.parametrize("k", [2, 7])
def test_k_passes_equal_one_pass(logs_dir, fmt, granularity, k, monkeypatch):
    spec = _spec(granularity)
    one = _reduce(logs_dir / f"log.{fmt}", spec, 1, monkeypatch)
    many = _reduce(logs_dir / f"log.{fmt}", spec, k, monkeypatch)
    # the log has every unit-level problem, so the comparison covers them
    assert one.rejected.get("unit_in_multiple_variants", 0) > 0
    assert one.rejected.get("missing_unit_id", 0) > 0
    assert one.rejected.get("unknown_variant", 0) > 0
    if granularity == "unit":
        assert one.rejected.get("duplicate_unit", 0) > 0
    if fmt == "csv":
        assert one.rejected.get("unparseable_line", 0) == 1  # counted once, not k times
    _same(one, many)


def test_k_passes_against_numpy(logs_dir, monkeypatch):
    """The merged moments of ctr's (clicks, sessions) per-unit sums equal numpy's mean and
    np.cov(ddof=1) over the units that the rules keep (computed here with pandas)."""
    spec = _spec("request")
    red = _reduce(logs_dir / "log.parquet", spec, 5, monkeypatch)
    df = _log()
    df = df[df.unit_id.notna() & df.variant.isin(["a", "b"]) & df.revenue.notna()]
    per = df.groupby("unit_id").agg(vmin=("variant", "min"), vmax=("variant", "max"),
                                    clicks=("clicks", "sum"), sessions=("sessions", "sum"))
    per = per[per.vmin == per.vmax]
    for v in ("a", "b"):
        z = per[per.vmin == v][["clicks", "sessions"]].to_numpy()
        ms = red.moments["ctr"][v]
        assert ms.n == len(z) == red.units[v]
        np.testing.assert_allclose(ms.mean, z.mean(axis=0), rtol=REL)
        # reference: np.cov(z, rowvar=False, ddof=1) * (n - 1)
        np.testing.assert_allclose(np.asarray(ms.m2), np.cov(z, rowvar=False, ddof=1)
                                   * (len(z) - 1), rtol=1e-10)


def test_deterministic_run_to_run(logs_dir, monkeypatch):
    spec = _spec("request")
    a = _reduce(logs_dir / "log.parquet", spec, 4, monkeypatch)
    b = _reduce(logs_dir / "log.parquet", spec, 4, monkeypatch)
    assert a.moments == b.moments and a.rejected == b.rejected


def test_passes_chosen_from_the_limit(tmp_path, monkeypatch):
    """Without the knob, a limit too small for the units' groups picks K > 1 up front
    (Parquet row count, then approx_count_distinct), and still gives the one-pass answer."""
    df = _log(n_rows=200_000, n_units=150_000, seed=3)
    path = tmp_path / "big.parquet"
    df.to_parquet(path, index=False)
    spec = _spec("request")
    logs = DuckDBLogs(resolve_sources([str(path)]), memory_limit="20MB")
    from abkit.engine.duckdb_passes import choose_passes

    monkeypatch.delenv("ABKIT_DUCKDB_PASSES", raising=False)
    k, _ = choose_passes(logs, logs.label_expr("unit_id"), len(build_plan(load_spec(spec))
                                                               .variables))
    assert k > 1
    one = _reduce(path, spec, 1, monkeypatch)
    auto = _reduce(path, spec, None, monkeypatch, memory_limit="20MB")
    _same(one, auto)


def test_out_of_memory_names_the_limit(tmp_path, monkeypatch):
    df = _log(n_rows=400_000, n_units=300_000, seed=5)
    path = tmp_path / "oom.parquet"
    df.to_parquet(path, index=False)
    monkeypatch.setenv("ABKIT_DUCKDB_RETRY", "0")
    with pytest.raises(InputError) as e:
        _reduce(path, _spec("request"), 1, monkeypatch, memory_limit="20MB")
    text = str(e.value)
    assert "out of memory" in text and "20MB" in text
    assert "ABKIT_DUCKDB_MEMORY_LIMIT" in text and "memory_limit" in text
    assert "valid PARQUET" not in text
    assert e.value.exit_code == 2


def test_out_of_memory_retried_with_more_passes(tmp_path, monkeypatch):
    """The same log and limit, retries on (the default): K doubles until it fits."""
    df = _log(n_rows=400_000, n_units=300_000, seed=5)
    path = tmp_path / "retry.parquet"
    df.to_parquet(path, index=False)
    monkeypatch.delenv("ABKIT_DUCKDB_RETRY", raising=False)
    small = _reduce(path, _spec("request"), 1, monkeypatch, memory_limit="20MB")
    one = _reduce(path, _spec("request"), 1, monkeypatch)
    _same(one, small)


def test_default_limit_and_spill_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("ABKIT_DUCKDB_MEMORY_LIMIT", raising=False)
    df = _log(n_rows=100, n_units=50)
    df.to_parquet(tmp_path / "s.parquet", index=False)
    logs = DuckDBLogs(resolve_sources([str(tmp_path / "s.parquet")]))
    assert logs.memory_limit == DEFAULT_MEMORY_LIMIT == "2GB"
    got, tmp = logs.con.execute("SELECT current_setting('memory_limit'), "
                                "current_setting('temp_directory')").fetchone()
    assert limit_bytes(got) == pytest.approx(2e9, rel=0.05)  # DuckDB shows "1.8 GiB"
    assert os.path.isdir(tmp)
    del logs
    import gc

    gc.collect()
    assert not os.path.exists(tmp)  # removed with the connection
    monkeypatch.setenv("ABKIT_DUCKDB_MEMORY_LIMIT", "1500MB")
    assert DuckDBLogs(resolve_sources([str(tmp_path / "s.parquet")])).memory_limit == "1500MB"
    with pytest.raises(InputError, match="memory limit"):
        DuckDBLogs(resolve_sources([str(tmp_path / "s.parquet")]), memory_limit="lots")


def test_bad_passes_knob(logs_dir, monkeypatch):
    with pytest.raises(InputError, match="ABKIT_DUCKDB_PASSES"):
        _reduce(logs_dir / "log.parquet", _spec("request"), 0, monkeypatch)


def test_limit_bytes_and_filter():
    assert limit_bytes("2GB") == 2 * 10**9
    assert limit_bytes("1.5 GiB") == int(1.5 * 2**30)
    assert limit_bytes("lots") is None
    assert pass_filter(1, 0) == ""
    # a test of the unit alone (pushed into the scan); rows without a unit go to pass 0
    assert pass_filter(3, 2) == " WHERE (CASE WHEN _u IS NULL THEN 0 ELSE hash(_u) % 3 END) = 2"
    assert "_r" not in pass_filter(3, 0)

"""Blue/green conformance: the ``rows`` plan (time cells) on every engine gives DuckDB's
reduction of the file, and the same analysis.

Each case is a shipped blue/green sample, clean or spoiled with hostile rows (the spoiling
of ``tests/engine/test_conformance.py``), or a dense synthetic log (10 requests a second,
so that seconds hold many rows and the refinement matters). The reference is DuckDB on the
file; every engine of :data:`abkit.engine.base.ENGINES` then reduces the same rows held as
a DataFrame of text: equal accounting, equal cells (keys, refined seconds, labels, rows),
times and moments to 1e-9; the analyses' JSON to 1e-9.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abkit.engine.base import ENGINES
from abkit.engine.input import LogInput
from abkit.engine.rows import TimeCells
from abkit.spec import load_spec
from abkit.strategies.base import get_strategy
from close_json import close_json  # tests/close_json.py

ROOT = Path(__file__).resolve().parents[2]
REL = 1e-9
SPEC = ROOT / "data" / "bluegreen.toml"
SAMPLES = {"bluegreen_regression": "data/bluegreen_regression.csv.gz",
           "bluegreen_smoke": "data/bluegreen_smoke.csv.gz"}


def _spoil(frame: pd.DataFrame) -> pd.DataFrame:
    from test_conformance import _spoil as spoil  # the hostile rows of every strategy

    return spoil(frame, load_spec(SPEC))


def _dense() -> pd.DataFrame:
    from abkit.bluegreen import make_bluegreen_log

    df = make_bluegreen_log("smoke", 7, rate=10.0, history_hours=1.0, after_hours=0.5)
    df["ts"] = df["ts"].round(3)  # millisecond timestamps: ties within a second
    return df.astype(str)


def _frame(name: str) -> pd.DataFrame:
    if name == "dense":
        return _dense()
    return pd.read_csv(ROOT / SAMPLES[name.removesuffix("-spoiled")], dtype=str,
                       keep_default_na=False)


def _cases():
    for name in SAMPLES:
        yield pytest.param(name, id=name)
        yield pytest.param(name + "-spoiled", id=name + "-spoiled")
    yield pytest.param("dense", id="dense")


def assert_same_cells(a: TimeCells, b: TimeCells) -> None:
    """``a`` and ``b`` reduce the same rows to the same cells (``examples`` may differ)."""
    assert type(a) is type(b) is TimeCells
    assert (a.rows_read, a.rows_used, a.rejected, a.rejected_columns, a.unknown_variants) == (
        b.rows_read, b.rows_used, b.rejected, b.rejected_columns, b.unknown_variants)
    x, y = a.cells, b.cells
    assert len(x) == len(y)
    np.testing.assert_array_equal(x.key, y.key)
    np.testing.assert_array_equal(x.fine, y.fine)
    assert list(x.variant) == list(y.variant)
    np.testing.assert_array_equal(x.rows, y.rows)
    np.testing.assert_allclose(x.tmin, y.tmin, rtol=REL)
    np.testing.assert_allclose(x.tmax, y.tmax, rtol=REL)
    assert x.n.keys() == y.n.keys()
    for c in x.n:
        np.testing.assert_array_equal(x.n[c], y.n[c])
        np.testing.assert_allclose(x.mean[c], y.mean[c], rtol=REL, atol=1e-12)
        np.testing.assert_allclose(x.m2[c], y.m2[c], rtol=REL, atol=1e-9)


def _reference(name: str, tmp_path: Path):
    spec = load_spec(SPEC)
    frame = _frame(name)
    if name.endswith("-spoiled"):
        frame = _spoil(frame)
    path = ROOT / SAMPLES[name] if name in SAMPLES else tmp_path / "log.csv"
    if name not in SAMPLES:
        frame.to_csv(path, index=False)
    strategy = get_strategy("bluegreen")
    source = LogInput(str(path))
    plan = strategy.plan(spec, source)
    return spec, strategy, frame, plan, source.reduce(plan)


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name", list(_cases()))
def test_every_engine_reduces_bluegreen_like_duckdb_on_the_file(name, engine, tmp_path,
                                                                   request):
    if engine == "spark":
        request.getfixturevalue("spark_session")
    spec, strategy, frame, plan, reference = _reference(name, tmp_path)
    assert reference.rows_read == len(frame)
    if name.endswith("-spoiled"):
        assert reference.rejected, "the spoiled rows must be rejected"
    source = LogInput(frame, engine=engine)
    got = source.reduce(plan)
    assert_same_cells(reference, got)
    want = strategy.test(spec, source, plan, reference).to_dict()
    assert close_json(strategy.test(spec, source, plan, got).to_dict(), want)


def test_cells_are_far_fewer_than_rows_and_refined_only_at_the_cuts(tmp_path):
    *_, plan, red = _reference("dense", tmp_path)
    c = red.cells
    assert len(c) < red.rows_used / 3
    refined = np.unique(c.key[c.fine])
    assert 0 < refined.size < 200  # the switch, the windows' edges, the looks, the plot bins

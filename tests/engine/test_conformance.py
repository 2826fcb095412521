"""Engine conformance: every strategy's plan, on every registered engine, gives the same
reduction as DuckDB reading the file.

Each case is a shipped sample, or a sample with hostile rows written into it (bad labels,
timestamps and values of every kind). The reference is DuckDB on the file; every engine of
:data:`abkit.engine.base.ENGINES` then reduces the same rows, held as a DataFrame of text:
equal counts and accounting, moments and cells equal to 1e-9 relative. A new engine added
to the registry joins this test with no change here (an engine that needs a session, as
Spark does, gets it from a fixture).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abkit.engine.base import ENGINES
from abkit.engine.input import LogInput
from abkit.engine.plan import Reduced
from abkit.engine.rollout_reduce import Reduction
from abkit.engine.rows import Rows
from abkit.spec import load_spec
from abkit.strategies.base import get_strategy

ROOT = Path(__file__).resolve().parents[2]
REL = 1e-9

# (log, spec) of every shipped sample whose strategy reduces through an engine
SAMPLES = {
    "ab_example": ("data/ab_example.csv", "data/ab_example.toml"),
    "ab_latency_regression": ("data/ab_latency_regression.csv", "data/ab_example.toml"),
    "canary": ("data/canary.csv", "data/canary.toml"),
    "linear": ("data/linear.csv.gz", "data/linear.toml"),
    "bluegreen_regression": ("data/bluegreen_regression.csv.gz", "data/bluegreen.toml"),
    "bluegreen_smoke": ("data/bluegreen_smoke.csv.gz", "data/bluegreen.toml"),
}


def _text_frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _spoil(frame: pd.DataFrame, spec) -> pd.DataFrame:
    """Rows that each trip one rejection reason, spread through the log."""
    df = frame.copy()
    n = len(df)
    at = iter(np.linspace(1, n - 2, 40).astype(int))
    vcol = spec.variant_column
    ts = (spec.rollout.timestamp_column if spec.rollout else
          spec.bluegreen.timestamp_column if spec.bluegreen else None)
    cols = [c for m in spec.metrics for c in m.columns]
    df.loc[next(at), vcol] = ""
    df.loc[next(at), vcol] = "Baseline-typo"
    df.loc[next(at), vcol] = "\x1b[2J"
    if ts:
        df.loc[next(at), ts] = ""
        df.loc[next(at), ts] = "not a time"
        df.loc[next(at), ts] = "2026-02-30T10:00:00Z"
    for c in dict.fromkeys(cols):
        df.loc[next(at), c] = ""
        df.loc[next(at), c] = "abc"
        df.loc[next(at), c] = "inf"
        df.loc[next(at), c] = "1,5"
    for m in spec.metrics:
        if m.kind == "proportion":
            df.loc[next(at), m.column] = "2"
        if m.kind == "count":
            df.loc[next(at), m.column] = "-1"
    return df


def _cases():
    for name in SAMPLES:
        yield pytest.param(name, False, id=name)
        yield pytest.param(name, True, id=name + "-spoiled")


def _plan_and_reference(name: str, spoiled: bool, tmp_path: Path):
    log, spec_path = SAMPLES[name]
    spec = load_spec(ROOT / spec_path)
    frame = _text_frame(ROOT / log)
    path = ROOT / log
    if spoiled:
        frame = _spoil(frame, spec)
        path = tmp_path / "spoiled.csv"
        frame.to_csv(path, index=False)
    strategy = get_strategy(spec.strategy)
    source = LogInput(str(path))
    plan = strategy.plan(spec, source)
    return frame, plan, source.reduce(plan)


def _accounting(r) -> dict:
    return {"read": r.rows_read, "used": r.rows_used, "rejected": r.rejected,
            "rejected_columns": r.rejected_columns, "unknown": r.unknown_variants}


def assert_same_reduction(a, b) -> None:
    """``a`` and ``b`` reduce the same rows the same way (``examples`` may differ: they
    quote the input as each reader saw it)."""
    assert type(a) is type(b)
    assert _accounting(a) == _accounting(b)
    if isinstance(a, Reduced):
        assert a.units == b.units
        assert a.moments.keys() == b.moments.keys()
        for metric, arms in a.moments.items():
            assert arms.keys() == b.moments[metric].keys()
            for v, m in arms.items():
                o = b.moments[metric][v]
                assert m.n == o.n
                assert np.asarray(m.mean) == pytest.approx(np.asarray(o.mean), rel=REL)
                assert np.asarray(m.m2) == pytest.approx(np.asarray(o.m2), rel=REL, abs=1e-9)
    elif isinstance(a, Reduction):
        assert a.origin == pytest.approx(b.origin)
        assert a.first_time == pytest.approx(b.first_time)
        assert a.last_time == pytest.approx(b.last_time)
        assert a.cells.keys() == b.cells.keys()
        for key, per in a.cells.items():
            assert per.keys() == b.cells[key].keys()
            for v, vec in per.items():
                assert vec == pytest.approx(b.cells[key][v], rel=REL)
        assert a.exceed == b.exceed
        assert a.sketch == b.sketch  # log-bucket counts of the quantile columns: exact
        assert a.thresholds.keys() == b.thresholds.keys()
        for k, (thr, look) in a.thresholds.items():
            assert (thr, look) == pytest.approx(b.thresholds[k], rel=REL)
    elif isinstance(a, Rows):  # blue/green's time cells
        from test_conformance_bluegreen import assert_same_cells

        assert_same_cells(a, b)
    else:  # pragma: no cover
        raise AssertionError(f"no comparison for {type(a).__name__}")


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name,spoiled", list(_cases()))
def test_every_engine_reduces_every_plan_like_duckdb_on_the_file(name, spoiled, engine,
                                                                  tmp_path, request):
    if engine == "spark":
        request.getfixturevalue("spark_session")
    frame, plan, reference = _plan_and_reference(name, spoiled, tmp_path)
    assert reference.rows_read == len(frame)
    if spoiled:
        assert reference.rejected, "the spoiled rows must be rejected"
    got = LogInput(frame, engine=engine).reduce(plan)
    assert_same_reduction(reference, got)


def test_every_plan_kind_is_covered():
    kinds = set()
    for log, spec_path in SAMPLES.values():
        spec = load_spec(ROOT / spec_path)
        kinds.add(get_strategy(spec.strategy).plan(spec, LogInput(str(ROOT / log))).kind)
    assert kinds == {"ab", "rollout", "rows"}


def test_the_comparison_can_fail(tmp_path):
    _, plan, reference = _plan_and_reference("canary", False, tmp_path)
    frame = _text_frame(ROOT / SAMPLES["canary"][0])
    frame.loc[5, "latency_ms"] = str(float(frame.loc[5, "latency_ms"]) + 1.0)
    with pytest.raises(AssertionError):
        assert_same_reduction(reference, LogInput(frame).reduce(plan))

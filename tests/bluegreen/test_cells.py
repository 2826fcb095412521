"""Blue/green on time cells: refined per-second cells give the analysis of the rows.

The reference is the analysis on cells of one distinct time each (every second refined:
the rows themselves, merged only where rows share a time), against which the refined
cells (per second, refined only where a cut falls) must agree to 1e-9 on dense logs with
ties, given and detected switches, warm-ups, many looks and non-finite values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from abkit.bluegreen import analyze_bluegreen, bluegreen_example_metrics, detect_switch
from abkit.bluegreen.cell_analysis import analyze_cells
from abkit.bluegreen.cells import Cells
from abkit.bluegreen.layout import plan_layout, straddling
from abkit.bluegreen.switch import switch_from_counts
from abkit.datasets.bluegreen import make_bluegreen_log
from abkit.engine.rows import frame_cells
from close_json import close_json  # tests/close_json.py

METRICS = bluegreen_example_metrics()


def _dense(scenario: str, digits: int | None, seed: int = 5) -> pd.DataFrame:
    df = make_bluegreen_log(scenario, seed, rate=20.0, history_hours=2.0, after_hours=0.75)
    if digits is not None:
        df["ts"] = df["ts"].round(digits)
    return df


def _all_fine(df: pd.DataFrame, **kw):
    """The analysis on one cell per distinct time and variant (no second left coarse)."""
    t = df["ts"].to_numpy(float)
    lab = df["variant"].to_numpy(object)
    vals = {m.name: df[m.column].to_numpy(float) for m in METRICS}
    table = frame_cells(t, lab, vals, np.unique(np.floor(t)))
    cells = Cells.from_table(table, "blue", "green", {m.name: m.name for m in METRICS})
    args = dict(alpha=0.05, switch_at=None, window=None, exclude=0.0, look_every=60.0,
                tightest_at=10000, min_rows=30, match="auto", early_reference="auto")
    args.update(kw)
    return analyze_cells(cells, blue="blue", green="green", metrics=METRICS, diags=[], **args)


CASES = [({}, None), ({}, 0), ({"exclude": 30.5, "look_every": 3.3}, 2),
         ({"look_every": 0.25}, 3), ({"window": 600.0}, 1)]


@pytest.mark.parametrize("scenario", ["smoke", "regression"])
@pytest.mark.parametrize("kw,digits", CASES)
def test_refined_cells_give_the_analysis_of_the_rows(scenario, kw, digits):
    df = _dense(scenario, digits)
    got = analyze_bluegreen(df, blue="blue", green="green", metrics=METRICS, **kw)
    want = _all_fine(df, **{k: float(v) for k, v in kw.items()})
    assert close_json(got.to_dict(), want.to_dict())


def test_given_switch_inside_a_busy_second_and_non_finite_values():
    df = _dense("smoke", 0)  # whole seconds: ~20 rows of both variants per second
    df.loc[df.index[::97], "latency_ms"] = np.nan
    df["error"] = df["error"].astype(float)
    df.loc[df.index[::89], "error"] = np.inf
    s = float(df["ts"].quantile(0.7)) + 0.5
    got = analyze_bluegreen(df, blue="blue", green="green", metrics=METRICS, switch_at=s)
    want = _all_fine(df, switch_at=s)
    assert close_json(got.to_dict(), want.to_dict())
    assert any(d.code == "NON_FINITE_VALUES" for d in got.diagnostics)


def test_switch_from_counts_refines_only_where_the_best_step_can_be():
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 600, 6000)).round(2)
    g = (t >= 301.37) ^ (rng.uniform(size=t.size) < 0.02)  # 2 % misrouted both ways
    sec = np.floor(t)
    keys = np.unique(sec)
    nb = np.array([int(((sec == k) & ~g).sum()) for k in keys])
    ng = np.array([int(((sec == k) & g).sum()) for k in keys])
    sw, need = switch_from_counts(keys, nb, ng, np.ones(keys.size, dtype=bool))
    assert sw is None and 0 < need.size < 10 and 301.0 in keys[need]
    cells = Cells.from_table(frame_cells(t, np.where(g, "green", "blue").astype(object), {}),
                             "blue", "green", {})
    lay, need = plan_layout(cells, switch_at=None, window=None, exclude=0.0, look_every=60.0,
                            min_rows=30)
    assert lay is None and need.size
    fine = Cells.from_table(_refined(t, g, need), "blue", "green", {})
    lay, _ = plan_layout(fine, switch_at=None, window=None, exclude=0.0, look_every=60.0,
                         min_rows=30)
    assert lay is not None
    assert lay.switch == detect_switch(t, g)


def _refined(t, g, keys):
    lab = np.where(g, "green", "blue").astype(object)
    return frame_cells(t, lab, {}).with_fine(frame_cells(t, lab, {}, keys), keys)


def test_no_cell_straddles_a_cut_after_refinement():
    df = _dense("regression", 1)
    t = df["ts"].to_numpy(float)
    lab = df["variant"].to_numpy(object)
    vals = {m.name: df[m.column].to_numpy(float) for m in METRICS}
    from abkit.bluegreen.layout import Refiner
    from abkit.engine.rows import RowsPlan, refine_cells

    refiner = Refiner("blue", "green", {m.name: m.name for m in METRICS}, None, None, 0.0,
                      60.0, 30)
    table = refine_cells(frame_cells(t, lab, vals), RowsPlan(None, refiner),  # type: ignore
                         lambda keys: frame_cells(t, lab, vals, keys))
    cells = Cells.from_table(table, "blue", "green", refiner.columns)
    lay, need = refiner.layout(cells)
    assert lay is not None and not need.size and not straddling(cells, lay).size
    assert table.rows.sum() == len(df) and len(table) < len(df) / 3

"""The plots and the bounded series/curve summaries they draw from: the blue/green per-bin
series, the shadow ROC / reliability / histogram / drift summaries, the canary/linear share
panel, and the figures themselves (no pyplot, no overlapping tick labels, one panel per
thing shown)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import abkit
from abkit import plots
from abkit.bluegreen.series import MAX_BINS, bin_width, variant_series
from abkit.shadow.curves import (CALIBRATION_BINS, HIST_BINS, ROC_POINTS, calibration_bins,
                                 roc_points)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {
    "ab": ("data/ab_example.csv", "data/ab_example.toml"),
    "canary": ("data/canary.csv", "data/canary.toml"),
    "linear": ("data/linear.csv.gz", "data/linear.toml"),
    "bluegreen": ("data/bluegreen_regression.csv.gz", "data/bluegreen.toml"),
    "bluegreen_smoke": ("data/bluegreen_smoke.csv.gz", "data/bluegreen.toml"),
    "shadow": ("data/shadow/datacapture/churn-endpoint", "data/shadow/guardrails.toml"),
    "shadow_nolatency": ("data/shadow/datacapture/churn-endpoint", "data/shadow/shadow.toml"),
    "shadow_same": ("data/shadow/datacapture/churn-endpoint-same",
                    "data/shadow/guardrails-same.toml"),
}


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    return {k: abkit.analyze(ROOT / d, ROOT / s).to_dict() for k, (d, s) in SAMPLES.items()}


# --------------------------------------------------------------------------- blue/green series
def test_bin_width_is_round_and_bounded():
    assert bin_width(6 * 3600) == 300.0  # 72 bins of 5 min
    assert bin_width(60) == 60.0
    assert bin_width(10 * 86400) == 10800.0  # 80 bins of 3 h
    for span in (1.0, 999.0, 5e4, 3e5, 8e6):
        assert np.ceil(span / bin_width(span)) <= MAX_BINS or bin_width(span) == 86400.0


def test_variant_series_matches_scipy_binned_statistic():
    rng = np.random.default_rng(7)
    t = np.sort(rng.uniform(0, 7200, 3000))
    g = t >= 3600
    v = rng.normal(100, 10, t.size)
    v[::50] = np.nan  # missing values are left out of the means, not of the rows
    s = variant_series(t, g, {"m": v}, ["m"], "blue", "green", anchor=3600.0, lo=0.0, hi=7200.0)
    assert s["bin_seconds"] == 120.0 and len(s["start"]) == 60
    edges = np.array(s["start"] + [s["start"][-1] + 120.0])
    for label, mask in (("blue", ~g), ("green", g)):
        ok = mask & np.isfinite(v)
        # reference: scipy.stats.binned_statistic(t[ok], v[ok], "mean", bins=edges)
        ref_mean = stats.binned_statistic(t[ok], v[ok], "mean", bins=edges).statistic
        ref_n = stats.binned_statistic(t[ok], v[ok], "count", bins=edges).statistic
        ref_rows = stats.binned_statistic(t[mask], t[mask], "count", bins=edges).statistic
        got = s["variants"][label]
        assert got["rows"] == ref_rows.astype(int).tolist()
        assert got["metrics"]["m"]["n"] == ref_n.astype(int).tolist()
        for a, b in zip(got["metrics"]["m"]["mean"], ref_mean):
            if np.isnan(b):
                assert a is None  # an empty bin: None, never NaN
            else:
                assert a == pytest.approx(b, rel=1e-12)


def test_variant_series_edge_cases():
    t = np.array([10.0, 20.0])
    g = np.array([False, True])
    assert variant_series(t, g, {"m": t}, ["m"], "b", "g", 15.0, 15.0, 15.0) is None
    assert variant_series(t, g, {"m": t}, ["m"], "b", "g", 15.0, np.nan, 20.0) is None
    s = variant_series(t, g, {"m": np.array([np.nan, np.nan])}, ["m"], "b", "g", 15.0, 0.0,
                       30.0)
    # edges at the anchor (the switch): [-45, 15) and [15, 75)
    assert s["start"] == [-45.0, 15.0]
    assert s["variants"]["b"]["rows"] == [1, 0] and s["variants"]["g"]["rows"] == [0, 1]
    assert s["variants"]["b"]["metrics"]["m"] == {"n": [0, 0], "mean": [None, None]}
    json.dumps(s, allow_nan=False)


def test_bluegreen_section_carries_a_small_series(docs):
    for name in ("bluegreen", "bluegreen_smoke"):
        bg = docs[name]["bluegreen"]
        s = bg["series"]
        assert len(json.dumps(s)) < 100_000 and len(s["start"]) <= MAX_BINS + 1
        assert s["anchor"] == bg["switch"]["time"]  # no bin straddles the switch
        assert set(s["variants"]) == {"blue", "green"}
        assert set(s["variants"]["blue"]["metrics"]) == {"latency", "error_rate", "conversion"}
        # every blue row of the before-window is in the series
        assert sum(s["variants"]["blue"]["rows"]) >= bg["windows"]["blue_before"]["rows"]["blue"]


# --------------------------------------------------------------------------- shadow curves
def test_roc_points_give_the_mann_whitney_auc():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400).astype(float)
    score = np.round(np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1), 2)  # <= 101 distinct
    r = roc_points(score, y)
    assert len(r["fpr"]) <= ROC_POINTS
    assert (r["fpr"][0], r["tpr"][0]) == (0.0, 0.0) and (r["fpr"][-1], r["tpr"][-1]) == (1, 1)
    assert np.all(np.diff(r["fpr"]) >= 0) and np.all(np.diff(r["tpr"]) >= 0)
    # reference: scipy.stats.mannwhitneyu(pos, neg).statistic / (n_pos * n_neg)
    pos, neg = score[y == 1], score[y == 0]
    auc = stats.mannwhitneyu(pos, neg).statistic / (pos.size * neg.size)
    assert np.trapezoid(r["tpr"], r["fpr"]) == pytest.approx(auc, abs=1e-6)


def test_roc_points_with_many_scores_stay_bounded_and_close():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 5000).astype(float)
    score = 1 / (1 + np.exp(-rng.normal(y, 1.0)))
    r = roc_points(score, y)
    assert len(r["fpr"]) <= ROC_POINTS
    pos, neg = score[y == 1], score[y == 0]
    auc = stats.mannwhitneyu(pos, neg).statistic / (pos.size * neg.size)
    assert np.trapezoid(r["tpr"], r["fpr"]) == pytest.approx(auc, abs=0.005)


def test_roc_and_calibration_edge_cases():
    s = np.array([0.2, 0.8, 0.5])
    assert roc_points(s, np.array([1.0, 1.0, 1.0])) is None  # one class
    assert roc_points(s, np.full(3, np.nan)) is None  # no labels
    assert calibration_bins(s, np.full(3, np.nan), np.linspace(0, 1, 11)) is None


def test_calibration_bins_match_scipy():
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 1, 2000)
    p[:5] = 1.0  # the top edge belongs to the last bin (as in binned_statistic)
    y = (rng.uniform(0, 1, p.size) < p).astype(float)
    y[::7] = np.nan
    edges = np.linspace(0, 1, CALIBRATION_BINS + 1)
    c = calibration_bins(p, y, edges)
    ok = np.isfinite(y)
    # reference: scipy.stats.binned_statistic(p[ok], y[ok], "mean", bins=edges) (and p, count)
    obs = stats.binned_statistic(p[ok], y[ok], "mean", bins=edges).statistic
    pred = stats.binned_statistic(p[ok], p[ok], "mean", bins=edges).statistic
    n = stats.binned_statistic(p[ok], p[ok], "count", bins=edges).statistic
    assert c["n"] == n.astype(int).tolist()
    np.testing.assert_allclose(c["observed"], obs, atol=1e-6)
    np.testing.assert_allclose(c["predicted"], pred, rtol=1e-5)


def test_shadow_section_carries_small_curves(docs):
    sh = docs["shadow"]["shadow"]
    cur = sh["curves"]
    assert len(json.dumps(cur, allow_nan=False)) < 100_000
    assert cur["diagnostics"] == []
    for k in ("live", "candidate"):
        assert len(cur["roc"][k]["fpr"]) <= ROC_POINTS
        # the area under the bounded curve is close to the DeLong AUC of the same pairs
        auc = np.trapezoid(cur["roc"][k]["tpr"], cur["roc"][k]["fpr"])
        assert auc == pytest.approx(sh["delong"][f"auc_{k}"]["estimate"], abs=0.01)
        assert len(cur["calibration"][k]["n"]) == CALIBRATION_BINS
        assert sum(cur["calibration"][k]["n"]) == sh["labelled_pairs"]
        assert len(cur["histogram"][k]) == HIST_BINS and sum(cur["histogram"][k]) == sh["pairs"]
    drifted = {d["feature"] for d in sh["drift"] if d["drifted"] and d["flags"]
               and d["scope"].startswith("time")}
    assert set(cur["drift"]) == drifted and drifted  # monthly_charges drifts in the sample
    for name, d in cur["drift"].items():
        ref = next(x for x in sh["drift"] if x["feature"] == name and x["method"] == "ks")
        assert sum(d["reference"]) == ref["n_reference"] and sum(d["current"]) == ref["n_current"]


# --------------------------------------------------------------------------- figures
def _tick_overlaps(fig) -> list[str]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    bad = []
    for ax in fig.get_axes():
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [t.get_window_extent(r) for t in axis.get_ticklabels()
                     if t.get_visible() and t.get_text()]
            for i in range(len(boxes) - 1):
                for j in range(i + 1, len(boxes)):
                    if boxes[i].overlaps(boxes[j]):
                        bad.append(f"{ax.get_title()}: {axis.__name__}")
    return bad


@pytest.mark.parametrize("name,func", [
    ("ab", "report_figure"), ("canary", "timeline_figure"), ("linear", "timeline_figure"),
    ("bluegreen", "bluegreen_figure"), ("bluegreen_smoke", "bluegreen_figure"),
    ("shadow", "shadow_figure"), ("shadow_nolatency", "shadow_figure"),
    ("shadow_same", "shadow_figure"),
])
def test_figures_have_no_overlapping_tick_labels(docs, name, func):
    fig = getattr(plots, func)(docs[name])
    assert _tick_overlaps(fig) == []
    assert not any("margin |" in ax.get_title() for ax in fig.get_axes())


def test_plots_take_an_axes_and_return_it(docs):
    for fn, doc, args in [(plots.forest_plot, docs["ab"], ()), (plots.srm_plot, docs["ab"], ()),
                          (plots.timeline_plot, docs["canary"], ("latency",)),
                          (plots.share_plot, docs["linear"], ()),
                          (plots.bluegreen_plot, docs["bluegreen"], ("latency",)),
                          (plots.roc_plot, docs["shadow"], ()),
                          (plots.calibration_plot, docs["shadow"], ()),
                          (plots.score_histogram, docs["shadow"], ()),
                          (plots.drift_plot, docs["shadow"], ("monthly_charges",))]:
        ax = plots.new_figure().subplots()
        assert fn(doc, *args, ax=ax) is ax
        assert fn(doc, *args).figure is not None  # ax=None: a new Figure of its own


def test_rollout_share_panel_is_aligned_and_in_whole_minutes(docs):
    doc = docs["linear"]
    fig = plots.timeline_figure(doc)
    axes = fig.get_axes()
    share = axes[-1]
    assert "share" in share.get_title()
    assert all(share.get_shared_x_axes().joined(share, a) for a in axes[:-1])
    ticks = share.get_xticks()
    assert np.allclose(ticks, np.round(ticks))  # no 2.5, 7.5
    # observed share between looks: differences of the cumulative counts
    obs = plots.rollout.observed_shares(doc)
    tl = doc["timeline"]
    d_c = tl[4]["n"]["candidate"] - tl[3]["n"]["candidate"]
    d_k = tl[4]["n"]["current"] - tl[3]["n"]["current"]
    assert obs[4] == (4.0, 5.0, d_c / (d_c + d_k))
    assert len(obs) == len(tl)
    # one dotted step boundary per step after the first, on every panel
    n_steps = len(doc["rollout"]["schedule"]["steps"])
    assert sum(1 for ln in share.get_lines() if ln.get_linestyle() == ":") == n_steps - 1


def test_bluegreen_figure_marks_switch_rollback_and_windows(docs):
    import matplotlib.dates as mdates

    doc = docs["bluegreen"]
    fig = plots.bluegreen_figure(doc)
    axes = fig.get_axes()
    assert [a.get_title().split(" (")[0] for a in axes] == ["latency", "error_rate",
                                                            "conversion"]
    labels = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"switch", "rollback point (first regressed look)", "warm-up (excluded)",
            "early looks: anytime-valid lower bound of green"} <= labels
    rb = [ln for ln in axes[0].get_lines() if ln.get_label().startswith("rollback")][0]
    at = mdates.num2date(mdates.date2num(rb.get_xdata()[0])).timestamp()
    assert at == pytest.approx(doc["bluegreen"]["rollback"]["at"], abs=1e-3)
    smoke = plots.bluegreen_figure(docs["bluegreen_smoke"])
    assert "smoke test" in {t.get_text() for t in smoke.legends[0].get_texts()}
    assert "rollback point (first regressed look)" not in {
        t.get_text() for t in smoke.legends[0].get_texts()}  # GO: no rollback


def test_shadow_figures_split_good_directions_and_skip_empty_latency(docs):
    q = plots.shadow_quality_figure(docs["shadow"])
    titles = [a.get_title() for a in q.get_axes()]
    assert titles[:2] == ["higher is better", "lower is better"]
    assert "latency (lower is better)" in titles
    ytick = {a.get_title(): [t.get_text() for t in a.get_yticklabels()] for a in q.get_axes()}
    assert set(ytick["higher is better"]) <= {"auc", "accuracy"}
    assert set(ytick["lower is better"]) <= {"brier", "log_loss"}
    nolat = docs["shadow_nolatency"]
    assert not (nolat["shadow"].get("latency") or {}).get("quantiles")
    titles = [a.get_title() for a in plots.shadow_quality_figure(nolat).get_axes()]
    assert not any(t.startswith("latency") for t in titles) and len(titles) == 3
    roc = plots.roc_plot(docs["shadow"])
    assert roc.get_title().startswith("ROC: AUC difference -0.026 [-0.043, -0.009]")
    assert plots.shadow_drift_figure({**nolat, "shadow": {**nolat["shadow"], "curves": {
        **nolat["shadow"]["curves"], "drift": {}}}}) is None


def test_plots_without_curves_show_a_note_not_an_error(docs):
    doc = docs["shadow"]
    bare = {**doc, "shadow": {**doc["shadow"], "curves": None}}
    fig = plots.shadow_curves_figure(bare)
    texts = [t.get_text() for a in fig.get_axes() for t in a.texts]
    assert any("no ROC" in t for t in texts) and any("no reliability" in t for t in texts)


def test_library_never_imports_pyplot():
    """Every report's plot() and the HTML page, in a fresh interpreter: pyplot stays
    unimported (no global figure manager, nothing shown)."""
    code = "\n".join([
        "import sys, abkit",
        f"cases = {[[str(ROOT / d), str(ROOT / s)] for d, s in SAMPLES.values()]!r}",
        "for d, s in cases:",
        "    rep = abkit.analyze(d, s)",
        "    fig = rep.plot()",
        "    assert type(fig).__name__ == 'ReportFigure', type(fig)",
        "    assert fig._repr_png_().startswith(b'\\x89PNG')",
        "    rep.to_html()",
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'",
    ])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]


def test_series_and_curves_survive_a_json_round_trip(docs):
    """A saved JSON report plots again (the plots read only the document)."""
    for name in ("bluegreen", "shadow", "linear"):
        doc = json.loads(json.dumps(docs[name], allow_nan=False))
        assert pd.notna(len(doc))
        fig = {"bluegreen": plots.bluegreen_figure, "shadow": plots.shadow_figure,
               "linear": plots.timeline_figure}[name](doc)
        assert fig.get_axes()


def test_tick_overlap_detector_catches_crowded_labels():
    """Negative control for the overlap check above."""
    fig = plots.new_figure(2.0, 2.0)
    ax = fig.subplots()
    ax.set_xticks(np.linspace(0, 1, 30), [f"{v:.4f}" for v in np.linspace(0, 1, 30)])
    assert _tick_overlaps(fig)


def test_new_fields_are_in_the_schema(docs, report_schema):
    import jsonschema

    props = report_schema["properties"]
    assert "curves" in props["shadow"]["properties"]
    assert "series" in props["bluegreen"]["properties"]
    for name in ("bluegreen", "bluegreen_smoke", "shadow", "shadow_same"):
        jsonschema.validate(docs[name], report_schema)
    bad = json.loads(json.dumps(docs["shadow"]))
    bad["shadow"]["curves"]["roc"]["live"]["fpr"] = ["x"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, report_schema)

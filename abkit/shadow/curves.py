"""Bounded curve summaries of a shadow test, for plots (the ``curves`` entry of the shadow
section): ROC points (at most ``ROC_POINTS`` thresholds per model), reliability bins
(``CALIBRATION_BINS``), score histograms (``HIST_BINS``) and, for each input or output that
drifted over time, its reference and current distributions. All from the matched pairs the
evaluation already has; a few kB of JSON."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..spec import ExperimentSpec
from .drift_check import _hourly_windows

ROC_POINTS = 101
CALIBRATION_BINS = 10
HIST_BINS = 20
CATEGORIES = 20  # most categories of a categorical feature (the rest is "(other)")


def _r(x: float) -> float:
    return float(f"{float(x):.6g}")


def roc_points(score: np.ndarray, y: np.ndarray, most: int = ROC_POINTS) -> dict | None:
    """(threshold, fpr, tpr) of the rule ``score >= threshold`` at up to ``most`` thresholds:
    just above the largest score (0, 0), then the unique score quantiles at ``most - 1``
    evenly spaced levels down to the smallest score (1, 1). With at most ``most - 1``
    distinct scores these are all of them, and the trapezoid area under the points is the
    Mann-Whitney AUC. ``None`` without both classes among the finite pairs."""
    ok = np.isfinite(score) & np.isfinite(y)
    s, lab = score[ok], y[ok] > 0.5
    n1, n0 = int(lab.sum()), int((~lab).sum())
    if n1 == 0 or n0 == 0:
        return None
    uniq = np.unique(s)
    th = uniq if uniq.size <= most - 1 else np.unique(
        np.quantile(s, np.linspace(0.0, 1.0, most - 1), method="inverted_cdf"))
    th = np.concatenate([[np.nextafter(uniq[-1], np.inf)], th[::-1]])
    pos, neg = np.sort(s[lab]), np.sort(s[~lab])
    tpr = (n1 - np.searchsorted(pos, th, side="left")) / n1
    fpr = (n0 - np.searchsorted(neg, th, side="left")) / n0
    return {"threshold": [_r(t) for t in th], "fpr": [round(float(v), 6) for v in fpr],
            "tpr": [round(float(v), 6) for v in tpr], "n_positive": n1, "n_negative": n0}


def _edges(values: list[np.ndarray], bins: int, unit: bool) -> np.ndarray | None:
    if unit:
        return np.linspace(0.0, 1.0, bins + 1)
    allv = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
    if allv.size == 0:
        return None
    lo, hi = float(allv.min()), float(allv.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, bins + 1)


def _counts(v: np.ndarray, edges: np.ndarray) -> list[int]:
    """Counts per bin ``[e_i, e_{i+1})``, the last bin closed (as ``np.histogram``); values
    outside the edges are not counted."""
    v = v[np.isfinite(v)]
    return [int(c) for c in np.histogram(v, bins=edges)[0]]


def calibration_bins(score: np.ndarray, y: np.ndarray, edges: np.ndarray) -> dict | None:
    """Per bin of the score: labelled pairs, mean predicted score and observed positive rate
    (``None`` in an empty bin). ``None`` without labelled pairs."""
    ok = np.isfinite(score) & np.isfinite(y)
    s, lab = score[ok], y[ok]
    if s.size == 0:
        return None
    idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, len(edges) - 2)
    inside = (s >= edges[0]) & (s <= edges[-1])
    idx, s, lab = idx[inside], s[inside], lab[inside]
    k = len(edges) - 1
    n = np.bincount(idx, minlength=k)
    ps = np.bincount(idx, weights=s, minlength=k)
    ys = np.bincount(idx, weights=lab, minlength=k)
    return {"edges": [_r(e) for e in edges], "n": [int(c) for c in n],
            "predicted": [_r(a / c) if c else None for a, c in zip(ps, n)],
            "observed": [round(float(b / c), 6) if c else None for b, c in zip(ys, n)]}


def _category_counts(ref: np.ndarray, cur: np.ndarray) -> dict:
    r = pd.Series(ref).dropna().astype(str)
    c = pd.Series(cur).dropna().astype(str)
    order = pd.concat([r, c]).value_counts()
    top = list(order.index[:CATEGORIES])
    rest = order.size > CATEGORIES
    out = {"kind": "categorical", "categories": top + (["(other)"] if rest else [])}
    for name, s in (("reference", r), ("current", c)):
        vc = s.value_counts()
        counts = [int(vc.get(k, 0)) for k in top]
        if rest:
            counts.append(int(vc[~vc.index.isin(top)].sum()))
        out[name] = counts
    return out


def drift_distributions(spec: ExperimentSpec, pairs: pd.DataFrame,
                        drift: list[dict]) -> dict[str, dict]:
    """Reference (first window) and current (last window) distributions of every input or
    output that drifted over time by a flagging test: ``HIST_BINS`` common bins for numbers,
    counts of the ``CATEGORIES`` most frequent categories otherwise."""
    sh = spec.shadow
    names = sorted({d["feature"] for d in drift if d.get("drifted") and d.get("flags")
                    and str(d.get("scope", "")).startswith("time")})
    if not names or "time" not in pairs or len(pairs) < 20:
        return {}
    win = _hourly_windows(pairs["time"])
    labels = sorted(win.unique())
    ref_m, cur_m = (win == labels[0]).to_numpy(), (win == labels[-1]).to_numpy()
    cols = {"output (live)": "output_live", "output (candidate)": "output_shadow"}
    out = {}
    for name in names:
        col = cols.get(name, name)
        if col not in pairs:
            continue
        v = pairs[col].to_numpy()
        if name in set(sh.categorical):
            d = _category_counts(v[ref_m], v[cur_m])
        else:
            x = pd.to_numeric(pd.Series(v), errors="coerce").to_numpy(float)
            edges = _edges([x[ref_m], x[cur_m]], HIST_BINS, False)
            if edges is None:
                continue
            d = {"kind": "numeric", "edges": [_r(e) for e in edges],
                 "reference": _counts(x[ref_m], edges), "current": _counts(x[cur_m], edges)}
        out[name] = {**d, "reference_window": str(labels[0]), "current_window": str(labels[-1])}
    return out


def curve_summaries(spec: ExperimentSpec, pairs: pd.DataFrame, y: np.ndarray,
                    drift: list[dict]) -> dict[str, Any]:
    """The ``curves`` entry of the shadow section (see the module docstring); ``y`` holds the
    labels (NaN where none; all NaN for regression outputs)."""
    sh = spec.shadow
    scores = {"live": pairs["output_live"].to_numpy(float),
              "candidate": pairs["output_shadow"].to_numpy(float)}
    unit = sh.output_kind == "probability"
    diags = []
    roc = {k: roc_points(s, y) for k, s in scores.items()}
    if any(v is None for v in roc.values()):
        roc = None
        diags.append({"code": "NO_ROC", "message": "no ROC curve: the labelled pairs do not "
                                                   "hold both classes"})
    cal_edges = _edges(list(scores.values()), CALIBRATION_BINS, unit)
    cal = None if cal_edges is None or not unit else {
        k: calibration_bins(s, y, cal_edges) for k, s in scores.items()}
    if cal is not None and any(v is None for v in cal.values()):
        cal = None
    if cal is None:
        diags.append({"code": "NO_CALIBRATION", "message": "no reliability curve: it needs "
                                                           "labelled probability outputs"})
    h_edges = _edges(list(scores.values()), HIST_BINS, unit)
    hist = None if h_edges is None else {
        "edges": [_r(e) for e in h_edges], **{k: _counts(s, h_edges) for k, s in scores.items()}}
    return {"roc": roc, "calibration": cal, "histogram": hist,
            "drift": drift_distributions(spec, pairs, drift), "diagnostics": diags}

"""The blue/green analysis on time cells (:func:`analyze_cells`): what
:func:`abkit.bluegreen.analyze_bluegreen` documents, computed from
:class:`~abkit.bluegreen.cells.Cells` refined by :mod:`abkit.bluegreen.layout`, so that
every window, hour bin, early look and plot bin is a set of whole cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..spec import MetricSpec
from ..stats.results import Diagnostic
from ._common import TIME_CONFOUNDING_WARNING, WEEK, TimeWindow
from .cells import Cells
from .comparisons import ComparisonBlock, _welch_stats
from .decision import BlueGreenResult, _decide, _empty_result
from .early import _early_check
from .layout import plan_layout, straddling
from .series import variant_series_cells
from .time_confounding import TimeConfounding, _agree, _matched, _placebo

__all__ = ["analyze_cells"]


def analyze_cells(c: Cells, *, blue: str, green: str, metrics: Sequence[MetricSpec],
                  alpha: float, switch_at: float | None, window: float | None,
                  exclude: float, look_every: float, tightest_at: int, min_rows: int,
                  match: str, early_reference: str,
                  diags: list[Diagnostic]) -> BlueGreenResult:
    """The analysis of :func:`abkit.bluegreen.analyze_bluegreen` on cells (arguments
    checked; ``diags`` holds the diagnostics of the rows left out before the cells)."""
    metrics = tuple(metrics)
    for m in metrics:
        if m.covariate:
            diags.append(Diagnostic("COVARIATE_IGNORED", f"{m.name}: the covariate "
                                    f"{m.covariate!r} is not used in blue/green (no CUPED)"))
    lay, need = plan_layout(c, switch_at=switch_at, window=window, exclude=exclude,
                            look_every=look_every, min_rows=min_rows)
    if lay is None or straddling(c, lay).size:  # pragma: no cover - refine_cells settles
        raise AssertionError("the time cells are not refined for this layout")
    sw = lay.switch
    diags += list(sw.diagnostics)
    empty_block = ComparisonBlock("matched-hours", False, "not computed")
    if lay.s is None:
        return _empty_result(blue, green, alpha, sw, exclude, metrics, diags, look_every,
                             tightest_at, min_rows, "no green rows: there is nothing to "
                                                    "analyse", empty_block)
    s, g0, W = lay.s, lay.g0, lay.W
    t, g = c.t0, c.g
    blue_pre = ~g & (t < s)
    green_post = g & (t >= g0)
    warm = g & (t >= s) & (t < g0)
    blue_post = ~g & (t >= s)
    if blue_post.any():
        diags.append(Diagnostic("BLUE_AFTER_SWITCH", f"{c.rows(blue_post)} blue rows "
                                "after the switch (draining or misrouted); not used"))
    in_bb = blue_pre & (t >= s - W)
    in_ga = green_post & (t <= g0 + W)
    nbb, nga = c.rows(in_bb), c.rows(in_ga)
    windows: dict[str, TimeWindow] = {
        "blue_before": TimeWindow("blue before the switch", s - W, s, {blue: nbb}),
        "warmup": TimeWindow("warm-up (excluded)", s, g0, {green: c.rows(warm)}),
        "green_after": TimeWindow("green after the switch", g0, g0 + W, {green: nga}, "both"),
    }
    if not blue_pre.any():
        diags.append(Diagnostic("NO_BLUE_BEFORE_SWITCH", "blue has no rows before the "
                                                         "switch; nothing to compare with"))
    if not (g & (t >= s)).any():
        diags.append(Diagnostic("NO_GREEN_AFTER_SWITCH", "green has no rows after the switch"))
    elif not green_post.any():
        diags.append(Diagnostic("ALL_GREEN_IN_WARMUP", f"all {c.rows(warm)} green rows after "
                                f"the switch fall in the {exclude:g} s warm-up"))
    if W <= 0 and blue_pre.any() and green_post.any():
        diags.append(Diagnostic("EMPTY_WINDOW", "the comparison window has zero length (one "
                                                "side spans no time); pass window="))
    for m in metrics:
        bad = c.bad(m.name, in_bb | in_ga)
        if bad:
            diags.append(Diagnostic("NON_FINITE_VALUES", f"{m.name}: {bad} rows of the two "
                                    f"windows have a missing or non-finite {m.column}; left out"))

    def welch(m: MetricSpec, a: np.ndarray, b: np.ndarray):
        return _welch_stats(m, c.stats(m.name, a), c.bad(m.name, a), c.stats(m.name, b),
                            c.bad(m.name, b), alpha)

    # --- plain before/after
    plain = tuple(welch(m, in_bb, in_ga) for m in metrics)

    # --- smoke test
    smoke = None
    smoke_usable = False
    green_pre = g & (t < s)
    n_gpre = c.rows(green_pre)
    if 0 < n_gpre < min_rows:
        diags.append(Diagnostic("GREEN_BEFORE_SWITCH", f"{n_gpre} green rows before the switch "
                                f"(fewer than {min_rows}: no smoke test); not used"))
    if lay.s0 is not None:
        s0 = lay.s0
        in_sm = (t >= s0) & (t < s)
        nb_s, ng_s = c.rows(in_sm & ~g), c.rows(in_sm & g)
        sm_w = TimeWindow("smoke test (both variants)", s0, s, {blue: nb_s, green: ng_s})
        sm_diags = []
        smoke_usable = nb_s >= min_rows and ng_s >= min_rows
        if not smoke_usable:
            sm_diags.append(Diagnostic("SMOKE_TOO_SMALL", f"the smoke test has {nb_s} blue and "
                                       f"{ng_s} green rows (usable from {min_rows} each)"))
        comps = tuple(welch(m, in_sm & ~g, in_sm & g) for m in metrics)
        smoke = ComparisonBlock("smoke-test", True, "blue and green served traffic at the same "
                                "time before the switch; free of time confounding", (sm_w,),
                                comps, diagnostics=tuple(sm_diags))
        windows["smoke"] = sm_w

    # --- matched hours
    history = lay.before_span
    modes = ["hour-of-day"] if match == "hour-of-day" else (
        ["hour-of-week"] if match == "hour-of-week" else
        (["hour-of-week", "hour-of-day"] if history >= WEEK else ["hour-of-day"]))
    matched_block = None
    pool_start = float(t[blue_pre].min()) if blue_pre.any() else None
    for mode in modes:
        comps_m, mdiags, shares = [], [], []
        for m in metrics:
            mc, share, md = _matched(m, c, in_ga, blue_pre, mode, alpha)
            if share is not None:
                shares.append(share)
            if mc is None:
                mdiags += [Diagnostic(d.code, f"{m.name}: {d.message}") for d in md]
            else:
                comps_m.append(mc)
        ok = len(comps_m) == len(metrics) and len(metrics) > 0
        matched_block = ComparisonBlock(
            "matched-hours", bool(comps_m),
            f"green after the switch against blue's rows before it at the same "
            f"{mode.replace('-', ' ')}, standardised to green's mix of hours",
            (windows["green_after"], TimeWindow("blue before the switch (matched hours)",
                                                pool_start, s, {blue: c.rows(blue_pre)})),
            tuple(comps_m), mode, min(shares) if shares else None, tuple(mdiags))
        if ok:
            break
    assert matched_block is not None
    gating = [m for m in metrics if m.role in ("guardrail", "primary")]
    matched_ok = bool(gating) and all(matched_block.get(m.name) is not None for m in gating)
    agreement = {m.name: _agree(next(x for x in plain if x.metric == m.name),
                                matched_block.get(m.name)) for m in metrics}

    # --- placebos
    e0, e1 = s - 2 * W, s - W
    in_pe = blue_pre & (t >= e0) & (t < e1)
    npe = c.rows(in_pe)
    pa_w = TimeWindow("blue, the window before the before-window", e0, e1, {blue: npe})
    if W > 0 and npe >= min_rows and nbb >= min_rows:
        pa = ComparisonBlock("placebo-adjacent", True, "blue's before-window against the blue "
                             "window of the same length just before it",
                             (pa_w, windows["blue_before"]),
                             tuple(welch(m, in_pe, in_bb) for m in metrics))
    else:
        pa = ComparisonBlock("placebo-adjacent", False, "blue's before-window against the blue "
                             "window of the same length just before it", (pa_w,),
                             diagnostics=(Diagnostic(
                                 "PLACEBO_UNAVAILABLE", f"blue has {npe} rows in "
                                 f"the earlier window and {nbb} in the "
                                 f"before-window (need {min_rows} each)"),))
    placebo_adjacent = _placebo(pa, alpha)
    early_pool = blue_pre & (t < s - W)
    pm_comps, pm_diags = [], []
    mode = matched_block.match or "hour-of-day"
    if nbb >= min_rows:
        for m in metrics:
            mc, _, md = _matched(m, c, in_bb, early_pool, mode, alpha)
            if mc is None:
                pm_diags += [Diagnostic(d.code, f"{m.name}: {d.message}") for d in md]
            else:
                pm_comps.append(mc)
    else:
        pm_diags.append(Diagnostic("PLACEBO_UNAVAILABLE", "too few blue rows in the "
                                                          "before-window"))
    pm = ComparisonBlock("placebo-matched", bool(pm_comps), "blue's before-window against "
                         f"blue's earlier rows at the same {mode.replace('-', ' ')}",
                         (windows["blue_before"],), tuple(pm_comps), mode,
                         diagnostics=tuple(pm_diags))
    placebo_matched = _placebo(pm, alpha)
    # the basis: the comparison whose premise (its placebo) holds, matched hours first
    if matched_ok and not placebo_matched.flagged:
        basis = "matched-hours"
    elif not placebo_adjacent.flagged:
        basis = "before-after"
    else:
        basis = "matched-hours" if matched_ok else "before-after"
    tc = TimeConfounding(TIME_CONFOUNDING_WARNING, matched_block, agreement, placebo_adjacent,
                         placebo_matched, basis)

    # --- early check
    early = _early_check(metrics, c, in_bb, blue_pre, in_ga, lay, alpha, look_every,
                         int(tightest_at), int(min_rows), matched_block, early_reference,
                         basis)

    # --- decision
    basis_comps = matched_block.comparisons if basis == "matched-hours" else plain
    decision, reasons, rollback = _decide(
        metrics, plain, basis_comps, basis, tc, smoke if smoke_usable else None, early,
        nbb, nga, min_rows, alpha, diags)
    series = variant_series_cells(c, [m.name for m in metrics], blue, green, s, lay.series)
    return BlueGreenResult(blue, green, alpha, sw, W, exclude, windows, plain, smoke,
                           smoke_usable, tc, early, decision, tuple(reasons), rollback,
                           tuple(diags), series)

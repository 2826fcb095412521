"""The blue/green analysis :func:`analyze_bluegreen`: windows, comparisons, time-confounding
checks, early check and decision, put together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..spec import MetricSpec
from ..stats.results import Diagnostic
from ._common import TIME_CONFOUNDING_WARNING, WEEK, TimeWindow
from .arguments import _check_args
from .comparisons import ComparisonBlock, _welch
from .decision import BlueGreenResult, _decide, _empty_result
from .early import _early_check
from .series import variant_series
from .switch import _switch_given, detect_switch
from .time_confounding import TimeConfounding, _agree, _matched, _placebo

def analyze_bluegreen(
    frame: pd.DataFrame,
    *,
    time: str = "ts",
    variant: str = "variant",
    blue: str,
    green: str,
    metrics: Sequence[MetricSpec],
    alpha: float = 0.05,
    switch_at: float | None = None,
    window: float | None = None,
    exclude: float = 0.0,
    look_every: float = 60.0,
    tightest_at: int = 10000,
    min_rows: int = 30,
    match: str = "auto",
    early_reference: str = "auto",
) -> BlueGreenResult:
    """Analyse a blue/green switch: green after the switch against blue before it.

    Windows
        ``switch``: ``switch_at`` or :func:`detect_switch`. Blue's before-window is
        ``[switch - window, switch)``; the warm-up ``[switch, switch + exclude)`` is left
        out; green's after-window is ``[switch + exclude, switch + exclude + window]``.
        ``window`` defaults to the shorter of the two spans the data offer: from blue's
        first row before the switch to the switch, and from ``switch + exclude`` to green's
        last row. Rows of other variants, blue rows after the switch and green rows before
        it are not in these windows (counted in ``diagnostics``).

    Comparisons (``comparisons``)
        Welch's t-test on the per-request values of each metric (mean, proportion or
        count), blue before vs green after, via :func:`abkit.stats.compare.compare`.
        Guardrails: ``regressed`` when the one-sided test of ``harm <= margin x |blue|``
        rejects at ``alpha``; ``noninferior`` when the one-sided test of ``harm >= margin x
        |blue|`` rejects at ``alpha`` (harm = the effect signed so that positive is bad;
        ``|blue|`` is the metric's ``baseline`` instead when the spec sets one). Covariates
        (CUPED) are not used (diagnostic ``COVARIATE_IGNORED``).
        ``verdict`` better / worse / neutral at two-sided ``alpha``. No multiplicity
        adjustment (as the A/B gate does for guardrails; here also for primaries, since a
        false rollback is cheap in blue/green and a missed regression is not).

    Smoke test (``smoke_test``)
        When green has rows before the switch: blue and green rows of ``[first green row +
        exclude, switch)`` compared the same way. ``smoke_usable`` when both have at least
        ``min_rows`` rows there. A usable smoke test that shows a guardrail regression
        makes the decision ``no-go``; a primary metric significantly worse there is noted in
        the reasons (a smoke test is small, and a no-margin test at ``alpha`` on it would
        add another ``alpha / 2`` of false rollbacks per primary).

    Time confounding (``time_confounding``)
        ``matched``: green's after-window against all of blue's rows before the switch in
        the same hour bins, post-stratified to green's mix of hours
        (:func:`stratified_welch`). Bins are UTC hour of the day (``floor(t / 3600) mod
        24``) or hour of the week (``mod 168``); ``match="auto"`` tries hour-of-week when
        blue has at least 7 days of history, falling back to hour-of-day when fewer than
        80 % of green's rows find a bin. (A fixed UTC offset only relabels bins, so the
        matching does not depend on the time zone; a DST change shifts it by an hour.)
        ``placebo_adjacent``: blue ``[switch - window, switch)`` vs blue ``[switch - 2
        window, switch - window)`` (the premise of the plain comparison: blue does not move
        by itself over one window). ``placebo_matched``: blue's before-window against blue's
        own earlier rows at the same hour bins (the premise of the matched comparison).
        ``basis`` (what the decision rests on): the matched comparison when it is
        available for every gating metric and its placebo did not flag; otherwise the plain
        comparison if its placebo did not flag; otherwise (both flagged) the matched one
        when available, else the plain one.

    Early check (``early``)
        For each guardrail, looks at ``switch + exclude + k look_every`` (and at the
        window's end). Green's rows after the switch, ``y_i``, are compared with a fixed
        reference built from blue's data before the switch: ``b(h)``, blue's mean in the
        row's hour bin (``early_reference="matched-hours"``; the default ``"auto"`` uses it
        when the matched comparison is the basis, see above) or blue's before-window mean
        (``K = 1`` bin; ``"before-window"``). The choice depends on blue's data and green's
        timestamps only, never on green's outcomes. The guarantee is a union bound of two
        events, each of probability at most ``alpha / 2``:

        * a one-sample one-sided asymptotic confidence sequence (Waudby-Smith et al. 2024;
          :func:`abkit.stats.sequential.cs_radius`, ``rho = rho_for(tightest_at, alpha/2)``)
          for the running mean of ``d_i = y_i - b_hat(h_i)``. Given blue's data the ``b_hat``
          are constants fixed before green's rows arrive (the bin depends only on the
          time), so the ``d_i`` are independent and the sequence covers their mean at every
          look simultaneously. The variance is ``max(sample variance of d, blue's pooled
          within-bin variance)`` (with matched hours the sample variance of ``d`` also
          holds the spread of green's hourly means, which only widens the sequence). As
          with the robust variance of :class:`abkit.stats.sequential.SequentialDiffStats`,
          the floor keeps the first looks (few rows, rare errors not yet seen) from
          collapsing the radius; it is green's own variance when green is like blue;
        * fixed-sample one-sided t intervals for every reference mean ``b(h)``, each at
          level ``alpha / (2 K)`` (Bonferroni over the ``K`` bins of the reference). On this
          event ``b(h) - b_hat(h) <= r_h`` for all bins at once, so for any look's mix of
          bins ``sum_h w_h (b(h) - b_hat(h)) <= sum_h w_h r_h``.

        On both events ``harm_lower_n = s mean(d) - radius_n - mean_i(r_{h_i}) <=`` the true
        harm of green's rows so far relative to blue at the same hours, at every look. A
        look *regressed* when ``harm_lower > margin x |reference mean|``; looks with fewer
        than ``min_rows`` green rows are shown but cannot flag. The chance that a green as
        good as blue (harm <= margin) is ever flagged is at most ``alpha`` per guardrail
        (asymptotically; simulated A/A with a zero margin and 100 looks: 0.2 %, the split of
        ``alpha`` makes it conservative). The whole-window comparison is a second chance
        to flag, so a green exactly at the margin can be rolled back with probability up
        to ``2 alpha`` (simulated: 6 % at ``alpha = 0.05``, all from the whole-window test).

    Decision
        ``no-go`` (rollback recommended) when, in the basis comparison, a guardrail regressed
        or a primary metric is significantly worse; when a guardrail regressed at an early
        look; or when a usable smoke test shows a guardrail regression. ``go`` when none of
        that holds, there is at least one guardrail, every guardrail is shown non-inferior
        and every primary could be tested, both windows hold ``min_rows`` rows, and the
        placebo check of the basis did not flag a guardrail. ``inconclusive`` otherwise.

    Parameters
    ----------
    frame : DataFrame
        One row per request.
    time : str
        Column of epoch seconds (float, UTC).
    variant : str
        Column of variant labels.
    blue, green : str
        The labels of the current model and the candidate.
    metrics : sequence of MetricSpec
        Kinds ``mean``, ``proportion`` or ``count`` (read from ``column``); ``role`` and
        ``good`` and ``margin`` (relative to blue's value) as in the A/B gate.
    alpha : float
        Level of every test (default 0.05).
    switch_at : float, optional
        Epoch seconds of the switch; default :func:`detect_switch`.
    window : float, optional
        Seconds compared on each side of the switch; default: the shorter available span.
    exclude : float
        Seconds after the switch (and after green's first smoke-test row) left out as
        warm-up; default 0.
    look_every : float
        Seconds between early looks; default 60. At most ``MAX_LOOKS`` (5,000) looks: for a
        longer window the interval is widened (diagnostic ``LOOKS_CAPPED`` in ``early``).
    tightest_at : int
        Green rows at which the early sequence is tightest (sets ``rho``); default 10,000.
    min_rows : int
        Rows a window needs to be decisive, a smoke test to be usable and an early look to
        flag; default 30.
    match : {"auto", "hour-of-day", "hour-of-week"}
        Bins of the matched-hours comparison.
    early_reference : {"auto", "matched-hours", "before-window"}
        Reference of the early check.

    Raises
    ------
    ValueError
        For invalid arguments only (alpha outside (0, 1), missing columns, unsupported
        metric kinds, non-positive ``look_every`` ...). Data problems (no green rows, no
        blue rows before the switch, one row, zero variance, everything in the warm-up)
        give ``inconclusive`` with diagnostics.
    """
    _check_args(frame, time, variant, blue, green, metrics, alpha, switch_at, window, exclude,
                look_every, tightest_at, min_rows, match, early_reference)
    alpha = float(alpha)
    exclude = float(exclude)
    look_every = float(look_every)
    metrics = tuple(metrics)
    diags: list[Diagnostic] = []

    t_all = pd.to_numeric(frame[time], errors="coerce").to_numpy(dtype=float)
    lab = frame[variant].astype(object).to_numpy()
    is_b = lab == blue
    is_g = lab == green
    n_other = int((~(is_b | is_g)).sum())
    if n_other:
        diags.append(Diagnostic("OTHER_VARIANT_ROWS", f"{n_other} rows belong to neither "
                                                      f"{blue!r} nor {green!r}; not used"))
    bad_t = ~np.isfinite(t_all)
    if (bad_t & (is_b | is_g)).any():
        diags.append(Diagnostic("NON_FINITE_TIME", f"{int((bad_t & (is_b | is_g)).sum())} "
                                                   "rows have no finite time; not used"))
    sel = (is_b | is_g) & ~bad_t
    t = t_all[sel]
    g = is_g[sel]
    order = np.argsort(t, kind="stable")
    t, g = t[order], g[order]
    vals: dict[str, np.ndarray] = {}
    for m in metrics:
        try:
            v = pd.to_numeric(frame[m.column], errors="coerce").to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:  # pragma: no cover - to_numeric coerces
            raise ValueError(f"metric {m.name!r}: column {m.column!r} is not numeric") from exc
        vals[m.name] = v[sel][order]
        if m.covariate:
            diags.append(Diagnostic("COVARIATE_IGNORED", f"{m.name}: the covariate "
                                    f"{m.covariate!r} is not used in blue/green (no CUPED)"))

    if switch_at is not None:
        sw = _switch_given(t, g, float(switch_at))
    else:
        sw = detect_switch(t, g)
    diags += list(sw.diagnostics)

    empty_block = ComparisonBlock("matched-hours", False, "not computed")
    if sw.time is None:
        return _empty_result(blue, green, alpha, sw, exclude, metrics, diags, look_every,
                             tightest_at, min_rows, "no green rows: there is nothing to "
                                                    "analyse", empty_block)
    s = sw.time
    g0 = s + exclude
    blue_pre = ~g & (t < s)
    green_post = g & (t >= g0)
    warm = g & (t >= s) & (t < g0)
    blue_post = ~g & (t >= s)
    if blue_post.any():
        diags.append(Diagnostic("BLUE_AFTER_SWITCH", f"{int(blue_post.sum())} blue rows "
                                "after the switch (draining or misrouted); not used"))
    before_span = float(s - t[blue_pre].min()) if blue_pre.any() else 0.0
    after_span = float(t[green_post].max() - g0) if green_post.any() else 0.0
    W = float(window) if window is not None else min(before_span, after_span)

    in_bb = blue_pre & (t >= s - W)
    in_ga = green_post & (t <= g0 + W)
    windows: dict[str, TimeWindow] = {
        "blue_before": TimeWindow("blue before the switch", s - W, s, {blue: int(in_bb.sum())}),
        "warmup": TimeWindow("warm-up (excluded)", s, g0, {green: int(warm.sum())}),
        "green_after": TimeWindow("green after the switch", g0, g0 + W,
                                  {green: int(in_ga.sum())}, "both"),
    }
    if not blue_pre.any():
        diags.append(Diagnostic("NO_BLUE_BEFORE_SWITCH", "blue has no rows before the "
                                                         "switch; nothing to compare with"))
    if not (g & (t >= s)).any():
        diags.append(Diagnostic("NO_GREEN_AFTER_SWITCH", "green has no rows after the switch"))
    elif not green_post.any():
        diags.append(Diagnostic("ALL_GREEN_IN_WARMUP", f"all {int(warm.sum())} green rows after "
                                f"the switch fall in the {exclude:g} s warm-up"))
    if W <= 0 and blue_pre.any() and green_post.any():
        diags.append(Diagnostic("EMPTY_WINDOW", "the comparison window has zero length (one "
                                                "side spans no time); pass window="))
    for m in metrics:
        v = vals[m.name]
        bad = int((~np.isfinite(v) & (in_bb | in_ga)).sum())
        if bad:
            diags.append(Diagnostic("NON_FINITE_VALUES", f"{m.name}: {bad} rows of the two "
                                    f"windows have a missing or non-finite {m.column}; left out"))

    # --- plain before/after
    plain = tuple(_welch(m, vals[m.name][in_bb], vals[m.name][in_ga], alpha) for m in metrics)

    # --- smoke test
    smoke = None
    smoke_usable = False
    green_pre = g & (t < s)
    n_gpre = int(green_pre.sum())
    if 0 < n_gpre < min_rows:
        diags.append(Diagnostic("GREEN_BEFORE_SWITCH", f"{n_gpre} green rows before the switch "
                                f"(fewer than {min_rows}: no smoke test); not used"))
    if n_gpre >= min_rows:
        s0 = float(t[green_pre].min()) + exclude
        in_sm = (t >= s0) & (t < s)
        nb_s, ng_s = int((in_sm & ~g).sum()), int((in_sm & g).sum())
        sm_w = TimeWindow("smoke test (both variants)", s0, s, {blue: nb_s, green: ng_s})
        sm_diags = []
        smoke_usable = nb_s >= min_rows and ng_s >= min_rows
        if not smoke_usable:
            sm_diags.append(Diagnostic("SMOKE_TOO_SMALL", f"the smoke test has {nb_s} blue and "
                                       f"{ng_s} green rows (usable from {min_rows} each)"))
        comps = tuple(_welch(m, vals[m.name][in_sm & ~g], vals[m.name][in_sm & g], alpha)
                      for m in metrics)
        smoke = ComparisonBlock("smoke-test", True, "blue and green served traffic at the same "
                                "time before the switch; free of time confounding", (sm_w,),
                                comps, diagnostics=tuple(sm_diags))
        windows["smoke"] = sm_w

    # --- matched hours
    pool_t = t[blue_pre]
    history = before_span
    modes = ["hour-of-day"] if match == "hour-of-day" else (
        ["hour-of-week"] if match == "hour-of-week" else
        (["hour-of-week", "hour-of-day"] if history >= WEEK else ["hour-of-day"]))
    matched_block = None
    for mode in modes:
        comps_m, mdiags, shares = [], [], []
        for m in metrics:
            mc, share, md = _matched(m, vals[m.name][in_ga], t[in_ga], vals[m.name][blue_pre],
                                     pool_t, mode, alpha)
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
                                                float(pool_t.min()) if pool_t.size else None,
                                                s, {blue: int(blue_pre.sum())})),
            tuple(comps_m), mode, min(shares) if shares else None, tuple(mdiags))
        if ok:
            break
    assert matched_block is not None
    gating = [m for m in metrics if m.role in ("guardrail", "primary")]
    matched_ok = bool(gating) and all(matched_block.get(m.name) is not None for m in gating)
    agreement = {m.name: _agree(next(c for c in plain if c.metric == m.name),
                                matched_block.get(m.name)) for m in metrics}

    # --- placebos
    e0, e1 = s - 2 * W, s - W
    in_pe = blue_pre & (t >= e0) & (t < e1)
    pa_w = TimeWindow("blue, the window before the before-window", e0, e1,
                      {blue: int(in_pe.sum())})
    if W > 0 and int(in_pe.sum()) >= min_rows and int(in_bb.sum()) >= min_rows:
        pa = ComparisonBlock("placebo-adjacent", True, "blue's before-window against the blue "
                             "window of the same length just before it",
                             (pa_w, windows["blue_before"]),
                             tuple(_welch(m, vals[m.name][in_pe], vals[m.name][in_bb], alpha)
                                   for m in metrics))
    else:
        pa = ComparisonBlock("placebo-adjacent", False, "blue's before-window against the blue "
                             "window of the same length just before it", (pa_w,),
                             diagnostics=(Diagnostic(
                                 "PLACEBO_UNAVAILABLE", f"blue has {int(in_pe.sum())} rows in "
                                 f"the earlier window and {int(in_bb.sum())} in the "
                                 f"before-window (need {min_rows} each)"),))
    placebo_adjacent = _placebo(pa, alpha)
    early_pool = blue_pre & (t < s - W)
    pm_comps, pm_diags = [], []
    mode = matched_block.match or "hour-of-day"
    if int(in_bb.sum()) >= min_rows:
        for m in metrics:
            mc, _, md = _matched(m, vals[m.name][in_bb], t[in_bb], vals[m.name][early_pool],
                                 t[early_pool], mode, alpha)
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
    early = _early_check(metrics, t, vals, in_bb, blue_pre, in_ga, g0, W, s, alpha,
                         look_every, int(tightest_at), int(min_rows), matched_block,
                         early_reference, basis)

    # --- decision
    basis_comps = matched_block.comparisons if basis == "matched-hours" else plain
    decision, reasons, rollback = _decide(
        metrics, plain, basis_comps, basis, tc, smoke if smoke_usable else None, early,
        int(in_bb.sum()), int(in_ga.sum()), min_rows, alpha, diags)
    lo = min([s - W] + [w.start for k, w in windows.items() if k == "smoke"])
    series = variant_series(t, g, vals, [m.name for m in metrics], blue, green, s, lo, g0 + W)
    return BlueGreenResult(blue, green, alpha, sw, W, exclude, windows, plain, smoke,
                           smoke_usable, tc, early, decision, tuple(reasons), rollback,
                           tuple(diags), series)

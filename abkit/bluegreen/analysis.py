"""The blue/green analysis :func:`analyze_bluegreen`: windows, comparisons, time-confounding
checks, early check and decision, put together.

On a pandas frame: the rows are reduced to time cells with pandas
(:func:`abkit.engine.rows.frame_cells`, refined by :class:`abkit.bluegreen.layout.Refiner`)
and analysed by :func:`abkit.bluegreen.cell_analysis.analyze_cells`, the code ``abkit
report`` runs on the engines' cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..spec import MetricSpec
from ..stats.results import Diagnostic
from ..engine.rows import RowsPlan, frame_cells, refine_cells
from .arguments import _check_args
from .cell_analysis import analyze_cells
from .cells import Cells
from .decision import BlueGreenResult
from .layout import Refiner

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
    labels = np.where(is_g[sel], green, blue).astype(object)
    vals: dict[str, np.ndarray] = {}
    for m in metrics:
        try:
            v = pd.to_numeric(frame[m.column], errors="coerce").to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:  # pragma: no cover - to_numeric coerces
            raise ValueError(f"metric {m.name!r}: column {m.column!r} is not numeric") from exc
        vals[m.name] = v[sel]
    switch = float(switch_at) if switch_at is not None else None
    names = {m.name: m.name for m in metrics}
    refiner = Refiner(blue, green, names, switch, window, exclude, look_every, int(min_rows))
    table = refine_cells(frame_cells(t, labels, vals), RowsPlan(None, refiner),  # type: ignore
                         lambda keys: frame_cells(t, labels, vals, keys))
    return analyze_cells(
        Cells.from_table(table, blue, green, names), blue=blue, green=green, metrics=metrics,
        alpha=alpha, switch_at=switch, window=window, exclude=exclude, look_every=look_every,
        tightest_at=tightest_at, min_rows=min_rows, match=match,
        early_reference=early_reference, diags=diags)

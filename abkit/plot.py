"""Plots of a report. Each takes ``ax=None`` and returns the Axes; none calls ``plt.show()``.

They accept a :class:`~abkit.report.model.Report` or its ``to_dict()`` document, so a saved
JSON report can be plotted again. Without ``ax`` a new pyplot figure is made (for notebooks);
the HTML report passes Axes of a ``matplotlib.figure.Figure`` and never touches pyplot.
"""

from __future__ import annotations

from typing import Any

__all__ = ["forest_plot", "srm_plot", "report_figure", "timeline_plot", "timeline_figure"]

COLOURS = {"better": "#1a7f37", "worse": "#cf222e", "neutral": "#57606a", "margin": "#bf8700"}


def _text(s: str) -> str:
    """A label shown as written: a '$' in a name must not start matplotlib mathtext."""
    return str(s).replace("$", r"\$")


def _doc(report: Any) -> dict:
    return report if isinstance(report, dict) else report.to_dict()


def _new_ax(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(7, 3.5))
    return ax


def forest_plot(report: Any, ax=None, *, relative: bool = True):
    """Effect of each metric in each treatment with its confidence interval.

    Relative effects (percent of the control value) put metrics of different units on one
    scale; a comparison without a relative effect (control value <= 0) is shown as "n/a".
    Guardrail margins are drawn as a dashed mark on the harmful side; a regressed guardrail
    is drawn in red. With ``relative=False`` absolute effects are drawn instead.
    """
    ax = _new_ax(ax)
    doc = _doc(report)
    comps = doc["comparisons"]
    multi = len({c["treatment"] for c in comps}) > 1
    labels = []
    for i, c in enumerate(comps):
        y = len(comps) - 1 - i
        est = c["rel_effect"] if relative else c["effect"]
        ci = c["rel_ci"] if relative else c["ci"]
        scale = 100.0 if relative else 1.0
        g = c.get("guardrail")
        colour = COLOURS["worse"] if g and g.get("regressed") else COLOURS[c["verdict"]]
        label = _text(c["metric"] + (f" ({c['treatment']})" if multi else ""))
        labels.append((y, label))
        if est is None:
            ax.text(0, y, "n/a", va="center", ha="center", fontsize=8, color=COLOURS["neutral"])
            continue
        if ci:
            ax.plot([ci["low"] * scale, ci["high"] * scale], [y, y], color=colour, lw=2.2,
                    solid_capstyle="butt")
        ax.plot([est * scale], [y], "o", color=colour, ms=6)
        if g and g.get("margin") is not None:
            if relative:
                m = g["margin"] * 100.0
            else:
                m = g.get("margin_abs") or 0.0
            side = 1.0 if c["good"] == "decrease" else -1.0
            ax.plot([side * m] * 2, [y - 0.35, y + 0.35], ls="--", color=COLOURS["margin"],
                    lw=1.5)
    ax.axvline(0, color="#8c959f", lw=1)
    ax.set_yticks([y for y, _ in labels], [lab for _, lab in labels])
    ax.set_ylim(-0.7, len(comps) - 0.3)
    ax.set_xlabel("relative effect, treatment vs control (%)" if relative
                  else "absolute effect, treatment - control")
    level = doc["settings"]["confidence_level"]
    ax.set_title(f"Effects with {level:.0%} confidence intervals", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return ax


def srm_plot(report: Any, ax=None):
    """Observed units per variant against the counts the designed split implies."""
    ax = _new_ax(ax)
    doc = _doc(report)
    s = doc["srm"]
    names = list(s["expected"])
    total = sum(s["observed"].get(v, 0) for v in names)
    obs = [s["observed"].get(v, 0) for v in names]
    exp = [s["expected"][v] * total for v in names]
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], obs, width=0.4, label="observed",
           color=COLOURS["neutral" if s["passed"] else "worse"])
    ax.bar([x + 0.2 for x in xs], exp, width=0.4, label="expected", color="#d0d7de")
    ax.set_xticks(list(xs), [_text(n) for n in names])
    ax.set_ylabel("units")
    p = s["pvalue"]
    status = "passed" if s["passed"] else "FAILED"
    ptext = "n/a" if p is None else (f"{p:.1e}" if p < 0.001 else f"{p:.3f}")
    ax.set_title(f"SRM check {status} (p = {ptext})", fontsize=10)
    ax.set_ylim(0, max(max(obs), max(exp), 1) * 1.25)
    ax.legend(frameon=False, fontsize=8, loc="upper center", ncols=2)
    return ax


def report_figure(report: Any, figure=None):
    """A two-panel Figure (forest plot, SRM); built without pyplot when ``figure`` is given."""
    if figure is None:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(10, 3.8), layout="constrained")
    doc = _doc(report)
    n = max(len(doc["comparisons"]), 2)
    figure.set_size_inches(10, 1.2 + 0.45 * n)
    if not doc["srm"].get("expected"):  # no split to check (blue/green): the forest plot only
        forest_plot(doc, ax=figure.subplots(1, 1))
        return figure
    ax1, ax2 = figure.subplots(1, 2, width_ratios=[2.2, 1])
    forest_plot(doc, ax=ax1)
    srm_plot(doc, ax=ax2)
    return figure


def timeline_plot(report: Any, metric: str, ax=None):
    """A canary/linear metric over the looks: the cumulative estimate (candidate - control),
    its anytime-valid confidence-sequence band, zero, the promotion margin on the harmful
    side, and the look that decided (vertical line)."""
    ax = _new_ax(ax)
    doc = _doc(report)
    looks = [x for x in doc["timeline"] if metric in x["metrics"]]
    mins = [x["elapsed_s"] / 60.0 for x in looks]
    est = [x["metrics"][metric]["estimate"] for x in looks]
    lo = [(x["metrics"][metric]["ci"] or {}).get("low") for x in looks]
    hi = [(x["metrics"][metric]["ci"] or {}).get("high") for x in looks]
    nan = float("nan")
    f = [nan if v is None else v for v in est]
    ax.fill_between(mins, [nan if v is None else v for v in lo],
                    [nan if v is None else v for v in hi], color="#8c959f", alpha=0.3,
                    linewidth=0, label=f"{doc['settings']['confidence_level']:.0%} "
                    "confidence sequence")
    ax.plot(mins, f, color="#0969da", linewidth=1.5, marker="o", markersize=2.5,
            label="cumulative estimate")
    ax.axhline(0.0, color="#57606a", linewidth=0.8)
    comp = next((c for c in doc["comparisons"] if c["metric"] == metric), None)
    good = comp["good"] if comp else "increase"
    margins = [x["metrics"][metric]["margin"] for x in looks
               if x["metrics"][metric]["margin"] is not None]
    if margins and margins[-1] and comp and comp["role"] != "secondary":
        m = margins[-1] if good == "decrease" else -margins[-1]
        ax.axhline(m, color=COLOURS["margin"], linestyle="--", linewidth=1,
                   label="non-inferiority margin")
    if doc.get("decided_at_look"):
        k = doc["decided_at_look"]
        x = doc["timeline"][k - 1]["elapsed_s"] / 60.0
        col = {"go": COLOURS["better"], "no-go": COLOURS["worse"]}.get(doc["decision"],
                                                                       COLOURS["neutral"])
        ax.axvline(x, color=col, linewidth=1.5,
                   label=f"{doc['decision'].upper()} at look {k}")
    unit = " (relative)" if comp and comp["kind"] == "count" else ""
    ax.set_title(_text(f"{metric}: {doc['rollout']['candidate']} - {doc['control']}{unit}"),
                 fontsize=10)
    ax.set_xlabel("minutes since the rollout start")
    ax.legend(frameon=False, fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return ax


def timeline_figure(report: Any, figure=None):
    """One :func:`timeline_plot` panel per metric; built without pyplot when ``figure`` is
    given."""
    if figure is None:
        from matplotlib.figure import Figure

        figure = Figure(layout="constrained")
    doc = _doc(report)
    names = [c["metric"] for c in doc["comparisons"]] or [None]
    cols = min(2, len(names))
    rows = (len(names) + cols - 1) // cols
    figure.set_size_inches(5.2 * cols, 3.0 * rows)
    axes = figure.subplots(rows, cols, squeeze=False)
    for ax, name in zip(axes.flat, names):
        if name is not None:
            timeline_plot(doc, name, ax=ax)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    return figure


def shadow_figure(report: Any, figure=None):
    """A shadow test at a glance: quality differences with their intervals and margins,
    latency ratios with their budget, and agreement / flips. Built without pyplot when
    ``figure`` is given."""
    if figure is None:
        from matplotlib.figure import Figure

        figure = Figure(layout="constrained")
    doc = _doc(report)
    sh = doc["shadow"]
    figure.set_size_inches(11, 3.2)
    ax1, ax2, ax3 = figure.subplots(1, 3)
    margins = {c["metric"]: (c["guardrail"] or {}).get("margin") for c in doc["comparisons"]
               if c.get("guardrail")}
    names = [n for n, q in (sh.get("quality") or {}).items() if q.get("diff") is not None]
    for i, n in enumerate(names):
        q = sh["quality"][n]
        ci = q.get("ci")
        col = COLOURS["neutral"]
        if ci:
            ax1.plot([ci["low"], ci["high"]], [i, i], color=col, linewidth=2)
        ax1.plot([q["diff"]], [i], "o", color="#0969da")
        m = margins.get(n)
        if m:
            side = -m if n in ("auc", "accuracy") else m
            ax1.plot([side], [i], "|", color=COLOURS["margin"], markersize=14, mew=2)
    ax1.axvline(0.0, color="#57606a", linewidth=0.8)
    ax1.set_yticks(range(len(names)), [_text(n) for n in names])
    ax1.set_title("quality: candidate - live (margin |)", fontsize=10)
    ax1.invert_yaxis()
    lat = sh.get("latency") or {}
    rows = list((lat.get("quantiles") or {}).items())
    for i, (_, row) in enumerate(rows):
        ci = row.get("ratio_ci") or row.get("ci")
        if ci:
            ax2.plot([ci["low"], ci["high"]], [i, i], color=COLOURS["neutral"], linewidth=2)
        if row.get("ratio") is not None:
            ax2.plot([row["ratio"]], [i], "o", color="#0969da")
    for n, m in margins.items():
        if n.startswith("latency_p") and m is not None:
            ax2.axvline(1.0 + m, color=COLOURS["margin"], linestyle="--", linewidth=1,
                        label=f"{n} budget")
    ax2.axvline(1.0, color="#57606a", linewidth=0.8)
    ax2.set_yticks(range(len(rows)), [k for k, _ in rows])
    ax2.set_title("latency: candidate / live" if rows else "latency: no data", fontsize=10)
    ax2.invert_yaxis()
    if any(n.startswith("latency_p") for n in margins):
        ax2.legend(frameon=False, fontsize=7)
    ag, fl = sh.get("agreement") or {}, sh.get("flips") or {}
    bars = [("agreement", ag), ("neg->pos", fl.get("neg_to_pos") or {}),
            ("pos->neg", fl.get("pos_to_neg") or {})]
    vals = [b.get("estimate") or 0.0 for _, b in bars]
    lo = [v - ((b.get("ci") or {}).get("low", v)) for v, (_, b) in zip(vals, bars)]
    hi = [((b.get("ci") or {}).get("high", v)) - v for v, (_, b) in zip(vals, bars)]
    ax3.bar(range(3), vals, yerr=[lo, hi], color=["#0969da", "#bf8700", "#bf8700"],
            capsize=4)
    ax3.set_xticks(range(3), [n for n, _ in bars])
    ax3.set_ylim(0, 1)
    ax3.set_title(f"decisions at threshold {sh.get('threshold', 0.5):g}", fontsize=10)
    return figure

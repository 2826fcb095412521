"""The A/B picture: a forest plot of the effects and the sample-ratio check."""

from __future__ import annotations

from typing import Any

from ._base import COLOURS, _doc, _figure, _new_ax, _text

__all__ = ["forest_plot", "srm_plot", "report_figure"]


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
    """A two-panel Figure (forest plot, SRM), on ``figure`` or a new one (no pyplot)."""
    doc = _doc(report)
    n = max(len(doc["comparisons"]), 2)
    figure = _figure(figure, 10, 1.2 + 0.45 * n)
    if not doc["srm"].get("expected"):  # no split to check (blue/green): the forest plot only
        forest_plot(doc, ax=figure.subplots(1, 1))
        return figure
    ax1, ax2 = figure.subplots(1, 2, width_ratios=[2.2, 1])
    forest_plot(doc, ax=ax1)
    srm_plot(doc, ax=ax2)
    return figure

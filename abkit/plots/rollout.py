"""Canary and linear rollouts: each metric's confidence sequence over the looks, and under
them the scheduled and the observed candidate share, on one x axis of whole minutes."""

from __future__ import annotations

from typing import Any

from ._base import COLOURS, _doc, _figure, _new_ax, _text

__all__ = ["timeline_plot", "share_plot", "timeline_figure", "observed_shares"]


def _minute_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True, steps=[1, 2, 5, 10]))


def _step_lines(doc: dict, ax) -> None:
    """Dotted vertical lines at the schedule's step boundaries (after the first step)."""
    for s in (doc.get("rollout") or {}).get("schedule", {}).get("steps", [])[1:]:
        ax.axvline(s["starts_after_s"] / 60.0, color="#8c959f", linestyle=":", linewidth=0.8)


def timeline_plot(report: Any, metric: str, ax=None):
    """A canary/linear metric over the looks: the cumulative estimate (candidate - control),
    its anytime-valid confidence-sequence band, zero, the promotion margin on the harmful
    side, the step boundaries (dotted) and the look that decided (vertical line)."""
    ax = _new_ax(ax)
    doc = _doc(report)
    looks = [x for x in doc["timeline"] if metric in x["metrics"]]
    mins = [x["elapsed_s"] / 60.0 for x in looks]
    nan = float("nan")

    def col(key):
        return [nan if v is None else v for v in key]

    est = col([x["metrics"][metric]["estimate"] for x in looks])
    lo = col([(x["metrics"][metric]["ci"] or {}).get("low") for x in looks])
    hi = col([(x["metrics"][metric]["ci"] or {}).get("high") for x in looks])
    ax.fill_between(mins, lo, hi, color="#8c959f", alpha=0.3, linewidth=0,
                    label=f"{doc['settings']['confidence_level']:.0%} confidence sequence")
    ax.plot(mins, est, color="#0969da", linewidth=1.5, marker="o", markersize=2.5,
            label="cumulative estimate")
    ax.axhline(0.0, color="#57606a", linewidth=0.8)
    _step_lines(doc, ax)
    comp = next((c for c in doc["comparisons"] if c["metric"] == metric), None)
    good = comp["good"] if comp else "increase"
    margins = [x["metrics"][metric]["margin"] for x in looks
               if x["metrics"][metric]["margin"] is not None]
    if margins and margins[-1] and comp and comp["role"] != "secondary":
        m = margins[-1] if good == "decrease" else -margins[-1]
        ax.axhline(m, color=COLOURS["margin"], linestyle="--", linewidth=1,
                   label="non-inferiority margin")
    _decision_line(doc, ax, label=True)
    unit = " (relative)" if comp and comp["kind"] == "count" else ""
    ax.set_title(_text(f"{metric}: {doc['rollout']['candidate']} - {doc['control']}{unit}"),
                 fontsize=10)
    ax.set_xlabel("minutes since the rollout start")
    _minute_ticks(ax)
    ax.legend(frameon=False, fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return ax


def _decision_line(doc: dict, ax, label: bool) -> None:
    k = doc.get("decided_at_look")
    if not k or k > len(doc["timeline"]):
        return
    x = doc["timeline"][k - 1]["elapsed_s"] / 60.0
    c = {"go": COLOURS["better"], "no-go": COLOURS["worse"]}.get(doc["decision"],
                                                                 COLOURS["neutral"])
    ax.axvline(x, color=c, linewidth=1.5,
               label=f"{doc['decision'].upper()} at look {k}" if label else None)


def observed_shares(doc: dict) -> list[tuple[float, float, float | None]]:
    """(start minute, end minute, candidate share) of the traffic between consecutive looks,
    from the differences of the cumulative counts; ``None`` where no request arrived."""
    cand, ctrl = doc["rollout"]["candidate"], doc["control"]
    out = []
    prev_t, prev_c, prev_k = 0.0, 0, 0
    for x in doc["timeline"]:
        c, k = x["n"].get(cand, 0), x["n"].get(ctrl, 0)
        dc, dk = c - prev_c, k - prev_k
        t = x["elapsed_s"] / 60.0
        out.append((prev_t, t, dc / (dc + dk) if dc + dk > 0 else None))
        prev_t, prev_c, prev_k = t, c, k
    return out


def share_plot(report: Any, ax=None):
    """The scheduled candidate share (steps) and the observed share between looks."""
    ax = _new_ax(ax)
    doc = _doc(report)
    obs = observed_shares(doc)
    end = obs[-1][1] if obs else 0.0
    steps = (doc.get("rollout") or {}).get("schedule", {}).get("steps", [])
    if steps:
        xs = [s["starts_after_s"] / 60.0 for s in steps if s["starts_after_s"] / 60.0 < end]
        ys = [s["share"] * 100 for s in steps][:len(xs)]
        if xs:
            ax.stairs(ys, xs + [max(end, xs[-1])], color=COLOURS["margin"], linewidth=1.8,
                      baseline=None, label="scheduled")
    shown = [(a, b, s) for a, b, s in obs if s is not None]
    if shown:
        ax.hlines([s * 100 for _, _, s in shown], [a for a, _, _ in shown],
                  [b for _, b, _ in shown], color="#0969da", linewidth=2.2,
                  label="observed between looks")
    _step_lines(doc, ax)
    _decision_line(doc, ax, label=False)
    top = max([s["share"] for s in steps] + [s for _, _, s in shown] + [0.05]) * 100
    ax.set_ylim(0, min(105.0, top * 1.3))
    ax.set_ylabel(_text(f"{doc['rollout']['candidate']} share (%)"), fontsize=8)
    ax.set_xlabel("minutes since the rollout start")
    ax.set_title("candidate share of the traffic: scheduled steps and observed", fontsize=10)
    _minute_ticks(ax)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    return ax


def timeline_figure(report: Any, figure=None):
    """One :func:`timeline_plot` panel per metric and, under them on the same x axis, the
    :func:`share_plot`. On ``figure`` or a new Figure (no pyplot)."""
    doc = _doc(report)
    names = [c["metric"] for c in doc["comparisons"]]
    cols = min(2, max(len(names), 1))
    rows = (len(names) + cols - 1) // cols
    figure = _figure(figure, 5.2 * cols, 3.0 * rows + 2.4)
    gs = figure.add_gridspec(rows + 1, cols, height_ratios=[3.0] * rows + [2.2])
    first = None
    for i, name in enumerate(names):
        ax = figure.add_subplot(gs[i // cols, i % cols], sharex=first)
        first = first or ax
        timeline_plot(doc, name, ax=ax)
    share_plot(doc, ax=figure.add_subplot(gs[rows, :], sharex=first))
    return figure

"""Blue/green: each metric, blue and green over clock time, with the switch, the warm-up
(excluded), the smoke test, the early-look bound and the rollback point."""

from __future__ import annotations

from typing import Any

from ._base import COLOURS, _doc, _figure, _new_ax, _text, clock_axis, epoch_dt

__all__ = ["bluegreen_plot", "bluegreen_figure"]

#: bins with fewer rows than this are not drawn (a draining or misrouted row is not a mean)
MIN_BIN_ROWS = 5


def _shade(ax, w: dict | None, colour: str, label: str) -> None:
    if w and w.get("start") is not None and w.get("end") is not None and w["end"] > w["start"]:
        ax.axvspan(epoch_dt(w["start"]), epoch_dt(w["end"]), color=colour, alpha=0.6,
                   linewidth=0, label=label, zorder=0)


def _early_bound(ax, bg: dict, metric: str, good: str) -> None:
    """Green's anytime-valid bound at each early look, on the metric's scale: the reference
    (blue) mean shifted by the lower bound of the harm, and the regression threshold (the
    reference shifted by the margin). A look regressed where the bound crosses the
    threshold."""
    s = 1.0 if good == "decrease" else -1.0
    ts, bound, thr = [], [], []
    for look in (bg.get("early") or {}).get("looks") or []:
        m = next((x for x in look["metrics"] if x["metric"] == metric), None)
        if m is None or m.get("harm_lower") is None or m.get("reference_mean") is None:
            continue
        ts.append(epoch_dt(look["time"]))
        bound.append(m["reference_mean"] + s * m["harm_lower"])
        thr.append(None if m.get("margin_abs") is None
                   else m["reference_mean"] + s * m["margin_abs"])
    if not ts:
        return
    side = "lower" if s > 0 else "upper"
    ax.plot(ts, bound, color=COLOURS["green"], linestyle="--", linewidth=1,
            label=f"early looks: anytime-valid {side} bound of green")
    if all(v is not None for v in thr):
        ax.plot(ts, thr, color=COLOURS["margin"], linestyle=":", linewidth=1.2,
                label="regression threshold (blue + margin)")


def bluegreen_plot(report: Any, metric: str, ax=None, *, legend: bool = True):
    """One metric: blue's and green's mean per time bin (``bluegreen.series``) over clock
    time (UTC), the switch, the warm-up and the smoke test (shaded), the early-look bound
    with the regression threshold (guardrails), and the recommended rollback point."""
    ax = _new_ax(ax)
    doc = _doc(report)
    bg = doc["bluegreen"]
    series = bg.get("series") or {}
    w = series.get("bin_seconds", 0.0)
    wins = bg.get("windows") or {}
    _shade(ax, wins.get("warmup"), COLOURS["window"], "warm-up (excluded)")
    _shade(ax, wins.get("smoke"), COLOURS["smoke"], "smoke test")
    shown: list[float] = []
    for label, colour in ((bg["blue"], COLOURS["blue"]), (bg["green"], COLOURS["green"])):
        m = ((series.get("variants") or {}).get(label) or {}).get("metrics", {}).get(metric)
        if not m:
            continue
        pts = [(epoch_dt(t0 + w / 2), v) for t0, v, n in zip(series["start"], m["mean"], m["n"])
               if v is not None and n >= MIN_BIN_ROWS]
        shown += [p[1] for p in pts]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=colour, marker="o",
                    markersize=2.5, linewidth=1.2,
                    label=_text(f"{label} (mean per {w / 60:g} min)"))
    comp = next((c for c in doc["comparisons"] if c["metric"] == metric), None)
    good = (comp or {}).get("good") or "increase"
    if comp and comp.get("role") == "guardrail":
        _early_bound(ax, bg, metric, good)
    sw = (bg.get("switch") or {}).get("time")
    if sw is not None:
        ax.axvline(epoch_dt(sw), color="#1f2328", linewidth=1.2, label="switch")
    rb = bg.get("rollback") or {}
    if rb.get("recommended") and rb.get("at") is not None:
        ax.axvline(epoch_dt(rb["at"]), color=COLOURS["worse"], linewidth=1.8,
                   label="rollback point (first regressed look)")
    if shown:
        lo, hi = min(shown), max(shown)
        pad = 0.15 * (hi - lo) or 0.1 * abs(hi) or 1.0
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_title(_text(f"{metric} ({'lower' if good == 'decrease' else 'higher'} is better)"),
                 fontsize=10)
    clock_axis(ax)
    ax.set_xlabel("time (UTC)")
    ax.grid(alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def bluegreen_figure(report: Any, figure=None):
    """One :func:`bluegreen_plot` panel per metric, stacked on one clock-time axis. On
    ``figure`` or a new Figure (no pyplot)."""
    doc = _doc(report)
    names = [c["metric"] for c in doc["comparisons"]]
    names = list(dict.fromkeys(names)) or [m["name"] for m in doc["spec"].get("metrics", [])]
    figure = _figure(figure, 10, 0.6 + 2.9 * max(len(names), 1))
    axes = figure.subplots(max(len(names), 1), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names):
        bluegreen_plot(doc, name, ax=ax, legend=False)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    seen: dict[str, Any] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    if seen:
        figure.legend(list(seen.values()), list(seen), loc="outside upper center", ncols=3,
                      frameon=False, fontsize=8)
    return figure

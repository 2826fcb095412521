"""Shadow tests: quality differences (measures that should go up apart from those that
should go down), latency where there is latency data, the models' decisions, ROC and
reliability curves, score histograms, and each drifted feature's distributions."""

from __future__ import annotations

from typing import Any

from ._base import COLOURS, _doc, _figure, _new_ax, _text

__all__ = ["shadow_figure", "shadow_quality_figure", "shadow_curves_figure",
           "shadow_drift_figure", "quality_plot", "latency_plot", "decisions_plot",
           "roc_plot", "calibration_plot", "score_histogram", "drift_plot"]

HIGHER_IS_BETTER = ("auc", "accuracy")
LOWER_IS_BETTER = ("brier", "log_loss")


def _names(doc: dict) -> tuple[str, str]:
    return doc["control"], next(iter(doc["treatments"]), "candidate")


def _few_ticks(ax, n: int = 3) -> None:
    """At most ``n`` + 1 short x tick labels, so narrow panels do not overlap them."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=n))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}" if v else "0"))


def quality_plot(report: Any, higher: bool = True, ax=None):
    """Candidate - live of the quality measures whose good direction is ``higher``
    (AUC, accuracy) or lower (Brier, log loss), with intervals and, for guardrails, the
    margin on the harmful side (dashed)."""
    ax = _new_ax(ax)
    doc = _doc(report)
    sh = doc["shadow"]
    live, cand = _names(doc)
    wanted = HIGHER_IS_BETTER if higher else LOWER_IS_BETTER
    margins = {c["metric"]: (c.get("guardrail") or {}).get("margin")
               for c in doc["comparisons"] if c.get("guardrail")}
    names = [n for n in wanted if ((sh.get("quality") or {}).get(n) or {}).get("diff")
             is not None]
    marked = False
    for i, n in enumerate(names):
        q = sh["quality"][n]
        if q.get("ci"):
            ax.plot([q["ci"]["low"], q["ci"]["high"]], [i, i], color=COLOURS["neutral"],
                    linewidth=2.2, solid_capstyle="butt")
        ax.plot([q["diff"]], [i], "o", color=COLOURS["live"])
        m = margins.get(n)
        if m:
            ax.plot([-m if higher else m] * 2, [i - 0.3, i + 0.3], color=COLOURS["margin"],
                    linestyle="--", linewidth=1.5,
                    label=None if marked else "margin (worst allowed)")
            marked = True
    ax.axvline(0.0, color="#57606a", linewidth=0.8)
    ax.set_yticks(range(len(names)), [_text(n) for n in names])
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_title(f"{'higher' if higher else 'lower'} is better", fontsize=10)
    ax.set_xlabel(_text(f"{cand} - {live}"), fontsize=8)
    _few_ticks(ax)
    ax.grid(axis="x", alpha=0.3)
    if marked:
        ax.legend(frameon=False, fontsize=7, loc="best")
    if not names:
        ax.text(0.5, 0.5, "no labelled measure", ha="center", va="center",
                transform=ax.transAxes, fontsize=8, color=COLOURS["neutral"])
    return ax


def _latency_rows(doc: dict) -> list:
    lat = doc["shadow"].get("latency") or {}
    return [(k, r) for k, r in (lat.get("quantiles") or {}).items()
            if r.get("ratio") is not None]


def latency_plot(report: Any, ax=None):
    """Candidate / live latency per quantile with its interval, and each latency guardrail's
    budget (dashed). Only meaningful with latency data (see :func:`shadow_quality_figure`)."""
    ax = _new_ax(ax)
    doc = _doc(report)
    rows = _latency_rows(doc)
    for i, (_, row) in enumerate(rows):
        ci = row.get("ratio_ci") or row.get("ci")
        if ci:
            ax.plot([ci["low"], ci["high"]], [i, i], color=COLOURS["neutral"], linewidth=2.2)
        ax.plot([row["ratio"]], [i], "o", color=COLOURS["live"])
    for c in doc["comparisons"]:
        m = (c.get("guardrail") or {}).get("margin")
        if c["metric"].startswith("latency_p") and m is not None:
            ax.axvline(1.0 + m, color=COLOURS["margin"], linestyle="--", linewidth=1,
                       label=_text(f"{c['metric']} budget"))
    ax.axvline(1.0, color="#57606a", linewidth=0.8)
    ax.set_yticks(range(len(rows)), [k for k, _ in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    live, cand = _names(doc)
    ax.set_title("latency (lower is better)", fontsize=10)
    ax.set_xlabel(_text(f"{cand} / {live}"), fontsize=8)
    _few_ticks(ax)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=7, loc="best")
    return ax


def decisions_plot(report: Any, ax=None):
    """Share of requests where the models agree at the threshold, and the flips."""
    ax = _new_ax(ax)
    sh = _doc(report)["shadow"]
    ag, fl = sh.get("agreement") or {}, sh.get("flips") or {}
    bars = [("agree", ag), ("flip neg→pos", fl.get("neg_to_pos") or {}),
            ("flip pos→neg", fl.get("pos_to_neg") or {})]
    vals = [b.get("estimate") or 0.0 for _, b in bars]
    lo = [v - (b.get("ci") or {}).get("low", v) for v, (_, b) in zip(vals, bars)]
    hi = [(b.get("ci") or {}).get("high", v) - v for v, (_, b) in zip(vals, bars)]
    ax.barh(range(3), vals, xerr=[lo, hi], color=[COLOURS["live"], COLOURS["margin"],
                                                 COLOURS["margin"]], capsize=3)
    ax.set_yticks(range(3), [n for n, _ in bars])
    ax.set_ylim(2.5, -0.5)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of requests", fontsize=8)
    ax.set_title(f"decisions at threshold {sh.get('threshold', 0.5):g}", fontsize=10)
    return ax


def shadow_quality_figure(report: Any, figure=None):
    """Quality (higher-is-better and lower-is-better measures on separate axes), latency
    (only with latency data) and decisions, in one row."""
    doc = _doc(report)
    panels = [lambda a: quality_plot(doc, True, a), lambda a: quality_plot(doc, False, a)]
    if _latency_rows(doc):
        panels.append(lambda a: latency_plot(doc, a))
    panels.append(lambda a: decisions_plot(doc, a))
    figure = _figure(figure, 11, 2.8)
    for ax, draw in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        draw(ax)
    return figure


def _curves(doc: dict) -> dict:
    return doc["shadow"].get("curves") or {}


def _empty(ax, title: str, why: str):
    ax.set_title(title, fontsize=10)
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, fontsize=8,
            color=COLOURS["neutral"], wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def roc_plot(report: Any, ax=None):
    """ROC curves of both models, each with its AUC; the title holds the AUC difference
    (candidate - live) and its DeLong interval."""
    ax = _new_ax(ax)
    doc = _doc(report)
    roc = _curves(doc).get("roc")
    if not roc:
        return _empty(ax, "ROC", "no ROC: needs labels of both classes")
    dl = doc["shadow"].get("delong") or {}
    live, cand = _names(doc)
    for key, name, col in (("live", live, COLOURS["live"]),
                           ("candidate", cand, COLOURS["candidate"])):
        auc = (dl.get(f"auc_{key}") or {}).get("estimate")
        ax.plot(roc[key]["fpr"], roc[key]["tpr"], color=col, linewidth=1.5,
                label=_text(name + ("" if auc is None else f" (AUC {auc:.3f})")))
    ax.plot([0, 1], [0, 1], color="#8c959f", linewidth=0.8, linestyle=":")
    diff = dl.get("difference") or {}
    title = "ROC"
    if diff.get("estimate") is not None:
        ci = diff.get("ci") or {}
        title += f": AUC difference {diff['estimate']:+.3f}"
        if ci:
            level = doc["settings"]["confidence_level"]
            title += f" [{ci['low']:+.3f}, {ci['high']:+.3f}] ({level:.0%} CI)"
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("false positive rate", fontsize=8)
    ax.set_ylabel("true positive rate", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    return ax


def calibration_plot(report: Any, ax=None):
    """Reliability curves: observed positive rate against mean predicted score per bin."""
    ax = _new_ax(ax)
    doc = _doc(report)
    cal = _curves(doc).get("calibration")
    if not cal:
        return _empty(ax, "reliability", "no reliability curve: needs labelled "
                                         "probability outputs")
    live, cand = _names(doc)
    for key, name, col in (("live", live, COLOURS["live"]),
                           ("candidate", cand, COLOURS["candidate"])):
        pts = [(p, o) for p, o in zip(cal[key]["predicted"], cal[key]["observed"])
               if p is not None and o is not None]
        ax.plot([p for p, _ in pts], [o for _, o in pts], marker="o", markersize=3,
                color=col, linewidth=1.3, label=_text(name))
    ax.plot([0, 1], [0, 1], color="#8c959f", linewidth=0.8, linestyle=":",
            label="perfectly calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("reliability (calibration)", fontsize=10)
    ax.set_xlabel("mean predicted score", fontsize=8)
    ax.set_ylabel("observed positive rate", fontsize=8)
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    return ax


def score_histogram(report: Any, ax=None):
    """Histograms of the two models' scores on the same requests."""
    ax = _new_ax(ax)
    doc = _doc(report)
    h = _curves(doc).get("histogram")
    if not h:
        return _empty(ax, "scores", "no scores")
    live, cand = _names(doc)
    for key, name, col in (("live", live, COLOURS["live"]),
                           ("candidate", cand, COLOURS["candidate"])):
        ax.stairs(h[key], h["edges"], color=col, linewidth=1.5, label=_text(name))
    ax.set_title("scores per model", fontsize=10)
    ax.set_xlabel("score", fontsize=8)
    ax.set_ylabel("requests", fontsize=8)
    ax.legend(frameon=False, fontsize=7, loc="best")
    return ax


def shadow_curves_figure(report: Any, figure=None):
    """ROC, reliability and score histograms, in one row."""
    doc = _doc(report)
    figure = _figure(figure, 11, 3.3)
    a, b, c = figure.subplots(1, 3)
    roc_plot(doc, a)
    calibration_plot(doc, b)
    score_histogram(doc, c)
    return figure


def drift_plot(report: Any, feature: str, ax=None):
    """One drifted feature: its reference (first window) and current (last window)
    distributions, as shares so windows of different sizes compare."""
    ax = _new_ax(ax)
    d = _curves(_doc(report)).get("drift", {}).get(feature)
    if not d:
        return _empty(ax, _text(feature), "no distribution")
    ref, cur = d["reference"], d["current"]
    nr, nc = max(sum(ref), 1), max(sum(cur), 1)
    lab_r = _text(f"reference {d['reference_window'][:16]} (n={sum(ref):,})")
    lab_c = _text(f"current {d['current_window'][:16]} (n={sum(cur):,})")
    if d["kind"] == "numeric":
        ax.stairs([v / nr for v in ref], d["edges"], color=COLOURS["neutral"], fill=True,
                  alpha=0.35, label=lab_r)
        ax.stairs([v / nc for v in cur], d["edges"], color=COLOURS["worse"], linewidth=1.5,
                  label=lab_c)
    else:
        xs = range(len(d["categories"]))
        ax.bar([x - 0.2 for x in xs], [v / nr for v in ref], width=0.4,
               color=COLOURS["neutral"], alpha=0.6, label=lab_r)
        ax.bar([x + 0.2 for x in xs], [v / nc for v in cur], width=0.4,
               color=COLOURS["worse"], label=lab_c)
        ax.set_xticks(list(xs), [_text(c) for c in d["categories"]], fontsize=7,
                      rotation=30 if len(d["categories"]) > 4 else 0)
    ax.set_title(_text(f"drift: {feature}"), fontsize=10)
    ax.set_ylabel("share of requests", fontsize=8)
    ax.legend(frameon=False, fontsize=7, loc="best")
    return ax


def shadow_drift_figure(report: Any, figure=None):
    """One :func:`drift_plot` per drifted feature (three per row); ``None`` when nothing
    drifted."""
    doc = _doc(report)
    names = list(_curves(doc).get("drift") or {})
    if not names:
        return None
    cols = min(3, len(names))
    rows = (len(names) + cols - 1) // cols
    figure = _figure(figure, 11 if cols > 1 else 5.5, 3.0 * rows)
    axes = figure.subplots(rows, cols, squeeze=False)
    for ax, name in zip(axes.flat, names):
        drift_plot(doc, name, ax)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    return figure


def shadow_figure(report: Any, figure=None):
    """The whole shadow picture on one Figure (``report.plot()``): the quality row, the
    curves row and, when a feature drifted, the drift row (sub-figures)."""
    doc = _doc(report)
    n_drift = len(_curves(doc).get("drift") or {})
    heights = [2.8, 3.3] + ([3.0 * ((n_drift + 2) // 3)] if n_drift else [])
    figure = _figure(figure, 11, sum(heights))
    subs = figure.subfigures(len(heights), 1, height_ratios=heights, squeeze=False)[:, 0]
    for sub, draw in zip(subs, (shadow_quality_figure, shadow_curves_figure,
                                shadow_drift_figure)):
        draw(doc, figure=sub)
    return figure

"""The self-contained HTML report: jinja2 with autoescaping, inline CSS, inline SVG plots,
the JSON result embedded for tools. No script runs and nothing is fetched."""

from __future__ import annotations

import io
import json
import re
from typing import Any

__all__ = ["render_html", "figure_svg", "figures_for", "FIGURES"]

_BADGE = {"go": "GO", "no-go": "NO-GO", "inconclusive": "INCONCLUSIVE"}


def _env():
    from jinja2 import Environment, PackageLoader

    # autoescape=True explicitly: select_autoescape() would skip templates named *.j2
    return Environment(loader=PackageLoader("abkit", "report/templates"), autoescape=True,
                       trim_blocks=True, lstrip_blocks=True)


def figure_svg(figure) -> str:
    """A matplotlib Figure as an inline ``<svg>`` element (deterministic ids, no date)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "abkit", "svg.fonttype": "path"}):
        figure.savefig(buf, format="svg", metadata={"Date": None, "Creator": "abkit"})
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE


def _json_for_script(doc: dict[str, Any]) -> str:
    """JSON that cannot close the surrounding <script> element."""
    text = json.dumps(doc, indent=None, sort_keys=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


#: every figure the page can hold: (element id, what it shows), in page order
FIGURES = {
    "fig-effects": "Forest plot of the effects and the sample ratio check",
    "fig-bluegreen": "Each metric for blue and green over clock time, with the switch, the "
                     "warm-up, the smoke test, the early-look bound and the rollback point",
    "fig-shadow-quality": "Quality differences by good direction, latency ratios and the "
                          "models' decisions",
    "fig-shadow-curves": "ROC curves, reliability curves and score histograms of both models",
    "fig-shadow-drift": "Reference and current distributions of each drifted feature",
    "fig-timeline": "Cumulative estimate of each metric with its confidence sequence over "
                    "the looks, and the scheduled and observed candidate share",
}


def _svg(figure) -> Any:
    from markupsafe import Markup

    svg = figure_svg(figure)
    # matplotlib escapes every text it writes into the SVG (& < > in comments and
    # attributes), so the markup is safe to inline
    assert not re.search(r"<script", svg, re.I)
    return Markup(svg)


def figures_for(doc: dict[str, Any]) -> dict[str, Any]:
    """The strategy's figures for ``doc`` as inline SVG, keyed by element id (see
    ``FIGURES``); a figure without data to draw is left out."""
    from .. import plots

    out: dict[str, Any] = {}
    if doc.get("shadow") is not None:
        out["fig-shadow-quality"] = _svg(plots.shadow_quality_figure(doc))
        out["fig-shadow-curves"] = _svg(plots.shadow_curves_figure(doc))
        drift = plots.shadow_drift_figure(doc)
        if drift is not None:
            out["fig-shadow-drift"] = _svg(drift)
        return out
    if doc["comparisons"]:
        out["fig-effects"] = _svg(plots.report_figure(doc))
    if doc.get("bluegreen") is not None and (doc["bluegreen"].get("series") or {}):
        out["fig-bluegreen"] = _svg(plots.bluegreen_figure(doc))
    if doc.get("timeline") and doc["comparisons"]:
        out["fig-timeline"] = _svg(plots.timeline_figure(doc))
    return out


def _timeline_head(doc: dict[str, Any], head: list[str]) -> list[str]:
    """The timeline table's header, spelled out for the page (the text report keeps its
    short one)."""
    cand, ctrl = doc["rollout"]["candidate"], doc["control"]
    level = f"{doc['settings']['confidence_level']:.0%}"
    names = {"at": "time (UTC)", "step (share)": "step (scheduled share)",
             f"n {cand} / {ctrl}": f"requests so far, {cand} / {ctrl}",
             "signal": "signal at this look", "decision": "decision at this look"}
    out = []
    for h in head:
        if h.endswith(" [CS]"):
            h = f"{h[:-5]}: {cand} − {ctrl} [{level} CS]"
        out.append(names.get(h, h))
    return out


def render_html(doc: dict[str, Any], *, plots: bool = True) -> str:
    """Render a report document (``Report.to_dict()``) as one HTML page: every table in
    full (scrollable), and with ``plots`` the strategy's figures (``FIGURES``) inline."""
    from markupsafe import Markup

    from .render import bluegreen_lines, comparison_rows, shadow_lines, timeline_rows

    tl_head: list[str] = []
    tl_rows: list[list[str]] = []
    if doc.get("timeline") is not None:
        tl_head, tl_rows = timeline_rows(doc, all_looks=True)
        tl_head = _timeline_head(doc, tl_head)
    page = _env().get_template("report.html.j2").render(
        doc=doc,
        figures=figures_for(doc) if plots else {},
        figure_labels=FIGURES,
        timeline_head=tl_head,
        timeline_rows=tl_rows,
        shadow_lines=shadow_lines(doc) if doc.get("shadow") is not None else [],
        bluegreen_lines=bluegreen_lines(doc) if doc.get("bluegreen") is not None else [],
        badge=_BADGE[doc["decision"]],
        rows=list(zip(comparison_rows(doc), doc["comparisons"])),
        json_blob=Markup(_json_for_script(doc)),
    )
    return page

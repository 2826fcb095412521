"""The self-contained HTML report: jinja2 with autoescaping, inline CSS, inline SVG plots,
the JSON result embedded for tools. No script runs and nothing is fetched."""

from __future__ import annotations

import io
import json
import re
from typing import Any

__all__ = ["render_html", "figure_svg"]

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


def render_html(doc: dict[str, Any], *, plots: bool = True) -> str:
    """Render a report document (``Report.to_dict()``) as one HTML page."""
    from markupsafe import Markup

    from .render import bluegreen_lines, comparison_rows, shadow_lines, timeline_rows

    figure = None
    if plots and doc.get("shadow") is not None:
        from ..plot import shadow_figure

        svg = figure_svg(shadow_figure(doc))
        assert not re.search(r"<script", svg, re.I)
        figure = Markup(svg)
    elif plots and doc["comparisons"]:
        from ..plot import report_figure

        svg = figure_svg(report_figure(doc))
        # matplotlib escapes every text it writes into the SVG (& < > in comments and
        # attributes), so the markup is safe to inline
        assert not re.search(r"<script", svg, re.I)
        figure = Markup(svg)
    tl_figure = None
    tl_head: list[str] = []
    tl_rows: list[list[str]] = []
    if doc.get("timeline") is not None:
        tl_head, tl_rows = timeline_rows(doc)
        if plots and doc["timeline"] and doc["comparisons"]:
            from ..plot import timeline_figure

            svg = figure_svg(timeline_figure(doc))
            assert not re.search(r"<script", svg, re.I)
            tl_figure = Markup(svg)
    page = _env().get_template("report.html.j2").render(
        doc=doc,
        timeline_figure=tl_figure,
        timeline_head=tl_head,
        timeline_rows=tl_rows,
        shadow_lines=shadow_lines(doc) if doc.get("shadow") is not None else [],
        bluegreen_lines=bluegreen_lines(doc) if doc.get("bluegreen") is not None else [],
        badge=_BADGE[doc["decision"]],
        rows=list(zip(comparison_rows(doc), doc["comparisons"])),
        figure=figure,
        json_blob=Markup(_json_for_script(doc)),
    )
    return page

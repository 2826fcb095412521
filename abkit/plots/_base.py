"""Shared helpers of the plots: colours, labels, the report document, new Figures.

No pyplot: every Figure is a :class:`matplotlib.figure.Figure` made here, so the library
never touches pyplot's global state (notebooks display a returned Figure as is).
"""

from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Any

from matplotlib.figure import Figure

COLOURS = {"better": "#1a7f37", "worse": "#cf222e", "neutral": "#57606a", "margin": "#bf8700",
           "live": "#0969da", "candidate": "#bf3989", "blue": "#0969da", "green": "#1a7f37",
           "window": "#d0d7de", "smoke": "#fff1c2"}


def _text(s: Any) -> str:
    """A label shown as written: a '$' in a name must not start matplotlib mathtext."""
    return str(s).replace("$", r"\$")


def _doc(report: Any) -> dict:
    return report if isinstance(report, dict) else report.to_dict()


class ReportFigure(Figure):
    """A Figure that shows itself in a notebook (``_repr_png_``) without pyplot."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue()


def new_figure(width: float = 7.0, height: float = 3.5) -> ReportFigure:
    """A constrained-layout :class:`~matplotlib.figure.Figure`, outside pyplot; it displays
    itself in a notebook (as PNG) when it is a cell's value."""
    return ReportFigure(figsize=(width, height), layout="constrained")


def _new_ax(ax):
    """``ax``, or the Axes of a new Figure (see :func:`new_figure`)."""
    if ax is not None:
        return ax
    return new_figure().subplots()


def _figure(figure, width: float, height: float):
    """``figure`` resized to (width, height) inches, or a new one of that size (a sub-figure
    keeps the size its parent gives it)."""
    if figure is None:
        return new_figure(width, height)
    if hasattr(figure, "set_size_inches"):
        figure.set_size_inches(width, height)
    return figure


def epoch_dt(t: float) -> datetime:
    """Epoch seconds as an aware UTC datetime (what matplotlib's date axis takes)."""
    return datetime.fromtimestamp(float(t), tz=timezone.utc)


def clock_axis(ax) -> None:
    """Clock-time ticks (UTC) on ``ax``'s x axis, at whole minutes or hours."""
    import matplotlib.dates as mdates

    loc = mdates.AutoDateLocator(minticks=4, maxticks=9, tz=timezone.utc)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, tz=timezone.utc))

"""Plots of a report, one module per strategy. Each plot takes ``ax=None`` (or
``figure=None`` for a multi-panel Figure) and returns the Axes or the Figure; none uses
pyplot, so nothing is shown or kept by a global figure manager (a notebook displays the
returned Figure).

They accept a :class:`~abkit.report.model.Report` (or any strategy's report) or its
``to_dict()`` document, so a saved JSON report can be plotted again.
"""

from __future__ import annotations

from ._base import COLOURS, new_figure
from .ab import forest_plot, report_figure, srm_plot
from .bluegreen import bluegreen_figure, bluegreen_plot
from .rollout import share_plot, timeline_figure, timeline_plot
from .shadow import (calibration_plot, decisions_plot, drift_plot, latency_plot,
                     quality_plot, roc_plot, score_histogram, shadow_curves_figure,
                     shadow_drift_figure, shadow_figure, shadow_quality_figure)

__all__ = ["COLOURS", "new_figure", "forest_plot", "srm_plot", "report_figure",
           "timeline_plot", "share_plot", "timeline_figure", "bluegreen_plot",
           "bluegreen_figure", "shadow_figure", "shadow_quality_figure", "shadow_curves_figure",
           "shadow_drift_figure", "quality_plot", "latency_plot", "decisions_plot", "roc_plot",
           "calibration_plot", "score_histogram", "drift_plot"]

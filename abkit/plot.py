"""Plots of a report (kept for ``from abkit.plot import ...``); they live in
:mod:`abkit.plots`, one module per strategy. Each takes ``ax=None`` (or ``figure=None``)
and returns the Axes or Figure, built on :class:`matplotlib.figure.Figure` without pyplot.
"""

from __future__ import annotations

from .plots import *  # noqa: F401,F403
from .plots import __all__  # noqa: F401

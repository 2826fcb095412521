"""Group sequential designs with Lan-DeMets alpha spending (one-sided efficacy boundaries).

A team that plans a *fixed number of looks* (or at least a planned maximum information) can
spend its type I error ``alpha`` over the looks with a spending function ``alpha(t)`` of the
information fraction ``t`` (Lan & DeMets, "Discrete sequential boundaries for clinical
trials", Biometrika 70(3), 1983). At a look with information fraction ``t_k`` the efficacy
boundary ``c_k`` on the z-scale solves, under H0::

    P(Z_1 < c_1, ..., Z_{k-1} < c_{k-1}, Z_k >= c_k) = alpha(t_k) - alpha(t_{k-1})

where ``(Z_1, Z_2, ...)`` is the canonical joint normal distribution of the standardised
statistics, ``Cov(Z_i, Z_j) = sqrt(t_i / t_j)`` for ``t_i <= t_j`` (Jennison & Turnbull,
*Group Sequential Methods with Applications to Clinical Trials*, 2000, chapter 3). The looks
need not be equally spaced, and neither their number nor their timing has to be fixed in
advance: only the spending function is (Lan & DeMets 1983). The probability of ever
crossing is then ``alpha(t_K) <= alpha``. The timing must not depend on the data seen so far
(looks at fixed clock times, or whenever a batch arrives, are fine).

Submodules: ``spending_functions`` (the O'Brien-Fleming and Pocock type spending functions,
:func:`spending`, and the checks of the design inputs), ``integration`` (the recursive
numerical integration on a grid and its tuning constants ``_Q``, ``_H_MAX``, ...), ``design``
(:class:`GroupSequentialDesign`, :class:`Look`, :func:`boundaries`,
:func:`crossing_probabilities`, and the edge cases).
"""

from __future__ import annotations

import sys
import types

from . import design as _design
from . import integration as _integration
from .design import GroupSequentialDesign, Look, boundaries, crossing_probabilities
from .integration import _BAND, _CHUNK, _H_MAX, _MIN_STEP, _Q, _Z_HIGH, _Z_LOW, _Z_TAIL
from .spending_functions import SPENDING_FUNCTIONS, spending

__all__ = [
    "SPENDING_FUNCTIONS",
    "GroupSequentialDesign",
    "Look",
    "boundaries",
    "crossing_probabilities",
    "spending",
]

_TUNING = ("_Z_LOW", "_Z_HIGH", "_Z_TAIL", "_H_MAX", "_Q", "_BAND", "_MIN_STEP", "_CHUNK")


class _Package(types.ModuleType):
    """Setting a grid tuning constant on the package (e.g. ``monkeypatch.setattr(gst, "_Q",
    12.0)``) also sets it in the submodules that read it, as on the former single module."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _TUNING:
            for mod in (_integration, _design):
                if name in vars(mod):
                    setattr(mod, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

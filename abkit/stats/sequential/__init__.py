"""Anytime-valid inference for canary and linear rollout gates.

A rollout gate looks at its metrics again and again (every few minutes, for as long as the
rollout runs) and stops at the first look that shows harm. A fixed-horizon test re-applied at
every look rejects a true null far more often than ``alpha`` (22-39 % of the time over 100
looks at ``alpha = 0.05`` in the simulations of ``bench/SEQUENTIAL.md``). The sequences here are valid *uniformly over time*: the
probability that the sequence ever excludes the true value, at any look, however many looks,
is at most ``alpha`` (asymptotically, see below).

Submodules: ``boundary`` (the confidence-sequence radius :func:`cs_radius` and the tuning
:func:`rho_for`), ``confidence_sequence`` (:func:`asymptotic_cs` and its result
:class:`AsymptoticCS`), ``mixture_sprt`` (the mSPRT: :func:`msprt`, :func:`msprt_log_lr`,
:func:`tau_for_effect`), ``diff_stats`` (:class:`SequentialDiffStats`, the mergeable sums of
the A/B pseudo-outcomes), ``guardrails`` (its sequences and guardrail decisions,
:class:`GuardrailCheck`, :func:`absolute_margin`) and ``_common`` (input checks).
"""

from __future__ import annotations

from ._common import Harmful
from .boundary import cs_radius, rho_for
from .confidence_sequence import AsymptoticCS, asymptotic_cs
from .diff_stats import SequentialDiffStats
from .guardrails import GuardrailCheck, absolute_margin
from .mixture_sprt import MSPRTResult, msprt, msprt_log_lr, tau_for_effect

__all__ = [
    "AsymptoticCS",
    "GuardrailCheck",
    "MSPRTResult",
    "SequentialDiffStats",
    "absolute_margin",
    "asymptotic_cs",
    "cs_radius",
    "msprt",
    "msprt_log_lr",
    "rho_for",
    "tau_for_effect",
]

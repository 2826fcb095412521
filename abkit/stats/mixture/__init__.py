"""Exact anytime-valid tests for event counts and sequential sample-ratio mismatch.

A canary gate asks, after every time bucket and for as long as the rollout runs, whether the
candidate produces more errors per request than the baseline, and whether the units are
split between the variants as the rollout schedule intended at that moment. Both questions
are answered here with *mixture martingales* and Ville's inequality: the probability that a
true null is *ever* rejected, at any look, however many looks, is at most ``alpha``, exactly
(not asymptotically) under the model below.

Submodules: ``rate_ratio`` (the model and :class:`RateRatioSequence`, the mergeable state of
the rate-ratio test), ``rate_ratio_inference`` (its e-values, tests and confidence sequences,
:class:`RateRatioResult`), ``grid`` (the log-likelihood grid, the discretised prior and the
mixture e-values on the grid), ``vectorised`` (:func:`rate_ratio_pvalues`,
:func:`srm_pvalues` for many streams at once), ``srm`` (:class:`SequentialSRM`, the sequential
sample-ratio-mismatch test), ``closed_forms`` (constant-share Bayes factors) and ``_common``
(defaults and input checks).
"""

from __future__ import annotations

from ._common import DEFAULT_GRID_STEP, DEFAULT_MAX_RATIO, DEFAULT_SRM_TAU, DEFAULT_TAU
from .closed_forms import constant_share_log_bayes_factor, dirichlet_multinomial_log_bayes_factor
from .rate_ratio import RateRatioSequence
from .rate_ratio_inference import RateRatioResult
from .srm import SequentialSRM, SequentialSRMResult
from .vectorised import rate_ratio_pvalues, srm_pvalues

__all__ = [
    "DEFAULT_GRID_STEP",
    "DEFAULT_MAX_RATIO",
    "DEFAULT_SRM_TAU",
    "DEFAULT_TAU",
    "RateRatioResult",
    "RateRatioSequence",
    "SequentialSRM",
    "SequentialSRMResult",
    "constant_share_log_bayes_factor",
    "dirichlet_multinomial_log_bayes_factor",
    "rate_ratio_pvalues",
    "srm_pvalues",
]

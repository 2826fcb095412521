"""Seeded synthetic experiment logs: the sample data in ``data/``, notebooks and tests.

Regenerate the shipped samples with ``python -m abkit.datasets`` (or ``abkit simulate ab``).

Submodules: ``ab`` (:func:`make_ab_log`), ``rollout`` (:func:`make_rollout_log`),
``cloudwatch`` (:func:`make_cloudwatch_export`, :func:`write_cloudwatch_samples`), ``files``
(:func:`write_log`), ``samples`` (:func:`write_samples`) and ``capture`` (the seeded
SageMaker shadow-test tree, :func:`abkit.datasets.capture.write_shadow_capture`; imported on
its own, not by this package).
"""

from __future__ import annotations

from .ab import SCENARIOS, _add_dirty_rows, _explode_requests, make_ab_log
from .cloudwatch import make_cloudwatch_export, write_cloudwatch_samples
from .files import write_log
from .rollout import ROLLOUT_SCENARIOS, make_rollout_log
from .samples import _bluegreen_samples, write_samples

__all__ = ["make_ab_log", "make_cloudwatch_export", "make_rollout_log",
           "write_cloudwatch_samples", "write_log", "write_samples"]

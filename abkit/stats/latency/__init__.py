"""Latency percentiles and error rates of a live model and a candidate, with honest intervals.

Four pieces, all pure statistics (arrays or counts in, frozen results out):

* :func:`quantile_ci` -- a sample quantile with a distribution-free interval from order
  statistics (binomial).
* :func:`compare_latency` -- p50/p95/p99 of each variant and the candidate/live ratio of each,
  with a seeded weighted-bootstrap interval (independent samples for blue/green, resampled
  pairs for shadow tests), or conservatively combined order-statistic intervals.
* :func:`window_quantile` -- the quantile of a whole window from CloudWatch per-period
  aggregates (SampleCount and per-period percentiles), never by averaging percentiles, with a
  guaranteed bracket.
* :func:`error_rate` and :func:`compare_error_rates` -- Wilson intervals, a Newcombe interval
  for the difference and a Farrington-Manning score test against a margin.

Quantile definition
    Everywhere in this package the sample ``q``-quantile is the inverse of the empirical CDF,
    ``x_(k)`` with ``k = ceil(n q)`` (``numpy.quantile(x, q, method="inverted_cdf")``; Hyndman
    & Fan 1996, definition 1): the smallest value with at least a share ``q`` of the sample at
    or below it. It is an order statistic, so the order-statistic intervals, the bootstrap
    (which resamples the same estimator) and the CloudWatch bracket all refer to one
    definition. For ``n`` in the thousands it differs from numpy's default (linear
    interpolation) by less than one gap between neighbouring order statistics.

Units
    CloudWatch's SageMaker ``ModelLatency`` is in microseconds (Inference Recommender reports
    a ``ModelLatency`` in milliseconds), and request logs use either. Nothing here converts:
    the caller converts and passes ``unit`` (e.g. ``"ms"``), which the results carry so that
    a report prints the right unit. Ratios are unit-free.

Submodules
    ``quantiles`` -- :func:`quantile_ci`, :class:`QuantileEstimate`, :func:`min_n_for_quantile_ci`
    (order-statistic intervals); ``bootstrap`` -- the weighted-bootstrap engine
    ``_weighted_bootstrap_quantiles``; ``ratios`` -- :func:`compare_latency`,
    :class:`QuantileRatio`, :class:`LatencyComparison`; ``periods`` -- :class:`PeriodSummary`
    and the per-period interpolated CDFs; ``window`` -- :func:`window_quantile`,
    :class:`WindowQuantile`; ``error_rates`` -- :func:`error_rate`, :func:`compare_error_rates`
    and their results; ``_common`` -- ``DEFAULT_QUANTILES`` and the shared argument checks.
"""

from __future__ import annotations

from ._common import DEFAULT_QUANTILES
from .bootstrap import _weighted_bootstrap_quantiles  # noqa: F401  (re-exported)
from .error_rates import ErrorRate, ErrorRateComparison, compare_error_rates, error_rate
from .periods import PeriodSummary
from .quantiles import QuantileEstimate, min_n_for_quantile_ci, quantile_ci
from .ratios import LatencyComparison, Method, QuantileRatio, compare_latency  # noqa: F401
from .window import WindowQuantile, window_quantile

__all__ = [
    "DEFAULT_QUANTILES",
    "ErrorRate",
    "ErrorRateComparison",
    "LatencyComparison",
    "PeriodSummary",
    "QuantileEstimate",
    "QuantileRatio",
    "WindowQuantile",
    "compare_error_rates",
    "compare_latency",
    "error_rate",
    "min_n_for_quantile_ci",
    "quantile_ci",
    "window_quantile",
]

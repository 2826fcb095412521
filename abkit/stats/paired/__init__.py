"""Paired comparison of two models that scored the same inputs (shadow tests).

In a shadow test the live model and the candidate answer the *same* inputs. After the join,
each element ``i`` of the input arrays is one request: ``s_live[i]`` and ``s_cand[i]`` are the two
models' scores (probabilities in ``[0, 1]`` for the label-based metrics; any real values for the
score-difference functions) and ``y[i]`` the ground-truth label when one arrived (``NaN`` when it
did not). A prediction is *positive* when ``score >= threshold``. Because both models see the
same inputs, their errors are correlated, and every comparison here uses the pairing: the
paired statistics are much more precise than two-sample ones on the same data (a two-sample AUC
comparison on highly correlated scores is far too conservative, see ``tests/stats/test_paired.py``).

Functions (each returns a frozen dataclass with ``to_dict()`` giving JSON-safe values):

* :func:`agreement` -- agreement at the threshold and flips in each direction, Wilson intervals.
* :func:`score_differences` -- ``s_cand - s_live``: mean (t interval), mean absolute difference,
  quantiles, max absolute difference; Spearman and Kendall tau-b rank correlations.
* :func:`model_metrics` -- one model against the labels: AUC (DeLong interval), accuracy
  (Wilson), Brier score, log loss, calibration-in-the-large and the observed/expected ratio.
* :func:`mcnemar_test` -- McNemar's test on per-request correctness, and the accuracy difference
  with Newcombe's (1998) paired score interval.
* :func:`delong_test` -- paired AUC difference by DeLong's method (fast algorithm of Sun & Xu),
  with a two-sided p-value and a one-sided non-inferiority p-value.
* :func:`paired_loss_test` -- paired t-test on per-request loss differences (log loss, squared
  or absolute error), with a one-sided non-inferiority p-value.
* :func:`paired_comparison` -- all of the above in one result, with a ``quality`` table.
* :func:`wilson_interval`, :func:`newcombe_paired_interval` -- the interval building blocks.

Data problems never raise and never produce NaN: pairs with a non-finite score are dropped and
counted (``NON_FINITE_DROPPED``), unlabelled pairs (``y`` is NaN) are left out of the
label-based analyses and counted (``UNLABELLED_PAIRS``), and every quantity that cannot be
computed is ``None`` with a :class:`~abkit.stats.results.Diagnostic` saying why. ``ValueError``
is raised only for invalid arguments: arrays that are not one-dimensional or differ in length,
labels other than 0 / 1, a confidence level outside ``(0, 1)``, a negative margin.

Submodules: ``_common`` (constants, JSON helpers, validation, midranks, the t interval),
``intervals`` (Wilson and Newcombe intervals, :class:`Proportion`), ``agreement``, ``scores``
(score differences and rank correlations), ``delong`` (paired AUC test), ``metrics``
(per-model metrics), ``mcnemar``, ``losses`` (per-request losses, paired loss test) and
``comparison`` (:func:`paired_comparison`).
"""

from ._common import (
    LOG_LOSS_EPS,
    MCNEMAR_EXACT_BELOW,
    QUANTILE_LEVELS,
    _check_confidence,
    _check_threshold,
    _ci_dict,
    _diag_list,
    _drop_non_finite,
    _ee_dict,
    _labels,
    _num,
    _scores,
    _z,
)
from .agreement import AgreementResult, agreement
from .comparison import PairedComparison, paired_comparison
from .delong import DeLongResult, delong_test
from .intervals import Proportion, _proportion, newcombe_paired_interval, wilson_interval
from .losses import LossDifferenceResult, paired_loss_test
from .mcnemar import McNemarResult, mcnemar_test
from .metrics import ModelMetrics, model_metrics
from .scores import Correlation, ScoreDifferenceResult, score_differences

__all__ = [
    "LOG_LOSS_EPS",
    "MCNEMAR_EXACT_BELOW",
    "QUANTILE_LEVELS",
    "AgreementResult",
    "Correlation",
    "DeLongResult",
    "LossDifferenceResult",
    "McNemarResult",
    "ModelMetrics",
    "PairedComparison",
    "Proportion",
    "ScoreDifferenceResult",
    "agreement",
    "delong_test",
    "mcnemar_test",
    "model_metrics",
    "newcombe_paired_interval",
    "paired_comparison",
    "paired_loss_test",
    "score_differences",
    "wilson_interval",
]

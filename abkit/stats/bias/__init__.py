"""Bias shift between two models scored on the same inputs, in the spirit of SageMaker Clarify.

For a group column (a *facet* in Clarify's words) and a decision threshold, each model's
positive-prediction rate in a group ``g`` is ``q_g = n_g(y' = 1) / n_g``. Following SageMaker
Clarify's post-training bias metrics, for an advantaged facet ``a`` and a disadvantaged facet
``d``:

* difference in positive proportions in predicted labels, ``DPPL = q_a - q_d``
  (https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-post-training-bias-metric-dppl.html);
* disparate impact, ``DI = q_d / q_a``
  (https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-post-training-bias-metric-di.html;
  undefined when ``q_a = 0``).

Positive DPPL and DI below 1 mean facet ``a`` receives positive predictions more often.
:func:`bias_shift` computes both for the live model and the candidate, and how the candidate
changes them (``candidate - live``). The two models scored the *same* inputs, so their
rates in a group are correlated; the intervals of the changes use that pairing (a two-sample
interval that ignores it is far too wide when the models agree on most inputs, see
``tests/stats/test_bias.py``).

Inference conditions on the group sizes (rows in different groups are independent; within a
group, each request contributes a pair ``(x_i, z_i)`` of live and candidate decisions). The
pair's four cells ``(1, 1), (1, 0), (0, 1), (0, 0)`` are sufficient statistics.

Submodules: ``_common`` (constants), ``groups`` (encoding of group values), ``result_types``
(:class:`GroupRates`, :class:`DisparityShift`, :class:`BiasShiftResult`), ``delta``
(delta-method intervals), ``bootstrap`` (paired bootstrap intervals) and ``shift``
(:func:`bias_shift`).
"""

from ._common import REST
from .result_types import BiasShiftResult, DisparityShift, GroupRates
from .shift import bias_shift

__all__ = ["REST", "BiasShiftResult", "DisparityShift", "GroupRates", "bias_shift"]

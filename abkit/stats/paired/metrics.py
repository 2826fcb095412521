"""One model's quality against the labels: AUC, accuracy, Brier score, log loss, calibration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..results import Diagnostic, EffectEstimate, HasDiagnostics
from ._common import (
    _NONE_EE,
    _REASONS,
    LOG_LOSS_EPS,
    _check_confidence,
    _check_threshold,
    _diag_list,
    _ee_dict,
    _labelled,
    _num,
    _t_interval,
)
from .delong import _auc_estimate, _class_check, _delong_components
from .intervals import Proportion, _proportion
from .losses import _clip_note, _is_probability, _per_request_loss


# --------------------------------------------------------------------------- per-model metrics


@dataclass(frozen=True)
class ModelMetrics(HasDiagnostics):
    """One model's quality on the labelled pairs.

    Attributes
    ----------
    auc : EffectEstimate
        AUC (Mann-Whitney, ties 1/2) with DeLong's standard error and a Wald interval clipped
        to ``[0, 1]``.
    accuracy : Proportion
        Share of correct decisions at ``threshold`` (Wilson interval).
    brier : float or None
        Mean of ``(p - y)^2``.
    log_loss : float or None
        ``-mean(y log p + (1 - y) log(1 - p))`` with ``p`` clipped to
        ``[log_loss_clip, 1 - log_loss_clip]``.
    mean_prediction, base_rate : float or None
        Mean predicted probability and observed share of positives.
    calibration_in_the_large : EffectEstimate
        ``mean(p) - mean(y)`` (positive: over-prediction), t interval over ``p_i - y_i``.
    observed_expected_ratio : float or None
        ``mean(y) / mean(p)`` (``None`` when ``mean(p) = 0``).
    """

    n: int
    n_positive: int
    n_negative: int
    threshold: float
    auc: EffectEstimate
    accuracy: Proportion
    brier: float | None
    log_loss: float | None
    log_loss_clip: float
    mean_prediction: float | None
    base_rate: float | None
    calibration_in_the_large: EffectEstimate
    observed_expected_ratio: float | None
    confidence_level: float
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": int(self.n),
            "n_positive": int(self.n_positive),
            "n_negative": int(self.n_negative),
            "threshold": _num(self.threshold),
            "auc": _ee_dict(self.auc),
            "accuracy": self.accuracy.to_dict(),
            "brier": _num(self.brier),
            "log_loss": _num(self.log_loss),
            "log_loss_clip": _num(self.log_loss_clip),
            "mean_prediction": _num(self.mean_prediction),
            "base_rate": _num(self.base_rate),
            "calibration_in_the_large": _ee_dict(self.calibration_in_the_large),
            "observed_expected_ratio": _num(self.observed_expected_ratio),
            "confidence_level": _num(self.confidence_level),
            "diagnostics": _diag_list(self.diagnostics),
        }


def model_metrics(
    y: Any, s: Any, threshold: float = 0.5, confidence_level: float = 0.95
) -> ModelMetrics:
    """AUC, accuracy, Brier score, log loss and calibration-in-the-large of one model.

    * AUC: Mann-Whitney statistic with ties counted 1/2, DeLong (1988) standard error, Wald
      interval clipped to ``[0, 1]`` (see :func:`delong_test`); needs both classes.
    * accuracy: share of ``(s >= threshold) == y`` with a Wilson interval.
    * Brier score ``mean((s - y)^2)`` (Brier 1950).
    * log loss ``-mean(y log s + (1 - y) log(1 - s))``, ``s`` clipped to
      ``[1e-15, 1 - 1e-15]`` (:data:`LOG_LOSS_EPS`) so that a confident mistake costs
      ``-log(1e-15) = 34.5`` instead of infinity; ``LOG_LOSS_CLIPPED`` counts clipped values.
    * calibration-in-the-large ``mean(s) - mean(y)`` with a t interval over ``s_i - y_i``
      (positive = over-prediction), and the observed/expected ratio ``mean(y) / mean(s)``
      (Steyerberg, "Clinical Prediction Models", 2nd ed. 2019, ch. 15).

    Brier score, log loss and calibration need probabilities: with scores outside ``[0, 1]``
    they are ``None`` (``NOT_PROBABILITIES``). Unlabelled pairs (``y`` NaN) are left out.
    """
    cl = _check_confidence(confidence_level)
    thr = _check_threshold(threshold)
    diags: list[Diagnostic] = []
    yy, (p,) = _labelled(y, s, None, diags)
    n = int(yy.size)
    m = int((yy == 1).sum())
    auc = _NONE_EE
    if _class_check(yy, diags):
        a, v10, v01 = _delong_components(yy == 1, [p])
        if m < 2 or n - m < 2:
            diags.append(Diagnostic(
                "TOO_FEW_PER_CLASS", f"{m} positive and {n - m} negative labelled pair(s): "
                "the AUC's variance needs at least 2 of each"))
            auc = EffectEstimate(float(a[0]), None, None, None)
        else:
            var = float(v10[0].var(ddof=1)) / m + float(v01[0].var(ddof=1)) / (n - m)
            auc = _auc_estimate(float(a[0]), var, cl)
            if not var > 0.0:
                diags.append(Diagnostic("AUC_ZERO_VARIANCE", "the AUC has zero DeLong variance "
                                        "(perfect separation or constant scores): no interval"))
    acc = _proportion(int(((p >= thr) == (yy == 1)).sum()), n, cl)
    brier = ll = mean_p = base = oe = None
    citl = _NONE_EE
    if n:
        base = float(yy.mean())
        if not _is_probability(p):
            diags.append(Diagnostic("NOT_PROBABILITIES", "scores outside [0, 1]: Brier score, "
                                    "log loss and calibration are undefined"))
        else:
            mean_p = float(p.mean())
            brier = float(_per_request_loss(yy, p, "squared_error").mean())
            _clip_note("", p, diags)
            ll = float(_per_request_loss(yy, p, "log_loss").mean())
            citl, reason = _t_interval(p - yy, cl)
            if reason is not None:
                diags.append(Diagnostic(reason, "calibration-in-the-large: " + _REASONS[reason]))
            if mean_p > 0.0:
                oe = base / mean_p
            else:
                diags.append(Diagnostic("OE_UNDEFINED", "the mean prediction is 0: the "
                                        "observed/expected ratio is undefined"))
    return ModelMetrics(n, m, n - m, thr, auc, acc, brier, ll, LOG_LOSS_EPS, mean_p, base, citl,
                        oe, cl, tuple(diags))

"""All paired comparisons in one result, with a ``quality`` table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..results import Diagnostic, HasDiagnostics
from ._common import (
    MCNEMAR_EXACT_BELOW,
    _check_confidence,
    _check_margin,
    _ci_dict,
    _diag_list,
    _labels,
    _num,
    _scores,
)
from .agreement import AgreementResult, agreement
from .delong import DeLongResult, delong_test
from .losses import LossDifferenceResult, _is_probability, paired_loss_test
from .mcnemar import McNemarResult, mcnemar_test
from .metrics import ModelMetrics, model_metrics
from .scores import ScoreDifferenceResult, score_differences


# --------------------------------------------------------------------------- all in one


@dataclass(frozen=True)
class PairedComparison(HasDiagnostics):
    """Everything :func:`paired_comparison` computes; label-based parts are ``None`` without
    labels.

    ``to_dict()["quality"]`` is one row per metric (``auc``, ``accuracy``, ``brier``,
    ``log_loss``) with ``live``, ``candidate``, ``diff`` (candidate - live), ``ci`` (of the
    difference), ``pvalue`` (two-sided test of no difference), ``noninferiority_pvalue`` and
    ``margin`` (where a margin applies), ``higher_is_better`` and the ``method``.
    """

    agreement: AgreementResult
    scores: ScoreDifferenceResult
    live: ModelMetrics | None
    candidate: ModelMetrics | None
    mcnemar: McNemarResult | None
    delong: DeLongResult | None
    log_loss: LossDifferenceResult | None
    brier: LossDifferenceResult | None
    n_pairs: int
    n_labelled: int
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def quality(self) -> dict[str, dict[str, Any]]:
        if self.live is None or self.candidate is None:
            return {}
        lv, cd = self.live, self.candidate
        out: dict[str, dict[str, Any]] = {}
        if self.delong is not None:
            d = self.delong.difference
            out["auc"] = {
                "live": _num(lv.auc.estimate), "candidate": _num(cd.auc.estimate),
                "diff": _num(d.estimate), "ci": _ci_dict(d.ci), "pvalue": _num(d.pvalue),
                "margin": _num(self.delong.margin),
                "noninferiority_pvalue": _num(self.delong.noninferiority_pvalue),
                "higher_is_better": True, "method": "delong",
            }
        if self.mcnemar is not None:
            mc = self.mcnemar
            out["accuracy"] = {
                "live": _num(lv.accuracy.estimate), "candidate": _num(cd.accuracy.estimate),
                "diff": _num(mc.accuracy_difference), "ci": _ci_dict(mc.accuracy_difference_ci),
                "pvalue": _num(mc.pvalue), "margin": None, "noninferiority_pvalue": None,
                "higher_is_better": True, "method": f"mcnemar-{mc.method}+newcombe-10"
                if mc.method else "newcombe-10",
            }
        for key, res, lval, cval in (("brier", self.brier, lv.brier, cd.brier),
                                     ("log_loss", self.log_loss, lv.log_loss, cd.log_loss)):
            if res is None:
                continue
            d = res.difference
            out[key] = {
                "live": _num(lval), "candidate": _num(cval), "diff": _num(d.estimate),
                "ci": _ci_dict(d.ci), "pvalue": _num(d.pvalue), "margin": _num(res.margin),
                "noninferiority_pvalue": _num(res.noninferiority_pvalue),
                "higher_is_better": False, "method": "paired-t",
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        opt = lambda r: None if r is None else r.to_dict()
        return {
            "pairs": int(self.n_pairs),
            "labelled_pairs": int(self.n_labelled),
            "agreement": self.agreement.to_dict(),
            "scores": self.scores.to_dict(),
            "live": opt(self.live),
            "candidate": opt(self.candidate),
            "mcnemar": opt(self.mcnemar),
            "delong": opt(self.delong),
            "log_loss": opt(self.log_loss),
            "brier": opt(self.brier),
            "quality": self.quality(),
            "diagnostics": _diag_list(self.diagnostics),
        }


def paired_comparison(
    s_live: Any,
    s_cand: Any,
    y: Any | None = None,
    *,
    threshold: float = 0.5,
    confidence_level: float = 0.95,
    auc_margin: float = 0.0,
    log_loss_margin: float = 0.0,
    brier_margin: float = 0.0,
    exact_below: int = MCNEMAR_EXACT_BELOW,
) -> PairedComparison:
    """Run every paired comparison of this module on one set of matched pairs.

    Label-free: :func:`agreement` and :func:`score_differences` on all pairs. With ``y``
    (NaN for unlabelled pairs): :func:`model_metrics` for each model, :func:`mcnemar_test`,
    :func:`delong_test` (``auc_margin``) and :func:`paired_loss_test` for the log loss
    (``log_loss_margin``) and the squared error, i.e. the Brier score (``brier_margin``), on
    the labelled pairs. The log loss and Brier comparisons are skipped (``None``, with
    ``NOT_PROBABILITIES``) when a score lies outside ``[0, 1]``. Margins are absolute, in the
    metric's units, and default to 0.
    """
    cl = _check_confidence(confidence_level)
    a, b = _scores(s_live, s_cand)
    diags: list[Diagnostic] = []
    agr = agreement(a, b, threshold, cl)
    sd = score_differences(a, b, cl)
    if y is None:
        return PairedComparison(agr, sd, None, None, None, None, None, None, agr.n, 0,
                                tuple(diags))
    v = _labels(y, a.size)
    lab = ~np.isnan(v) & np.isfinite(a) & np.isfinite(b)
    n_lab = int(lab.sum())
    live = model_metrics(v, a, threshold, cl)
    cand = model_metrics(v, b, threshold, cl)
    mc = mcnemar_test(v, a, b, threshold, exact_below, cl)
    dl = delong_test(v, a, b, auc_margin, cl)
    ll = br = None
    fin = np.isfinite(a) & np.isfinite(b)
    if _is_probability(a[fin]) and _is_probability(b[fin]):
        ll = paired_loss_test(v, a, b, "log_loss", log_loss_margin, cl)
        br = paired_loss_test(v, a, b, "squared_error", brier_margin, cl)
    else:
        _check_margin(log_loss_margin)
        _check_margin(brier_margin)
        diags.append(Diagnostic("NOT_PROBABILITIES", "scores outside [0, 1]: log-loss and "
                                "Brier comparisons skipped"))
    return PairedComparison(agr, sd, live, cand, mc, dl, ll, br, agr.n, n_lab, tuple(diags))

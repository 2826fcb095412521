"""Agreement of the two models' decisions at a threshold, and flips in each direction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..results import Diagnostic, HasDiagnostics
from ._common import (
    _check_confidence,
    _check_threshold,
    _diag_list,
    _drop_non_finite,
    _num,
    _scores,
)
from .intervals import Proportion, _proportion


# --------------------------------------------------------------------------- agreement


@dataclass(frozen=True)
class AgreementResult(HasDiagnostics):
    """Agreement of the two models' decisions at ``threshold`` on the same inputs.

    Attributes
    ----------
    n : int
        Pairs used.
    agreement : Proportion
        Share of pairs where both decisions are equal.
    neg_to_pos, pos_to_neg : Proportion
        Flips: live negative and candidate positive, and live positive and candidate negative,
        as counts and as shares of *all* pairs.
    live_positive, candidate_positive : Proportion
        Each model's positive-prediction rate.
    """

    n: int
    threshold: float
    agreement: Proportion
    neg_to_pos: Proportion
    pos_to_neg: Proportion
    live_positive: Proportion
    candidate_positive: Proportion
    confidence_level: float
    method: str = "wilson"
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": int(self.n),
            "threshold": _num(self.threshold),
            "agreement": self.agreement.to_dict(),
            "flips": {"neg_to_pos": self.neg_to_pos.to_dict(),
                      "pos_to_neg": self.pos_to_neg.to_dict()},
            "live_positive": self.live_positive.to_dict(),
            "candidate_positive": self.candidate_positive.to_dict(),
            "confidence_level": _num(self.confidence_level),
            "method": self.method,
            "diagnostics": _diag_list(self.diagnostics),
        }


def agreement(
    s_live: Any, s_cand: Any, threshold: float = 0.5, confidence_level: float = 0.95
) -> AgreementResult:
    """Agreement at ``threshold`` and flips in each direction, with Wilson intervals.

    A prediction is positive when ``score >= threshold``. ``neg_to_pos`` counts pairs the
    live model calls negative and the candidate positive; ``pos_to_neg`` the reverse; both are
    also given as shares of all pairs. Every share has a Wilson (1927) score interval
    (:func:`wilson_interval`, equal to statsmodels' ``proportion_confint(method="wilson")``).

    Parameters
    ----------
    s_live, s_cand : array_like
        Scores of the live and candidate models, one element per matched request.
    threshold : float, default 0.5
        Decision threshold.
    confidence_level : float, default 0.95
        Level of the intervals.
    """
    cl = _check_confidence(confidence_level)
    thr = _check_threshold(threshold)
    diags: list[Diagnostic] = []
    a, b = _drop_non_finite(list(_scores(s_live, s_cand)), diags)
    n = int(a.size)
    pl, pc = a >= thr, b >= thr
    if n == 0:
        diags.append(Diagnostic("NO_PAIRS", "there are no pairs: agreement and flips are "
                                "undefined"))
    return AgreementResult(
        n, thr,
        _proportion(int((pl == pc).sum()), n, cl),
        _proportion(int((~pl & pc).sum()), n, cl),
        _proportion(int((pl & ~pc).sum()), n, cl),
        _proportion(int(pl.sum()), n, cl),
        _proportion(int(pc.sum()), n, cl),
        cl, "wilson", tuple(diags),
    )

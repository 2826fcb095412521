"""McNemar's test on per-request correctness and the paired accuracy difference."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..results import ConfidenceInterval, Diagnostic, HasDiagnostics
from ._common import (
    MCNEMAR_EXACT_BELOW,
    _check_confidence,
    _check_threshold,
    _ci_dict,
    _diag_list,
    _labelled,
    _num,
)
from .intervals import Proportion, _proportion, newcombe_paired_interval


# --------------------------------------------------------------------------- McNemar


@dataclass(frozen=True)
class McNemarResult(HasDiagnostics):
    """McNemar's test of equal accuracy on the same labelled pairs.

    Convention: ``b`` = live correct and candidate wrong, ``c`` = live wrong and candidate
    correct (so ``c > b`` favours the candidate). ``method`` is ``"exact"`` (two-sided
    binomial test of ``b ~ Bin(b + c, 1/2)``) or ``"chi2-continuity"``. The accuracy
    difference is ``candidate - live = (c - b) / n`` with Newcombe's paired interval.
    """

    n: int
    b: int
    c: int
    both_correct: int
    both_wrong: int
    method: str | None
    exact_below: int
    statistic: float | None
    pvalue: float | None
    accuracy_live: Proportion
    accuracy_candidate: Proportion
    accuracy_difference: float | None
    accuracy_difference_ci: ConfidenceInterval | None
    threshold: float
    confidence_level: float
    convention: str = "b = live correct & candidate wrong; c = live wrong & candidate correct"
    accuracy_difference_method: str = "newcombe-1998-method-10"
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": int(self.n),
            "b": int(self.b),
            "c": int(self.c),
            "both_correct": int(self.both_correct),
            "both_wrong": int(self.both_wrong),
            "convention": self.convention,
            "method": self.method,
            "exact_below": int(self.exact_below),
            "statistic": _num(self.statistic),
            "pvalue": _num(self.pvalue),
            "accuracy_live": self.accuracy_live.to_dict(),
            "accuracy_candidate": self.accuracy_candidate.to_dict(),
            "accuracy_difference": _num(self.accuracy_difference),
            "accuracy_difference_ci": _ci_dict(self.accuracy_difference_ci),
            "accuracy_difference_method": self.accuracy_difference_method,
            "threshold": _num(self.threshold),
            "confidence_level": _num(self.confidence_level),
            "diagnostics": _diag_list(self.diagnostics),
        }


def _mcnemar_p(b: int, c: int, exact: bool) -> tuple[float, float]:
    """(statistic, two-sided p-value) of McNemar's test for ``b + c > 0`` discordant pairs."""
    from scipy import special as sp

    if exact:
        k = min(b, c)
        return float(k), min(1.0, 2.0 * float(sp.bdtr(k, b + c, 0.5)))
    # Edwards' continuity correction, floored at 0 so that b == c gives p = 1
    stat = max(abs(b - c) - 1.0, 0.0) ** 2 / (b + c)
    return stat, float(sp.chdtrc(1, stat))


def mcnemar_test(
    y: Any,
    s_live: Any,
    s_cand: Any,
    threshold: float = 0.5,
    exact_below: int = MCNEMAR_EXACT_BELOW,
    confidence_level: float = 0.95,
) -> McNemarResult:
    """McNemar's (1947) test on per-request correctness, and the paired accuracy difference.

    Decisions are ``score >= threshold``; each labelled request is correct or wrong under each
    model. Convention: ``b`` = live correct & candidate wrong, ``c`` = live wrong & candidate
    correct. Under ``H0`` (equal accuracy) ``b ~ Bin(b + c, 1/2)`` given ``b + c``:

    * ``b + c < exact_below`` (default 25): exact two-sided binomial p-value
      ``min(1, 2 P(Bin(b + c, 1/2) <= min(b, c)))``, statistic ``min(b, c)`` -- as
      ``statsmodels.stats.contingency_tables.mcnemar(table, exact=True)``;
    * otherwise: chi-square with 1 df on ``(|b - c| - 1)^2 / (b + c)`` (Edwards' 1948
      continuity correction) -- as ``mcnemar(table, exact=False, correction=True)``, except
      that ``|b - c| - 1`` is floored at 0, so ``b == c`` gives statistic 0 and p = 1
      (statsmodels reports ``1 / (b + c)`` there).

    With no discordant pairs (``b + c = 0``, e.g. identical models) the test has no
    information: ``pvalue`` is ``None`` with ``NO_DISCORDANT_PAIRS``. The accuracy difference
    ``candidate - live = (c - b) / n`` gets Newcombe's (1998) method-10 interval for paired
    proportions (:func:`newcombe_paired_interval`), which stays informative in that case.

    Parameters
    ----------
    y : array_like
        0 / 1 labels, NaN for unlabelled pairs.
    s_live, s_cand : array_like
        Scores (or 0 / 1 class predictions with the default threshold).
    threshold : float, default 0.5
    exact_below : int, default 25
        Use the exact binomial test when ``b + c`` is below this.
    confidence_level : float, default 0.95
    """
    cl = _check_confidence(confidence_level)
    thr = _check_threshold(threshold)
    if isinstance(exact_below, bool) or int(exact_below) != exact_below or exact_below < 0:
        raise ValueError(f"exact_below must be a non-negative integer, got {exact_below!r}")
    diags: list[Diagnostic] = []
    yy, (a, bb) = _labelled(y, s_live, s_cand, diags)
    n = int(yy.size)
    pos = yy == 1
    ok_l = (a >= thr) == pos
    ok_c = (bb >= thr) == pos
    n11 = int((ok_l & ok_c).sum())
    b = int((ok_l & ~ok_c).sum())
    c = int((~ok_l & ok_c).sum())
    n00 = n - n11 - b - c
    method = stat = p = diff = None
    ci = None
    if n == 0:
        diags.append(Diagnostic("NO_LABELLED_PAIRS", "there are no labelled pairs"))
    else:
        diff = (c - b) / n
        ci = newcombe_paired_interval(n11, c, b, n00, cl)  # (candidate, live) order
        if b + c == 0:
            diags.append(Diagnostic(
                "NO_DISCORDANT_PAIRS",
                "the two models are right and wrong on exactly the same inputs: McNemar's "
                "test has no information (no p-value); see the accuracy difference interval",
            ))
        else:
            exact = (b + c) < int(exact_below)
            method = "exact" if exact else "chi2-continuity"
            stat, p = _mcnemar_p(b, c, exact)
    return McNemarResult(
        n, b, c, n11, n00, method, int(exact_below), stat, p,
        _proportion(n11 + b, n, cl), _proportion(n11 + c, n, cl), diff, ci, thr, cl,
        diagnostics=tuple(diags),
    )

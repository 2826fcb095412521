"""Result dataclasses of :func:`~abkit.stats.bias.bias_shift`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..paired.intervals import Proportion
from ..paired._common import _ci_dict, _diag_list, _ee_dict, _num
from ..results import ConfidenceInterval, Diagnostic, EffectEstimate, HasDiagnostics
from .groups import _group_json


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class GroupRates:
    """One group's decisions under both models.

    ``positive_live`` / ``positive_candidate``: positive-prediction rates (Wilson intervals);
    ``accuracy_live`` / ``accuracy_candidate``: accuracy on the group's labelled pairs
    (``None`` without labels); ``accuracy_change``: ``candidate - live`` accuracy with
    Newcombe's (1998) paired interval.
    """

    group: str | int | float
    n: int
    n_labelled: int
    positive_live: Proportion
    positive_candidate: Proportion
    accuracy_live: Proportion | None
    accuracy_candidate: Proportion | None
    accuracy_change: float | None
    accuracy_change_ci: ConfidenceInterval | None
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        opt = lambda p: None if p is None else p.to_dict()
        return {
            "group": _group_json(self.group),
            "n": int(self.n),
            "n_labelled": int(self.n_labelled),
            "positive_live": self.positive_live.to_dict(),
            "positive_candidate": self.positive_candidate.to_dict(),
            "accuracy_live": opt(self.accuracy_live),
            "accuracy_candidate": opt(self.accuracy_candidate),
            "accuracy_change": _num(self.accuracy_change),
            "accuracy_change_ci": _ci_dict(self.accuracy_change_ci),
            "diagnostics": _diag_list(self.diagnostics),
        }


@dataclass(frozen=True)
class DisparityShift(HasDiagnostics):
    """Disparity between facet ``a`` (advantaged / reference) and facet ``d`` for both models.

    Every field is an :class:`EffectEstimate` whose ``pvalue`` tests "no disparity"
    (``DPPL = 0``, ``DI = 1``) or "no change" (change ``= 0``). ``dppl_*`` and ``di_*`` of one
    model compare independent groups; ``*_change`` (candidate - live) use the pairing.
    ``facet_a`` is the reference group or :data:`REST` (all rows outside ``facet_d``).
    """

    facet_d: str | int | float
    facet_a: str | int | float
    n_d: int
    n_a: int
    q_d_live: float | None
    q_a_live: float | None
    q_d_candidate: float | None
    q_a_candidate: float | None
    dppl_live: EffectEstimate
    dppl_candidate: EffectEstimate
    dppl_change: EffectEstimate
    di_live: EffectEstimate
    di_candidate: EffectEstimate
    di_change: EffectEstimate
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "facet_d": _group_json(self.facet_d),
            "facet_a": _group_json(self.facet_a),
            "n_d": int(self.n_d),
            "n_a": int(self.n_a),
            "q_d_live": _num(self.q_d_live),
            "q_a_live": _num(self.q_a_live),
            "q_d_candidate": _num(self.q_d_candidate),
            "q_a_candidate": _num(self.q_a_candidate),
            "dppl": {"live": _ee_dict(self.dppl_live),
                     "candidate": _ee_dict(self.dppl_candidate),
                     "change": _ee_dict(self.dppl_change)},
            "di": {"live": _ee_dict(self.di_live),
                   "candidate": _ee_dict(self.di_candidate),
                   "change": _ee_dict(self.di_change)},
            "diagnostics": _diag_list(self.diagnostics),
        }


@dataclass(frozen=True)
class BiasShiftResult(HasDiagnostics):
    """Per-group rates and the disparity comparisons of :func:`bias_shift`.

    ``mode`` is ``"reference"`` (each other group ``d`` against the reference group ``a``) or
    ``"one-vs-rest"`` (each group ``d`` against all other rows). ``method`` is
    ``"delta"`` or ``"bootstrap"`` (then ``n_resamples`` and ``seed`` are set).
    """

    n: int
    threshold: float
    mode: str
    reference: str | int | float | None
    method: str
    n_resamples: int | None
    seed: int | None
    confidence_level: float
    groups: tuple[GroupRates, ...]
    comparisons: tuple[DisparityShift, ...]
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def comparison(self, facet_d: Any) -> DisparityShift | None:
        """The comparison whose facet ``d`` is ``facet_d`` (``None`` if there is none)."""
        for c in self.comparisons:
            if c.facet_d == facet_d or str(c.facet_d) == str(facet_d):
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": int(self.n),
            "threshold": _num(self.threshold),
            "mode": self.mode,
            "reference": None if self.reference is None else _group_json(self.reference),
            "method": self.method,
            "n_resamples": None if self.n_resamples is None else int(self.n_resamples),
            "seed": None if self.seed is None else int(self.seed),
            "confidence_level": _num(self.confidence_level),
            "groups": [g.to_dict() for g in self.groups],
            "comparisons": [c.to_dict() for c in self.comparisons],
            "diagnostics": _diag_list(self.diagnostics),
        }

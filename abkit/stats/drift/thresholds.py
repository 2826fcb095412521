"""Method names, PSI epsilon, the default thresholds (:class:`DriftThresholds`) and
:class:`DriftResult`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from ..results import Diagnostic, HasDiagnostics


Method = Literal["ks", "chi2", "psi", "js", "wasserstein"]
NUMERIC_METHODS: tuple[str, ...] = ("ks", "psi", "js", "wasserstein")
CATEGORICAL_METHODS: tuple[str, ...] = ("chi2", "psi", "js")
_ALL_METHODS = ("ks", "chi2", "psi", "js", "wasserstein")

PSI_EPSILON = 1e-4
OTHER = "<other>"
# thresholds are inclusive; a statistic within this of its threshold counts as reaching it, so
# that rounding (0.09999999999999999 for a total variation of exactly 0.1) does not decide
_TOL = 1e-12


@dataclass(frozen=True)
class DriftThresholds:
    """Thresholds that decide ``drifted`` (see the module docstring for their provenance).

    Attributes
    ----------
    alpha : float
        p-value threshold of ``ks`` and ``chi2`` (default 0.01).
    ks_min_statistic : float
        Effect floor on the KS statistic ``D`` (default 0.1).
    chi2_min_tv : float
        Effect floor on the total variation distance of the category shares (default 0.1).
    psi, psi_major : float
        PSI above which a feature drifted (0.1) and above which the shift is "major" (0.25,
        diagnostic only).
    js : float
        Jensen-Shannon distance threshold (0.1).
    wasserstein : float
        Threshold on ``W1 / sd(reference)`` (0.1).
    """

    alpha: float = 0.01
    ks_min_statistic: float = 0.1
    chi2_min_tv: float = 0.1
    psi: float = 0.1
    psi_major: float = 0.25
    js: float = 0.1
    wasserstein: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        for name in ("ks_min_statistic", "chi2_min_tv", "psi", "psi_major", "js", "wasserstein"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0.0):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")

    def threshold(self, method: str) -> float:
        """The threshold that the method's ``threshold`` field reports."""
        return {
            "ks": self.alpha, "chi2": self.alpha, "psi": self.psi, "js": self.js,
            "wasserstein": self.wasserstein,
        }[method]


DEFAULT_THRESHOLDS = DriftThresholds()


@dataclass(frozen=True)
class DriftResult(HasDiagnostics):
    """One drift measure for one feature.

    Attributes
    ----------
    method : str
        ``"ks"``, ``"chi2"``, ``"psi"``, ``"js"`` or ``"wasserstein"``.
    statistic : float or None
        KS ``D``; the chi-square statistic; PSI; JS distance; ``W1 / sd(reference)``.
    pvalue : float or None
        For ``ks`` and ``chi2``; ``None`` for the distance measures.
    threshold : float
        For ``ks``/``chi2`` the p-value threshold (``alpha``); otherwise the threshold on
        ``statistic``.
    drifted : bool or None
        ``ks``/``chi2``: ``pvalue < threshold and effect_size >= effect_floor``; others:
        ``statistic >= threshold``. ``None`` when the statistic is undefined (see diagnostics).
    n_reference, n_current : int
        Values used (after leaving out missing values).
    effect_size, effect_floor : float or None
        ``ks``: ``D`` and its floor; ``chi2``: the total variation distance and its floor.
    expected_under_no_drift : float or None
        Large-sample expectation of the distance measures with no drift at these sample sizes.
    feature : str or None
        Feature name when the result comes from :func:`drift_table`.
    """

    method: str
    statistic: float | None
    pvalue: float | None
    threshold: float
    drifted: bool | None
    n_reference: int
    n_current: int
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)
    effect_size: float | None = None
    effect_floor: float | None = None
    expected_under_no_drift: float | None = None
    feature: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "method": self.method,
            "statistic": self.statistic,
            "pvalue": self.pvalue,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "effect_size": self.effect_size,
            "effect_floor": self.effect_floor,
            "expected_under_no_drift": self.expected_under_no_drift,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }

"""Pure statistics: sufficient statistics in, frozen results out. No I/O, no pandas."""

from .compare import Comparison, Estimand, compare, noninferiority_pvalue
from .moments import MomentStats
from .multitest import CORRECTIONS, adjust_pvalues
from .results import ConfidenceInterval, Diagnostic, EffectEstimate
from .srm import SRMResult, srm_test

__all__ = [
    "CORRECTIONS",
    "Comparison",
    "ConfidenceInterval",
    "Diagnostic",
    "EffectEstimate",
    "Estimand",
    "MomentStats",
    "SRMResult",
    "adjust_pvalues",
    "compare",
    "noninferiority_pvalue",
    "srm_test",
]

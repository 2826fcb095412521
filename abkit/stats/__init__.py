"""Pure statistics: sufficient statistics in, frozen results out. No I/O, no pandas."""

from .compare import Comparison, Estimand, compare, noninferiority_pvalue
from .moments import MomentStats
from .multitest import CORRECTIONS, adjust_pvalues
from .power import SampleSize, minimum_detectable_effect, sample_size
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
    "SampleSize",
    "adjust_pvalues",
    "compare",
    "minimum_detectable_effect",
    "noninferiority_pvalue",
    "sample_size",
    "srm_test",
]

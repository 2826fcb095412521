"""Pure statistics: sufficient statistics in, frozen results out. No I/O, no pandas.

Modules: ``compare`` (Welch, delta method, CUPED), ``moments``, ``srm``, ``multitest``,
``power``, ``sequential`` (asymptotic confidence sequences, mSPRT), ``mixture`` (exact
rate-ratio e-processes, sequential SRM), ``gst`` (Lan-DeMets group sequential designs),
``paired`` (shadow-test comparisons: agreement, McNemar, DeLong, paired losses), ``bias``
(DPPL / DI shifts), ``drift`` (KS, chi-square, PSI, JS, Wasserstein, onset), ``latency``
(quantile intervals, ratios, CloudWatch window quantiles, error rates). The names below are
the most used; the rest are in their modules.
"""

from .compare import Comparison, Estimand, compare, noninferiority_pvalue
from .moments import MomentStats
from .multitest import CORRECTIONS, adjust_pvalues
from .power import SampleSize, minimum_detectable_effect, sample_size
from .results import ConfidenceInterval, Diagnostic, EffectEstimate
from .srm import SRMResult, srm_test

_LAZY = {
    "SequentialDiffStats": "sequential", "asymptotic_cs": "sequential", "rho_for": "sequential",
    "msprt": "sequential", "RateRatioSequence": "mixture", "SequentialSRM": "mixture",
    "GroupSequentialDesign": "gst", "paired_comparison": "paired", "delong_test": "paired",
    "mcnemar_test": "paired", "bias_shift": "bias", "drift_table": "drift",
    "drift_onset": "drift", "compare_latency": "latency", "window_quantile": "latency",
    "compare_error_rates": "latency", "quantile_ci": "latency",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    *_LAZY,
]

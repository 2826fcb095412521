"""The result types live in :mod:`abkit.core.results` (shared by every layer)."""

from ..core.results import (  # noqa: F401
    Alternative, ConfidenceInterval, Diagnostic, EffectEstimate, HasDiagnostics,
)

__all__ = ["Alternative", "ConfidenceInterval", "Diagnostic", "EffectEstimate",
           "HasDiagnostics"]

"""Result objects shared by the statistical tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Alternative", "ConfidenceInterval", "Diagnostic", "EffectEstimate",
           "HasDiagnostics"]

Alternative = Literal["two-sided", "less", "greater"]


@dataclass(frozen=True)
class ConfidenceInterval:
    """A confidence interval ``[low, high]``."""

    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"low": float(self.low), "high": float(self.high)}

    def __contains__(self, x: float) -> bool:
        return self.low <= x <= self.high


@dataclass(frozen=True)
class Diagnostic:
    """A machine-readable note about a result: a stable ``code`` and a human ``message``."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class HasDiagnostics:
    """Mixin for result objects with a ``diagnostics`` tuple of :class:`Diagnostic`."""

    diagnostics: tuple[Diagnostic, ...]

    def has(self, code: str) -> bool:
        """True when a diagnostic with ``code`` is attached."""
        return any(d.code == code for d in self.diagnostics)


@dataclass(frozen=True)
class EffectEstimate:
    """An estimate with its standard error, interval and p-value.

    ``ci``, ``pvalue`` and ``se`` are ``None`` when the estimate exists but its uncertainty
    cannot be computed (fewer than two units in an arm); ``estimate`` is ``None`` when the
    quantity itself is undefined (for example a relative effect over a zero control mean).
    The reason is always in the owning result's diagnostics.
    """

    estimate: float | None
    se: float | None
    ci: ConfidenceInterval | None
    pvalue: float | None
    df: float | None = None
    statistic: float | None = None

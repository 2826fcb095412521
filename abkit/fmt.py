"""Number formatting shared by decision reasons and rendered reports."""

from __future__ import annotations

__all__ = ["fmt_p"]


def fmt_p(x: float | None) -> str:
    """A p-value: three decimals, scientific below 0.001, ``n/a`` when missing."""
    if x is None:
        return "n/a"
    return f"{x:.1e}" if x < 0.001 else f"{x:.3f}"

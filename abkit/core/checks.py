"""Argument checks shared by the statistics modules (data problems are diagnostics, not
errors; these are for invalid arguments only)."""

from __future__ import annotations

ALTERNATIVES = ("two-sided", "less", "greater")


def check_unit_interval(name: str, value: float, hint: str = "") -> float:
    """``value`` as a float in the open interval (0, 1), else ValueError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1){hint}, got {value!r}") from None
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be in (0, 1){hint}, got {value!r}")
    return v


def check_alpha(alpha: float) -> float:
    return check_unit_interval("alpha", alpha)


def check_alternative(alternative: str) -> str:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be two-sided, less or greater, got {alternative!r}")
    return alternative

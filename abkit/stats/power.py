"""Planning: units needed per arm, and the effect a given sample can detect.

Normal approximation matching abkit's tests: unpooled (Welch-type) variances, so a
proportion's variance is ``p(1-p)`` in each arm at its own rate. Two-sided by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["SampleSize", "sample_size", "minimum_detectable_effect"]


@dataclass(frozen=True)
class SampleSize:
    """Units per arm for a planned comparison (rounded up), and the inputs that produced it."""

    n_control: int
    n_treatment: int
    kind: str
    baseline: float
    effect: float  # absolute effect, treatment - control
    alpha: float
    power: float
    ratio: float
    alternative: str

    @property
    def total(self) -> int:
        return self.n_control + self.n_treatment


def _z(alpha: float, power: float, alternative: str) -> float:
    from scipy.special import ndtri

    a = alpha / 2 if alternative == "two-sided" else alpha
    return float(ndtri(1 - a) + ndtri(power))


def _check(alpha: float, power: float, ratio: float, alternative: str) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not 0 < power < 1:
        raise ValueError(f"power must be in (0, 1), got {power}")
    if not ratio > 0:
        raise ValueError(f"ratio (n_treatment / n_control) must be > 0, got {ratio}")
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(f"alternative must be two-sided, less or greater, got {alternative!r}")


def sample_size(
    kind: Literal["proportion", "mean"],
    baseline: float,
    mde: float,
    *,
    sd: float | None = None,
    relative: bool = True,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    alternative: str = "two-sided",
) -> SampleSize:
    """Units per arm to detect ``mde`` with the given power.

    Parameters
    ----------
    kind : {"proportion", "mean"}
        A 0/1 metric with rate ``baseline``, or a mean metric with standard deviation ``sd``.
    baseline : float
        Control rate or mean.
    mde : float
        Minimum detectable effect: relative to ``baseline`` (0.05 = +5 %) when ``relative``,
        else absolute.
    sd : float
        Per-unit standard deviation (``kind="mean"``), assumed equal in both arms.
    ratio : float
        ``n_treatment / n_control`` (0.1 for a 10 % canary against 100 % baseline traffic
        would be 0.111...).
    """
    _check(alpha, power, ratio, alternative)
    effect = mde * baseline if relative else mde
    if effect == 0:
        raise ValueError("the minimum detectable effect must not be 0")
    if kind == "proportion":
        p1, p2 = baseline, baseline + effect
        if not (0 < p1 < 1 and 0 < p2 < 1):
            raise ValueError(f"rates must be in (0, 1): control {p1}, treatment {p2}")
        var_c, var_t = p1 * (1 - p1), p2 * (1 - p2)
    elif kind == "mean":
        if sd is None or not sd > 0:
            raise ValueError("a mean metric needs its per-unit standard deviation sd > 0")
        var_c = var_t = sd * sd
    else:
        raise ValueError(f"kind must be 'proportion' or 'mean', got {kind!r}")
    z = _z(alpha, power, alternative)
    n_c = z * z * (var_c + var_t / ratio) / (effect * effect)
    n_c_int = math.ceil(n_c - 1e-9)
    n_t_int = math.ceil(n_c_int * ratio - 1e-9)
    return SampleSize(n_c_int, n_t_int, kind, baseline, effect, alpha, power, ratio,
                      alternative)


def minimum_detectable_effect(
    kind: Literal["proportion", "mean"],
    baseline: float,
    n_control: int,
    n_treatment: int,
    *,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: str = "two-sided",
) -> float:
    """The smallest absolute increase detectable with these sample sizes.

    For proportions the treatment variance depends on the effect, so the equation is solved
    by fixed-point iteration (it converges in a few steps).
    """
    _check(alpha, power, 1.0, alternative)
    if n_control < 2 or n_treatment < 2:
        raise ValueError("each arm needs at least 2 units")
    z = _z(alpha, power, alternative)
    if kind == "mean":
        if sd is None or not sd > 0:
            raise ValueError("a mean metric needs its per-unit standard deviation sd > 0")
        return z * sd * math.sqrt(1 / n_control + 1 / n_treatment)
    if kind != "proportion":
        raise ValueError(f"kind must be 'proportion' or 'mean', got {kind!r}")
    if not 0 < baseline < 1:
        raise ValueError(f"baseline rate must be in (0, 1), got {baseline}")
    var_c = baseline * (1 - baseline)
    effect = z * math.sqrt(var_c / n_control + var_c / n_treatment)
    for _ in range(100):
        p2 = min(baseline + effect, 1 - 1e-12)
        new = z * math.sqrt(var_c / n_control + p2 * (1 - p2) / n_treatment)
        if abs(new - effect) < 1e-15:
            break
        effect = new
    return effect

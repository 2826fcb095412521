"""The shared types of the shadow evaluation: the loaders' :class:`ShadowInputs`, the
per-metric :class:`Verdict`, and the number formatting of verdict reasons."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class ShadowInputs:
    """What the loaders hand to :func:`evaluate_shadow`."""

    pairs: pd.DataFrame  # output_live, output_shadow, label, time, features ...
    unmatched: dict[str, int]
    pairs_info: dict[str, Any]
    latency: dict[str, Any] | None = None  # {"paired": bool, "live": arr, "candidate": arr}
    # or {"cloudwatch": {"live": [PeriodSummary], "candidate": [...]}, "unit": "ms"}
    errors: dict[str, Any] | None = None  # {"live": (errors, requests), "candidate": (...)}
    endpoint_config: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    metric: str
    kind: str
    role: str
    status: str  # pass | fail | inconclusive
    live: float | None
    candidate: float | None
    diff: float | None
    ci: tuple[float, float] | None
    pvalue: float | None
    margin: float
    method: str
    reason: str
    diagnostics: tuple[dict, ...] = ()


def _f(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _signed(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.4g}"


def _ci(ci: tuple[float, float] | None) -> str:
    return "[n/a]" if ci is None else f"[{ci[0]:+.4g}, {ci[1]:+.4g}]"

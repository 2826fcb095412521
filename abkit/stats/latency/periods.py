"""CloudWatch per-period statistics (:class:`PeriodSummary`) and each period's interpolated CDF."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

_PCT = re.compile(r"^p(\d{1,3}(?:\.\d+)?)$", re.IGNORECASE)


@dataclass(frozen=True)
class PeriodSummary:
    """CloudWatch statistics of one period (e.g. one minute) of one metric.

    Attributes
    ----------
    sample_count : float
        ``SampleCount`` of the period (requests measured).
    percentiles : tuple of (float, float)
        ``(level, value)`` pairs, levels as fractions (``p99`` -> 0.99), sorted by level.
    minimum, maximum : float or None
        ``Minimum`` / ``Maximum`` when they were fetched.
    """

    sample_count: float
    percentiles: tuple[tuple[float, float], ...]
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        pcts = self.percentiles
        if isinstance(pcts, Mapping):
            pcts = tuple(pcts.items())
        norm = []
        for lev, val in pcts:
            lev = round(float(lev), 10)  # "p99.9" -> 0.999 exactly as the literal
            if not 0.0 < lev < 1.0:
                raise ValueError(f"percentile levels must be fractions in (0, 1), got {lev}")
            norm.append((lev, float(val)))
        norm.sort()
        if len({lev for lev, _ in norm}) != len(norm):
            raise ValueError("a percentile level is given twice")
        object.__setattr__(self, "percentiles", tuple(norm))
        sc = float(self.sample_count)
        if not (math.isfinite(sc) and sc >= 0.0):
            raise ValueError(f"sample_count must be a finite number >= 0, got {self.sample_count}")
        object.__setattr__(self, "sample_count", sc)

    @classmethod
    def from_cloudwatch(cls, stats: Mapping[str, Any]) -> PeriodSummary:
        """From CloudWatch statistic names: ``SampleCount``, ``pNN(.NN)``, ``Minimum``, ``Maximum``.

        Other keys (``Average``, ``Sum``, ``Timestamp``, ...) are ignored.
        """
        if "SampleCount" not in stats:
            raise ValueError("a CloudWatch period needs its SampleCount")
        pcts = []
        for key, val in stats.items():
            m = _PCT.match(str(key))
            if m and val is not None:
                pcts.append((float(m.group(1)) / 100.0, float(val)))
        mn, mx = stats.get("Minimum"), stats.get("Maximum")
        return cls(float(stats["SampleCount"]), tuple(pcts),
                   None if mn is None else float(mn), None if mx is None else float(mx))


class _PeriodCDF:
    """One period's interpolated CDF.

    Knots ``(x_k, p_k)`` sorted by ``(x, p)`` with ``p`` non-decreasing; several knots may share
    an ``x`` (the CDF jumps there). Between knots with ``x_{k} < x_{k+1}`` the CDF is
    interpolated linearly in ``(g(x), h(p))``: ``g = log``, ``h = Phi^-1`` ("log-probit", exact
    for a lognormal period) or ``g``, ``h`` the identity ("linear"). Beyond the outermost knots
    the outermost non-degenerate segment is extended (and ``F`` clipped to [0, 1]), unless the
    period's Minimum / Maximum bound the support (``F = 0`` below ``lo``, ``1`` from ``hi``).
    """

    def __init__(self, x: np.ndarray, p: np.ndarray, log_probit: bool,
                 lo: float | None, hi: float | None) -> None:
        from scipy import special as sp

        self.x, self.p, self.log_probit, self.lo, self.hi = x, p, log_probit, lo, hi
        self._ndtr, self._ndtri = sp.ndtr, sp.ndtri
        self.gx = np.log(x) if log_probit else x.astype(float)
        self.hp = self._ndtri(p) if log_probit else p.astype(float)
        distinct = np.flatnonzero(np.diff(x) > 0)  # segments k -> k+1 with x_k < x_{k+1}
        self.first_seg = int(distinct[0]) if distinct.size else None
        self.last_seg = int(distinct[-1]) if distinct.size else None

    def _seg(self, k: int, t: float) -> float:
        """F(t) on the line through knots k and k + 1 (which have distinct x)."""
        g = math.log(t) if self.log_probit else t
        g0, g1, h0, h1 = self.gx[k], self.gx[k + 1], self.hp[k], self.hp[k + 1]
        h = h0 + (h1 - h0) * (g - g0) / (g1 - g0)
        f = float(self._ndtr(h)) if self.log_probit else h
        return min(max(f, 0.0), 1.0)

    def cdf(self, t: float) -> float:
        x, p = self.x, self.p
        if self.lo is not None and t < self.lo:
            return 0.0
        if self.hi is not None and t >= self.hi:
            return 1.0
        if self.log_probit and t <= 0.0:
            return 0.0
        i = int(np.searchsorted(x, t, side="right"))  # knots 0..i-1 have x <= t
        if 0 < i < x.size:
            if x[i - 1] == t:
                return float(p[i - 1])
            return min(max(self._seg(i - 1, t), float(p[i - 1])), float(p[i]))
        if self.first_seg is None:  # a single point mass
            return 0.0 if t < x[0] else 1.0
        if i == 0:
            return min(self._seg(self.first_seg, t), float(p[0]))
        return max(self._seg(self.last_seg, t), float(p[-1]))

    def _inv_seg(self, k: int, q: float) -> float:
        h = float(self._ndtri(q)) if self.log_probit else q
        g0, g1, h0, h1 = self.gx[k], self.gx[k + 1], self.hp[k], self.hp[k + 1]
        if h1 == h0:
            return float(self.x[k])
        g = g0 + (g1 - g0) * (h - h0) / (h1 - h0)
        return float(math.exp(g)) if self.log_probit else g

    def quantile(self, q: float) -> float:
        """Smallest ``t`` with ``F(t) >= q`` (up to rounding)."""
        x, p = self.x, self.p
        i = int(np.searchsorted(p, q, side="left"))  # p[i-1] < q <= p[i]
        if i < p.size and p[i] == q:
            t = float(x[i])
        elif 0 < i < p.size:
            t = float(x[i]) if x[i - 1] == x[i] else self._inv_seg(i - 1, q)
            t = min(max(t, float(x[i - 1])), float(x[i]))
        elif self.first_seg is None:
            t = float(x[0])
        elif i == 0:
            t = min(self._inv_seg(self.first_seg, q), float(x[0]))
            if self.lo is not None:
                t = max(t, self.lo)
        else:
            t = max(self._inv_seg(self.last_seg, q), float(x[-1]))
            if self.hi is not None:
                t = min(t, self.hi)
        return t


def _period_cdf(ps: PeriodSummary, interpolation: str) -> tuple[_PeriodCDF | None, bool, bool]:
    """Interpolated CDF of one period; flags: knots made monotone, fell back to linear."""
    pcts = [(lev, v) for lev, v in ps.percentiles if math.isfinite(v)]
    mn = ps.minimum if ps.minimum is not None and math.isfinite(ps.minimum) else None
    mx = ps.maximum if ps.maximum is not None and math.isfinite(ps.maximum) else None
    if len(pcts) + (mn is not None) + (mx is not None) < 2:
        return None, False, False
    values = [v for _, v in pcts] + [v for v in (mn, mx) if v is not None]
    log_probit = interpolation == "log-probit" and min(values) > 0.0
    fallback = interpolation == "log-probit" and not log_probit
    n = max(ps.sample_count, 1.0)
    pts = list(pcts)
    if mn is not None:
        # the period's smallest value: a knot at level 0 (linear) or, on the probit scale where
        # level 0 is -inf, at half a value's share, 1 / (2n), kept below the first percentile
        first = pcts[0][0] if pcts else 1.0
        pts.insert(0, (min(0.5 / n, first / 2.0) if log_probit else 0.0, mn))
    if mx is not None:
        last = pcts[-1][0] if pcts else 0.0
        pts.append((max(1.0 - 0.5 / n, (1.0 + last) / 2.0) if log_probit else 1.0, mx))
    p = np.array([a for a, _ in pts])
    x = np.array([b for _, b in pts])
    fixed = bool(np.any(np.diff(x) < 0))
    x = np.maximum.accumulate(x)
    return _PeriodCDF(x, p, log_probit, mn, mx), fixed, fallback

"""Error rates: Wilson intervals, Newcombe difference interval, Farrington-Manning score test."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .._checks import ALTERNATIVES as _ALTERNATIVES
from ..results import ConfidenceInterval, Diagnostic, HasDiagnostics
from ._common import _check_level


@dataclass(frozen=True)
class ErrorRate(HasDiagnostics):
    """``errors / requests`` with a Wilson score interval."""

    errors: int
    requests: int
    rate: float | None
    ci: ConfidenceInterval | None
    confidence_level: float
    method: str = "wilson"
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "errors": self.errors, "requests": self.requests, "rate": self.rate,
            "ci": self.ci.to_dict() if self.ci else None,
            "confidence_level": self.confidence_level, "method": self.method,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def _check_counts(errors: Any, requests: Any, who: str) -> tuple[int, int]:
    def as_int(v: Any, name: str) -> int:
        try:
            ok = not isinstance(v, bool) and float(v) == int(v) and int(v) >= 0
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise ValueError(f"{who}{name} must be a non-negative integer, got {v!r}")
        return int(v)

    e, n = as_int(errors, "errors"), as_int(requests, "requests")
    if e > n:
        raise ValueError(f"{who}errors ({e}) exceed requests ({n})")
    return e, n


def _wilson(e: int, n: int, z: float) -> tuple[float, float]:
    p = e / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    lo = 0.0 if e == 0 else max(0.0, centre - half)
    hi = 1.0 if e == n else min(1.0, centre + half)
    return lo, hi


def error_rate(errors: int, requests: int, confidence_level: float = 0.95) -> ErrorRate:
    """Error rate ``errors / requests`` with a Wilson score interval.

    Wilson (1927), JASA 22(158): the interval inverts the score test,
    ``(p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)`` with
    ``z = Phi^-1((1 + confidence_level) / 2)``; equal to
    ``statsmodels.stats.proportion.proportion_confint(errors, requests, alpha, method="wilson")``.
    ``requests == 0`` gives ``None`` with ``NO_REQUESTS``. For CloudWatch, ``errors`` is
    ``Invocation4XXErrors + Invocation5XXErrors`` (or the 5XX count alone) summed over the
    window and ``requests`` the summed ``Invocations``.
    """
    from scipy import special as sp

    level = _check_level(confidence_level)
    e, n = _check_counts(errors, requests, "")
    if n == 0:
        return ErrorRate(e, n, None, None, level, diagnostics=(
            Diagnostic("NO_REQUESTS", "no requests; the error rate is undefined"),))
    lo, hi = _wilson(e, n, float(sp.ndtri(0.5 + level / 2.0)))
    return ErrorRate(e, n, e / n, ConfidenceInterval(lo, hi), level)


@dataclass(frozen=True)
class ErrorRateComparison(HasDiagnostics):
    """Candidate versus live error rates.

    Attributes
    ----------
    difference : float or None
        ``candidate.rate - live.rate``.
    ci : ConfidenceInterval or None
        Newcombe's hybrid score interval for the difference.
    margin, alternative, statistic, pvalue
        Farrington-Manning score test of ``H0: difference = margin`` (boundary of the
        composite null) against ``alternative``: ``"greater"`` (default) tests
        ``H1: difference > margin``, "the candidate's error rate exceeds live's by more than
        the margin"; ``"less"`` tests ``H1: difference < margin`` (non-inferiority).
    """

    live: ErrorRate
    candidate: ErrorRate
    difference: float | None
    ci: ConfidenceInterval | None
    margin: float
    alternative: str
    statistic: float | None
    pvalue: float | None
    confidence_level: float
    method: str = "newcombe hybrid score interval; farrington-manning score test"
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "live": self.live.to_dict(), "candidate": self.candidate.to_dict(),
            "difference": self.difference, "ci": self.ci.to_dict() if self.ci else None,
            "margin": self.margin, "alternative": self.alternative,
            "statistic": self.statistic, "pvalue": self.pvalue,
            "confidence_level": self.confidence_level, "method": self.method,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def _fm_restricted(p1: float, n1: int, p2: float, n2: int, delta: float) -> tuple[float, float]:
    """Restricted MLE ``(p1~, p2~)`` with ``p1~ - p2~ = delta`` (Farrington & Manning 1990).

    Closed-form (trigonometric) root of the likelihood's cubic (Miettinen & Nurminen 1985,
    Stat. Med. 4(2); Farrington & Manning 1990, Stat. Med. 9(12)); the tests check it against
    a numerical maximisation of the restricted likelihood.
    """
    theta = n2 / n1
    a = 1.0 + theta
    b = -(1.0 + theta + p1 + theta * p2 + delta * (theta + 2.0))
    c = delta * delta + delta * (2.0 * p1 + theta + 1.0) + p1 + theta * p2
    d = -p1 * delta * (1.0 + delta)
    v = b ** 3 / (27.0 * a ** 3) - b * c / (6.0 * a * a) + d / (2.0 * a)
    s = b * b / (9.0 * a * a) - c / (3.0 * a)
    u = math.copysign(math.sqrt(max(s, 0.0)), v) if v != 0.0 else math.sqrt(max(s, 0.0))
    if u == 0.0:
        t1 = -b / (3.0 * a)
    else:
        ratio = min(max(v / u ** 3, -1.0), 1.0)
        w = (math.pi + math.acos(ratio)) / 3.0
        t1 = 2.0 * u * math.cos(w) - b / (3.0 * a)
    t1 = min(max(t1, max(0.0, delta)), min(1.0, 1.0 + delta))
    return t1, t1 - delta


def compare_error_rates(
    live_errors: int,
    live_requests: int,
    candidate_errors: int,
    candidate_requests: int,
    *,
    margin: float = 0.0,
    alternative: str = "greater",
    confidence_level: float = 0.95,
) -> ErrorRateComparison:
    """Candidate minus live error rate: Newcombe interval and a score test against a margin.

    Interval: Newcombe (1998), Stat. Med. 17(8), method 10 ("hybrid score"): with Wilson
    intervals ``(l_c, u_c)``, ``(l_l, u_l)`` at the same level,
    ``d - sqrt((p_c - l_c)^2 + (u_l - p_l)^2)`` to ``d + sqrt((u_c - p_c)^2 + (p_l - l_l)^2)``;
    equal to ``statsmodels.stats.proportion.confint_proportions_2indep(..., method="newcomb",
    compare="diff")``.

    Test: Farrington & Manning (1990) score statistic for a difference against a margin,
    ``z = (p_c - p_l - margin) / sqrt(p~_c (1 - p~_c) / n_c + p~_l (1 - p~_l) / n_l)`` with the
    maximum-likelihood rates restricted to ``p~_c - p~_l = margin``; normal reference. Equal to
    ``statsmodels.stats.proportion.test_proportions_2indep(..., value=margin, method="score",
    compare="diff", correction=False)``. ``alternative="greater"`` (default) gives the p-value
    for "the candidate's error rate exceeds live's by more than ``margin``" (a rollback test);
    ``"less"`` the non-inferiority p-value for "it exceeds it by less than ``margin``".

    A variant without requests gives ``None`` fields (``NO_REQUESTS``); with ``margin = 0`` and
    no errors at all the test has zero variance and ``pvalue`` is ``None`` (``NO_ERRORS``).
    """
    from scipy import special as sp

    level = _check_level(confidence_level)
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be two-sided, less or greater, got {alternative!r}")
    m = float(margin)
    if not (math.isfinite(m) and -1.0 < m < 1.0):
        raise ValueError(f"margin must be in (-1, 1), got {margin!r}")
    e_l, n_l = _check_counts(live_errors, live_requests, "live_")
    e_c, n_c = _check_counts(candidate_errors, candidate_requests, "candidate_")
    live, cand = error_rate(e_l, n_l, level), error_rate(e_c, n_c, level)
    diags: list[Diagnostic] = []
    if live.rate is None or cand.rate is None:
        which = " and ".join(w for w, r in (("live", live), ("candidate", cand)) if r.rate is None)
        diags.append(Diagnostic("NO_REQUESTS", f"no {which} requests; nothing to compare"))
        return ErrorRateComparison(live, cand, None, None, m, alternative, None, None, level,
                                   diagnostics=tuple(diags))
    p_c, p_l = cand.rate, live.rate
    d = p_c - p_l
    assert live.ci is not None and cand.ci is not None
    lo = d - math.sqrt((p_c - cand.ci.low) ** 2 + (live.ci.high - p_l) ** 2)
    hi = d + math.sqrt((cand.ci.high - p_c) ** 2 + (p_l - live.ci.low) ** 2)
    ci = ConfidenceInterval(max(-1.0, lo), min(1.0, hi))
    t_c, t_l = _fm_restricted(p_c, n_c, p_l, n_l, m)
    var = t_c * (1.0 - t_c) / n_c + t_l * (1.0 - t_l) / n_l
    stat = p = None
    if var <= 0.0:
        diags.append(Diagnostic("NO_ERRORS", "no errors (or only errors) in both variants and a "
                                "zero margin: the score test has zero variance"))
    else:
        stat = (d - m) / math.sqrt(var)
        if alternative == "greater":
            p = float(sp.ndtr(-stat))
        elif alternative == "less":
            p = float(sp.ndtr(stat))
        else:
            p = float(min(1.0, 2.0 * sp.ndtr(-abs(stat))))
    return ErrorRateComparison(live, cand, d, ci, m, alternative, stat, p, level,
                               diagnostics=tuple(diags))

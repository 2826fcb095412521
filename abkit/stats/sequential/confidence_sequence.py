"""One look at the asymptotic confidence sequence for a mean (the boundary is in
:mod:`abkit.stats.sequential.boundary`).

"Asymptotic" means: the coverage guarantee holds in the limit of many observations (the
boundary is compared with that of an exact Gaussian CS whose ratio tends to 1). With rare
events (an error rate of 1 % at a 10 % canary share) the first looks carry few events; the
simulations in ``tests/stats/test_sequential.py`` and ``bench/SEQUENTIAL.md`` measure the
false-rejection rate at such sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .._checks import check_alpha as _check_alpha
from .._checks import check_alternative as _check_alternative
from ..results import ConfidenceInterval, Diagnostic, HasDiagnostics
from ._common import _OVERFLOW, _check_count, _check_positive
from .boundary import cs_radius


# --------------------------------------------------------------------------- the CS result


@dataclass(frozen=True)
class AsymptoticCS(HasDiagnostics):
    """One look at an asymptotic confidence sequence for a mean (or an A/B difference).

    Attributes
    ----------
    estimate : float or None
        The running mean; ``None`` when there are no observations (see ``diagnostics``).
    ci : ConfidenceInterval or None
        ``[lower, upper]`` for a two-sided sequence. ``None`` for a one-sided sequence (one
        side is unbounded, and abkit never reports infinities: use ``lower`` / ``upper``) or
        when no interval can be computed (the reason is in ``diagnostics``).
    lower, upper : float or None
        The finite bounds: both for ``"two-sided"``, ``lower`` only for ``"greater"``,
        ``upper`` only for ``"less"``. ``None`` marks an unbounded side or a missing interval.
    radius : float or None
        Distance from ``estimate`` to each finite bound.
    pvalue : float or None
        The anytime-valid p-value of ``null`` at this look: the smallest ``alpha`` at which
        this sequence (same ``rho``) would exclude ``null``. Take the running minimum over
        looks for a p-value that is valid at a stopping time.
    n, alpha, rho, alternative
        The inputs. ``confidence_level`` is ``1 - alpha``.
    std : float or None
        Square root of the variance used.
    null : float
        The value ``pvalue`` refers to.
    """

    estimate: float | None
    ci: ConfidenceInterval | None
    lower: float | None
    upper: float | None
    radius: float | None
    pvalue: float | None
    n: int
    alpha: float
    rho: float
    alternative: str
    std: float | None = None
    null: float = 0.0
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    @property
    def confidence_level(self) -> float:
        return 1.0 - self.alpha

    def rejects(self, null: float = 0.0) -> bool:
        """True when the sequence excludes ``null`` at this look.

        ``"greater"`` rejects when ``lower > null``, ``"less"`` when ``upper < null``,
        ``"two-sided"`` when either holds. False when there is no interval.
        """
        if self.lower is not None and self.lower > null:
            return True
        return self.upper is not None and self.upper < null

    def to_dict(self) -> dict:
        return {
            "estimate": self.estimate,
            "ci": None if self.ci is None else self.ci.to_dict(),
            "lower": self.lower,
            "upper": self.upper,
            "radius": self.radius,
            "pvalue": self.pvalue,
            "n": self.n,
            "alpha": self.alpha,
            "confidence_level": self.confidence_level,
            "rho": self.rho,
            "alternative": self.alternative,
            "std": self.std,
            "null": self.null,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def _cs_pvalue(n: int, diff: float, var: float, rho2: float, alternative: str) -> float:
    """Smallest alpha at which the CS excludes the null, ``diff = estimate - null``."""
    if alternative == "greater" and diff <= 0 or alternative == "less" and diff >= 0:
        return 1.0
    if var == 0.0:
        return 0.0 if diff != 0.0 else 1.0
    half_log = 0.5 * math.log1p(n * rho2)
    # z2 / 2 = n^2 rho^2 diff^2 / (2 var (n rho^2 + 1)), computed without forming n^2
    q = (n * diff) * (n * diff) / var * rho2 / (1.0 + n * rho2) / 2.0
    if not math.isfinite(q):
        return 0.0
    if alternative == "two-sided":
        log_p = half_log - q  # log(1 / Lambda)
    else:  # alpha = sqrt(x) / (2 (exp(q) - 1))
        if q == 0.0:
            return 1.0
        log_expm1 = q + math.log1p(-math.exp(-q)) if q > 30 else math.log(math.expm1(q))
        log_p = half_log - math.log(2.0) - log_expm1
    return math.exp(min(log_p, 0.0))


def asymptotic_cs(
    n: int,
    mean: float,
    var: float,
    alpha: float,
    rho: float,
    alternative: str = "two-sided",
    *,
    null: float = 0.0,
) -> AsymptoticCS:
    """The asymptotic confidence sequence of Waudby-Smith et al. (2024) at one look.

    Parameters
    ----------
    n : int
        Number of observations behind ``mean``.
    mean : float
        Running mean of the observations (for an A/B test: of the pseudo-outcomes, see
        :class:`SequentialDiffStats`).
    var : float
        Per-observation variance: the sample variance of the observations so far (the
        paper's plug-in) or a known value. ``>= 0``.
    alpha : float
        Probability, over the whole monitoring period, that the sequence ever excludes the
        true mean (asymptotically).
    rho : float
        Mixture scale, ``> 0``; :func:`rho_for` gives the ``rho`` tightest at a chosen ``n``.
        It must be fixed before looking at the data, not re-tuned between looks.
    alternative : {"two-sided", "less", "greater"}
        ``"greater"`` gives a lower bound (``[lower, +inf)``), ``"less"`` an upper bound.
    null : float
        Value the reported ``pvalue`` refers to.

    Returns
    -------
    AsymptoticCS
        With diagnostics ``EMPTY`` (``n == 0``), ``NUMERIC_OVERFLOW`` (non-finite ``mean``
        or ``var``) and ``ZERO_VARIANCE`` (``var == 0``: the sequence is the point
        ``mean``, and the p-value is 0 or 1).
    """
    n = _check_count("n", n)
    alpha = _check_alpha(alpha)
    rho = _check_positive("rho", rho)
    _check_alternative(alternative)
    mean, var, null = float(mean), float(var), float(null)
    if not math.isfinite(null):
        raise ValueError(f"null must be finite, got {null}")
    if var < 0:
        raise ValueError(f"var must be >= 0, got {var}")

    def empty(code: str, message: str, estimate: float | None = None) -> AsymptoticCS:
        return AsymptoticCS(estimate, None, None, None, None, None, n, alpha, rho, alternative,
                            None, null, (Diagnostic(code, message),))

    if n == 0:
        return empty("EMPTY", "no observations yet; no estimate or interval")
    if not (math.isfinite(mean) and math.isfinite(var)):
        return empty("NUMERIC_OVERFLOW", _OVERFLOW, mean if math.isfinite(mean) else None)
    diags: list[Diagnostic] = []
    radius = float(cs_radius(n, var, alpha, rho, alternative))
    lower = mean - radius if alternative in ("two-sided", "greater") else None
    upper = mean + radius if alternative in ("two-sided", "less") else None
    if (lower is not None and not math.isfinite(lower)) or (
        upper is not None and not math.isfinite(upper)
    ):
        return empty("NUMERIC_OVERFLOW", _OVERFLOW, mean)
    if var == 0.0:
        diags.append(Diagnostic(
            "ZERO_VARIANCE",
            "the observations have zero variance; the sequence is the single point of the "
            "mean and the p-value is 0 or 1 (the asymptotic guarantee says nothing here)",
        ))
    pvalue = _cs_pvalue(n, mean - null, var, rho * rho, alternative)
    ci = ConfidenceInterval(lower, upper) if lower is not None and upper is not None else None
    return AsymptoticCS(mean, ci, lower, upper, radius, pvalue, n, alpha, rho, alternative,
                        math.sqrt(var), null, tuple(diags))

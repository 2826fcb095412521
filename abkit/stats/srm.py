"""Sample ratio mismatch: chi-square goodness of fit of units per variant to the design."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

__all__ = ["SRMResult", "srm_test", "srm_unknown"]


@dataclass(frozen=True)
class SRMResult:
    """Outcome of the sample-ratio check.

    ``expected`` holds the designed shares (normalised to sum to 1), ``observed`` the unit
    counts, ``expected_counts`` the counts the design implies for the observed total.
    """

    observed: dict[str, int]
    expected: dict[str, float]
    expected_counts: dict[str, float]
    statistic: float | None
    df: int
    pvalue: float | None
    threshold: float
    #: False when the designed split is unknown (no spec, no --split): nothing was tested
    known: bool = True

    @property
    def passed(self) -> bool:
        """No mismatch shown (also True when nothing could be tested: it blocks nothing)."""
        return self.pvalue is None or self.pvalue >= self.threshold

    @property
    def verdict(self) -> bool | None:
        """``passed``, or None when the split is unknown (the JSON ``passed``)."""
        return self.passed if self.known else None


def srm_unknown(observed: Mapping[str, int], threshold: float = 0.001) -> SRMResult:
    """The check when the designed split is unknown: the counts, no test, no verdict."""
    obs = {k: int(v) for k, v in observed.items()}
    return SRMResult(obs, {}, {}, None, 0, None, threshold, known=False)


def srm_test(
    observed: Mapping[str, int], expected: Mapping[str, float], threshold: float = 0.001
) -> SRMResult:
    """Pearson chi-square test of ``observed`` unit counts against ``expected`` shares.

    Equivalent to ``scipy.stats.chisquare(obs, f_exp=share * obs.sum())``. Variants in
    ``expected`` but absent from ``observed`` count as 0 units. With fewer than two variants
    or no units there is nothing to test and ``pvalue`` is ``None``.
    """
    from scipy import special as sp

    names = list(expected)
    total_share = float(sum(expected.values()))
    shares = {k: float(expected[k]) / total_share for k in names}
    obs = {k: int(observed.get(k, 0)) for k in names}
    n = sum(obs.values())
    exp_counts = {k: shares[k] * n for k in names}
    if len(names) < 2 or n == 0:
        return SRMResult(obs, shares, exp_counts, None, max(len(names) - 1, 0), None, threshold)
    stat = sum((obs[k] - exp_counts[k]) ** 2 / exp_counts[k] for k in names)
    df = len(names) - 1
    p = float(sp.chdtrc(df, stat))
    return SRMResult(obs, shares, exp_counts, float(stat), df, p, threshold)

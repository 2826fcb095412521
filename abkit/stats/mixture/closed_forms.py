"""Closed-form Bayes factors for constant shares (the conjugate references).

Constant-share reference. With a constant share ``s`` a Beta(a, b) prior on ``p`` gives the
closed-form beta-binomial Bayes factor (:func:`constant_share_log_bayes_factor`), Lindon &
Malek's Dirichlet-multinomial test with two categories; the grid mixture with the prior that
Beta(a, b) induces on ``u`` reproduces it up to the discretisation (tested).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._common import DEFAULT_TAU, _check_positive, _counts, _exposures


# --------------------------------------------------------------------------- closed forms


def constant_share_log_bayes_factor(
    events_treatment: int,
    events_control: int,
    share: float,
    null: float = 1.0,
    *,
    a: float | None = None,
    b: float | None = None,
) -> float:
    """Log of the beta-binomial Bayes factor for a constant share (closed form).

    With ``s = share`` constant, ``x | x + y ~ Binomial(x + y, p)`` and under the null
    ``p0 = s theta0 / (s theta0 + 1 - s)``. A Beta(a, b) prior on ``p`` gives::

        BF = B(a + x, b + y) / B(a, b) / (p0^x (1 - p0)^y)

    a test martingale under ``p0`` (Lindon & Malek 2022, the Dirichlet-multinomial test
    with two categories). Default ``a = c p0``, ``b = c (1 - p0)`` with
    ``c = 1 / (DEFAULT_TAU^2 p0 (1 - p0))``: the Beta prior centred at the null whose
    ``logit p`` has about the spread ``DEFAULT_TAU`` of the normal prior (``var(logit p) ~
    1/a + 1/b``). It depends on the totals only.
    """
    from scipy.special import betaln, xlogy

    x = int(_counts("events_treatment", events_treatment))
    y = int(_counts("events_control", events_control))
    s = float(share)
    if not (math.isfinite(s) and 0.0 < s < 1.0):
        raise ValueError(f"share must be in (0, 1), got {share}")
    th = _check_positive("null", null)
    p0 = s * th / (s * th + 1.0 - s)
    if a is None or b is None:
        if a is not None or b is not None:
            raise ValueError("give both a and b, or neither")
        c = 1.0 / (DEFAULT_TAU**2 * p0 * (1.0 - p0))
        a, b = c * p0, c * (1.0 - p0)
    a = _check_positive("a", a)
    b = _check_positive("b", b)
    return float(betaln(a + x, b + y) - betaln(a, b) - xlogy(x, p0) - xlogy(y, 1.0 - p0))


def dirichlet_multinomial_log_bayes_factor(
    counts: Sequence[int],
    shares: Sequence[float],
    concentration: float = 100.0,
) -> float:
    """Log of Lindon & Malek's (2022) Dirichlet-multinomial Bayes factor, constant shares.

    ``counts`` ``n_i`` against the null shares ``pi_i`` with a Dirichlet prior centred at the
    null, ``alpha_i = concentration * pi_i`` (100 is the default of the authors' reference
    implementation)::

        log BF = log G(A) - log G(A + N) + sum_i [log G(alpha_i + n_i) - log G(alpha_i)]
                 - sum_i n_i log pi_i,        A = sum alpha_i, N = sum n_i.

    A test martingale under the null for sequentially arriving units; for two categories it
    is :func:`constant_share_log_bayes_factor` with ``a = c pi_1``, ``b = c pi_2``. Returns
    ``inf`` when a category with share 0 has units (not allowed otherwise: such categories
    must have no units, and are dropped).
    """
    from scipy.special import gammaln, xlogy

    n = _counts("counts", counts)
    pi = _exposures("shares", shares)
    if n.shape != pi.shape or n.ndim != 1 or n.size < 2:
        raise ValueError("counts and shares must be 1-D of the same length >= 2")
    if not pi.sum() > 0:
        raise ValueError("shares must have a positive sum")
    pi = pi / pi.sum()
    c = _check_positive("concentration", concentration)
    if ((pi == 0) & (n > 0)).any():
        return math.inf
    keep = pi > 0
    n, pi = n[keep].astype(float), pi[keep]
    al = c * pi
    A, N = al.sum(), n.sum()
    return float(gammaln(A) - gammaln(A + N) + np.sum(gammaln(al + n) - gammaln(al))
                 - np.sum(xlogy(n, pi)))

"""Lan-DeMets alpha spending functions, and the checks of the design inputs.

Spending functions (named as in Kim & DeMets, "Design and analysis of group sequential tests
based on the type I error spending rate function", Biometrika 74(1), 1987):

* ``"obrien-fleming"`` (Lan & DeMets 1983, O'Brien-Fleming type)::

      alpha(t) = 2 - 2 Phi( z_{1 - alpha/2} / sqrt(t) )

  for a **one-sided** test at level ``alpha``. The quantile is ``z_{1 - alpha/2}``, not
  ``z_{1 - alpha}``: Lan & DeMets wrote the function for a two-sided test, and its one-sided
  use at level ``alpha`` keeps the same formula, so that ``alpha(1) = 2 - 2 (1 - alpha/2) =
  alpha``. Checked against gsDesign's ``sfLDOF`` documentation (``f(t; alpha) = 2 - 2 Phi(
  Phi^{-1}(1 - alpha/2) / t^{rho/2})``, ``rho = 1``, where ``alpha`` is gsDesign's one-sided
  level, default 0.025) and rpact's ``typeOfDesign = "asOF"`` with ``sided = 1``
  (``tests/stats/test_gst.py`` reproduces rpact's one-sided ``alphaSpent`` values). Using
  ``z_{1 - alpha}`` instead would give ``alpha(1) = 2 alpha``, the classic pitfall.
* ``"pocock"`` (Lan & DeMets 1983, Pocock type)::

      alpha(t) = alpha * log(1 + (e - 1) t)

Both are 0 at ``t = 0`` and spend all of ``alpha`` at ``t >= 1``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import special

from .._checks import check_alpha as _check_alpha

SPENDING_FUNCTIONS = ("obrien-fleming", "pocock")


# --------------------------------------------------------------------------- validation


def _check_kind(kind: str) -> str:
    if kind not in SPENDING_FUNCTIONS:
        raise ValueError(f"spending must be one of {', '.join(SPENDING_FUNCTIONS)}, "
                         f"got {kind!r}")
    return kind


def _check_fraction(t: float) -> float:
    try:
        v = float(t)
    except (TypeError, ValueError):
        raise ValueError(f"information fraction must be a positive number, got {t!r}") from None
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"information fraction must be a positive finite number, got {t!r}")
    return v


def _check_fractions(fractions: Iterable[float]) -> list[float]:
    ts = [_check_fraction(t) for t in fractions]
    for prev, cur in itertools.pairwise(ts):
        if not cur > prev:
            raise ValueError(f"information fractions must be strictly increasing, got {cur} "
                             f"after {prev}")
    return ts


# --------------------------------------------------------------------------- spending


def _spend(t: float, alpha: float, kind: str) -> float:
    """Cumulative alpha spent at fraction ``t`` (validated inputs, scalar)."""
    if t <= 0.0:
        return 0.0
    if t >= 1.0:
        return alpha
    if kind == "obrien-fleming":
        z = special.ndtri(1.0 - alpha / 2.0)
        return float(min(alpha, 2.0 * special.ndtr(-z / math.sqrt(t))))
    return float(min(alpha, alpha * math.log1p((math.e - 1.0) * t)))


def spending(t: float | Sequence[float] | np.ndarray, alpha: float = 0.05,
             kind: str = "obrien-fleming") -> float | np.ndarray:
    """Lan-DeMets alpha spending function: cumulative one-sided alpha spent at fraction ``t``.

    ``"obrien-fleming"``: ``2 - 2 Phi(z_{1 - alpha/2} / sqrt(t))`` (computed as
    ``2 Phi(-z_{1 - alpha/2} / sqrt(t))`` to keep tiny values exact);
    ``"pocock"``: ``alpha log(1 + (e - 1) t)``. Lan & DeMets (1983); names as in
    Kim & DeMets (1987). Both give 0 at ``t = 0`` and ``alpha`` for ``t >= 1``. ``alpha`` is
    the *one-sided* level (see the module docstring for the ``z_{1 - alpha/2}`` convention).

    Parameters
    ----------
    t : float or array of float
        Information fraction(s), ``>= 0`` (values above 1 mean information beyond the
        planned maximum and spend all of ``alpha``).
    alpha : float, default 0.05
        One-sided level in (0, 1).
    kind : {"obrien-fleming", "pocock"}, default "obrien-fleming"

    Returns
    -------
    float or ndarray
        A float for a scalar ``t``.
    """
    alpha = _check_alpha(alpha)
    _check_kind(kind)
    arr = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("information fractions must be finite and >= 0")
    out = np.array([_spend(float(x), alpha, kind) for x in arr.ravel()]).reshape(arr.shape)
    return float(out) if arr.ndim == 0 else out

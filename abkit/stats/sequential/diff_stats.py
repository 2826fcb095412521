"""Mergeable running sums of the inverse-propensity pseudo-outcomes of an A/B test.

Randomised experiments (the paper's section on sequential randomised experiments, with a
known propensity): with treatment indicator ``T_i`` assigned with known probability
``pi_i`` (a canary share, possibly changing over time as in a linear rollout, but fixed
before unit ``i`` arrives), the inverse-propensity pseudo-outcome::

    psi_i = (Y_i - c_i) * (T_i / pi_i - (1 - T_i) / (1 - pi_i))

has mean ``E[Y(1)] - E[Y(0)]`` whatever ``pi_i`` and whatever predictable ``c_i`` (a
baseline fixed before unit ``i`` is seen, e.g. a pre-period mean; ``c_i = 0`` is the plain
IPW pseudo-outcome, a constant ``c`` is the paper's doubly-robust pseudo-outcome with the
outcome regressions both equal to ``c``). Centring does not change the mean, but it shrinks
the variance from ``E[Y^2] (1/pi + 1/(1-pi))`` to about ``var(Y) (1/pi + 1/(1-pi))``,
which for a latency around 120 ms is a factor of about 4.5. The CS is the AsympCS above on
the ``psi_i`` with a plug-in variance (next paragraph); :class:`SequentialDiffStats` keeps
the mergeable sums. With a time-varying ``pi_i`` the ``psi_i`` are independent but not identically
distributed; the paper's Lyapunov-type AsympCS covers that case, and it is the same formula
with the variance replaced by the average of the per-unit variances, which the pooled sample
variance of the ``psi_i`` estimates.

The sequences and guardrail decisions on these sums are in
:mod:`abkit.stats.sequential.guardrails`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..results import Diagnostic
from ._common import _OVERFLOW, _check_count
from .guardrails import _GuardrailDecisions


@dataclass(frozen=True)
class SequentialDiffStats(_GuardrailDecisions):
    """Mergeable running sums of the inverse-propensity pseudo-outcomes of an A/B test.

    ``psi_i = (y_i - c_i) * (T_i / pi_i - (1 - T_i) / (1 - pi_i))``, whose mean estimates
    treatment minus control for any known assignment probabilities ``pi_i`` (see the module
    docstring). ``SequentialDiffStats()`` is the empty state; :meth:`update` and ``+``
    return new objects, so shards or time windows can be reduced separately and added.

    Attributes
    ----------
    n : int
        Units seen (both arms).
    sum_psi, sum_psi2 : float
        Sum of the pseudo-outcomes and of their squares.
    sum_design2 : float
        ``sum (y_i - c_i)^2 / (pi_i (1 - pi_i))``: the sum of ``E[psi_i^2 | y_i]`` over the
        random assignment (the design second moment behind ``variance="robust"``).
    n_treated : int
        Units assigned to treatment (``n_control = n - n_treated``).
    sum_y_treated, sum_y_control : float
        Sums of the raw outcomes per arm (for descriptive arm means; with a time-varying
        share these are *not* the causal estimate, ``estimate`` is).
    """

    n: int = 0
    sum_psi: float = 0.0
    sum_psi2: float = 0.0
    sum_design2: float = 0.0
    n_treated: int = 0
    sum_y_treated: float = 0.0
    sum_y_control: float = 0.0

    # ---------------------------------------------------------------- building

    def update(
        self,
        y: np.ndarray,
        treated: np.ndarray,
        pi: float | np.ndarray,
        *,
        center: float | np.ndarray = 0.0,
    ) -> SequentialDiffStats:
        """Add a batch of units; O(batch), returns a new object.

        Parameters
        ----------
        y : 1-D array of float
            Outcomes (finite).
        treated : 1-D array of bool (or 0/1)
            Assignment of each unit.
        pi : float or 1-D array
            Probability each unit had of being assigned to treatment, in (0, 1), known at
            assignment (the canary share at that time).
        center : float or 1-D array
            Predictable baseline ``c_i`` subtracted from ``y`` (fixed before the batch is
            seen, e.g. a pre-period mean or the pooled mean of earlier batches). Does not
            change the estimand; reduces the variance.
        """
        y_arr = np.asarray(y, dtype=float)
        if y_arr.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {y_arr.shape}")
        m = y_arr.shape[0]
        t_raw = np.asarray(treated)
        if t_raw.shape != (m,):
            raise ValueError(f"treated must have the shape of y {(m,)}, got {t_raw.shape}")
        if t_raw.dtype != bool:
            if m and not np.isin(t_raw, (0, 1)).all():
                raise ValueError("treated must be boolean or 0/1")
            t_raw = t_raw.astype(bool)
        p = np.asarray(pi, dtype=float)
        if p.ndim != 0 and p.shape != (m,):
            raise ValueError(f"pi must be a scalar or have the shape of y {(m,)}, got {p.shape}")
        if not (np.isfinite(p).all() and (p > 0).all() and (p < 1).all()):
            raise ValueError("pi must be in the open interval (0, 1)")
        c = np.asarray(center, dtype=float)
        if c.ndim != 0 and c.shape != (m,):
            raise ValueError(f"center must be a scalar or have the shape of y {(m,)}")
        if not np.isfinite(c).all():
            raise ValueError("center must be finite")
        if m == 0:
            return self
        if not np.isfinite(y_arr).all():
            raise ValueError("y must be finite (drop or impute missing outcomes first)")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            w = np.where(t_raw, 1.0 / p, -1.0 / (1.0 - p))
            psi = (y_arr - c) * w
            s1 = float(psi.sum())
            s2 = float(np.dot(psi, psi))
            dev = y_arr - c
            s0 = float(np.dot(dev * dev, np.broadcast_to(1.0 / (p * (1.0 - p)), (m,))))
            st = float(y_arr[t_raw].sum())
            sc = float(y_arr[~t_raw].sum())
        return SequentialDiffStats(
            self.n + m, self.sum_psi + s1, self.sum_psi2 + s2, self.sum_design2 + s0,
            self.n_treated + int(t_raw.sum()),
            self.sum_y_treated + st, self.sum_y_control + sc,
        )

    @classmethod
    def from_arm_sums(
        cls,
        pi: float,
        n_treated: int,
        sum_treated: float,
        sumsq_treated: float,
        n_control: int,
        sum_control: float,
        sumsq_control: float,
        *,
        center: float = 0.0,
    ) -> SequentialDiffStats:
        """Statistics of a batch given per-arm count, sum and sum of squares of ``y``.

        For a batch assigned with one constant share ``pi`` (e.g. one time window of a
        canary, as a SQL ``GROUP BY variant`` returns it)::

            sum_psi  = (S_t - n_t c) / pi - (S_c - n_c c) / (1 - pi)
            sum_psi2 = (Q_t - 2 c S_t + n_t c^2) / pi^2 + (Q_c - 2 c S_c + n_c c^2) / (1 - pi)^2
            sum_design2 = (Q_t - 2 c S_t + n_t c^2 + Q_c - 2 c S_c + n_c c^2) / (pi (1 - pi))

        Equal (up to rounding) to :meth:`update` on the units themselves.
        """
        p = float(pi)
        if not (math.isfinite(p) and 0 < p < 1):
            raise ValueError("pi must be in the open interval (0, 1)")
        nt, nc = _check_count("n_treated", n_treated), _check_count("n_control", n_control)
        vals = [float(v) for v in (sum_treated, sumsq_treated, sum_control, sumsq_control, center)]
        if not all(math.isfinite(v) for v in vals):
            raise ValueError("sums and center must be finite")
        st, qt, sc, qc, c = vals
        if qt < 0 or qc < 0:
            raise ValueError("sums of squares must be >= 0")
        with np.errstate(over="ignore", invalid="ignore"):
            ct = max(qt - 2 * c * st + nt * c * c, 0.0)
            cc = max(qc - 2 * c * sc + nc * c * c, 0.0)
            s1 = (st - nt * c) / p - (sc - nc * c) / (1 - p)
            s2 = ct / (p * p) + cc / ((1 - p) * (1 - p))
            s0 = (ct + cc) / (p * (1 - p))
        return cls(nt + nc, s1, s2, s0, nt, st, sc)

    def __add__(self, other: SequentialDiffStats) -> SequentialDiffStats:
        """Merge two disjoint sets of units."""
        if not isinstance(other, SequentialDiffStats):
            return NotImplemented
        with np.errstate(over="ignore", invalid="ignore"):
            return SequentialDiffStats(
                self.n + other.n, self.sum_psi + other.sum_psi, self.sum_psi2 + other.sum_psi2,
                self.sum_design2 + other.sum_design2,
                self.n_treated + other.n_treated, self.sum_y_treated + other.sum_y_treated,
                self.sum_y_control + other.sum_y_control,
            )

    # ---------------------------------------------------------------- summaries

    @property
    def n_control(self) -> int:
        return self.n - self.n_treated

    @property
    def treated_mean(self) -> float | None:
        """Raw mean outcome of the treated units (descriptive)."""
        v = self.sum_y_treated / self.n_treated if self.n_treated else None
        return v if v is not None and math.isfinite(v) else None

    @property
    def control_mean(self) -> float | None:
        """Raw mean outcome of the control units (descriptive)."""
        v = self.sum_y_control / self.n_control if self.n_control else None
        return v if v is not None and math.isfinite(v) else None

    @property
    def estimate(self) -> float | None:
        """Mean pseudo-outcome: the treatment-minus-control effect (None if undefined)."""
        if self.n_treated == 0 or self.n_control == 0:
            return None
        v = self.sum_psi / self.n
        return v if math.isfinite(v) else None

    def _var_from(self, second: float) -> float | None:
        if self.n < 2 or not (math.isfinite(self.sum_psi) and math.isfinite(second)):
            return None
        if second == 0.0:
            return 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            v = (second - self.sum_psi * (self.sum_psi / self.n)) / (self.n - 1)
        if not math.isfinite(v):
            return None
        return max(v, 0.0)

    @property
    def var(self) -> float | None:
        """Sample variance (ddof=1) of the pseudo-outcomes, or None (n < 2, overflow)."""
        return self._var_from(self.sum_psi2)

    @property
    def var_design(self) -> float | None:
        """``(sum_design2 - n * estimate^2) / (n - 1)``: the variance the pseudo-outcomes
        would have if both arms had the pooled second moment (None if n < 2, overflow)."""
        return self._var_from(self.sum_design2)

    def variance(self, kind: str = "robust") -> float | None:
        """Variance used by the sequences: ``"robust"`` = ``max(var, var_design)`` (default),
        ``"sample"`` = ``var`` (the paper's plug-in)."""
        if kind not in ("robust", "sample"):
            raise ValueError(f"variance must be 'robust' or 'sample', got {kind!r}")
        v = self.var
        if kind == "sample" or v is None:
            return v
        d = self.var_design
        return None if d is None else max(v, d)

    def _undefined(self) -> list[Diagnostic]:
        if self.n_treated == 0 or self.n_control == 0:
            which = "treatment" if self.n_treated == 0 else "control"
            if self.n == 0:
                which = "treatment and control"
            return [Diagnostic("EMPTY_ARM", f"the {which} arm has no units yet; no estimate")]
        if self.estimate is None or self.variance("robust") is None:
            return [Diagnostic("NUMERIC_OVERFLOW", _OVERFLOW)]
        return []

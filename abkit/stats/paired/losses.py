"""Per-request losses and the paired t-test on loss differences."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..results import Diagnostic, EffectEstimate, HasDiagnostics
from ._common import (
    _LOSSES,
    _NONE_EE,
    _REASONS,
    LOG_LOSS_EPS,
    Loss,
    _check_confidence,
    _check_margin,
    _diag_list,
    _ee_dict,
    _labelled,
    _num,
    _t_interval,
)


def _is_probability(s: np.ndarray) -> bool:
    return bool(s.size == 0 or (float(s.min()) >= 0.0 and float(s.max()) <= 1.0))


def _per_request_loss(y: np.ndarray, p: np.ndarray, loss: str) -> np.ndarray:
    if loss == "log_loss":
        q = np.clip(p, LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS)
        return -(y * np.log(q) + (1.0 - y) * np.log1p(-q))
    if loss == "squared_error":
        return (p - y) ** 2
    return np.abs(p - y)


def _clip_note(name: str, p: np.ndarray, diags: list[Diagnostic]) -> None:
    k = int(((p < LOG_LOSS_EPS) | (p > 1.0 - LOG_LOSS_EPS)).sum())
    if k:
        diags.append(Diagnostic(
            "LOG_LOSS_CLIPPED",
            f"{k} {name}probabilit{'y was' if k == 1 else 'ies were'} clipped to "
            f"[{LOG_LOSS_EPS:g}, 1 - {LOG_LOSS_EPS:g}] for the log loss",
        ))


# --------------------------------------------------------------------------- paired loss test


@dataclass(frozen=True)
class LossDifferenceResult(HasDiagnostics):
    """Paired t-test on per-request loss differences ``loss_cand_i - loss_live_i``.

    Positive differences mean the candidate is worse. ``noninferiority_pvalue`` tests
    ``H0: mean difference >= margin`` (the candidate is worse by at least ``margin``) against
    ``H1: mean difference < margin``.
    """

    loss: str
    n: int
    mean_live: float | None
    mean_candidate: float | None
    difference: EffectEstimate
    margin: float
    noninferiority_pvalue: float | None
    confidence_level: float
    log_loss_clip: float | None
    alternative: str = "two-sided"
    method: str = "paired-t"
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "n": int(self.n),
            "mean_live": _num(self.mean_live),
            "mean_candidate": _num(self.mean_candidate),
            "difference": _ee_dict(self.difference),
            "margin": _num(self.margin),
            "noninferiority_pvalue": _num(self.noninferiority_pvalue),
            "confidence_level": _num(self.confidence_level),
            "log_loss_clip": _num(self.log_loss_clip),
            "alternative": self.alternative,
            "method": self.method,
            "diagnostics": _diag_list(self.diagnostics),
        }


def paired_loss_test(
    y: Any,
    s_live: Any,
    s_cand: Any,
    loss: Loss = "log_loss",
    margin: float = 0.0,
    confidence_level: float = 0.95,
) -> LossDifferenceResult:
    """Paired t-test on per-request loss differences, with a non-inferiority p-value.

    For each labelled request ``d_i = L(y_i, s_cand_i) - L(y_i, s_live_i)`` with ``L`` one of

    * ``"log_loss"``: ``-(y log p + (1 - y) log(1 - p))``, ``p`` clipped to
      ``[1e-15, 1 - 1e-15]`` (binary ``y``, probabilities);
    * ``"squared_error"``: ``(s - y)^2`` (the per-request Brier score for binary ``y``; any
      real ``y`` for regression);
    * ``"absolute_error"``: ``|s - y|`` (any real ``y``).

    The mean of ``d`` gets a Student t interval with ``n - 1`` df and the two-sided p-value of
    ``mean = 0`` (identical to ``scipy.stats.ttest_rel(loss_cand, loss_live)``); the
    non-inferiority p-value ``P(T_{n-1} <= (mean - margin) / se)`` tests
    ``H0: mean >= margin`` (the candidate's loss is higher by at least ``margin``), as
    ``scipy.stats.ttest_1samp(d, margin, alternative="less")``. Per-request losses are
    averages of independent pairs, so the t-test is valid by the central limit theorem; its
    validity for very skewed log-loss differences needs a few hundred pairs.

    Undefined parts are ``None`` with a diagnostic: no labelled pairs, one pair
    (``TOO_FEW_PAIRS``), identical losses (``ZERO_VARIANCE``), scores outside ``[0, 1]`` for
    the log loss (``NOT_PROBABILITIES``).

    Parameters
    ----------
    loss : {"log_loss", "squared_error", "absolute_error"}, default "log_loss"
    margin : float, default 0.0
        Non-inferiority margin in loss units (>= 0).
    confidence_level : float, default 0.95
    """
    from scipy import special as sp

    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {', '.join(_LOSSES)}, got {loss!r}")
    cl = _check_confidence(confidence_level)
    mg = _check_margin(margin)
    diags: list[Diagnostic] = []
    yy, (a, b) = _labelled(y, s_live, s_cand, diags, binary=(loss == "log_loss"))
    n = int(yy.size)
    clip = LOG_LOSS_EPS if loss == "log_loss" else None

    def done(ml=None, mc=None, diff=_NONE_EE, ni=None) -> LossDifferenceResult:
        return LossDifferenceResult(loss, n, ml, mc, diff, mg, ni, cl, clip, "two-sided",
                                    "paired-t", tuple(diags))

    if n == 0:
        diags.append(Diagnostic("NO_LABELLED_PAIRS", "there are no labelled pairs"))
        return done()
    if loss == "log_loss":
        if not (_is_probability(a) and _is_probability(b)):
            diags.append(Diagnostic("NOT_PROBABILITIES", "scores outside [0, 1]: the log loss "
                                    "is undefined"))
            return done()
        _clip_note("live ", a, diags)
        _clip_note("candidate ", b, diags)
    with np.errstate(over="ignore", invalid="ignore"):
        ll, lc = _per_request_loss(yy, a, loss), _per_request_loss(yy, b, loss)
        d = lc - ll
    if not (np.isfinite(d).all() and np.isfinite(ll).all() and np.isfinite(lc).all()):
        diags.append(Diagnostic("NUMERIC_OVERFLOW", "losses overflow double precision; "
                                "rescale the values"))
        return done()
    est, reason = _t_interval(d, cl)
    ni = None
    if reason is not None:
        diags.append(Diagnostic(reason, "loss difference: " + _REASONS[reason]))
    else:
        assert est.se is not None and est.df is not None and est.estimate is not None
        ni = min(max(float(sp.stdtr(est.df, (est.estimate - mg) / est.se)), 0.0), 1.0)
    return done(float(ll.mean()), float(lc.mean()), est, ni)

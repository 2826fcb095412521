"""One drift method by name (:func:`drift`) and every method for every feature
(:func:`drift_table`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..results import Diagnostic
from ._common import _thresholds
from .distances import js_drift, psi_drift, wasserstein_drift
from .significance import chi2_drift, ks_drift
from .thresholds import (
    _ALL_METHODS,
    CATEGORICAL_METHODS,
    NUMERIC_METHODS,
    DriftResult,
    DriftThresholds,
)


# --------------------------------------------------------------------------- dispatch


def _check_method(method: str) -> str:
    if method not in _ALL_METHODS:
        raise ValueError(f"method must be one of {', '.join(_ALL_METHODS)}; got {method!r}")
    return method


def drift(
    reference: Any, current: Any, method: str, *, categorical: bool = False, bins: int = 10,
    thresholds: DriftThresholds | None = None, feature: str | None = None,
) -> DriftResult:
    """Run one drift ``method`` (``"ks"``, ``"chi2"``, ``"psi"``, ``"js"``, ``"wasserstein"``).

    ``ks`` and ``wasserstein`` need a numeric feature and ``chi2`` a categorical one; asking
    for them on the other kind raises ``ValueError``. ``bins`` applies to ``psi`` and ``js``.
    """
    _check_method(method)
    if categorical and method not in CATEGORICAL_METHODS:
        raise ValueError(f"{method} applies to numeric features only")
    if not categorical and method not in NUMERIC_METHODS:
        raise ValueError(f"{method} applies to categorical features only")
    if method == "ks":
        return ks_drift(reference, current, thresholds=thresholds, feature=feature)
    if method == "chi2":
        return chi2_drift(reference, current, thresholds=thresholds, feature=feature)
    if method == "psi":
        return psi_drift(reference, current, categorical=categorical, bins=bins,
                         thresholds=thresholds, feature=feature)
    if method == "js":
        return js_drift(reference, current, categorical=categorical, bins=bins,
                        thresholds=thresholds, feature=feature)
    return wasserstein_drift(reference, current, thresholds=thresholds, feature=feature)


def drift_table(
    reference: Mapping[str, Any],
    current: Mapping[str, Any],
    categorical: Iterable[str] = frozenset(),
    methods: Sequence[str] | None = None,
    *,
    bins: int = 10,
    thresholds: DriftThresholds | None = None,
) -> list[DriftResult]:
    """Every drift measure for every feature, for a report.

    Parameters
    ----------
    reference, current : mapping of feature name to 1-D array
        The two samples of each feature (they need not have the same length).
    categorical : set of str
        Names of the categorical features; the others are numeric.
    methods : sequence of str, optional
        Methods to run. Default: ``NUMERIC_METHODS`` (ks, psi, js, wasserstein) for numeric
        features and ``CATEGORICAL_METHODS`` (chi2, psi, js) for categorical ones. Methods that
        do not apply to a feature's kind are skipped for that feature.

    Returns
    -------
    list of DriftResult
        In feature order (reference's keys, then features present only in ``current``),
        methods in the order given, each with ``feature`` set. A feature present in only one
        mapping gets one ``None`` result per method with ``MISSING_FEATURE``.
    """
    cat = set(categorical)
    thr = _thresholds(thresholds)
    if methods is not None:
        for m in methods:
            _check_method(m)
    names = list(reference) + [k for k in current if k not in reference]
    out: list[DriftResult] = []
    for name in names:
        is_cat = name in cat
        default = CATEGORICAL_METHODS if is_cat else NUMERIC_METHODS
        ms = [m for m in (methods or default) if m in default]
        if name not in reference or name not in current:
            where = "current" if name not in current else "reference"
            diag = Diagnostic("MISSING_FEATURE", f"feature {name!r} is absent from the {where} "
                              "sample")
            n_r = int(np.size(reference[name])) if name in reference else 0
            n_c = int(np.size(current[name])) if name in current else 0
            out += [DriftResult(m, None, None, thr.threshold(m), None, n_r, n_c, (diag,),
                                feature=name) for m in ms]
            continue
        for m in ms:
            out.append(drift(reference[name], current[name], m, categorical=is_cat, bins=bins,
                             thresholds=thr, feature=name))
    return out

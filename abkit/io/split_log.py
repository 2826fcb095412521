"""Split one variant-tagged generic log into its live and candidate rows, with the row
accounting (``missing_variant``, ``unknown_variant``), before
:func:`~abkit.io.pairing.pair_shadow` pairs them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.labels import check_labels
from .datacapture import Accounting, _Counter
from .pairing_ids import _need, _norm_ids, _where

__all__ = ["SplitLog", "split_generic"]


@dataclass(frozen=True, eq=False)
class SplitLog:
    """A generic log split into its live and candidate rows, with the row accounting."""

    live: pd.DataFrame
    shadow: pd.DataFrame
    accounting: Accounting


def split_generic(frame: pd.DataFrame, *, variant_column: str, id_column: str, live: str,
                  candidate: str, where: str = "log") -> SplitLog:
    """Split one variant-tagged log (one row per request and variant) into live and shadow.

    Rows whose tag is empty are rejected as ``missing_variant``, rows tagged with anything
    but ``live`` or ``candidate`` as ``unknown_variant``; nothing else is filtered here
    (ids are checked by :func:`pair_shadow`, which takes ``id_column`` too). Tags compare
    as stripped strings. A label typo (``live`` or ``candidate`` without rows, or most rows
    with other labels) is an :class:`~abkit.errors.InputError` naming ``where``
    (:func:`abkit.core.labels.check_labels`).
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    _need(frame, variant_column, "log", "pass variant_column= naming the variant tag column")
    _need(frame, id_column, "log", "pass id_column= naming the request id column")
    if live == candidate:
        raise ValueError("live and candidate must be different variant names")
    frame = frame.reset_index(drop=True)
    tags = _norm_ids(frame[variant_column])
    cnt = _Counter()
    cnt.read = len(frame)
    miss = tags.isna().to_numpy()
    is_live = (tags == str(live)).to_numpy()
    is_cand = (tags == str(candidate)).to_numpy()
    unknown = ~miss & ~is_live & ~is_cand
    if miss.any():
        i = int(np.flatnonzero(miss)[0])
        cnt.reject("missing_variant", f"{_where(frame, i)}: empty {variant_column!r}",
                   int(miss.sum()))
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        others = sorted(set(tags[unknown]))
        cnt.reject("unknown_variant", f"{_where(frame, i)}: variant {tags.iloc[i]!r} "
                   f"(unknown tags: {', '.join(others[:5])})", int(unknown.sum()))
    cnt.used = int(is_live.sum() + is_cand.sum())
    check_labels(where, {"experiment.live": str(live), "experiment.candidate": str(candidate)},
                 {str(live): int(is_live.sum()), str(candidate): int(is_cand.sum())},
                 {str(k): int(n) for k, n in tags[unknown].value_counts().items()},
                 len(frame))
    return SplitLog(frame[is_live].reset_index(drop=True),
                    frame[is_cand].reset_index(drop=True), cnt.freeze())

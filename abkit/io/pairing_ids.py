"""Request-id and label helpers shared by the shadow pairing and the generic-log split:
id normalisation, row locations for examples, column checks, NaN-aware equality, and the
valid labels indexed by id with their accounting."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .datacapture import _Counter


def _norm_ids(s: pd.Series) -> pd.Series:
    """Ids as stripped strings (object dtype), None where missing or empty.

    Numbers that are whole (``123`` or ``123.0``, as a column with NaN holds them) become
    ``"123"``, so ids compare the same whether a log typed them as int, float or text.
    """
    def one(v: Any) -> str | None:
        if v is None or v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, (bool, np.bool_)):
            return None
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        if isinstance(v, (float, np.floating)):
            if not np.isfinite(v):
                return None
            return str(int(v)) if float(v).is_integer() else repr(float(v))
        t = str(v).strip()
        return t or None

    return pd.Series([one(v) for v in s.tolist()], index=s.index, dtype=object)


def _where(frame: pd.DataFrame, i: int) -> str:
    """``file:line`` of a row when the frame has them, else its row position."""
    if "file" in frame.columns and "line" in frame.columns:
        return f"{frame['file'].iloc[i]}:{frame['line'].iloc[i]}"
    return f"row {i}"


def _need(frame: pd.DataFrame, col: str, side: str, hint: str) -> None:
    if col not in frame.columns:
        raise InputError(f"the {side} frame has no column {col!r} (columns: "
                         f"{', '.join(map(str, frame.columns[:12]))})", hint)


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality where NaN/None equals NaN/None."""
    av, bv = a.to_numpy(dtype=object), b.to_numpy(dtype=object)
    na_a, na_b = pd.isna(a).to_numpy(), pd.isna(b).to_numpy()
    eq = np.array([x == y for x, y in zip(av, bv)], dtype=bool) if len(av) else \
        np.zeros(0, dtype=bool)
    return np.where(na_a | na_b, na_a & na_b, eq)


def _labels_by_id(labels: pd.DataFrame, id_col: str, value_col: str) -> tuple[
        pd.Series, _Counter]:
    """Valid labels indexed by normalised id, with the accounting of the label rows."""
    _need(labels, id_col, "labels", "pass label_id_column= naming the labels' id column")
    _need(labels, value_col, "labels", "pass label_column= naming the label column")
    cnt = _Counter()
    cnt.read = len(labels)
    ids = _norm_ids(labels[id_col])
    vals = pd.to_numeric(labels[value_col], errors="coerce").astype(float)
    miss = ids.isna().to_numpy()
    bad = ~miss & ~np.isfinite(vals.to_numpy())
    for reason, mask, what in (("missing_id", miss, "the label id is empty"),
                               ("bad_label", bad, "the label is not a finite number")):
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            cnt.reject(reason, f"{_where(labels, i)}: {what}", int(mask.sum()))
    ok = ~miss & ~bad
    d = pd.DataFrame({"id": ids[ok].to_numpy(), "label": vals[ok].to_numpy(),
                      "pos": np.flatnonzero(ok)})
    if len(d):
        conflict = d.groupby("id", sort=False)["label"].transform("nunique").to_numpy() > 1
        repeat = d.duplicated("id", keep="first").to_numpy() & ~conflict
        for reason, mask, what in (
                ("conflicting_label", conflict, "has different labels"),
                ("duplicate_label", repeat, "is labelled more than once (first kept)")):
            if mask.any():
                i = int(np.flatnonzero(mask)[0])
                cnt.reject(reason, f"{_where(labels, int(d['pos'].iloc[i]))}: id "
                           f"{d['id'].iloc[i]!r} {what}", int(mask.sum()))
        d = d[~conflict & ~repeat]
    return pd.Series(d["label"].to_numpy(), index=d["id"].to_numpy(), dtype=float), cnt

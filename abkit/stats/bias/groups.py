"""Group (facet) values: encoding, matching and their JSON form."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


# --------------------------------------------------------------------------- groups


def _group_json(g: Any) -> str | int | float:
    if isinstance(g, (bool, np.bool_)):
        return str(bool(g))
    if isinstance(g, (int, np.integer)):
        return int(g)
    if isinstance(g, (float, np.floating)):
        v = float(g)
        return int(v) if v.is_integer() else v
    return str(g)


def _encode_groups(group: Any) -> tuple[list[Any], np.ndarray, int]:
    """(sorted distinct group values, code per element (-1 = missing), number missing).

    Missing: ``None`` and float NaN. Integer groups stay integers; anything else that is not
    all numeric becomes a string.
    """
    arr = np.asarray(group)
    if arr.ndim != 1:
        raise ValueError(f"group must be one-dimensional, got shape {arr.shape}")
    kind = arr.dtype.kind
    if kind in "iub":
        keys, inv = np.unique(arr, return_inverse=True)
        return [_group_json(k) for k in keys], inv.astype(np.int64), 0
    if kind == "f":
        missing = np.isnan(arr)
        keys, inv = np.unique(arr[~missing], return_inverse=True)
        codes = np.full(arr.size, -1, dtype=np.int64)
        codes[~missing] = inv
        return [_group_json(k) for k in keys], codes, int(missing.sum())
    if kind in "US":
        keys, inv = np.unique(arr, return_inverse=True)
        return [str(k) for k in keys], inv.astype(np.int64), 0
    values = arr.tolist()
    missing = np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in values],
                       dtype=bool)
    present = [v for v, mi in zip(values, missing) if not mi]
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
           for v in present):
        norm = np.array([int(v) for v in present], dtype=np.int64)
    else:
        norm = np.array([str(v) for v in present], dtype=object)
    codes = np.full(arr.size, -1, dtype=np.int64)
    if norm.size:
        keys, inv = np.unique(norm, return_inverse=True)
        codes[~missing] = inv
        keys_l = [_group_json(k) for k in keys]
    else:
        keys_l = []
    return keys_l, codes, int(missing.sum())


def _match(value: Any, keys: list[Any]) -> int | None:
    for i, k in enumerate(keys):
        if k == value or str(k) == str(value):
            return i
    return None

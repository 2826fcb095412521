"""Small helpers of the shadow-test generator: ids, score text, rounding, AUC, times."""

from __future__ import annotations

import math

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _uuid4s(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` RFC 4122 version-4 UUID strings drawn from ``rng`` (deterministic)."""
    b = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    out = []
    for row in b:
        h = row.tobytes().hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def _hex_ids(rng: np.random.Generator, n: int, prefix: str, taken: set[str]) -> list[str]:
    """``n`` distinct ids ``prefix + 12 hex digits`` not in ``taken``."""
    out: list[str] = []
    seen = set(taken)
    while len(out) < n:
        for v in rng.integers(0, 1 << 48, size=n - len(out), dtype=np.int64):
            s = f"{prefix}{int(v):012x}"
            if s not in seen:
                seen.add(s)
                out.append(s)
    return out


def _fmt_score(x: float) -> str:
    return f"{x:.4f}"


def _canonical(scores: np.ndarray) -> np.ndarray:
    """The scores as they read back from the 4-decimal text written to the files."""
    return np.array([float(_fmt_score(s)) for s in scores])


def _nearest_rank(sorted_x: np.ndarray, q: float) -> float:
    """Nearest-rank percentile ``x[ceil(q/100 * n) - 1]`` of an ascending array."""
    n = len(sorted_x)
    k = max(math.ceil(q / 100.0 * n), 1)
    return float(sorted_x[k - 1])


def _r(x: float | None, nd: int = 6) -> float | None:
    """Round for the manifest (stable text across platforms); ``None`` stays ``None``."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return round(x, nd)


def _auc(score: np.ndarray, y: np.ndarray) -> float | None:
    """Area under the ROC curve: the Mann-Whitney U / (n1 n0) with mid-ranks for ties."""
    from scipy.stats import rankdata

    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return None
    ranks = rankdata(score)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def _stamp(base: np.datetime64, ms: np.ndarray) -> np.ndarray:
    """ISO 8601 seconds + 'Z' (as in ``eventMetadata.inferenceTime``)."""
    t = base + ms.astype("timedelta64[ms]")
    return np.char.add(np.datetime_as_string(t, unit="s"), "Z")


def _hour_dirs(base: np.datetime64, ms: np.ndarray) -> np.ndarray:
    """``yyyy/mm/dd/hh`` of each time."""
    h = np.datetime_as_string((base + ms.astype("timedelta64[ms]")).astype("datetime64[h]"),
                              unit="h")  # 'YYYY-MM-DDTHH'
    return np.array([f"{s[0:4]}/{s[5:7]}/{s[8:10]}/{s[11:13]}" for s in h])


def _pick(rng: np.random.Generator, eligible: np.ndarray, share: float, minimum: int) -> np.ndarray:
    """Indices: ``max(minimum, round(share * n))`` of the eligible positions, sorted."""
    idx = np.flatnonzero(eligible)
    k = min(len(idx), max(minimum, round(share * len(idx))))
    return np.sort(rng.choice(idx, size=k, replace=False)) if k else idx[:0]

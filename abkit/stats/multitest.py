"""Multiple-testing adjustment of p-values (Bonferroni, Holm, Benjamini-Hochberg)."""

from __future__ import annotations

from typing import Literal, Sequence

__all__ = ["Correction", "CORRECTIONS", "adjust_pvalues"]

Correction = Literal["none", "bonferroni", "holm", "bh"]
CORRECTIONS: tuple[str, ...] = ("none", "bonferroni", "holm", "bh")


def adjust_pvalues(pvalues: Sequence[float | None], method: Correction = "holm") -> list:
    """Adjusted p-values, in input order; ``None`` entries are skipped and stay ``None``.

    Matches ``statsmodels.stats.multitest.multipletests(p, method=...)[1]`` with methods
    ``bonferroni``, ``holm`` and ``fdr_bh``.
    """
    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}; choose one of {', '.join(CORRECTIONS)}")
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    ps = [float(pvalues[i]) for i in idx]  # type: ignore[arg-type]
    m = len(ps)
    out: list = [None] * len(pvalues)
    if m == 0:
        return out
    if method == "none":
        adj = ps
    elif method == "bonferroni":
        adj = [min(1.0, p * m) for p in ps]
    elif method == "holm":
        order = sorted(range(m), key=lambda i: ps[i])
        adj = [0.0] * m
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * ps[i]))
            adj[i] = running
    else:  # Benjamini-Hochberg step-up
        order = sorted(range(m), key=lambda i: ps[i], reverse=True)
        adj = [0.0] * m
        running = 1.0
        for pos, i in enumerate(order):
            rank = m - pos
            running = min(running, ps[i] * (m / rank))
            adj[i] = min(1.0, running)
    for j, i in enumerate(idx):
        out[i] = adj[j]
    return out

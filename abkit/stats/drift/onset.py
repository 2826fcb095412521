"""Where a drift began in a sequence of time windows (:func:`drift_onset`)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..results import Diagnostic
from ._common import _thresholds
from .dispatch import _check_method, drift
from .thresholds import DriftResult, DriftThresholds


# --------------------------------------------------------------------------- onset


@dataclass(frozen=True)
class DriftOnset:
    """Where a drift began in a sequence of time windows.

    Attributes
    ----------
    method : str
        The drift measure.
    onset : hashable or None
        Label of the first window of the persistent drift (see ``persistence``), or ``None``.
    onset_index : int or None
        Its position in ``labels``.
    labels : tuple
        Window labels in time order.
    statistics, pvalues : tuple of float or None
        The per-window statistic (and p-value for ks/chi2) against the reference.
    drifted : tuple of bool or None
        Per-window ``drifted`` (``None`` for a window whose statistic is undefined).
    persistence : int or None
        ``None``: the drift must hold from the onset to the last window; ``k``: the onset is
        the first window of the first run of ``k`` consecutive drifted windows.
    threshold : float
        The method's threshold.
    results : tuple of DriftResult
        The per-window results.
    """

    method: str
    onset: Hashable | None
    onset_index: int | None
    labels: tuple[Hashable, ...]
    statistics: tuple[float | None, ...]
    pvalues: tuple[float | None, ...]
    drifted: tuple[bool | None, ...]
    persistence: int | None
    threshold: float
    results: tuple[DriftResult, ...]
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "onset": self.onset,
            "onset_index": self.onset_index,
            "persistence": self.persistence,
            "threshold": self.threshold,
            "windows": [
                {"label": lab, "statistic": s, "pvalue": p, "drifted": d}
                for lab, s, p, d in zip(self.labels, self.statistics, self.pvalues, self.drifted)
            ],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def _onset_index(flags: Sequence[bool | None], persistence: int | None) -> int | None:
    """Onset under the persistence rule; ``None`` windows neither start nor break a run."""
    idx = [i for i, f in enumerate(flags) if f is not None]
    if persistence is None:
        onset = None
        for i in reversed(idx):
            if flags[i]:
                onset = i
            else:
                break
        return onset
    run_start, run = None, 0
    for i in idx:
        if flags[i]:
            if run == 0:
                run_start = i
            run += 1
            if run >= persistence:
                return run_start
        else:
            run = 0
    return None


def drift_onset(
    windows: Sequence[tuple[Hashable, Any]],
    reference: Any,
    method: str,
    *,
    categorical: bool = False,
    persistence: int | None = None,
    bins: int = 10,
    thresholds: DriftThresholds | None = None,
) -> DriftOnset:
    """Locate the onset of a drift in per-window samples (e.g. hourly) against a reference.

    Each window's sample is compared with ``reference`` by ``method`` (see :func:`drift`).
    Persistence rule: with ``persistence=None`` (default) the onset is the first window from
    which every later window is drifted (to the end of the sequence), so a drift that came and
    went has no onset (diagnostic ``TRANSIENT_DRIFT``); with ``persistence=k`` it is the first
    window of the first run of ``k`` consecutive drifted windows. Windows whose statistic is
    undefined (empty, all missing) are skipped: they neither start nor interrupt a run, and get
    ``WINDOW_UNDEFINED``.

    The windows are each tested against the same reference, without correction for
    multiplicity; with p-value methods the chance of at least one false flag grows with the
    number of windows, which the persistence rule (and the effect floor) is there to absorb.
    """
    _check_method(method)
    if persistence is not None and (isinstance(persistence, bool) or int(persistence) != persistence
                                    or persistence < 1):
        raise ValueError(f"persistence must be None or an integer >= 1, got {persistence!r}")
    thr = _thresholds(thresholds)
    labels: list[Hashable] = []
    results: list[DriftResult] = []
    for item in windows:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ValueError("windows must be a sequence of (label, sample) pairs")
        lab, sample = item
        labels.append(lab)
        res = drift(reference, sample, method, categorical=categorical, bins=bins, thresholds=thr)
        results.append(replace(res, feature=None))
    flags = tuple(r.drifted for r in results)
    k = None if persistence is None else int(persistence)
    i = _onset_index(flags, k)
    diags: list[Diagnostic] = []
    undefined = [str(labels[j]) for j, f in enumerate(flags) if f is None]
    if undefined:
        diags.append(Diagnostic("WINDOW_UNDEFINED", f"{len(undefined)} window(s) have no defined "
                                f"statistic and were skipped: {', '.join(undefined[:5])}"
                                + (" ..." if len(undefined) > 5 else "")))
    if not labels:
        diags.append(Diagnostic("NO_WINDOWS", "no windows were given"))
    elif i is None and any(flags):
        diags.append(Diagnostic("TRANSIENT_DRIFT", "some windows drifted but the drift did not "
                                "persist under the persistence rule; no onset"))
    return DriftOnset(
        method, labels[i] if i is not None else None, i, tuple(labels),
        tuple(r.statistic for r in results), tuple(r.pvalue for r in results), flags, k,
        thr.threshold(method), tuple(results), tuple(diags),
    )

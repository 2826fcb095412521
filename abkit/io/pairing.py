"""Join live and shadow answers of the same requests (and their labels) into pairs.

In a shadow test the candidate receives a copy of each live request; both answers are logged
under one request id (SageMaker: the shared ``inferenceId``). :func:`pair_shadow` turns the
two sides into one row per request, with full accounting: every live and shadow record is
used in a pair or rejected with a reason (``missing_request_id``, ``non_numeric_output``,
``non_finite_output``, ``duplicate_request``, ``live_only``, ``shadow_only``), and every
label is attached to a pair or counted (``missing_id``, ``bad_label``, ``duplicate_label``,
``conflicting_label``, ``labels_only``).
Descriptions of the reasons: :data:`abkit.io.datacapture.REASONS`. The id helpers are in
:mod:`abkit.io.pairing_ids`; :func:`split_generic` (re-exported here) is in
:mod:`abkit.io.split_log`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..stats.results import Diagnostic
from .datacapture import Accounting, CaptureRead, LabelsRead, _Counter, _merge
from .pairing_ids import _labels_by_id, _need, _norm_ids, _same, _where
from .split_log import SplitLog, split_generic

__all__ = ["Pairs", "SplitLog", "pair_capture", "pair_shadow", "split_generic"]

_CAPTURE_COLUMNS = frozenset({
    "endpoint", "variant", "event_id", "inference_id", "request_id", "inference_time",
    "file", "line", "output", "output_label",
})


@dataclass(frozen=True, eq=False)
class Pairs:
    """Matched live/shadow pairs and what happened to every record.

    Attributes
    ----------
    frame : DataFrame
        One row per request answered by both sides: ``request_id``, ``time`` (live),
        ``time_shadow``, ``output_live``, ``output_shadow``, ``label`` (float, NaN when
        unlabelled), ``input_mismatch`` (bool), ``output_label_live`` /
        ``output_label_shadow`` when both sides have ``output_label``, ``<col>_live`` /
        ``<col>_shadow`` for each ``carry`` column, then the feature columns, taken from the
        live record. Rows keep the live side's order.
    unmatched : dict
        ``live_only``, ``shadow_only`` (records whose request the other side never answered)
        and ``labels_only`` (valid labels that matched no pair).
    examples : dict
        One example per unmatched kind and per rejection reason.
    accounting : Accounting
        Live and shadow records together: ``records_read = len(live) + len(shadow)``,
        ``records_used = 2 * len(frame)``.
    by_side : dict
        ``"live"`` and ``"shadow"`` :class:`Accounting`.
    labels : Accounting or None
        The labels' own accounting (``None`` when no labels were given).
    input_mismatch : int or None
        Pairs whose compared feature values differ (NaN equals NaN); ``None`` when no
        features were compared.
    diagnostics : tuple of Diagnostic
        ``INPUT_MISMATCH``, ``INPUT_NOT_COMPARED``, ``NO_PAIRS``, ``NO_LABELLED_PAIRS``.
    """

    frame: pd.DataFrame
    unmatched: dict[str, int]
    examples: dict[str, str]
    accounting: Accounting
    by_side: dict[str, Accounting]
    labels: Accounting | None
    input_mismatch: int | None
    features: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def n_pairs(self) -> int:
        return len(self.frame)

    @property
    def n_labelled(self) -> int:
        return int(self.frame["label"].notna().sum())

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.n_pairs,
            "labelled_pairs": self.n_labelled,
            "unmatched": dict(self.unmatched),
            "examples": dict(sorted(self.examples.items())),
            "input_mismatch": self.input_mismatch,
            "features_compared": list(self.features),
            "records": self.accounting.to_dict(),
            "by_side": {k: v.to_dict() for k, v in self.by_side.items()},
            "labels": self.labels.to_dict() if self.labels is not None else None,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def pair_shadow(
    live: pd.DataFrame,
    shadow: pd.DataFrame,
    labels: pd.DataFrame | None = None,
    *,
    id_column: str = "request_id",
    label_id_column: str = "event_id",
    label_column: str = "label",
    output_column: str = "output",
    time_column: str | None = "inference_time",
    features: Sequence[str] | None = None,
    carry: Sequence[str] = (),
) -> Pairs:
    """Inner-join live and shadow records on the request id, and attach labels.

    Method: ids are normalised to strings (whole numbers print without ``.0``). A record
    with an empty id is rejected (``missing_request_id``), one whose output is not a number
    (``non_numeric_output``) or is missing/NaN/infinite (``non_finite_output``) too; its
    partner on the other side then counts as ``live_only`` / ``shadow_only``. Among the
    remaining records, an id that occurs more than once on either side makes the pairing
    ambiguous, so every row with that id, on both sides, is rejected
    (``duplicate_request``). The remaining ids are inner-joined; the rest are ``live_only``
    / ``shadow_only``.

    Labels join by the live record's label key: its ``inference_id`` when the frame has
    ``inference_id`` and ``event_id`` columns (SageMaker capture), or its ``event_id`` when
    the request had no inferenceId (Model Monitor's merge rule), and a label keyed by the
    record's ``event_id`` is found too; otherwise its ``id_column``. Label rows: empty id ``missing_id``, non-numeric ``bad_label``, the same
    id with different labels ``conflicting_label`` (all such rows), repeated with the same
    label ``duplicate_label`` (first kept), no matching pair ``labels_only``. Labels read by
    :func:`~abkit.io.datacapture.read_ground_truth` are already de-duplicated.

    Parameters
    ----------
    features
        Feature columns to carry from the live record and to compare with the shadow's
        copy: pairs whose values differ are counted (``input_mismatch``) but kept. ``None``
        (default): every live column that is not an id/time/output/bookkeeping column is
        carried, and nothing is compared (diagnostic ``INPUT_NOT_COMPARED``);
        :func:`pair_capture` passes the capture's features.
    carry
        Columns taken from both sides with ``_live`` / ``_shadow`` suffixes (latency, error
        flags of a generic log).
    time_column
        Live (and shadow, when present) request time; ``None`` when the log has none.
    """
    for side, fr in (("live", live), ("shadow", shadow)):
        if not isinstance(fr, pd.DataFrame):
            raise TypeError(f"{side} must be a pandas DataFrame, got {type(fr).__name__}")
        _need(fr, id_column, side, "pass id_column= naming the request id column")
        _need(fr, output_column, side, "pass output_column= naming the prediction column")
        for c in carry:
            _need(fr, c, side, "drop it from carry=")
    if time_column is not None:
        _need(live, time_column, "live", "pass time_column= (or None when there is none)")
    feats = tuple(features) if features is not None else None
    if feats is not None:
        for c in feats:
            _need(live, c, "live", "check the feature names")
    live = live.reset_index(drop=True)
    shadow = shadow.reset_index(drop=True)
    ids = {"live": _norm_ids(live[id_column]), "shadow": _norm_ids(shadow[id_column])}
    frames = {"live": live, "shadow": shadow}
    counters = {k: _Counter() for k in frames}
    examples: dict[str, str] = {}

    def reject(side: str, mask: np.ndarray, reason: str, what: str) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            ex = f"{side} {_where(frames[side], i)}: {what(i) if callable(what) else what}"
            counters[side].reject(reason, ex, int(mask.sum()))
            examples.setdefault(reason, ex)

    outputs = {}
    valid = {}
    for side, fr in frames.items():
        counters[side].read = len(fr)
        miss = ids[side].isna().to_numpy()
        reject(side, miss, "missing_request_id", f"empty {id_column!r}")
        y = pd.to_numeric(fr[output_column], errors="coerce").to_numpy(dtype=float)
        non_num = ~miss & np.isnan(y) & fr[output_column].notna().to_numpy()
        non_fin = ~miss & ~non_num & ~np.isfinite(y)
        reject(side, non_num, "non_numeric_output",
               lambda i, fr=fr: f"output {fr[output_column].iloc[i]!r} is not a number")
        reject(side, non_fin, "non_finite_output",
               lambda i, fr=fr: f"output {fr[output_column].iloc[i]!r} is missing or not "
               "finite")
        outputs[side] = y
        valid[side] = ~miss & ~non_num & ~non_fin
    dup = set()
    for side in frames:
        s = ids[side][valid[side]]
        dup |= set(s[s.duplicated(keep=False)])
    for side in frames:
        m = valid[side] & ids[side].isin(dup).to_numpy()
        reject(side, m, "duplicate_request",
               lambda i, side=side: f"request id {ids[side].iloc[i]!r} is not unique")
    ok = {k: valid[k] & ~ids[k].isin(dup).to_numpy() for k in frames}
    live_ids = set(ids["live"][ok["live"]])
    shadow_ids = set(ids["shadow"][ok["shadow"]])
    only = {"live": ok["live"] & ~ids["live"].isin(shadow_ids).to_numpy(),
            "shadow": ok["shadow"] & ~ids["shadow"].isin(live_ids).to_numpy()}
    for side, other in (("live", "shadow"), ("shadow", "live")):
        reject(side, only[side], f"{side}_only",
               lambda i, side=side, other=other:
               f"request {ids[side].iloc[i]!r} has no {other} record")

    lmask = ok["live"] & ~only["live"]
    smask = ok["shadow"] & ~only["shadow"]
    L = live[lmask]
    S = shadow[smask].set_index(ids["shadow"][smask].to_numpy())
    key = ids["live"][lmask].to_numpy()
    S = S.loc[key]
    out: dict[str, Any] = {"request_id": key}
    L = L.reset_index(drop=True)
    S = S.reset_index(drop=True)
    out["time"] = L[time_column] if time_column is not None else \
        pd.Series(pd.NaT, index=L.index, dtype="datetime64[us, UTC]")
    if time_column is not None and time_column in shadow.columns:
        out["time_shadow"] = S[time_column]
    out["output_live"] = outputs["live"][lmask]
    out["output_shadow"] = pd.Series(outputs["shadow"][smask],
                                     index=ids["shadow"][smask].to_numpy()).loc[key].to_numpy()

    # labels
    label_acc = None
    label_vals = np.full(len(L), np.nan)
    unmatched_labels = 0
    if labels is not None:
        by_id, lc = _labels_by_id(labels, label_id_column, label_column)
        alt_arr = None
        if {"inference_id", "event_id"} <= set(live.columns):
            lk = _norm_ids(L["inference_id"])
            ev = _norm_ids(L["event_id"])
            lk = lk.where(lk.notna(), ev)
            alt_arr = ev.to_numpy(dtype=object)  # ground truth keyed by the eventId
        else:
            lk = pd.Series(key, dtype=object)
        lk_arr = lk.to_numpy(dtype=object)
        hit = pd.Index(by_id.index).isin(lk_arr)
        label_vals = by_id.reindex(lk_arr).to_numpy(dtype=float)
        if alt_arr is not None:
            alt_vals = by_id.reindex(alt_arr).to_numpy(dtype=float)
            label_vals = np.where(np.isnan(label_vals), alt_vals, label_vals)
            hit |= pd.Index(by_id.index).isin(alt_arr)
        unmatched_labels = int((~hit).sum())
        lc.used = int(hit.sum())
        if unmatched_labels:
            first = by_id.index[~hit][0]
            side_hint = ("it matches an unpaired live record" if first in set(ids["live"])
                         else "no live record has that id")
            ex = f"label id {first!r} matches no pair ({side_hint})"
            lc.reject("labels_only", ex, unmatched_labels)
            examples.setdefault("labels_only", ex)
        label_acc = lc.freeze()
    out["label"] = label_vals

    # feature comparison
    diags: list[Diagnostic] = []
    if feats is None:
        skip = set(_CAPTURE_COLUMNS) | {id_column, output_column, label_column} | set(carry)
        if time_column is not None:
            skip.add(time_column)
        carried = tuple(c for c in live.columns if c not in skip)
        compared: tuple[str, ...] = ()
        diags.append(Diagnostic("INPUT_NOT_COMPARED", "no features were named, so the live "
                                "and shadow inputs were not compared"))
    else:
        carried = compared = feats
    mismatch = np.zeros(len(L), dtype=bool)
    for c in compared:
        if c not in shadow.columns:
            raise InputError(f"the shadow frame has no feature column {c!r}",
                             "both sides must carry the same features")
        mismatch |= ~_same(L[c], S[c])
    if compared:  # a side whose input was unreadable (every feature missing) is not compared
        unread = L[list(compared)].isna().all(axis=1).to_numpy() | \
            S[list(compared)].isna().all(axis=1).to_numpy()
        mismatch &= ~unread
    out["input_mismatch"] = mismatch
    if "output_label" in live.columns and "output_label" in shadow.columns:
        out["output_label_live"] = L["output_label"]
        out["output_label_shadow"] = S["output_label"]
    for c in carry:
        out[f"{c}_live"] = L[c]
        out[f"{c}_shadow"] = S[c]
    for c in carried:
        if c not in out:
            out[c] = L[c]
    frame = pd.DataFrame(out)
    n_mis = int(mismatch.sum()) if compared else None
    if n_mis:
        i = int(np.flatnonzero(mismatch)[0])
        diffs = [c for c in compared
                 if not _same(L[c].iloc[[i]], S[c].iloc[[i]])[0]]
        msg = (f"{n_mis} of {len(frame)} pairs have different live and shadow inputs (e.g. "
               f"request {key[i]!r}: {', '.join(diffs[:3])}); they are kept")
        diags.append(Diagnostic("INPUT_MISMATCH", msg))
        examples.setdefault("input_mismatch", msg)
    if len(frame) == 0:
        diags.append(Diagnostic("NO_PAIRS", "no request was answered by both live and shadow"))
    elif labels is not None and not np.isfinite(label_vals).any():
        diags.append(Diagnostic("NO_LABELLED_PAIRS", "no pair has a label"))
    for side, m in (("live", lmask), ("shadow", smask)):
        counters[side].used = int(m.sum())
    by_side = {k: c.freeze() for k, c in counters.items()}
    acc = _merge(by_side.values())
    unmatched = {"live_only": int(only["live"].sum()), "shadow_only": int(only["shadow"].sum()),
                 "labels_only": unmatched_labels}
    return Pairs(frame=frame, unmatched=unmatched, examples=examples, accounting=acc,
                 by_side=by_side, labels=label_acc, input_mismatch=n_mis,
                 features=compared, diagnostics=tuple(diags))


def pair_capture(capture: CaptureRead, live: str, shadow: str,
                 labels: LabelsRead | pd.DataFrame | None = None) -> Pairs:
    """:func:`pair_shadow` on two variants of one :func:`~abkit.io.datacapture.read_capture`
    result, comparing the capture's features, with ground truth from
    :func:`~abkit.io.datacapture.read_ground_truth` (or a frame with ``event_id, label``)."""
    lab = labels.frame if isinstance(labels, LabelsRead) else labels
    return pair_shadow(capture.variant(live), capture.variant(shadow), lab,
                       features=capture.features)

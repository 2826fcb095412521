"""A plan for a SageMaker Data Capture tree: its records read with the whole line
accounting, the live and shadow records of each request paired, and the ground truth
attached; only the pairs' arrays come back.

:class:`CapturePlan` -> :class:`CaptureReduction`, through the engine interface
(``Engine.reduce(tree, plan)``, plan kind ``capture``). Two compilations give the same
reduction (``tests/engine/test_conformance_capture.py``):

* ``pandas``, the reference: the Python readers
  (:func:`~abkit.io.datacapture.read_capture`,
  :func:`~abkit.io.datacapture.read_ground_truth`) build a frame of every record, which
  :func:`~abkit.io.pairing.pair_capture` pairs;
* ``duckdb``, the default: the lines are decided in DuckDB SQL
  (:func:`~abkit.io.datacapture.duckdb_capture.read_capture_duckdb`,
  :func:`~abkit.io.datacapture.duckdb_truth.read_ground_truth_duckdb`), the records stay
  columns and are paired in DuckDB (:func:`abkit.engine.duckdb_capture_pairs
  .pair_capture_columns`), without a frame of them.

Spark has no capture compilation: a capture tree is refused on it with a usage error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..errors import InputError
from ..io.datacapture import CaptureRead, LabelsRead

__all__ = ["CapturePlan", "CaptureReduction", "reduce_capture"]

#: the engines that can read a capture tree
CAPTURE_ENGINES = ("duckdb", "pandas")


@dataclass(frozen=True)
class CapturePlan:
    """What to read and pair (data, not SQL).

    ``live`` / ``candidate`` are variant folders; ``features`` the CSV input's field names
    (``None``: the inputs are not read); ``output_field`` the score's path in a JSON output;
    ``output_range`` the interval a score must lie in (``None``: any finite number);
    ``labels`` the ground-truth folder (``None``: no labels), read as ``label_kind``
    (``"binary"`` or ``"numeric"``).
    """

    kind: ClassVar[str] = "capture"
    live: str
    candidate: str
    features: tuple[str, ...] | None = None
    output_field: str | None = None
    output_range: tuple[float, float] | None = (0.0, 1.0)
    labels: Path | None = None
    label_kind: str = "binary"


@dataclass(frozen=True, eq=False)
class CaptureReduction:
    """The capture's line accounting (``capture``; its ``frame`` is None on DuckDB), the
    labels' (``labels``), and the pairs with their accounting (``pairs``, an
    :class:`abkit.io.pairing.Pairs`)."""

    capture: CaptureRead
    labels: LabelsRead | None
    pairs: Any
    engine: str

    def to_dict(self) -> dict[str, Any]:
        """Everything but the pairs' frame (for comparisons across engines)."""
        return {"capture": self.capture.to_dict(),
                "files": [str(f) for f in self.capture.files],
                "labels": self.labels.accounting.to_dict() if self.labels else None,
                "pairs": self.pairs.to_dict(), "pair_examples": dict(self.pairs.examples)}


def _labels_path(plan: CapturePlan) -> Path:
    lp = Path(plan.labels)  # type: ignore[arg-type]
    if not lp.exists():
        raise InputError(f"labels folder not found: {lp}",
                         "labels is resolved against the spec file's folder")
    return lp


def reduce_capture(root: Path, plan: CapturePlan, engine: str) -> CaptureReduction:
    """The reduction of ``plan`` over the capture tree ``root``, compiled for ``engine``
    (one of :data:`CAPTURE_ENGINES`); the capture is read first, so that its errors come
    before those of the labels."""
    kw: dict[str, Any] = {"features": list(plan.features) if plan.features else None,
                          "output_field": plan.output_field,
                          "variants": [plan.live, plan.candidate],
                          "output_range": plan.output_range}
    if engine == "pandas":
        from ..io.datacapture import read_capture, read_ground_truth
        from ..io.pairing import pair_capture

        cap = read_capture(root, **kw)
        labels = read_ground_truth(_labels_path(plan), label_kind=plan.label_kind) \
            if plan.labels is not None else None
        pairs = pair_capture(cap, plan.live, plan.candidate, labels)
    else:
        from ..io.datacapture.duckdb_capture import read_capture_duckdb
        from ..io.datacapture.duckdb_truth import read_ground_truth_duckdb
        from .duckdb_capture_pairs import pair_capture_columns

        cap = read_capture_duckdb(root, columns_only=True, **kw)
        labels = read_ground_truth_duckdb(_labels_path(plan), label_kind=plan.label_kind) \
            if plan.labels is not None else None
        pairs = pair_capture_columns(cap, plan.live, plan.candidate, labels)
    return CaptureReduction(cap, labels, pairs, engine)

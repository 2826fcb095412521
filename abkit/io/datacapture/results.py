"""The results of the readers: :class:`CaptureRead` and :class:`LabelsRead`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ...errors import InputError
from .accounting import Accounting


@dataclass(frozen=True, eq=False)
class CaptureRead:
    """The records of a capture tree, and what happened to every line.

    Attributes
    ----------
    frame : DataFrame or None
        One row per used record: ``endpoint, variant, event_id, inference_id, request_id
        (inference_id, else event_id), inference_time (UTC), file, line, output``, then
        ``output_label`` when ``output_label_field`` was given, then one column per feature
        (float, or object holding strings where a token was not a number). ``None`` when
        the reader was asked for ``columns_only``.
    columns : dict or None
        With ``columns_only``: the same columns as arrays (numpy, pandas Categorical; the
        time a pandas Series), without the frame (the DuckDB pairing reads them:
        :func:`abkit.engine.duckdb_capture_pairs.pair_capture_columns`).
    accounting : Accounting
        All variants together.
    by_variant : dict
        Variant name -> :class:`Accounting` of the lines in that variant's folder.
    """

    frame: pd.DataFrame
    accounting: Accounting
    by_variant: dict[str, Accounting]
    endpoint: str | None
    features: tuple[str, ...]
    output_field: str | None
    output_range: tuple[float, float] | None
    files: tuple[Path, ...]
    seconds: float
    warnings: tuple[str, ...] = ()
    columns: dict[str, Any] | None = None

    @property
    def variants(self) -> tuple[str, ...]:
        return tuple(self.by_variant)

    def variant(self, name: str) -> pd.DataFrame:
        """The used records of one variant (a copy, index reset)."""
        self.check_variant(name)
        if self.frame is None:
            raise ValueError("this capture was read with columns_only=True: no frame")
        sub = self.frame[self.frame["variant"] == name].reset_index(drop=True)
        return sub

    def check_variant(self, name: str) -> None:
        """InputError (exit 2) when ``name`` is not a variant folder of the capture."""
        if name not in self.by_variant:
            raise InputError(f"variant {name!r} is not in the capture (found: "
                             f"{', '.join(self.by_variant) or 'none'})",
                             "check the live/candidate names against the variant folders")

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "features": list(self.features),
            "output_field": self.output_field,
            "output_range": list(self.output_range) if self.output_range else None,
            "files": len(self.files),
            **self.accounting.to_dict(),
            "by_variant": {k: v.to_dict() for k, v in self.by_variant.items()},
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, eq=False)
class LabelsRead:
    """Ground-truth labels, one row per id, and what happened to every line.

    ``frame`` columns: ``event_id`` (the id to join on: the capture's inferenceId, or its
    eventId when it had none), ``label`` (float), ``label_time`` (UTC: the record's
    ``eventMetadata.inferenceTime`` when it has a valid one, else the hour of its
    ``yyyy/mm/dd/hh`` folder, else NaT), ``file``, ``line``.
    """

    frame: pd.DataFrame
    accounting: Accounting
    endpoint: str | None
    label_kind: str
    files: tuple[Path, ...]
    seconds: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "label_kind": self.label_kind,
                "files": len(self.files), **self.accounting.to_dict(),
                "warnings": list(self.warnings)}

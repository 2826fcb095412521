"""SageMaker endpoint Data Capture trees and Model Monitor ground truth, read into tidy frames.

Layouts (as the SageMaker developer guide describes them: "Capture data from real-time
endpoint" and "Ingest Ground Truth labels and merge them with predictions",
docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html and
model-monitor-model-quality-merge.html):

* capture: ``<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`` (``.jsonl.gz`` too),
  one JSON object per line::

      {"captureData": {"endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                                          "data": "12,70.5,...", "encoding": "CSV"},
                       "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                          "data": "0.83", "encoding": "CSV"}},
       "eventMetadata": {"eventId": "<uuid>", "inferenceId": "<id>",
                         "inferenceTime": "2026-11-20T10:15:03Z"},
       "eventVersion": "0"}

* ground truth: ``<prefix>/<endpoint>/yyyy/mm/dd/hh/<file>.jsonl``, records
  ``{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "<id>"},
  "eventVersion": "0"}`` whose ``eventId`` is the capture's ``inferenceId``, or the capture's
  ``eventId`` when the request had no ``inferenceId``.

Accounting: every line of every file is one record, and every record is either used or
rejected with exactly one reason (the first check it fails; see :data:`CAPTURE_CHECKS` and
:data:`LABEL_CHECKS` for the order), so ``records_read = records_used + sum(rejected)`` holds
overall and per variant. One example per reason (``file:line: what``) is
kept. A bad record is never an error; an input that cannot be read at all (no such path, no
capture files, an unexpected folder layout, a variant folder that is missing) raises
:class:`abkit.errors.InputError`.

Submodules: ``accounting`` (:data:`REASONS`, :data:`CAPTURE_CHECKS`, :data:`LABEL_CHECKS`,
:class:`Accounting` and its tally), ``paths`` (:func:`parse_path`, :func:`extract_path`),
``discover`` (finding the files of a tree and reading their lines), ``decode`` (decoding one
record's payloads, inputs, outputs and ids), ``results`` (:class:`CaptureRead`,
:class:`LabelsRead`), ``records`` (the per-line rules, :class:`CaptureRules` and
:class:`LabelRules`), ``capture`` (:func:`read_capture`) and ``ground_truth``
(:func:`read_ground_truth`): the reference readers, a Python loop over the lines.

``abkit report`` reads with the DuckDB readers, which give the same results (held to the
reference by ``tests/io/test_duckdb_capture.py``): ``duckdb_capture``
(:func:`~abkit.io.datacapture.duckdb_capture.read_capture_duckdb`) and ``duckdb_truth``
(:func:`~abkit.io.datacapture.duckdb_truth.read_ground_truth_duckdb`) load the lines
(``line_table``), decide the common ones in SQL (``duckdb_sql``) and the others with the
same rules (``duckdb_run``), in bounded batches.
"""

from .accounting import CAPTURE_CHECKS, LABEL_CHECKS, REASONS, Accounting, _Counter, _merge
from .capture import read_capture
from .decode import (
    _csv_row, _decode, _example, _feature_column, _first_csv_field, _json_decode, _json_row,
    _norm_id, _number, _Reject, _scalar, _sniff_is_json,
)
from .discover import (
    _SUFFIXES, _TWO, _YEAR, _discover, _File, _hour_of, _is_data_file, _lines, _no_gc,
)
from .ground_truth import _FALSE, _TRUE, _label_value, read_ground_truth
from .paths import extract_path, parse_path
from .results import CaptureRead, LabelsRead

__all__ = [
    "CAPTURE_CHECKS", "LABEL_CHECKS", "REASONS", "Accounting", "CaptureRead", "LabelsRead",
    "parse_path", "extract_path", "read_capture", "read_ground_truth",
]

"""A hypothesis fuzz of every reader (issue #12): CSV, JSON Lines and Parquet through DuckDB,
Data Capture, ground truth and CloudWatch. Whatever the bytes, a reader returns (with an
accounting that adds up) or raises InputError: never another exception. Bounded to well
under 60 s in all."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abkit.analysis import reduce_logs
from abkit.errors import AbkitError
from abkit.io.cloudwatch import read_get_metric_data, variant_metrics
from abkit.io.datacapture import read_capture, read_ground_truth

from io_helpers import CAP, GT, cap_rec, gt_rec

SPEC = {"experiment": {"strategy": "ab", "variant_column": "variant",
                       "unit_column": "unit_id", "control": "control"},
        "metrics": [{"name": "value", "kind": "mean", "column": "value"}]}
FAST = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# text that looks like a log: the delimiters, quotes, line ends and tokens that matter
TOKENS = st.sampled_from(["control", "treatment", "u1", "u2", "1.5", "1,5", "-0", "nan",
                          "inf", "", " ", ",", ";", "\t", '"', '""', "\n", "\r\n", "\r",
                          "{", "}", "[", "]", ":", "\x00", "\xff", "é", "1e309", "null",
                          '"variant"', '"value"', "variant", "unit_id", "value"])
LOGTEXT = st.lists(TOKENS, max_size=60).map("".join)
HEADER = "variant,unit_id,value\n"
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                         st.floats(allow_nan=False, allow_infinity=False),
                         st.text(max_size=8))
JSON = st.recursive(JSON_SCALARS, lambda c: st.one_of(
    st.lists(c, max_size=4), st.dictionaries(st.text(max_size=6), c, max_size=4)),
    max_leaves=12)


def _ok_or_input_error(fn) -> None:
    try:
        fn()
    except AbkitError:
        pass


def _write(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def _reduce(p: Path) -> None:
    red = reduce_logs(p, SPEC)
    assert red.rows_read == red.rows_used + sum(red.rejected.values())


@FAST
@given(body=LOGTEXT, header=st.sampled_from([HEADER, "", "variant;unit_id;value\n",
                                             'variant,"unit_id",value,value\n']),
       raw=st.binary(max_size=64), use_raw=st.booleans())
def test_fuzz_csv(body, header, raw, use_raw):
    with tempfile.TemporaryDirectory() as d:
        data = raw if use_raw else (header + body).encode("utf-8", "surrogatepass")
        p = _write(Path(d), "log.csv", data)
        _ok_or_input_error(lambda: _reduce(p))


@FAST
@given(rows=st.lists(st.one_of(JSON, st.fixed_dictionaries(
    {"variant": st.sampled_from(["control", "treatment", "", None, 1]),
     "unit_id": st.one_of(st.text(max_size=3), st.integers(0, 3), st.none()),
     "value": st.one_of(JSON_SCALARS, st.sampled_from(["1,5", "2", "x"]))}),
    LOGTEXT), max_size=12))
def test_fuzz_jsonl(rows):
    with tempfile.TemporaryDirectory() as d:
        lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
        p = _write(Path(d), "log.jsonl", "\n".join(lines).encode("utf-8", "surrogatepass"))
        _ok_or_input_error(lambda: _reduce(p))


@FAST
@given(raw=st.binary(max_size=200), prefix=st.booleans())
def test_fuzz_parquet(raw, prefix):
    with tempfile.TemporaryDirectory() as d:
        p = _write(Path(d), "log.parquet", (b"PAR1" + raw + b"PAR1") if prefix else raw)
        _ok_or_input_error(lambda: _reduce(p))


def _mutate(rec: dict, path: list, value) -> dict:
    node = rec
    for k in path[:-1]:
        if not isinstance(node, dict) or k not in node:
            return rec
        node = node[k]
    if isinstance(node, dict):
        node[path[-1]] = value
    return rec


CAP_PATHS = st.sampled_from([
    ["captureData"], ["captureData", "endpointInput"], ["captureData", "endpointOutput"],
    ["captureData", "endpointInput", "data"], ["captureData", "endpointOutput", "data"],
    ["captureData", "endpointOutput", "encoding"], ["captureData", "endpointInput",
                                                    "observedContentType"],
    ["eventMetadata"], ["eventMetadata", "eventId"], ["eventMetadata", "inferenceId"],
    ["eventMetadata", "inferenceTime"]])


@FAST
@given(muts=st.lists(st.tuples(st.integers(0, 5), CAP_PATHS, JSON), max_size=8),
       junk=st.lists(st.one_of(LOGTEXT, st.binary(max_size=40)), max_size=3),
       features=st.sampled_from([None, ["a", "b"]]),
       output_field=st.sampled_from([None, "[0].score", "predictions[0].score"]))
def test_fuzz_capture(muts, junk, features, output_field):
    recs = [json.loads(cap_rec(f"e{i % 4}", iid=f"r{i}")) for i in range(6)]
    for i, path, value in muts:
        _mutate(recs[i], path, value)
    lines = [json.dumps(r).encode() for r in recs] + \
        [j if isinstance(j, bytes) else j.encode("utf-8", "surrogatepass") for j in junk]
    with tempfile.TemporaryDirectory() as d:
        _write(Path(d), CAP, b"\n".join(lines) + b"\n")

        def run():
            r = read_capture(Path(d) / "ep", features=features, output_field=output_field)
            r.accounting.check()
            assert r.accounting.records_used == len(r.frame)
        _ok_or_input_error(run)


@FAST
@given(muts=st.lists(st.tuples(st.integers(0, 4), st.sampled_from([
    ["groundTruthData"], ["groundTruthData", "data"], ["groundTruthData", "encoding"],
    ["eventMetadata"], ["eventMetadata", "eventId"], ["eventMetadata", "inferenceId"],
    ["eventMetadata", "inferenceTime"]]), JSON), max_size=6),
    junk=st.lists(st.one_of(LOGTEXT, st.binary(max_size=40)), max_size=3),
    kind=st.sampled_from(["binary", "numeric"]))
def test_fuzz_ground_truth(muts, junk, kind):
    recs = [json.loads(gt_rec(f"e{i % 3}", str(i % 2))) for i in range(5)]
    for i, path, value in muts:
        _mutate(recs[i], path, value)
    lines = [json.dumps(r).encode() for r in recs] + \
        [j if isinstance(j, bytes) else j.encode("utf-8", "surrogatepass") for j in junk]
    with tempfile.TemporaryDirectory() as d:
        _write(Path(d), GT, b"\n".join(lines) + b"\n")

        def run():
            r = read_ground_truth(Path(d) / "gt" / "ep", label_kind=kind)
            r.accounting.check()
            assert r.accounting.records_used == len(r.frame)
        _ok_or_input_error(run)


def _cw_docs():
    q = {"MetricDataQueries": [{"Id": "m1", "MetricStat": {
        "Metric": {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency",
                   "Dimensions": [{"Name": "EndpointName", "Value": "ep"},
                                  {"Name": "VariantName", "Value": "v"}]},
        "Period": 60, "Stat": "p95"}}]}
    r = {"MetricDataResults": [{"Id": "m1", "Label": "x", "StatusCode": "Complete",
                                "Timestamps": ["2026-11-20T10:00:00Z", "2026-11-20T10:01:00Z"],
                                "Values": [1000.0, 2000.0]}]}
    return q, r


CW_PATHS = st.sampled_from([
    ("q", ["MetricDataQueries"]), ("q", ["MetricDataQueries", 0]),
    ("q", ["MetricDataQueries", 0, "Id"]), ("q", ["MetricDataQueries", 0, "MetricStat"]),
    ("q", ["MetricDataQueries", 0, "MetricStat", "Period"]),
    ("q", ["MetricDataQueries", 0, "MetricStat", "Stat"]),
    ("q", ["MetricDataQueries", 0, "MetricStat", "Metric"]),
    ("q", ["MetricDataQueries", 0, "MetricStat", "Metric", "Dimensions"]),
    ("q", ["MetricDataQueries", 0, "MetricStat", "Metric", "Dimensions", 1, "Value"]),
    ("r", ["MetricDataResults"]), ("r", ["MetricDataResults", 0]),
    ("r", ["MetricDataResults", 0, "Id"]), ("r", ["MetricDataResults", 0, "Timestamps"]),
    ("r", ["MetricDataResults", 0, "Timestamps", 0]), ("r", ["MetricDataResults", 0, "Values"]),
    ("r", ["MetricDataResults", 0, "Values", 1]), ("r", ["MetricDataResults", 0, "StatusCode"]),
])


def _set(doc, path, value):
    node = doc
    for k in path[:-1]:
        try:
            node = node[k]
        except (KeyError, IndexError, TypeError):
            return
    try:
        node[path[-1]] = value
    except (IndexError, TypeError):
        pass


@FAST
@given(muts=st.lists(st.tuples(CW_PATHS, JSON), max_size=4), raw=st.one_of(
    st.none(), LOGTEXT, st.binary(max_size=30)))
def test_fuzz_cloudwatch(muts, raw):
    q, r = _cw_docs()
    for (which, path), value in muts:
        _set(q if which == "q" else r, path, value)
    with tempfile.TemporaryDirectory() as d:
        qp = _write(Path(d), "q.json", json.dumps(q).encode())
        if raw is None:
            rp = _write(Path(d), "r.json", json.dumps(r).encode())
        else:
            rp = _write(Path(d), "r.json", raw if isinstance(raw, bytes) else
                        raw.encode("utf-8", "surrogatepass"))
        _ok_or_input_error(lambda: variant_metrics(read_get_metric_data(rp, qp)))

"""The DuckDB capture and ground-truth readers give exactly what the Python readers give.

Differential tests: every result field (frame, accounting, per-variant accounting,
examples, warnings, files) of :func:`read_capture_duckdb` / :func:`read_ground_truth_duckdb`
equals that of :func:`read_capture` / :func:`read_ground_truth`, on the shipped samples, on
hostile lines written here, and on every capture fixture of the reader tests (those tests are
re-run with their reader replaced by one that runs both readers and compares them).
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
import inspect
import itertools
import json
import random
import sys
import warnings

import pandas as pd
import pytest

from abkit.io.datacapture import read_capture, read_ground_truth
from abkit.io.datacapture.duckdb_capture import read_capture_duckdb
from abkit.io.datacapture.duckdb_truth import read_ground_truth_duckdb

from io_helpers import CAP, CAP_SHADOW, GT, ROOT, cap_rec, gt_rec, write_lines

SHADOW = ROOT / "data" / "shadow"
SHADOW_FEATURES = ["tenure_months", "monthly_charges", "total_charges", "num_support_tickets",
                   "contract_type", "has_fiber", "age", "days_since_last_login"]


def _outcome(fn, *args, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            return fn(*args, **kw), None, [str(x.message) for x in w]
        except Exception as e:  # compared below: same type and message
            return None, e, [str(x.message) for x in w]


def assert_same(a, b) -> None:
    """Every field of two CaptureRead (or LabelsRead) results is equal."""
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
    assert list(a.frame.columns) == list(b.frame.columns)
    assert [str(t) for t in a.frame.dtypes] == [str(t) for t in b.frame.dtypes]
    for col in a.frame.columns:  # object columns: the same Python types, too
        if a.frame[col].dtype == object:
            assert [type(x) for x in a.frame[col]] == [type(x) for x in b.frame[col]], col
    assert a.to_dict() == b.to_dict()
    assert a.accounting == b.accounting
    assert getattr(a, "by_variant", None) == getattr(b, "by_variant", None)
    assert a.warnings == b.warnings and a.files == b.files


def both(reference, duck):
    """A reader that runs both and asserts they agree (results or errors)."""
    def run(*args, **kw):
        ra, ea, wa = _outcome(reference, *args, **kw)
        rb, eb, wb = _outcome(duck, *args, **kw)
        assert wa == wb
        if ea is not None or eb is not None:
            assert type(ea) is type(eb) and str(ea) == str(eb), (ea, eb)
            raise ea
        assert_same(ra, rb)
        return ra
    return run


both_capture = both(read_capture, read_capture_duckdb)
both_truth = both(read_ground_truth, read_ground_truth_duckdb)


# ------------------------------------------------------------------ shipped samples
@pytest.mark.parametrize("endpoint", ["churn-endpoint", "churn-endpoint-same"])
@pytest.mark.parametrize("kw", [
    {}, {"features": SHADOW_FEATURES}, {"features": SHADOW_FEATURES, "output_range": None},
    {"output_label_field": "predictions[0].label"}, {"features": SHADOW_FEATURES[:3]}])
def test_shadow_sample_capture(endpoint, kw):
    both_capture(SHADOW / "datacapture" / endpoint, output_field="predictions[0].score",
                 variants=["variant-live", "variant-shadow"], **kw)


@pytest.mark.parametrize("endpoint", ["churn-endpoint", "churn-endpoint-same"])
@pytest.mark.parametrize("kind", ["binary", "numeric"])
def test_shadow_sample_ground_truth(endpoint, kind):
    both_truth(SHADOW / "groundtruth" / endpoint, label_kind=kind)


def test_generated_tree(tmp_path):
    from abkit.datasets.capture.generate import write_shadow_capture

    write_shadow_capture(tmp_path, requests=3000, seed=11)
    for ep in ("churn-endpoint", "churn-endpoint-same"):
        both_capture(tmp_path / "datacapture" / ep, features=SHADOW_FEATURES,
                     output_field="predictions[0].score")
        both_truth(tmp_path / "groundtruth" / ep)


# ------------------------------------------------------------------ hostile lines
def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def _dup_key(line: str, key: str, value) -> str:
    """The line with ``key`` repeated at the top of eventMetadata (Python keeps the last)."""
    return line.replace('"eventMetadata": {', f'"eventMetadata": {{"{key}": {json.dumps(value)}, ', 1)


HOSTILE = [
    cap_rec("a"), cap_rec("a"), cap_rec("b", out="0.9"), cap_rec("b", out="0.1"),  # dup/conflict
    cap_rec("c")[:40], "", "   ", "not json", cap_rec("d").replace("}", ",}", 1),
    cap_rec("e").replace('"0.83"', "NaN"), '{"captureData": {}, "x": inf}',
    cap_rec("f", out=_b64("0.5,1"), enc_out="BASE64"),
    cap_rec("g", inp=_b64("1,2"), enc_in="BASE64", ct_in="application/octet-stream",
            out=_b64('{"score": 0.4}'), enc_out="BASE64", ct_out="application/octet-stream"),
    cap_rec("h", out=_b64("\x00\x01"), enc_out="BASE64", ct_out="application/octet-stream"),
    cap_rec("i", out="!!!", enc_out="BASE64"), cap_rec("j", out="YQ", enc_out="BASE64"),
    cap_rec("k", out=_b64("0.7"), enc_out="BASE64", ct_out="image/png"),
    cap_rec("l", out=_b64("0.7"), enc_out="BASE64", ct_out=""),
    cap_rec(" "), cap_rec(""), cap_rec(None, iid="r1"), cap_rec(" m "), cap_rec("n\u00a0"),
    cap_rec("o", iid="  "), cap_rec(None), cap_rec("p", t="yesterday"), cap_rec("q", t=""),
    cap_rec("r", out=" 0.25 ,x\n"), cap_rec("s", out='"0.3",1'), cap_rec("t", out="1e400"),
    cap_rec("u", out="0.5\n0.6"), cap_rec("v", out="1_0"), cap_rec("w", out="-0"),
    cap_rec("x", out="2"), cap_rec("y", out=".5"), cap_rec("z", out="5."),
    cap_rec("A", inp="1,2\n"), cap_rec("B", inp=" 1 , 2 "), cap_rec("C", inp="1,2,3"),
    cap_rec("D", inp='"1",2'), cap_rec("E", inp="1\n2"), cap_rec("F", inp="x,\u00e9"),
    cap_rec("G", inp='{"a": 1, "b": 2}', enc_in="JSON"), cap_rec("H", enc_in="XML"),
    cap_rec("I", out="0.5", enc_out="csv"), cap_rec("J", out="0.5", enc_out="TEXT"),
    cap_rec("K", out='{"predictions": [{"score": 0.61, "label": 1}]}', enc_out="JSON"),
    cap_rec("L", out='{"predictions": [{"score": 0.61, "score": 0.2}]}', enc_out="JSON"),
    cap_rec("M", out='{"predictions": [{"score": 1}]}', enc_out="JSON"),
    cap_rec("N", out='{"predictions": [{"score": true}]}', enc_out="JSON"),
    cap_rec("O", out='{"predictions": [{"score": "0.4"}]}', enc_out="JSON"),
    cap_rec("P", out='{"predictions": [{"score": [0.4]}]}', enc_out="JSON"),
    cap_rec("Q", out='{"predictions": [{"score": -0}]}', enc_out="JSON"),
    cap_rec("R", out='{"predictions": [{"score": 0.5,}]}', enc_out="JSON"),
    cap_rec("S", out='{"predictions": []}', enc_out="JSON"),
    cap_rec("T", out='{"predictions": [{"score": 0.2}]}\n{"x": 1}', enc_out="JSON"),
    cap_rec("U", out="0.5", enc_out="JSON"), cap_rec("V", out="[[0.5]]", enc_out="JSON"),
    _dup_key(cap_rec("W"), "eventId", "other"), _dup_key(cap_rec("X"), "inferenceTime", 5),
    cap_rec("Y", iid="r-y"), cap_rec("Y", iid="r-y2"),
    '{"captureData": {"endpointOutput": {"data": "0.4", "encoding": "CSV"}}, '
    '"eventMetadata": {"eventId": 7, "inferenceTime": "2026-11-20T10:00:00Z"}}',
    '{"captureData": {"endpointOutput": {"data": "0.4", "encoding": "CSV"}}, '
    '"eventMetadata": {"eventId": "e\\u0041", "inferenceTime": "2026-11-20T10:00:00.5+02:00"}}',
    "[1, 2]", '{"captureData": [' * 40 + "]" * 40 + "}",
]


@pytest.mark.parametrize("features", [None, ["a", "b"]])
@pytest.mark.parametrize("output_field", [None, "predictions[0].score", "predictions[-1].score"])
@pytest.mark.parametrize("gz", [False, True])
def test_hostile_capture_lines(tmp_path, features, output_field, gz):
    raw = [x.encode() for x in HOSTILE] + [b"\xff\xfe bad utf-8", "\ufeff".encode() +
                                           cap_rec("bom").encode()]
    write_lines(tmp_path, CAP, raw, gz=gz)
    write_lines(tmp_path, CAP_SHADOW, list(reversed(raw)))
    for kw in ({}, {"output_range": None}, {"output_label_field": "predictions[0].label"}):
        both_capture(tmp_path / "ep", features=features, output_field=output_field, **kw)


def test_truncated_gzip_and_file_without_final_newline(tmp_path):
    data = gzip.compress(("\n".join(cap_rec(f"e{i}") for i in range(50)) + "\n").encode())
    p = tmp_path / CAP
    p.parent.mkdir(parents=True)
    p.write_bytes(data[: len(data) // 2])
    q = tmp_path / CAP_SHADOW
    q.parent.mkdir(parents=True)
    q.write_bytes((cap_rec("x") + "\n" + cap_rec("y")).encode())
    (tmp_path / "ep/variant-live/2026/11/20/11").mkdir(parents=True)
    (tmp_path / "ep/variant-live/2026/11/20/11/empty.jsonl").write_bytes(b"")
    (tmp_path / "ep/variant-live/2026/11/20/12").mkdir(parents=True)
    (tmp_path / "ep/variant-live/2026/11/20/12/nogz.jsonl").write_bytes(
        gzip.compress((cap_rec("z") + "\n\n").encode()))
    both_capture(tmp_path / "ep")


GT_HOSTILE = [
    gt_rec("a", "1"), gt_rec("a", "1"), gt_rec("b", "1"), gt_rec("b", "0"), gt_rec("c", "true"),
    gt_rec("d", "YES"), gt_rec("e", "2"), gt_rec("f", "0.0"), gt_rec("g", ""), gt_rec("", "1"),
    gt_rec(" ", "1"), gt_rec("r1", "1", key="inferenceId"), gt_rec("h", ' "1" '),
    gt_rec("i", "1e400"), gt_rec("j", "-0"), gt_rec("k", "nan"), gt_rec("l", " 0.75 "),
    json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"},
                "eventMetadata": {"eventId": None, "inferenceId": "r2",
                                  "inferenceTime": "2026-11-20T10:30:00Z"}}),
    json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"},
                "eventMetadata": {"eventId": 12, "inferenceTime": 5}}),
    json.dumps({"groundTruthData": {"data": '{"label": 1}', "encoding": "JSON"},
                "eventMetadata": {"eventId": "m"}}),
    json.dumps({"groundTruthData": {"data": "1", "encoding": "JSON"},
                "eventMetadata": {"eventId": "n"}}),
    json.dumps({"groundTruthData": {"data": _b64("0"), "encoding": "BASE64",
                                    "observedContentType": "text/csv"},
                "eventMetadata": {"eventId": "o"}}),
    json.dumps({"groundTruthData": {"data": 1, "encoding": "CSV"},
                "eventMetadata": {"eventId": "p"}}),
    gt_rec("q")[:30], "", "{}", '{"groundTruthData": {}, "eventMetadata": {}}',
]


@pytest.mark.parametrize("kind", ["binary", "numeric"])
@pytest.mark.parametrize("label_field", [None, "label"])
@pytest.mark.parametrize("gz", [False, True])
def test_hostile_ground_truth_lines(tmp_path, kind, label_field, gz):
    write_lines(tmp_path, GT, GT_HOSTILE + [b"\xc3(", "\ufeff" + gt_rec("z")], gz=gz)
    write_lines(tmp_path, "gt/ep/2026/11/20/11/h.jsonl", list(reversed(GT_HOSTILE)))
    both_truth(tmp_path / "gt" / "ep", label_kind=kind, label_field=label_field)


def test_random_mixtures(tmp_path):
    rnd = random.Random(5)
    pool = HOSTILE + [cap_rec(f"e{i}", iid=f"r{i}", out=f"0.{i}") for i in range(30)]
    for k in range(12):
        root = tmp_path / f"t{k}"
        for rel in (CAP, CAP_SHADOW, "ep/variant-live/2026/11/20/11/g.jsonl"):
            write_lines(root, rel, [rnd.choice(pool) for _ in range(rnd.randint(0, 40))],
                        gz=rnd.random() < 0.3)
        both_capture(root / "ep", features=rnd.choice([None, ["a", "b"]]),
                     output_field=rnd.choice([None, "predictions[0].score"]))


# ------------------------------------------------------------------ the reader tests, re-run
def _load(rel: str):
    path = ROOT / "tests" / rel
    name = "_dual_" + path.stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


#: the tests that read captures in this process (the others run a child process or read none)
_RERUN = {
    "io/test_datacapture.py": None,
    "io/test_capture_hostile.py": {"test_deep_json_line_is_rejected_with_a_reason",
                                   "test_deep_json_inside_a_payload_is_rejected",
                                   "test_deep_json_in_ground_truth",
                                   "test_fifo_named_as_capture_root_is_refused"},
    "io/test_reader_fuzz.py": {"test_fuzz_capture", "test_fuzz_ground_truth"},
    "io/test_shadow_accounting.py": None,
}


def _cases():
    sys.path.insert(0, str(ROOT / "tests" / "io"))
    for rel, names in _RERUN.items():
        mod = _load(rel)
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if not name.startswith("test_") or (names is not None and name not in names):
                continue
            if any(m.name == "slow" for m in getattr(fn, "pytestmark", [])):
                continue
            params = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
            grids = []
            for m in params:
                argnames = [a.strip() for a in m.args[0].split(",")] \
                    if isinstance(m.args[0], str) else list(m.args[0])
                grids.append([dict(zip(argnames, v if len(argnames) > 1 else (v,)))
                              for v in m.args[1]])
            for k, combo in enumerate(itertools.product(*grids)):
                kw = {a: b for d in combo for a, b in d.items()}
                yield pytest.param(rel, name, kw, id=f"{rel}::{name}[{k}]")


@pytest.mark.parametrize("rel,name,kw", list(_cases()))
def test_reader_tests_rerun_with_both_readers(rel, name, kw, tmp_path, monkeypatch, capsys):
    mod = _load(rel)
    if hasattr(mod, "read_capture"):
        monkeypatch.setattr(mod, "read_capture", both_capture)
    if hasattr(mod, "read_ground_truth"):
        monkeypatch.setattr(mod, "read_ground_truth", both_truth)
    fn = getattr(mod, name)
    sig = inspect.signature(fn).parameters
    extra = {"tmp_path": tmp_path, "capsys": capsys, "monkeypatch": monkeypatch}
    fn(**{k: v for k, v in extra.items() if k in sig}, **kw)

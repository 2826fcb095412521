"""SageMaker Data Capture and ground-truth readers: every reason, the accounting identity,
layouts, errors that name the file, and speed."""

from __future__ import annotations

import base64
import gzip
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abkit.errors import InputError
from abkit.io.datacapture import (
    CAPTURE_CHECKS, LABEL_CHECKS, REASONS, Accounting, extract_path, parse_path, read_capture,
    read_ground_truth,
)

FEATURES = ["tenure_months", "monthly_charges", "contract_type", "has_fiber"]


def rec(eid="e", iid=None, t="2026-11-20T10:15:03Z", inp="12,70.5,month-to-month,1",
        out="0.83", enc_in="CSV", enc_out="CSV", ct_in="text/csv", ct_out="text/csv",
        drop=(), meta_extra=None) -> str:
    """One capture line as SageMaker writes it; ``drop`` removes keys (dotted paths)."""
    meta = {"eventId": eid, "inferenceTime": t}
    if iid is not None:
        meta["inferenceId"] = iid
    if eid is None:
        del meta["eventId"]
    meta.update(meta_extra or {})
    r = {"captureData": {
        "endpointInput": {"observedContentType": ct_in, "mode": "INPUT", "data": inp,
                          "encoding": enc_in},
        "endpointOutput": {"observedContentType": ct_out, "mode": "OUTPUT", "data": out,
                           "encoding": enc_out}},
        "eventMetadata": meta, "eventVersion": "0"}
    for d in drop:
        *head, last = d.split(".")
        node = r
        for h in head:
            node = node[h]
        del node[last]
    return json.dumps(r)


def b64(x: str | dict) -> str:
    s = x if isinstance(x, str) else json.dumps(x)
    return base64.b64encode(s.encode()).decode()


def write(root: Path, rel: str, lines: list[str], gz: bool = False) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(line + "\n" for line in lines)
    if gz:
        with gzip.open(p, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def assert_identity(acc: Accounting) -> None:
    assert acc.records_read == acc.records_used + sum(acc.rejected.values())
    acc.check()


def check_read(res) -> None:
    assert_identity(res.accounting)
    for a in res.by_variant.values():
        assert_identity(a)
    assert res.accounting.records_used == len(res.frame)
    assert sum(a.records_read for a in res.by_variant.values()) == res.accounting.records_read


# ------------------------------------------------------------------- the zoo: every reason

LIVE = "churn-endpoint/variant-live/2026/11/20/10/live-a.jsonl"
LIVE_GZ = "churn-endpoint/variant-live/2026/11/20/11/live-b.jsonl.gz"
SHADOW = "churn-endpoint/variant-shadow/2026/11/20/10/shadow-a.jsonl"
SHADOW_LATER = "churn-endpoint/variant-shadow/2026/11/20/11/shadow-b.jsonl"

PRED = {"predictions": [{"score": 0.8, "label": 1}]}


def zoo(root: Path) -> dict[str, dict[str, int]]:
    """Write a capture tree holding every reason; return expected rejections per variant."""
    live = [
        rec("e1", "r1"),                                                     # 1 ok (CSV/CSV)
        rec("e2", "r2", inp=b64("1,20,one-year,0"), enc_in="BASE64",         # 2 ok (BASE64)
            out=b64(PRED), enc_out="BASE64", ct_out="application/json"),
        rec("e3", "r3", out=json.dumps(PRED), enc_out="JSON",                # 3 ok JSON out
            ct_out="application/json"),
        '{"captureData": {"endpointInput": {"observedContentType": "text/c',  # 4 truncated
        "",                                                                   # 5 blank
        "[1, 2, 3]",                                                          # 6 not object
        rec("e7", "r7", drop=("captureData",)),                               # 7 missing
        rec("e8", "r8", drop=("captureData.endpointOutput",)),                # 8 missing
        rec("e9", "r9", drop=("eventMetadata.inferenceTime",)),               # 9 missing
        rec("e10", "r10", drop=("captureData.endpointOutput.encoding",)),     # 10 missing
        rec(None, None),                                                      # 11 missing_id
        rec("e12", "r12", out="!!!not base64!!!", enc_out="BASE64"),          # 12 undecodable
        rec("e13", "r13", enc_out="XML"),                                     # 13 undecodable
        rec("e14", "r14", out="{bad json", enc_out="JSON"),                   # 14 undecodable
        rec("e15", "r15", inp="12,70.5,month-to-month"),                      # 15 used, input unread
        rec("e16", "r16", out="nan"),                                         # 16 non_finite
        rec("e17", "r17", out="1.7"),                                         # 17 out_of_range
        rec("e18", "r18", out="abc"),                                         # 18 non_numeric
        rec("e19", "r19", out=json.dumps({"other": 1}), enc_out="JSON"),      # 19 missing_out
        rec("e20", "r20", t="yesterday"),                                     # 20 bad_timestamp
        rec("e1", "r1"),                                                      # 21 duplicate
        rec("e22", None),                                                     # 22 ok, no iid
    ]
    write(root, LIVE, live)
    # a later hour, gzip: an ok record, an identical copy of e2 (delivered again; a copy
    # that differed would make both conflicting_event) and an "inf" output
    write(root, LIVE_GZ, [rec("e23", "r23", t="2026-11-20T11:00:02Z"),
                          rec("e2", "r2", inp=b64("1,20,one-year,0"), enc_in="BASE64",
                              out=b64(PRED), enc_out="BASE64", ct_out="application/json"),
                          rec("e24", "r24", out="inf", t="2026-11-20T11:00:04Z")], gz=True)
    shadow = [
        rec("s1", "r1", out="0.75"),
        rec("s2", "r2", inp=b64("1,20,one-year,0"), enc_in="BASE64",
            out=b64(PRED), enc_out="BASE64", ct_out="application/json"),
        # a rejected first copy (out of range) does not hide the good second copy
        rec("s3", "r3", out="-0.1"),
        rec("s3", "r3", out="0.4"),
        rec("s9", "r9", inp=json.dumps({"instances": [[1, 2, "a", 0], [3, 4, "b", 1]]}),
            enc_in="JSON", ct_in="application/json"),                        # input unread
    ]
    write(root, SHADOW, shadow)
    # the shadow answer of a request sent near the top of the hour lands in the next folder
    write(root, SHADOW_LATER, [rec("s23", "r23", t="2026-11-20T11:00:02Z", out="0.5")])
    live_exp = {"unparseable_line": 3, "missing_field": 4, "missing_id": 1,
                "undecodable_payload": 3, "non_finite_output": 2,
                "out_of_range_output": 1, "non_numeric_output": 1, "missing_output": 1,
                "bad_timestamp": 1, "duplicate_event": 2}
    shadow_exp = {"out_of_range_output": 1}
    return {"variant-live": live_exp, "variant-shadow": shadow_exp}


def test_every_reason_is_counted_once_with_an_example(tmp_path):
    expected = zoo(tmp_path)
    res = read_capture(tmp_path / "churn-endpoint", features=FEATURES,
                       output_field="predictions[0].score",
                       output_label_field="predictions[0].label")
    check_read(res)
    for v, exp in expected.items():
        acc = res.by_variant[v]
        assert acc.rejected == exp, v
        assert set(acc.examples) == set(exp)
    live = res.by_variant["variant-live"]
    assert live.records_read == 25 and live.records_used == 25 - sum(expected["variant-live"]
                                                                      .values())
    assert res.by_variant["variant-shadow"].records_read == 6
    assert res.by_variant["variant-shadow"].records_used == 5
    # every listed check name has a description, and only those are produced
    assert set(res.accounting.rejected) <= set(CAPTURE_CHECKS) <= set(REASONS)
    ex = live.examples
    assert ex["unparseable_line"].startswith(str(tmp_path / LIVE) + ":4: ")
    assert ex["duplicate_event"] == (f"{tmp_path / LIVE}:21: eventId 'e1' already seen at "
                                     f"{tmp_path / LIVE}:1")
    assert ":13: " in ex["undecodable_payload"] or ":12: " in ex["undecodable_payload"]
    assert "4 features" in live.unreadable_example and live.unreadable_input == 1
    assert res.by_variant["variant-shadow"].unreadable_input == 1
    assert "'nan'" in ex["non_finite_output"]
    assert "1.7" in ex["out_of_range_output"]
    assert f"{tmp_path / LIVE_GZ}:2: eventId 'e2'" in \
        res.accounting.to_dict()["examples"]["duplicate_event"] or \
        ex["duplicate_event"].startswith(str(tmp_path / LIVE))


def test_values_of_the_used_records(tmp_path):
    zoo(tmp_path)
    res = read_capture(tmp_path / "churn-endpoint", features=FEATURES,
                       output_field="predictions[0].score",
                       output_label_field="predictions[0].label")
    f = res.frame
    assert list(f.columns[:9]) == ["endpoint", "variant", "event_id", "inference_id",
                                   "request_id", "inference_time", "file", "line", "output"]
    assert list(f.columns[9:]) == ["output_label", *FEATURES]
    live = res.variant("variant-live").set_index("event_id")
    assert live.loc["e1", "output"] == 0.83                  # bare CSV output
    assert live.loc["e2", "output"] == 0.8                   # BASE64 JSON, path
    assert live.loc["e2", "output_label"] == 1.0
    assert live.loc["e3", "output"] == 0.8                   # JSON encoding, path
    assert np.isnan(live.loc["e1", "output_label"])          # CSV output: no label
    assert live.loc["e2", "contract_type"] == "one-year"     # BASE64 CSV input
    assert live.loc["e1", "tenure_months"] == 12.0
    assert live.loc["e1", "monthly_charges"] == 70.5
    assert f["tenure_months"].dtype == float and f["has_fiber"].dtype == float
    # no inferenceId: request_id falls back to the eventId
    assert pd.isna(live.loc["e22", "inference_id"]) and live.loc["e22", "request_id"] == "e22"
    assert live.loc["e23", "request_id"] == "r23"
    assert live.loc["e23", "inference_time"] == pd.Timestamp("2026-11-20T11:00:02Z")
    assert str(f["inference_time"].dt.tz) == "UTC"
    assert set(f["endpoint"]) == {"churn-endpoint"}
    # the first good copy of s3 is used (line 4), the rejected copy at line 3 is counted
    sh = res.variant("variant-shadow").set_index("event_id")
    assert sh.loc["s3", "output"] == 0.4 and sh.loc["s3", "line"] == 4
    # the shadow record in the later hour folder is read, with its own file and line
    assert sh.loc["s23", "file"] == str(tmp_path / SHADOW_LATER) and sh.loc["s23", "line"] == 1
    assert res.endpoint == "churn-endpoint"
    assert res.variants == ("variant-live", "variant-shadow")
    assert len(res.files) == 4


def test_json_inputs_accepted_shapes(tmp_path):
    ok_shapes = [
        {"tenure_months": 1, "monthly_charges": 2.5, "contract_type": "a", "has_fiber": True},
        {"instances": [[1, 2.5, "a", 1]]},
        {"instances": [{"tenure_months": 1, "monthly_charges": 2.5, "contract_type": "a",
                        "has_fiber": 1}]},
        {"instances": [{"features": [1, 2.5, "a", 1]}]},
        {"features": [1, 2.5, "a", 1]},
        [1, 2.5, "a", 1],
        [[1, 2.5, "a", 1]],
    ]
    bad_shapes = [
        {"tenure_months": 1},                      # features missing
        {"instances": [[1, 2.5, "a"]]},            # short row
        {"instances": [[1, 2.5, "a", 1]] * 2},     # a batch
        [[1, 2.5, "a", 1], [1, 2.5, "a", 1]],      # a batch
        3.0,                                       # a scalar
        {"tenure_months": [1], "monthly_charges": 2.5, "contract_type": "a", "has_fiber": 1},
    ]
    lines = [rec(f"ok{i}", inp=json.dumps(s), enc_in="JSON", ct_in="application/json")
             for i, s in enumerate(ok_shapes)]
    lines += [rec(f"bad{i}", inp=json.dumps(s), enc_in="JSON", ct_in="application/json")
              for i, s in enumerate(bad_shapes)]
    write(tmp_path, "ep/v/2026/11/20/10/a.jsonl", lines)
    res = read_capture(tmp_path / "ep", features=FEATURES)
    check_read(res)
    # an unreadable input rejects nothing: the output is kept, the features are missing
    assert res.accounting.rejected == {}
    assert res.accounting.unreadable_input == len(bad_shapes)
    assert "bad_input: " in res.accounting.unreadable_example
    f = res.frame.set_index("event_id")
    ok = f.loc[[f"ok{i}" for i in range(len(ok_shapes))]]
    assert (ok["tenure_months"] == 1.0).all() and (ok["monthly_charges"] == 2.5).all()
    assert (ok["contract_type"] == "a").all() and (ok["has_fiber"] == 1.0).all()
    bad = f.loc[[f"bad{i}" for i in range(len(bad_shapes))]]
    assert bad[FEATURES].isna().all().all() and (bad["output"] == 0.83).all()


def test_csv_tokens_numbers_strings_and_missing(tmp_path):
    lines = [rec("a", inp='3,"1,5",x,'), rec("b", inp="4,2.0,y,1"), rec("c", inp=" 5 ,nan,z,0")]
    write(tmp_path, "ep/v/2026/11/20/10/a.jsonl", lines)
    res = read_capture(tmp_path / "ep", features=FEATURES)
    check_read(res)
    f = res.frame.set_index("event_id")
    assert f.loc["a", "monthly_charges"] == "1,5"     # a quoted token that is not a number
    assert f.loc["b", "monthly_charges"] == 2.0
    assert np.isnan(f.loc["a", "has_fiber"])          # empty token -> NaN
    assert f.loc["c", "tenure_months"] == 5.0
    assert np.isnan(f.loc["c", "monthly_charges"])    # "nan" is a (missing) number


def test_features_none_skips_inputs_and_output_range(tmp_path):
    write(tmp_path, "ep/v/2026/11/20/10/a.jsonl",
          [rec("a", inp="garbage", out="1.7"), rec("b", out="-3", drop=(
              "captureData.endpointInput",))])
    res = read_capture(tmp_path / "ep")
    check_read(res)
    assert res.accounting.rejected == {"out_of_range_output": 2}
    res = read_capture(tmp_path / "ep", output_range=None)   # regression outputs
    assert res.accounting.rejected == {} and list(res.frame["output"]) == [1.7, -3.0]
    res = read_capture(tmp_path / "ep", output_range=(-5, 1))
    assert res.accounting.rejected == {"out_of_range_output": 1}
    with pytest.raises(ValueError):
        read_capture(tmp_path / "ep", output_range=(1, 0))


def test_output_without_field_needs_a_scalar(tmp_path):
    write(tmp_path, "ep/v/2026/11/20/10/a.jsonl", [
        rec("a", out="[0.25]", enc_out="JSON"),
        rec("b", out="[[0.5]]", enc_out="JSON"),
        rec("c", out=json.dumps(PRED), enc_out="JSON"),
        rec("d", out=b64("0.3,extra"), enc_out="BASE64", ct_out="text/csv"),
        rec("e", out=b64("0.6"), enc_out="BASE64", ct_out=""),           # sniffed as CSV
        rec("f", out=b64("[0.7]"), enc_out="BASE64", ct_out=""),         # sniffed as JSON
        rec("g", out=b64("x"), enc_out="BASE64", ct_out="image/png"),
        rec("h", out=json.dumps({"s": 0.1}), enc_out="JSON"),
    ])
    res = read_capture(tmp_path / "ep")
    check_read(res)
    assert res.accounting.rejected == {"missing_output": 2, "undecodable_payload": 1}
    assert "set output_field" in res.accounting.examples["missing_output"]
    assert list(res.frame["output"]) == [0.25, 0.5, 0.3, 0.6, 0.7]
    res = read_capture(tmp_path / "ep", output_field="s")
    # CSV and bare JSON numbers are read whatever output_field says; objects need the path
    assert res.accounting.rejected == {"missing_output": 4, "undecodable_payload": 1}


def test_truncated_gzip_is_counted_and_warned(tmp_path):
    p = write(tmp_path, "ep/v/2026/11/20/10/a.jsonl.gz",
              [rec(f"e{i}", out=f"0.{i % 10}") for i in range(2000)], gz=True)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    res = read_capture(tmp_path / "ep")
    check_read(res)
    assert res.accounting.rejected.get("unparseable_line", 0) >= 1
    assert res.warnings and str(p) in res.warnings[0]
    assert 0 < res.accounting.records_used < 2000


def test_random_mixtures_add_up(tmp_path):
    """Seeded random trees: the per-reason counts equal what was written, every time."""
    makers = {
        None: lambda i: rec(f"e{i}", f"r{i}", out="0.5"),
        "unparseable_line": lambda i: rec(f"e{i}")[:40],
        "missing_field": lambda i: rec(f"e{i}", drop=("eventMetadata",)),
        "missing_id": lambda i: rec(None),
        "undecodable_payload": lambda i: rec(f"e{i}", out="%%", enc_out="BASE64"),
        "unreadable_input": lambda i: rec(f"e{i}", inp="1,2"),  # used, input unread
        "non_finite_output": lambda i: rec(f"e{i}", out="-inf"),
        "out_of_range_output": lambda i: rec(f"e{i}", out="2"),
        "bad_timestamp": lambda i: rec(f"e{i}", t="2026-13-45T99:00:00Z"),
    }
    kinds = list(makers)
    rng = np.random.default_rng(20261120)
    for trial in range(5):
        root = tmp_path / f"t{trial}"
        expected: dict[str, int] = {}
        n_ok = n_unread = 0
        for hour in (10, 11, 12):
            draw = rng.integers(0, len(kinds), size=rng.integers(1, 60))
            lines = []
            for j, k in enumerate(draw):
                kind = kinds[k]
                lines.append(makers[kind](f"{hour}_{j}"))
                if kind is None:
                    n_ok += 1
                elif kind == "unreadable_input":
                    n_ok += 1
                    n_unread += 1
                else:
                    expected[kind] = expected.get(kind, 0) + 1
            gz = bool(hour % 2)
            write(root, f"ep/v/2026/11/20/{hour}/x.jsonl" + (".gz" if gz else ""), lines, gz=gz)
        res = read_capture(root / "ep", features=FEATURES)
        check_read(res)
        assert res.accounting.rejected == expected
        assert res.accounting.records_used == n_ok
        assert res.accounting.unreadable_input == n_unread


def test_gzip_is_recognised_by_its_magic_bytes(tmp_path):
    write(tmp_path, "ep/v/2026/11/20/10/x.jsonl", [rec("a"), rec("b")], gz=True)
    res = read_capture(tmp_path / "ep")
    check_read(res)
    assert res.accounting.records_used == 2


def test_accounting_check_catches_a_wrong_tally():
    """Negative control: an Accounting whose counts do not add up is refused."""
    Accounting(10, 6, {"unparseable_line": 4}).check()
    with pytest.raises(AssertionError):
        Accounting(10, 6, {"unparseable_line": 3}).check()


# ------------------------------------------------------------------- layouts and errors


def test_layouts_prefix_endpoint_variant_and_single_file(tmp_path):
    write(tmp_path, "cap/ep-a/live/2026/11/20/10/a.jsonl", [rec("1"), rec("2")])
    write(tmp_path, "cap/ep-a/shadow/2026/11/20/10/a.jsonl", [rec("3")])
    write(tmp_path, "cap/ep-b/live/2026/11/20/10/a.jsonl", [rec("4")])
    r = read_capture(tmp_path / "cap", endpoint="ep-a")
    assert r.endpoint == "ep-a" and r.accounting.records_read == 3
    assert read_capture(tmp_path / "cap" / "ep-a").accounting.records_read == 3
    r = read_capture(tmp_path / "cap" / "ep-a", variants=["shadow"])
    assert r.variants == ("shadow",) and r.accounting.records_read == 1
    r = read_capture(tmp_path / "cap" / "ep-a" / "live")
    assert r.variants == ("live",) and r.endpoint == "ep-a"
    r = read_capture(tmp_path / "cap/ep-b/live/2026/11/20/10/a.jsonl")
    assert r.variants == ("live",) and r.endpoint == "ep-b" and len(r.frame) == 1
    loose = write(tmp_path, "loose.jsonl", [rec("9")])
    with pytest.raises(InputError, match="variant is unknown"):
        read_capture(loose)
    assert read_capture(loose, variants=["v1"]).variants == ("v1",)


def test_errors_name_the_path(tmp_path):
    write(tmp_path, "cap/ep-a/live/2026/11/20/10/a.jsonl", [rec("1")])
    write(tmp_path, "cap/ep-b/live/2026/11/20/10/a.jsonl", [rec("2")])
    missing = tmp_path / "nope"
    with pytest.raises(InputError, match=str(missing)):
        read_capture(missing)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no Data Capture files") as e:
        read_capture(tmp_path / "empty")
    assert str(tmp_path / "empty") in e.value.message
    with pytest.raises(InputError, match="several endpoints") as e:
        read_capture(tmp_path / "cap")
    assert "endpoint=" in e.value.hint
    with pytest.raises(InputError, match="no endpoint 'ep-c'"):
        read_capture(tmp_path / "cap", endpoint="ep-c")
    with pytest.raises(InputError, match="no variant folder 'variant-shadow'") as e:
        read_capture(tmp_path / "cap" / "ep-a", variants=["live", "variant-shadow"])
    assert "found: 'live' (1 file)" in e.value.message
    stray = write(tmp_path, "cap/ep-a/live/notes.jsonl", [rec("x")])
    with pytest.raises(InputError, match="not in the Data Capture layout") as e:
        read_capture(tmp_path / "cap" / "ep-a")
    assert str(stray) in e.value.message
    txt = tmp_path / "x.txt"
    txt.write_text("hi")
    with pytest.raises(InputError, match="not a JSON Lines file"):
        read_capture(txt)
    r = read_capture(tmp_path / "cap" / "ep-b")
    with pytest.raises(InputError, match="variant 'shadow' is not in the capture"):
        r.variant("shadow")


def test_parse_path_grammar():
    assert parse_path("predictions[0].score") == ("predictions", 0, "score")
    assert parse_path("[0].score") == (0, "score")
    assert parse_path("a[0][-1]") == ("a", 0, -1)
    assert parse_path("score") == ("score",)
    for bad in ["", ".a", "a..b", "a[x]", "a[0", "a]", "a[0]b", "a."]:
        with pytest.raises(ValueError):
            parse_path(bad)
    doc = {"predictions": [{"score": 0.8}, {"score": 0.1}]}
    assert extract_path(doc, parse_path("predictions[-1].score")) == 0.1
    with pytest.raises(KeyError):
        extract_path(doc, parse_path("predictions[2].score"))
    with pytest.raises(KeyError):
        extract_path(doc, parse_path("predictions.score"))


# ------------------------------------------------------------------- ground truth


def gt(eid, data="1", enc="CSV", meta_extra=None, drop=()):
    r = {"groundTruthData": {"data": data, "encoding": enc},
         "eventMetadata": {"eventId": eid, **(meta_extra or {})}, "eventVersion": "0"}
    for d in drop:
        *head, last = d.split(".")
        node = r
        for h in head:
            node = node[h]
        del node[last]
    return json.dumps(r)


def test_ground_truth_reasons_and_duplicates(tmp_path):
    g1 = "gt/churn-endpoint/2026/11/21/09/a.jsonl"
    write(tmp_path, g1, [
        gt("r1", "1"),
        gt("r2", "0"),
        gt("r3", "1", meta_extra={"inferenceTime": "2026-11-20T10:15:03Z"}),
        '{"groundTruthData": {"data": "1", "enc',          # truncated
        gt("r4", drop=("groundTruthData",)),               # missing_field
        gt(None),                                          # missing_id
        gt("r5", "2"),                                     # bad_label (binary)
        gt("r6", "yes please"),                            # bad_label
        gt("r7", "%%", enc="BASE64"),                      # undecodable
        gt("r1", "1"),                                     # duplicate, same label
        gt("r8", "1"), gt("r8", "0"),                      # conflicting: both rejected
        gt("r9", json.dumps({"label": 1}), enc="JSON"),    # object, no label_field: bad_label
        gt("r10", b64("0"), enc="BASE64"),
        gt("r11", "true"),
    ])
    write(tmp_path, "gt/churn-endpoint/2026/11/21/10/b.jsonl.gz", [gt("r1", "1"), gt("r12")],
          gz=True)
    res = read_ground_truth(tmp_path / "gt" / "churn-endpoint")
    acc = res.accounting
    assert_identity(acc)
    assert acc.rejected == {"unparseable_line": 1, "missing_field": 1, "missing_id": 1,
                            "bad_label": 3, "undecodable_payload": 1, "duplicate_label": 2,
                            "conflicting_label": 2}
    assert set(acc.rejected) <= set(LABEL_CHECKS)
    assert acc.records_read == 17 and acc.records_used == 6
    f = res.frame.set_index("event_id")
    assert list(f.index) == ["r1", "r2", "r3", "r10", "r11", "r12"]
    assert list(f["label"]) == [1.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    # label_time: the record's inferenceTime when given, else the hour folder
    assert f.loc["r3", "label_time"] == pd.Timestamp("2026-11-20T10:15:03Z")
    assert f.loc["r1", "label_time"] == pd.Timestamp("2026-11-21T09:00:00Z")
    assert f.loc["r12", "label_time"] == pd.Timestamp("2026-11-21T10:00:00Z")
    assert f.loc["r1", "line"] == 1 and f.loc["r1", "file"] == str(tmp_path / g1)
    assert "r8" in acc.examples["conflicting_label"]
    assert acc.examples["duplicate_label"].startswith(f"{tmp_path / g1}:10: ")
    assert res.endpoint == "churn-endpoint"
    # the prefix folder works too, and a JSON label path
    res2 = read_ground_truth(tmp_path / "gt", endpoint="churn-endpoint", label_field="label")
    assert res2.accounting.rejected["bad_label"] == 2
    assert res2.frame.set_index("event_id").loc["r9", "label"] == 1.0


def test_ground_truth_numeric_labels_and_errors(tmp_path):
    write(tmp_path, "gt/ep/2026/11/21/09/a.jsonl",
          [gt("a", "3.25"), gt("b", "nan"), gt("c", "x"), gt("d", "2")])
    res = read_ground_truth(tmp_path / "gt" / "ep", label_kind="numeric")
    assert_identity(res.accounting)
    assert res.accounting.rejected == {"bad_label": 2}
    assert list(res.frame["label"]) == [3.25, 2.0]
    with pytest.raises(ValueError):
        read_ground_truth(tmp_path / "gt" / "ep", label_kind="ordinal")
    with pytest.raises(InputError, match="no ground-truth files"):
        (tmp_path / "e").mkdir()
        read_ground_truth(tmp_path / "e")


# ------------------------------------------------------------------- speed


def _bulk_tree(root: Path, n: int, per_file: int = 20000) -> None:
    """n live records in CSV/CSV form (the common case), 20k per hour file."""
    rng = np.random.default_rng(7)
    tenure = rng.integers(0, 72, n)
    charges = np.round(rng.uniform(18, 120, n), 2)
    score = np.round(rng.uniform(0, 1, n), 4)
    contract = np.array(["month-to-month", "one-year", "two-year"])[rng.integers(0, 3, n)]
    tmpl = ('{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
            '"data":"%d,%s,%s,%d","encoding":"CSV"},"endpointOutput":{"observedContentType":'
            '"text/csv; charset=utf-8","mode":"OUTPUT","data":"%s","encoding":"CSV"}},'
            '"eventMetadata":{"eventId":"ev-%08d","inferenceId":"req-%08d","inferenceTime":'
            '"2026-11-20T%02d:%02d:%02dZ"},"eventVersion":"0"}\n')
    for start in range(0, n, per_file):
        hour = start // per_file
        lines = [tmpl % (tenure[i], charges[i], contract[i], i % 2, score[i], i, i,
                         hour % 24, (i // 60) % 60, i % 60)
                 for i in range(start, min(n, start + per_file))]
        p = root / f"ep/live/2026/11/{20 + hour // 24:02d}/{hour % 24:02d}/part.jsonl"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("".join(lines))


@pytest.mark.slow
def test_speed_200k(tmp_path, capsys):
    n = 200_000
    _bulk_tree(tmp_path, n)
    t0, c0 = time.perf_counter(), time.process_time()
    res = read_capture(tmp_path / "ep", features=FEATURES)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    check_read(res)
    assert res.accounting.records_used == n
    per_100k = dt / n * 100_000
    with capsys.disabled():
        print(f"\nread_capture: {n} records in {dt:.2f} s wall ({cpu:.2f} s CPU) = "
              f"{per_100k:.2f} s wall per 100k records")
    assert per_100k < 20.0  # generous: a regression guard, not a benchmark

"""Shadow inputs: every record is used or rejected with a reason, ``rows_used`` is counted
directly (and the sum checked), and duplicates that disagree give the same answer in any
reading order (issue #12, "Exact accounting", "No answer depends on reading order", "Real
capture fidelity")."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

import abkit
from abkit.io.datacapture import read_capture, read_ground_truth
from abkit.io.pairing import pair_capture

from io_helpers import CAP, CAP_SHADOW, GT, cap_rec, gt_rec, write_lines

N = 200


def _generic_files(tmp_path, label_rows):
    rng = np.random.default_rng(7)
    ts = pd.date_range("2026-11-20T08:00:00Z", periods=N, freq="min").strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    ids = [f"r{i}" for i in range(N)]
    y = (rng.random(N) < 0.4).astype(int)
    s1 = np.round(np.clip(y * 0.3 + rng.random(N) * 0.7, 0, 1), 4)
    s2 = np.round(np.clip(y * 0.3 + rng.random(N) * 0.7, 0, 1), 4)
    pd.DataFrame({"request_id": ids, "ts": ts, "score": s1}).to_csv(tmp_path / "live.csv",
                                                                    index=False)
    pd.DataFrame({"request_id": ids, "ts": ts, "score": s2}).to_csv(tmp_path / "cand.csv",
                                                                    index=False)
    lab = pd.DataFrame({"request_id": ids, "label": y})
    extra = pd.DataFrame(label_rows, columns=["request_id", "label"])
    lab = pd.concat([lab, extra], ignore_index=True)
    return lab


SPEC = {"experiment": {"strategy": "shadow", "live": "live", "candidate": "cand",
                       "timestamp_column": "ts"},
        "metrics": [{"name": "auc", "margin": 0.05}]}


@pytest.mark.parametrize("order", ["forward", "reversed"])
def test_generic_labels_empty_id_and_conflicts_are_rejected_with_reasons(tmp_path, order):
    lab = _generic_files(tmp_path, [("", 1), ("  ", 0), ("r5", None), ("r6", None)])
    y5, y6 = int(lab.loc[5, "label"]), int(lab.loc[6, "label"])
    lab.loc[N + 2, "label"] = 1 - y5   # r5: a conflicting second label
    lab.loc[N + 3, "label"] = y6       # r6: the same label again
    lab["label"] = lab["label"].astype(int)
    if order == "reversed":
        lab = lab.iloc[::-1]
    lab.to_csv(tmp_path / "labels.csv", index=False)
    spec = json.loads(json.dumps(SPEC))
    spec["experiment"]["labels"] = str(tmp_path / "labels.csv")
    doc = abkit.analyze([tmp_path / "live.csv", tmp_path / "cand.csv"], spec).to_dict()
    d = doc["data"]
    assert d["rows_rejected"] == {"missing_id": 2, "conflicting_label": 2,
                                  "duplicate_label": 1}
    assert d["rows_read"] == 2 * N + N + 4
    assert d["rows_used"] == 2 * N + (N - 1)  # both sides of every pair; r5 has no label
    assert d["rows_read"] == d["rows_used"] + sum(d["rows_rejected"].values())
    assert doc["shadow"]["labelled_pairs"] == N - 1
    assert "empty" in d["examples"]["missing_id"]


def _capture_tree(root, lines_live, lines_shadow=None, gt_lines=None):
    write_lines(root, CAP, lines_live)
    write_lines(root, CAP_SHADOW, lines_shadow if lines_shadow is not None else
                [cap_rec(f"s{i}", iid=f"r{i}", out="0.4") for i in range(3)])
    if gt_lines is not None:
        write_lines(root, GT, gt_lines)


@pytest.mark.parametrize("order", ["forward", "reversed"])
def test_capture_duplicates_follow_one_rule_in_any_order(tmp_path, order):
    lines = [cap_rec("e1", iid="r1", out="0.2"),
             cap_rec("e1", iid="r1", out="0.9"),   # same eventId, another output: conflict
             cap_rec("e2", iid="r2", out="0.5"),
             cap_rec("e2", iid="r2", out="0.5"),   # an identical copy: the first is kept
             cap_rec("e0", iid="r0", out="0.3")]
    if order == "reversed":
        lines = lines[::-1]
    _capture_tree(tmp_path, lines)
    r = read_capture(tmp_path / "ep", features=["a", "b"])
    acc = r.by_variant["variant-live"]
    assert acc.rejected == {"conflicting_event": 2, "duplicate_event": 1}
    assert (acc.records_read, acc.records_used) == (5, 2)
    live = r.variant("variant-live").set_index("event_id")
    assert sorted(live.index) == ["e0", "e2"] and live.loc["e2", "output"] == 0.5
    assert "different content" in acc.examples["conflicting_event"]


@pytest.mark.parametrize("order", ["forward", "reversed"])
def test_ground_truth_conflicts_do_not_depend_on_order(tmp_path, order):
    lines = [gt_rec("a", "1"), gt_rec("a", "0"), gt_rec("b", "1"), gt_rec("b", "1"),
             gt_rec("c", "0")]
    if order == "reversed":
        lines = lines[::-1]
    write_lines(tmp_path, GT, lines)
    r = read_ground_truth(tmp_path / "gt" / "ep")
    assert r.accounting.rejected == {"conflicting_label": 2, "duplicate_label": 1}
    assert dict(zip(r.frame["event_id"], r.frame["label"])) == {"b": 1.0, "c": 0.0}


def test_ground_truth_keyed_by_inference_id_or_event_id_joins(tmp_path):
    live = [cap_rec("e0", iid="r0", out="0.2"), cap_rec("e1", iid="r1", out="0.7"),
            cap_rec("e2", out="0.6")]
    shadow = [cap_rec("s0", iid="r0", out="0.3"), cap_rec("s1", iid="r1", out="0.8"),
              cap_rec("e2", out="0.5")]
    gt = [gt_rec("r0", "0", key="inferenceId"),   # keyed by inferenceId only
          gt_rec("r1", "1"),                      # eventId = the capture's inferenceId
          gt_rec("e2", "1"),                      # no inferenceId: the capture's eventId
          json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"},
                      "eventMetadata": {}})]       # neither: missing_id
    _capture_tree(tmp_path, live, shadow, gt)
    cap = read_capture(tmp_path / "ep", features=["a", "b"])
    labels = read_ground_truth(tmp_path / GT)
    assert labels.accounting.rejected == {"missing_id": 1}
    pairs = pair_capture(cap, "variant-live", "variant-shadow", labels)
    got = dict(zip(pairs.frame["request_id"], pairs.frame["label"]))
    assert got == {"r0": 0.0, "r1": 1.0, "e2": 1.0}
    assert pairs.unmatched["labels_only"] == 0


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


@pytest.mark.parametrize("payload,want", [
    ("12,70.5", [12.0, 70.5]),                                 # CSV sent as octet-stream
    ('{"a": 12, "b": 70.5}', [12.0, 70.5]),                     # JSON
    ('{"a": 12, "b": 70.5}\n', [12.0, 70.5]),                   # one JSON line
    ('[12, 70.5]', [12.0, 70.5]),
])
def test_base64_octet_stream_payload_is_recognised(tmp_path, payload, want):
    line = cap_rec("e1", iid="r1", inp=_b64(payload), enc_in="BASE64",
                   ct_in="application/octet-stream", out=_b64("0.7"), enc_out="BASE64",
                   ct_out="application/octet-stream")
    _capture_tree(tmp_path, [line])
    r = read_capture(tmp_path / "ep", features=["a", "b"], variants=["variant-live"])
    assert r.accounting.rejected == {} and r.accounting.unreadable_input == 0
    f = r.frame
    assert [f.loc[0, "a"], f.loc[0, "b"]] == want and f.loc[0, "output"] == 0.7


def test_json_lines_output_under_a_generic_type(tmp_path):
    out = _b64('{"score": 0.7}\n{"score": 0.2}\n')  # a batch of two answers
    line = cap_rec("e1", iid="r1", out=out, enc_out="BASE64", ct_out="binary/octet-stream")
    _capture_tree(tmp_path, [line, cap_rec("e2", iid="r2")])
    r = read_capture(tmp_path / "ep", variants=["variant-live"], output_field="[0].score")
    assert r.accounting.rejected == {} and list(r.frame["output"]) == [0.7, 0.83]


def test_unreadable_input_keeps_the_output_in_pairs_and_quality(tmp_path):
    bad_inputs = [dict(inp=_b64("\x00\x01binary"), enc_in="BASE64",
                       ct_in="application/octet-stream"),     # binary: not CSV or JSON
                  dict(inp="1,2,3"),                            # 3 fields for 2 features
                  dict(inp="x", enc_in="XML")]                  # unknown encoding
    live = [cap_rec(f"e{i}", iid=f"r{i}", out="0.6", **kw) for i, kw in enumerate(bad_inputs)]
    live.append(cap_rec("e9", iid="r9", out="0.1"))
    shadow = [cap_rec(f"s{i}", iid=f"r{i}", out="0.4") for i in (0, 1, 2, 9)]
    gt = [gt_rec(f"r{i}", "1" if i < 3 else "0") for i in (0, 1, 2, 9)]
    _capture_tree(tmp_path, live, shadow, gt)
    cap = read_capture(tmp_path / "ep", features=["a", "b"])
    acc = cap.by_variant["variant-live"]
    assert acc.rejected == {} and acc.records_used == 4
    assert acc.unreadable_input == 3 and "undecodable_payload" in acc.unreadable_example
    assert cap.accounting.to_dict()["unreadable_input"]["records"] == 3
    pairs = pair_capture(cap, "variant-live", "variant-shadow", read_ground_truth(tmp_path / GT))
    assert pairs.n_pairs == 4 and pairs.n_labelled == 4
    # the unread inputs have no features (drift leaves them out) and are not mismatches
    f = pairs.frame.set_index("request_id")
    assert f.loc[["r0", "r1", "r2"], ["a", "b"]].isna().all().all()
    assert pairs.input_mismatch == 0

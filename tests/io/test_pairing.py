"""Live/shadow/label join: unmatched counts, duplicate rules, label keys, input mismatch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abkit.errors import InputError
from abkit.io.datacapture import Accounting, read_capture, read_ground_truth
from abkit.io.pairing import pair_capture, pair_shadow, split_generic

sys.path.insert(0, str(Path(__file__).parent))
from test_datacapture import FEATURES, rec, write  # noqa: E402


def identity(acc: Accounting) -> None:
    assert acc.records_read == acc.records_used + sum(acc.rejected.values())


def check(p) -> None:
    identity(p.accounting)
    for a in p.by_side.values():
        identity(a)
    if p.labels is not None:
        identity(p.labels)
    assert p.accounting.records_used == 2 * p.n_pairs


def constructed():
    """Live r1..r10 (+ a second r3 and an empty id), shadow r1..r8 minus r3 dup, + r11, r12."""
    live = pd.DataFrame({
        "request_id": ["r1", "r2", "r3", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10",
                       None],
        "output": [0.1, 0.2, 0.3, 0.31, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.15, 0.5],
        "x": [1.0, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 0],
        "city": ["a", "b", "c", "c", "d", "e", "f", "g", "h", "i", "j", "k"],
    })
    shadow = pd.DataFrame({
        "request_id": ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r10", "r11", "r12"],
        "output": [0.11, 0.22, 0.33, 0.44, 0.55, 0.66, 0.77, 0.88, 0.16, 0.5, 0.5],
        "x": [1.0, 2, 3, 4, 5, 6.5, 7, 8, 10, 0, 0],         # r6 differs
        "city": ["a", "b", "c", "d", "e", "f", "g", "h", "j", "z", "z"],
    })
    labels = pd.DataFrame({
        "event_id": ["r1", "r2", "r9", "r99", "r4", "r4", "r5", "r5", None, "r7", "r10"],
        "label": [1, 0, 1, 0, 1, 1, 1, 0, 1, "x", np.nan],
    })
    return live, shadow, labels


def test_constructed_case_counts():
    live, shadow, labels = constructed()
    p = pair_shadow(live, shadow, labels, features=["x", "city"], time_column=None)
    check(p)
    # pairs: r1 r2 r4 r5 r6 r7 r8 r10 (r3 is duplicated on live, r9 has no shadow)
    assert list(p.frame["request_id"]) == ["r1", "r2", "r4", "r5", "r6", "r7", "r8", "r10"]
    assert p.unmatched == {"live_only": 1, "shadow_only": 2, "labels_only": 2}
    assert p.by_side["live"].rejected == {"missing_request_id": 1, "duplicate_request": 2,
                                          "live_only": 1}
    assert p.by_side["shadow"].rejected == {"duplicate_request": 1, "shadow_only": 2}
    assert p.accounting.records_read == 12 + 11
    # labels: r1, r2, r4 (repeat kept once) used; r9 (unpaired live) and r99 labels_only;
    # r5 conflicting (2 rows); empty id; r7 "x" and r10 NaN are bad labels
    assert p.labels.rejected == {"labels_only": 2, "duplicate_label": 1,
                                 "conflicting_label": 2, "missing_id": 1, "bad_label": 2}
    assert p.labels.records_used == 3 and p.labels.records_read == 11
    lab = p.frame.set_index("request_id")["label"]
    assert lab["r1"] == 1.0 and lab["r2"] == 0.0 and lab["r4"] == 1.0
    assert lab[["r5", "r6", "r7", "r8", "r10"]].isna().all()
    assert p.n_labelled == 3
    # input mismatch counted, not dropped
    assert p.input_mismatch == 1
    assert list(p.frame.loc[p.frame["input_mismatch"], "request_id"]) == ["r6"]
    assert any(d.code == "INPUT_MISMATCH" and "r6" in d.message for d in p.diagnostics)
    assert "r9" in p.examples["live_only"] and "no shadow record" in p.examples["live_only"]
    assert "r11" in p.examples["shadow_only"]
    assert "unpaired live record" in p.examples["labels_only"]
    f = p.frame.set_index("request_id")
    assert f.loc["r6", "output_live"] == 0.6 and f.loc["r6", "output_shadow"] == 0.66
    assert f.loc["r6", "x"] == 6.0          # features come from the live record
    json.dumps(p.to_dict())


def test_wrong_join_key_is_caught():
    """Negative control: joining on a key the sides do not share pairs nothing."""
    live, shadow, _ = constructed()
    live = live.assign(event_id=[f"live-{i}" for i in range(len(live))])
    shadow = shadow.assign(event_id=[f"shadow-{i}" for i in range(len(shadow))])
    p = pair_shadow(live, shadow, id_column="event_id", time_column=None)
    check(p)
    assert p.n_pairs == 0 and p.unmatched["live_only"] == len(live)
    assert any(d.code == "NO_PAIRS" for d in p.diagnostics)
    assert any(d.code == "INPUT_NOT_COMPARED" for d in p.diagnostics)


def test_ids_of_different_types_match_and_carry_columns():
    live = pd.DataFrame({"rid": [1, 2, 3], "output": [0.1, 0.2, 0.3],
                         "ts": pd.to_datetime(["2026-01-01T00:00:00Z"] * 3, utc=True),
                         "latency_ms": [10.0, 11.0, 12.0]})
    shadow = pd.DataFrame({"rid": [1.0, 2.0, np.nan, 3.0], "output": [0.2, 0.3, 0.5, 0.4],
                           "latency_ms": [20.0, 21.0, 0.0, 22.0]})
    labels = pd.DataFrame({"id": ["1", "3"], "y": [0, 1]})
    p = pair_shadow(live, shadow, labels, id_column="rid", label_id_column="id",
                    label_column="y", time_column="ts", carry=["latency_ms"])
    check(p)
    assert list(p.frame["request_id"]) == ["1", "2", "3"]
    assert list(p.frame["latency_ms_shadow"]) == [20.0, 21.0, 22.0]
    assert list(p.frame["label"].fillna(-1)) == [0.0, -1.0, 1.0]
    assert str(p.frame["time"].dt.tz) == "UTC"
    assert p.by_side["shadow"].rejected == {"missing_request_id": 1}
    assert "latency_ms" not in p.frame.columns  # carried columns are not also features


def test_bad_outputs_are_rejected_not_paired():
    live = pd.DataFrame({"request_id": ["a", "b", "c", "d", "d"],
                         "output": [0.1, "oops", np.nan, 0.4, np.inf]})
    shadow = pd.DataFrame({"request_id": ["a", "b", "c", "d"], "output": [0.2, 0.3, 0.4, 0.5]})
    p = pair_shadow(live, shadow, time_column=None)
    check(p)
    # d's infinite copy is rejected first, so the remaining d is unique and pairs
    assert list(p.frame["request_id"]) == ["a", "d"]
    assert p.by_side["live"].rejected == {"non_numeric_output": 1, "non_finite_output": 2}
    assert p.unmatched["shadow_only"] == 2 and p.unmatched["live_only"] == 0
    assert p.frame["output_shadow"].tolist() == [0.2, 0.5]


def test_missing_columns_are_input_errors():
    live, shadow, labels = constructed()
    with pytest.raises(InputError, match="no column 'inference_time'"):
        pair_shadow(live, shadow)
    with pytest.raises(InputError, match="shadow frame has no column 'score'"):
        pair_shadow(live.assign(score=1), shadow, output_column="score", time_column=None)
    with pytest.raises(InputError, match="labels frame has no column 'eid'"):
        pair_shadow(live, shadow, labels, label_id_column="eid", time_column=None)
    with pytest.raises(InputError, match="feature column 'q'"):
        pair_shadow(live.assign(q=1), shadow, features=["q"], time_column=None)


def test_split_generic():
    log = pd.DataFrame({"variant": ["live", "cand", "live", "cand", None, "old", " live "],
                        "rid": ["a", "a", "b", "c", "d", "e", "f"],
                        "output": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]})
    sp = split_generic(log, variant_column="variant", id_column="rid", live="live",
                       candidate="cand")
    identity(sp.accounting)
    assert sp.accounting.rejected == {"missing_variant": 1, "unknown_variant": 1}
    assert list(sp.live["rid"]) == ["a", "b", "f"] and list(sp.shadow["rid"]) == ["a", "c"]
    p = pair_shadow(sp.live, sp.shadow, id_column="rid", time_column=None)
    check(p)
    assert p.n_pairs == 1 and p.unmatched == {"live_only": 2, "shadow_only": 1,
                                              "labels_only": 0}
    with pytest.raises(InputError, match="no column 'variant_tag'"):
        split_generic(log, variant_column="variant_tag", id_column="rid", live="live",
                      candidate="cand")
    with pytest.raises(ValueError):
        split_generic(log, variant_column="variant", id_column="rid", live="x", candidate="x")


def test_capture_tree_with_ground_truth(tmp_path):
    ep = "datacapture/churn-endpoint"
    live = [rec("le1", "q1", out="0.9"), rec("le2", "q2", out="0.2"),
            rec("le3", None, out="0.4"),                        # no inferenceId: cannot pair
            rec("le4", "q4", out="0.6", inp="13,70.5,month-to-month,1")]
    shadow = [rec("se1", "q1", out="0.8"), rec("se2", "q2", out="0.3")]
    write(tmp_path, f"{ep}/variant-live/2026/11/20/10/a.jsonl", live)
    write(tmp_path, f"{ep}/variant-shadow/2026/11/20/10/a.jsonl", shadow)
    # the shadow copy of q4 arrives in the next hour folder, with a different input
    write(tmp_path, f"{ep}/variant-shadow/2026/11/20/11/b.jsonl",
          [rec("se4", "q4", out="0.7", t="2026-11-20T11:00:00Z")])
    gtl = [json.dumps({"groundTruthData": {"data": d, "encoding": "CSV"},
                       "eventMetadata": {"eventId": e}, "eventVersion": "0"})
           for e, d in [("q1", "1"), ("q2", "0"), ("le3", "1"), ("nobody", "0")]]
    write(tmp_path, "groundtruth/churn-endpoint/2026/11/21/00/gt.jsonl", gtl)
    cap = read_capture(tmp_path / ep, features=FEATURES)
    gt = read_ground_truth(tmp_path / "groundtruth" / "churn-endpoint")
    p = pair_capture(cap, "variant-live", "variant-shadow", gt)
    check(p)
    assert list(p.frame["request_id"]) == ["q1", "q2", "q4"]
    assert p.unmatched == {"live_only": 1, "shadow_only": 0, "labels_only": 2}
    assert list(p.frame["label"].fillna(-1)) == [1.0, 0.0, -1.0]
    assert p.input_mismatch == 1 and p.frame["input_mismatch"].tolist() == [False, False, True]
    assert list(p.frame.columns[-4:]) == FEATURES
    assert p.frame["time_shadow"].iloc[2] == pd.Timestamp("2026-11-20T11:00:00Z")
    # the label of le3 (no inferenceId) is keyed by its eventId: it matches the live record,
    # which has no shadow partner, so it is counted as labels_only with that explanation
    assert p.labels.rejected == {"labels_only": 2}
    with pytest.raises(InputError, match="variant 'variant-canary'"):
        pair_capture(cap, "variant-live", "variant-canary")

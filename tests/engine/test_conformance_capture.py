"""Engine conformance of the capture plan: pandas (the reference: the Python readers, a frame
of every record, ``pair_capture``) and DuckDB (the lines decided in SQL, the records paired in
DuckDB without a frame) give the same reduction: the same pairs frame (values, dtypes, the
Python types in object columns, row order), the same accounting of the capture, the labels
and the pairing (each side's, the labels' own), the same examples and diagnostics, or the
same usage error. Spark has no capture compilation and refuses the tree with exit 2.

Cases: the shipped samples (``data/shadow``), a generated tree, a hand-written tree that trips
every pairing rule, and random trees drawn from small pools of ids, features and labels (so
that duplicates, one-sided requests, label keys and mismatches collide in every way).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from abkit.cli import main
from abkit.engine.base import get_engine
from abkit.engine.capture import CapturePlan

from capture_lines import CAP, CAP_SHADOW, GT, cap_rec, gt_rec, write_lines

ROOT = Path(__file__).resolve().parents[2]
SHADOW = ROOT / "data" / "shadow"
FEATURES = ("tenure_months", "monthly_charges", "total_charges", "num_support_tickets",
            "contract_type", "has_fiber", "age", "days_since_last_login")
LIVE, CAND = "variant-live", "variant-shadow"


def _outcome(engine: str, tree: Path, plan: CapturePlan):
    try:
        return get_engine(engine).reduce(tree, plan), None
    except Exception as e:  # compared: same type and message
        return None, e


def assert_same(tree: Path, plan: CapturePlan):
    """Both engines reduce ``plan`` over ``tree`` alike; the DuckDB reduction."""
    ref, ref_err = _outcome("pandas", tree, plan)
    duck, duck_err = _outcome("duckdb", tree, plan)
    if ref_err is not None or duck_err is not None:
        assert type(ref_err) is type(duck_err) and str(ref_err) == str(duck_err), \
            (ref_err, duck_err)
        return None
    a, b = ref.pairs.frame, duck.pairs.frame
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes]
    for col in a.columns:
        if a[col].dtype == object:
            assert [type(x) for x in a[col]] == [type(x) for x in b[col]], col
    assert ref.to_dict() == duck.to_dict()
    assert ref.pairs.by_side == duck.pairs.by_side
    assert ref.pairs.labels == duck.pairs.labels
    assert ref.pairs.diagnostics == duck.pairs.diagnostics
    assert duck.capture.frame is None and ref.capture.frame is not None
    return duck


@pytest.mark.parametrize("endpoint", ["churn-endpoint", "churn-endpoint-same"])
@pytest.mark.parametrize("kw", [
    {"features": FEATURES, "labels": "binary"}, {"labels": "binary"},
    {"features": FEATURES[:3], "labels": "numeric", "output_range": None},
    {"features": FEATURES}])
def test_shipped_samples(endpoint, kw):
    kw = dict(kw)
    kind = kw.pop("labels", None)
    plan = CapturePlan(LIVE, CAND, output_field="predictions[0].score",
                       labels=SHADOW / "groundtruth" / endpoint if kind else None,
                       label_kind=kind or "binary", **kw)
    red = assert_same(SHADOW / "datacapture" / endpoint, plan)
    assert red.pairs.n_pairs > 500


def test_generated_tree(tmp_path):
    from abkit.datasets.capture.generate import write_shadow_capture

    write_shadow_capture(tmp_path, requests=3000, seed=11)
    for ep in ("churn-endpoint", "churn-endpoint-same"):
        plan = CapturePlan(LIVE, CAND, features=FEATURES, output_field="predictions[0].score",
                           labels=tmp_path / "groundtruth" / ep)
        assert assert_same(tmp_path / "datacapture" / ep, plan).pairs.n_pairs > 2000


def _tree(root: Path, live: list[str], shadow: list[str], gt: list[str] | None) -> None:
    write_lines(root, CAP, live)
    write_lines(root, CAP_SHADOW, shadow)
    if gt is not None:
        write_lines(root, GT, gt)


def test_every_pairing_rule(tmp_path):
    live = [cap_rec("e0", iid="r0", out="0.2"),                       # a pair
            cap_rec("e1", iid="r1", out="0.7", inp="12,71"),          # input mismatch
            cap_rec("e2", out="0.6"),                                 # paired by eventId
            cap_rec("e3", iid="r3", out="0.1"),                       # live only
            cap_rec("e4", iid="r4", out="0.3"), cap_rec("e5", iid="r4", out="0.4"),  # dup
            cap_rec("e6", iid="r6", out="0.5", inp="x,70.5"),         # text feature
            cap_rec("e7", iid="r7", out="0.5", inp="1,2,3"),          # unreadable input
            cap_rec("e8", iid="r8", out="0.9", inp="3,")]             # empty token
    shadow = [cap_rec("s0", iid="r0", out="0.3"), cap_rec("s1", iid="r1", out="0.8"),
              cap_rec("e2", out="0.5"), cap_rec("s4", iid="r4", out="0.4"),
              cap_rec("s6", iid="r6", out="0.5", inp="y,70.5"),
              cap_rec("s7", iid="r7", out="0.5"), cap_rec("s8", iid="r8", out="0.9", inp="3,"),
              cap_rec("s9", iid="r9", out="0.2"),                     # shadow only
              cap_rec("s10", iid="r10", out="0.2"), cap_rec("s11", iid="r10", out="0.3")]
    gt = [gt_rec("r0", "0", key="inferenceId"), gt_rec("r1", "1"), gt_rec("e2", "1"),
          gt_rec("e6", "1"),                                          # the eventId key
          gt_rec("r3", "1"),                                          # an unpaired live id
          gt_rec("nobody", "0"),                                      # no record has it
          gt_rec("r7", "1"), gt_rec("r7", "0"),                       # conflicting
          gt_rec("r8", "1"), gt_rec("r8", "1"),                       # repeated
          gt_rec("r9", "x")]                                          # bad label
    _tree(tmp_path, live, shadow, gt)
    plan = CapturePlan(LIVE, CAND, features=("a", "b"), labels=tmp_path / GT)
    red = assert_same(tmp_path / "ep", plan)
    p = red.pairs
    assert list(p.frame["request_id"]) == ["r0", "r1", "e2", "r6", "r7", "r8"]
    assert p.unmatched == {"live_only": 1, "shadow_only": 1, "labels_only": 2}
    assert p.by_side["live"].rejected == {"duplicate_request": 2, "live_only": 1}
    assert p.by_side["shadow"].rejected == {"duplicate_request": 3, "shadow_only": 1}
    assert p.input_mismatch == 2  # r1 (a number), r6 (a text token); r7 is not compared
    assert "matches an unpaired live record" in p.examples["labels_only"]
    assert dict(zip(p.frame["request_id"], p.frame["label"]))["r6"] == 1.0  # by eventId
    # without features nothing is compared; without labels nothing is attached
    assert_same(tmp_path / "ep", CapturePlan(LIVE, CAND, labels=tmp_path / GT))
    assert_same(tmp_path / "ep", CapturePlan(LIVE, CAND, features=("a", "b")))


@pytest.mark.parametrize("case", ["disjoint", "unlabelled", "unknown_variant", "empty_side"])
def test_no_pairs_no_labels_and_errors(tmp_path, case):
    live = [cap_rec(f"e{i}", iid=f"r{i}", out="0.5") for i in range(4)]
    shadow = [cap_rec(f"s{i}", iid=f"{'q' if case == 'disjoint' else 'r'}{i}", out="0.4")
              for i in range(4)]
    if case == "empty_side":
        shadow = [cap_rec("s0", iid="r0", out="7")]  # out of range: the side has no record
    _tree(tmp_path, live, shadow, [gt_rec("zz", "1")])
    cand = "variant-other" if case == "unknown_variant" else CAND
    red = assert_same(tmp_path / "ep", CapturePlan(LIVE, cand, features=("a", "b"),
                                                   labels=tmp_path / GT))
    if case == "unknown_variant":
        assert red is None
    else:
        codes = [d.code for d in red.pairs.diagnostics]
        assert codes == (["NO_LABELLED_PAIRS"] if case == "unlabelled" else ["NO_PAIRS"])


@pytest.mark.parametrize("seed", range(12))
def test_random_trees(tmp_path, seed):
    rng = random.Random(seed)
    ids = [f"r{i}" for i in range(12)]
    tokens = ["1", "1.0", "", "x", "2", " 2", "nan"]

    def rec(side: str, k: int) -> str:
        iid = rng.choice(ids + [None])
        eid = rng.choice([f"{side}{k}", f"{side}{k}", rng.choice(ids)])
        return cap_rec(eid, iid=iid, out=str(round(rng.random(), 3)),
                       inp=f"{rng.choice(tokens)},{rng.choice(tokens)}")

    live = [rec("e", k) for k in range(rng.randint(0, 25))]
    shadow = [rec("s", k) for k in range(rng.randint(0, 25))]
    gt = [gt_rec(rng.choice(ids + ["e1", "s2", "zz"]), rng.choice(["0", "1", "1", "x"]),
                 key=rng.choice(["eventId", "inferenceId"])) for _ in range(rng.randint(0, 15))]
    _tree(tmp_path, live, shadow, gt)
    assert_same(tmp_path / "ep", CapturePlan(LIVE, CAND, features=("a", "b"),
                                             labels=tmp_path / GT))


def test_spark_refuses_a_capture_tree_with_exit_2(capsys):
    rc = main(["report", str(SHADOW / "datacapture" / "churn-endpoint"), "--spec",
               str(SHADOW / "shadow.toml"), "--engine", "spark"])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot be read with engine 'spark'" in err and "Traceback" not in err


def test_the_report_names_the_engine_that_read_the_tree(tmp_path, capsys):
    docs = {}
    for engine in ("duckdb", "pandas"):
        out = tmp_path / f"{engine}.json"
        assert main(["report", str(SHADOW / "datacapture" / "churn-endpoint"), "--spec",
                     str(SHADOW / "shadow.toml"), "--engine", engine, "--format", "json",
                     "-o", str(out)]) in (0, 1)
        docs[engine] = json.loads(out.read_text())
    assert docs["duckdb"]["input"]["engine"] == "duckdb"
    assert docs["pandas"]["input"]["engine"] == "pandas"
    for d in docs.values():
        d.pop("generated_at")
        d["input"].pop("engine")
    assert docs["duckdb"] == docs["pandas"]


def test_the_pairing_checks_labels_it_is_given(tmp_path):
    """The pairing's own label rules (empty ids, labels that are not numbers, conflicts,
    repeats), which the ground-truth readers already apply, on a labels frame spoiled by
    hand: the DuckDB pairing gives the reference's accounting."""
    import dataclasses

    from abkit.io.datacapture import read_capture, read_ground_truth
    from abkit.io.datacapture.duckdb_capture import read_capture_duckdb
    from abkit.io.pairing import pair_capture

    from abkit.engine.duckdb_capture_pairs import pair_capture_columns

    live = [cap_rec(f"e{i}", iid=f"r{i}", out="0.5") for i in range(6)]
    shadow = [cap_rec(f"s{i}", iid=f"r{i}", out="0.4") for i in range(6)]
    _tree(tmp_path, live, shadow, [gt_rec("r0", "1")])
    labels = read_ground_truth(tmp_path / GT)
    n = 9
    frame = pd.DataFrame({
        "event_id": pd.array(["r1", None, "  ", "r2", "r2", "r3", "r3", "r4", "zz"],
                             dtype=object),
        "label": [1.0, 1.0, 0.0, float("nan"), 1.0, 0.0, 1.0, 1.0, 1.0],
        "label_time": pd.Series([pd.NaT] * n, dtype="datetime64[us, UTC]"),
        "file": pd.Categorical(["g.jsonl"] * n), "line": list(range(1, n + 1))})
    frame.loc[7, "label"] = float("inf")
    spoiled = dataclasses.replace(labels, frame=pd.concat([frame, frame.iloc[[0]]],
                                                          ignore_index=True))
    kw = {"features": ["a", "b"]}
    ref = pair_capture(read_capture(tmp_path / "ep", **kw), LIVE, CAND, spoiled)
    new = pair_capture_columns(read_capture_duckdb(tmp_path / "ep", columns_only=True, **kw),
                               LIVE, CAND, spoiled)
    pd.testing.assert_frame_equal(ref.frame, new.frame, check_exact=True)
    assert ref.to_dict() == new.to_dict() and ref.examples == new.examples
    assert set(new.labels.rejected) == {"missing_id", "bad_label", "conflicting_label",
                                        "duplicate_label", "labels_only"}


def test_a_lone_surrogate_rejects_its_line_on_both_engines(tmp_path):
    """JSON ``"\\ud800"`` decodes, in Python, to text that no UTF-8 output can hold: such a
    line (or payload) is rejected with a reason, on both engines, instead of crashing the
    report (pandas' text columns and Arrow cannot hold it)."""
    nested = '{"predictions": [{"score": 0.4, "label": "\\ud800"}]}'  # the escape itself
    live = [cap_rec("\ud800a", iid=None, out="0.2"), cap_rec("e1", iid="r\udfff", out="0.7"),
            cap_rec("e2", iid="r2", out="0.6"), cap_rec("e3", iid=" r3 ", out="0.1"),
            cap_rec("e4", iid="r4", out=nested, enc_out="JSON", ct_out="application/json"),
            cap_rec("e5", iid="r5\ud83d\ude00", out="0.5")]  # a pair: one character
    shadow = [cap_rec("\ud800a", out="0.3"), cap_rec("s1", iid="r\udfff", out="0.8"),
              cap_rec("s2", iid="r2", out="0.5"), cap_rec("s3", iid="r3", out="0.5"),
              cap_rec("s5", iid="r5\ud83d\ude00", out="0.5")]
    _tree(tmp_path, live, shadow, [gt_rec("r\udfff", "1"), gt_rec("r2", "0")])
    plan = CapturePlan(LIVE, CAND, features=("a", "b"), labels=tmp_path / GT,
                       output_field="predictions[0].score")
    red = assert_same(tmp_path / "ep", plan)
    assert list(red.pairs.frame["request_id"]) == ["r2", "r3", "r5\U0001F600"]
    acc = red.capture.by_variant
    assert acc[LIVE].rejected == {"unparseable_line": 2, "undecodable_payload": 1}
    assert acc[CAND].rejected == {"unparseable_line": 2}
    assert red.labels.accounting.rejected == {"unparseable_line": 1}
    assert "lone surrogate" in red.capture.accounting.examples["unparseable_line"]


def test_an_output_path_duckdb_cannot_bind_is_read_by_the_python_rules(tmp_path):
    out = json.dumps({"predictions": [{"score": 0.4}]})
    lines = [cap_rec(f"e{i}", iid=f"r{i}", out=out, enc_out="JSON", ct_out="application/json")
             for i in range(3)]
    _tree(tmp_path, lines, lines, None)
    for path in ("predictions[99999999999999999999].score", "predictions[0].score"):
        assert_same(tmp_path / "ep", CapturePlan(LIVE, CAND, output_field=path))


@pytest.mark.parametrize("name", ["output", "request_id", "label", "time"])
def test_a_feature_cannot_take_a_name_of_the_records_or_pairs(tmp_path, name, capsys):
    """A feature named like a column abkit gives each record or pair would overwrite it
    (pairing by the feature's values): a usage error, the same on both engines."""
    _tree(tmp_path, [cap_rec("e0", iid="r0")], [cap_rec("s0", iid="r0")], None)
    assert assert_same(tmp_path / "ep", CapturePlan(LIVE, CAND, features=(name, "b"))) is None
    spec = (SHADOW / "shadow.toml").read_text().replace('"tenure_months"', f'"{name}"')
    (tmp_path / "s.toml").write_text(spec)
    rc = main(["report", str(SHADOW / "datacapture" / "churn-endpoint"), "--spec",
               str(tmp_path / "s.toml")])
    err = capsys.readouterr().err
    assert rc == 2 and "experiment.features" in err and "rename the feature" in err


def test_a_csv_payload_the_csv_module_cannot_read_is_a_reason_not_a_crash(tmp_path):
    """A quote and a bare carriage return in a CSV input or output: the csv module raises;
    the input is unreadable (the record kept for its output), the output undecodable."""
    bad = '"1",2\r3'
    live = [cap_rec("e0", iid="r0", inp=bad), cap_rec("e1", iid="r1", out=bad),
            cap_rec("e2", iid="r2")]
    shadow = [cap_rec(f"s{i}", iid=f"r{i}") for i in range(3)]
    _tree(tmp_path, live, shadow, None)
    red = assert_same(tmp_path / "ep", CapturePlan(LIVE, CAND, features=("a", "b")))
    acc = red.capture.by_variant[LIVE]
    assert acc.rejected == {"undecodable_payload": 1} and acc.unreadable_input == 1
    assert list(red.pairs.frame["request_id"]) == ["r0", "r2"]

"""The seeded SageMaker shadow-test generator (abkit/datasets_capture.py) and data/shadow/.

Every check parses the written files with plain ``json`` / ``base64`` and recomputes the
manifest's numbers independently of the generator (and of any abkit reader): AUC with
``scipy.stats.mannwhitneyu``, Spearman with ``scipy.stats.spearmanr``, the rest with numpy.
Negative controls tamper with a copy of the tree and check that the comparison catches it.
"""

from __future__ import annotations

import base64
import filecmp
import json
import math
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import mannwhitneyu, spearmanr

from abkit.datasets_capture import (
    DEFAULT_REQUESTS,
    DEFAULT_SEED,
    SHADOW_TOML,
    main,
    write_shadow_capture,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "shadow"
ENDPOINTS = ("churn-endpoint", "churn-endpoint-same")
LIVE, SHADOW = "variant-live", "variant-shadow"
CONTRACTS = ("month-to-month", "one-year", "two-year")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
CAPTURE_NAME = re.compile(r"^\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl$")

BRIEF_TOML = """\
[experiment]
strategy = "shadow"
input_format = "sagemaker-capture"
live = "variant-live"
candidate = "variant-shadow"
labels = "groundtruth/churn-endpoint"
threshold = 0.5
features = ["tenure_months", "monthly_charges", "total_charges", "num_support_tickets",
            "contract_type", "has_fiber", "age", "days_since_last_login"]
categorical = ["contract_type", "has_fiber"]
output_field = "predictions[0].score"

[[metrics]]
name = "auc"
role = "guardrail"
margin = 0.005
"""


# ---------------------------------------------------------------------------------------------
# an independent reader of the tree (plain json), used only by these tests


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _decode(part: dict) -> str:
    if part["encoding"] == "BASE64":
        return base64.b64decode(part["data"]).decode()
    return part["data"]


def _check_record(rec: dict, path: Path, variant: str) -> None:
    """Raise AssertionError unless ``rec`` is a well-formed Data Capture record."""
    assert list(rec) == ["captureData", "eventMetadata", "eventVersion"]
    assert rec["eventVersion"] == "0"
    cd = rec["captureData"]
    assert list(cd) == ["endpointInput", "endpointOutput"]
    for part, mode in ((cd["endpointInput"], "INPUT"), (cd["endpointOutput"], "OUTPUT")):
        assert list(part) == ["observedContentType", "mode", "data", "encoding"]
        assert part["mode"] == mode
        assert part["encoding"] in ("CSV", "JSON", "BASE64")
        assert isinstance(part["data"], str)
    assert cd["endpointInput"]["observedContentType"] == "text/csv"
    meta = rec["eventMetadata"]
    assert set(meta) in ({"eventId", "inferenceId", "inferenceTime"}, {"eventId", "inferenceTime"})
    assert UUID4.match(meta["eventId"])
    assert STAMP.match(meta["inferenceTime"])
    t = meta["inferenceTime"]
    # the folder is the hour of the inferenceTime
    assert path.parent.as_posix().endswith(f"{t[0:4]}/{t[5:7]}/{t[8:10]}/{t[11:13]}")
    fields = _decode(cd["endpointInput"]).split(",")
    assert len(fields) == 8
    tenure, monthly, total, tickets, contract, fiber, age, days = fields
    assert 0 <= int(tenure) <= 72 and 0 <= int(tickets) and 18 <= int(age) <= 85
    assert 0 <= int(days) and fiber in ("0", "1") and contract in CONTRACTS
    assert 18.0 <= float(monthly) <= 160.0 and 0.0 < float(total)
    out = _decode(cd["endpointOutput"])
    if variant == LIVE:
        assert cd["endpointOutput"]["observedContentType"] == "text/csv; charset=utf-8"
        assert cd["endpointOutput"]["encoding"] in ("CSV", "BASE64")
        float(out)
    else:
        assert cd["endpointOutput"]["observedContentType"] == "application/json"
        assert cd["endpointOutput"]["encoding"] in ("JSON", "BASE64")
        doc = json.loads(out)
        pred = doc["predictions"][0]
        assert set(pred) == {"score", "label"} and pred["label"] in (0, 1)
        if math.isfinite(pred["score"]):
            assert pred["label"] == int(pred["score"] >= 0.5)


def _score(rec: dict, variant: str) -> float:
    out = _decode(rec["captureData"]["endpointOutput"])
    return float(out) if variant == LIVE else float(json.loads(out)["predictions"][0]["score"])


def _read_endpoint(root: Path, endpoint: str) -> dict:
    """Everything a reader would see for one endpoint, from the files alone."""
    per = {}
    for v in (LIVE, SHADOW):
        folder = root / "datacapture" / endpoint / v
        acc = Counter()
        seen: dict[str, str] = {}
        valid: dict[str, dict] = {}
        with_id: set[str] = set()
        no_id_event: set[str] = set()
        hour_of: dict[str, str] = {}
        files = _files(folder)
        for f in files:
            assert CAPTURE_NAME.match(f.name), f.name
            text = f.read_text()
            assert text.endswith("\n")
            for line in text.splitlines():
                acc["lines"] += 1
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    acc["unparseable_lines"] += 1
                    continue
                _check_record(rec, f, v)
                acc["parsed_records"] += 1
                meta = rec["eventMetadata"]
                if meta["eventId"] in seen:
                    acc["duplicate_records"] += 1
                    assert seen[meta["eventId"]] == line  # a byte-identical copy
                    continue
                seen[meta["eventId"]] = line
                acc["unique_records"] += 1
                if rec["captureData"]["endpointInput"]["encoding"] == "BASE64":
                    acc["base64_records"] += 1
                if "inferenceId" not in meta:
                    acc["missing_inference_id"] += 1
                    no_id_event.add(meta["eventId"])
                    continue
                iid = meta["inferenceId"]
                with_id.add(iid)
                s = _score(rec, v)
                if not math.isfinite(s):
                    acc["non_finite_output"] += 1
                elif not 0.0 <= s <= 1.0:
                    acc["out_of_range_output"] += 1
                else:
                    acc["valid_records"] += 1
                    fields = _decode(rec["captureData"]["endpointInput"]).split(",")
                    valid[iid] = {"score": s, "contract": fields[4],
                                  "monthly": float(fields[1]), "time": meta["inferenceTime"]}
                    hour_of[iid] = f.parent.as_posix()[-13:]
        acc["files"] = len(files)
        per[v] = {"acc": acc, "valid": valid, "with_id": with_id, "no_id_event": no_id_event,
                  "hour_of": hour_of}
    labels: dict[str, int] = {}
    label_hour: dict[str, str] = {}
    n_label_records = 0
    for f in _files(root / "groundtruth" / endpoint):
        for line in f.read_text().splitlines():
            rec = json.loads(line)
            assert list(rec) == ["groundTruthData", "eventMetadata", "eventVersion"]
            assert rec["groundTruthData"]["encoding"] == "CSV"
            assert rec["groundTruthData"]["data"] in ("0", "1")
            assert list(rec["eventMetadata"]) == ["eventId"]
            labels[rec["eventMetadata"]["eventId"]] = int(rec["groundTruthData"]["data"])
            label_hour[rec["eventMetadata"]["eventId"]] = f.parent.as_posix()[-13:]
            n_label_records += 1
    return {"variants": per, "labels": labels, "label_hour": label_hour,
            "n_label_records": n_label_records}


def _auc(s: np.ndarray, y: np.ndarray) -> float:
    # scipy.stats.mannwhitneyu(pos, neg).statistic / (n1 n0): the AUC with ties counted 1/2
    return float(mannwhitneyu(s[y == 1], s[y == 0]).statistic / ((y == 1).sum() * (y == 0).sum()))


def _compare(root: Path, manifest: dict) -> list[str]:
    """Recompute the manifest's accounting and realised truth from the files; list mismatches."""
    problems: list[str] = []

    def same(what: str, got, want, tol: float = 2e-6) -> None:
        if isinstance(want, float) or isinstance(got, float):
            if want is None or got is None or abs(float(got) - float(want)) > tol:
                problems.append(f"{what}: files {got!r} != manifest {want!r}")
        elif got != want:
            problems.append(f"{what}: files {got!r} != manifest {want!r}")

    for ep in ENDPOINTS:
        t = manifest["endpoints"][ep]
        seen = _read_endpoint(root, ep)
        L, S = seen["variants"][LIVE], seen["variants"][SHADOW]
        for v in (LIVE, SHADOW):
            acc = seen["variants"][v]["acc"]
            for k in ("lines", "unparseable_lines", "parsed_records", "duplicate_records",
                      "unique_records", "missing_inference_id", "base64_records",
                      "non_finite_output", "out_of_range_output", "valid_records", "files"):
                same(f"{ep}/{v}/{k}", acc[k], t["records"][v][k])
        pairs = sorted(set(L["valid"]) & set(S["valid"]))
        same(f"{ep}/pairs", len(pairs), t["pairs"])
        live_only = set(L["valid"]) - set(S["valid"])
        shadow_only = set(S["valid"]) - set(L["valid"])
        u = t["unmatched"]
        same(f"{ep}/live_only", len(live_only), u["live_only"])
        same(f"{ep}/live_only_no_shadow_record", len(live_only - S["with_id"]),
             u["live_only_no_shadow_record"])
        same(f"{ep}/shadow_only", len(shadow_only), u["shadow_only"])
        same(f"{ep}/shadow_only_no_live_record", len(shadow_only - L["with_id"]),
             u["shadow_only_no_live_record"])
        no_id = {v: seen["variants"][v]["acc"]["missing_inference_id"] for v in (LIVE, SHADOW)}
        same(f"{ep}/live_only+no id", len(live_only) + no_id[LIVE],
             u["live_only_counting_missing_inference_id"])
        same(f"{ep}/shadow_only+no id", len(shadow_only) + no_id[SHADOW],
             u["shadow_only_counting_missing_inference_id"])
        same(f"{ep}/cross_hour_pairs", sum(L["hour_of"][i] != S["hour_of"][i] for i in pairs),
             t["cross_hour_pairs"])
        # labels
        labels = seen["labels"]
        known = L["with_id"] | S["with_id"] | L["no_id_event"]
        lab = t["labels"]
        same(f"{ep}/label records", seen["n_label_records"], lab["records"])
        same(f"{ep}/distinct label keys", len(labels), lab["records"])
        same(f"{ep}/labels_only", len(set(labels) - known), lab["labels_only"])
        same(f"{ep}/keyed_on_event_id", len(set(labels) & L["no_id_event"]),
             lab["keyed_on_event_id"])
        lp = [i for i in pairs if i in labels]
        same(f"{ep}/labelled_pairs", len(lp), lab["labelled_pairs"])
        same(f"{ep}/unlabelled_pairs", len(pairs) - len(lp), lab["unlabelled_pairs"])
        same(f"{ep}/labels_not_in_pairs", len(set(labels) - set(pairs)),
             lab["labels_not_in_pairs"])
        # matched-pair comparisons
        sl = np.array([L["valid"][i]["score"] for i in pairs])
        ss = np.array([S["valid"][i]["score"] for i in pairs])
        pl, ps = sl >= 0.5, ss >= 0.5
        same(f"{ep}/agreement", float(np.mean(pl == ps)), t["agreement"])
        same(f"{ep}/flips+-", int((pl & ~ps).sum()), t["flips"]["positive_to_negative"])
        same(f"{ep}/flips-+", int((~pl & ps).sum()), t["flips"]["negative_to_positive"])
        d = ss - sl
        same(f"{ep}/diff mean", float(d.mean()), t["score_diff"]["mean"])
        same(f"{ep}/diff mean_abs", float(np.abs(d).mean()), t["score_diff"]["mean_abs"])
        for q, want in t["score_diff"]["quantiles"].items():
            same(f"{ep}/diff q{q}", float(np.quantile(d, float(q))), want)
        if np.ptp(ss) > 0 and np.ptp(sl) > 0:
            same(f"{ep}/spearman", float(spearmanr(sl, ss).statistic), t["spearman"])
        # quality on labelled pairs
        y = np.array([labels[i] for i in lp])
        sl_l = np.array([L["valid"][i]["score"] for i in lp])
        ss_l = np.array([S["valid"][i]["score"] for i in lp])
        for name, s in (("live", sl_l), ("shadow", ss_l)):
            q = t["quality"]
            same(f"{ep}/auc {name}", _auc(s, y), q["auc"][name])
            same(f"{ep}/accuracy {name}", float(np.mean((s >= 0.5) == y)), q["accuracy"][name])
            same(f"{ep}/brier {name}", float(np.mean((s - y) ** 2)), q["brier"][name])
            ll = float(-np.mean(y * np.log(s) + (1 - y) * np.log(1 - s)))
            same(f"{ep}/log_loss {name}", ll, q["log_loss"][name])
            same(f"{ep}/calibration {name}", float(s.mean() - y.mean()),
                 q["calibration_in_the_large"][name])
        same(f"{ep}/auc diff", _auc(ss_l, y) - _auc(sl_l, y), t["quality"]["auc"]["diff"], 4e-6)
        cl, cs = (sl_l >= 0.5) == y, (ss_l >= 0.5) == y
        same(f"{ep}/mcnemar b", int((cl & ~cs).sum()), t["mcnemar"]["b"])
        same(f"{ep}/mcnemar c", int((~cl & cs).sum()), t["mcnemar"]["c"])
        # bias: positive rates by contract type over all pairs
        contract = np.array([L["valid"][i]["contract"] for i in pairs])
        for g in CONTRACTS:
            for v, s in ((LIVE, sl), (SHADOW, ss)):
                sel = contract == g
                if sel.any():
                    same(f"{ep}/ppr {g} {v}", float(np.mean(s[sel] >= 0.5)),
                         t["bias"]["by_group"][g][v]["positive_rate"])
        # the shadow saw the same payload as live
        for i in pairs[:200]:
            assert L["valid"][i]["monthly"] == S["valid"][i]["monthly"]
    return problems


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("shadow")
    manifest = write_shadow_capture(root)
    return root, manifest


# ---------------------------------------------------------------------------------------------
# the tree and its manifest


def test_layout(tree):
    root, manifest = tree
    assert (root / "shadow.toml").read_text() == BRIEF_TOML == SHADOW_TOML
    spec = tomllib.loads((root / "shadow.toml").read_text())
    assert spec["experiment"]["output_field"] == "predictions[0].score"
    same = tomllib.loads((root / "shadow-same.toml").read_text())
    assert same["experiment"]["labels"] == "groundtruth/churn-endpoint-same"
    assert json.loads((root / "manifest.json").read_text()) == manifest
    for ep in ENDPOINTS:
        for v in (LIVE, SHADOW):
            hours = {p.parent.relative_to(root / "datacapture" / ep / v).as_posix()
                     for p in _files(root / "datacapture" / ep / v)}
            assert len(hours) >= 6 and all(re.match(r"^2026/11/20/\d\d$", h) for h in hours)
            n_files = len(_files(root / "datacapture" / ep / v))
            assert n_files > len(hours)  # several files per hour folder
        assert (root / "cloudwatch" / f"{ep}_queries.json").is_file()
        assert (root / "endpoint-config" / f"{ep}.json").is_file()
        # labels arrive after the inferences, so their folders run later
        gt = sorted(p.parent.relative_to(root / "groundtruth" / ep).as_posix()
                    for p in _files(root / "groundtruth" / ep))
        assert gt[-1] > "2026/11/20/14"


def test_manifest_matches_files(tree):
    root, manifest = tree
    assert _compare(root, manifest) == []


def test_labels_arrive_after_the_inference(tree):
    root, _ = tree
    for ep in ENDPOINTS:
        seen = _read_endpoint(root, ep)
        live = seen["variants"][LIVE]["hour_of"]
        lab = [k for k in seen["labels"] if k in live]
        assert len(lab) > 500
        assert all(seen["label_hour"][k] >= live[k] for k in lab)
        assert sum(seen["label_hour"][k] > live[k] for k in lab) > 0.5 * len(lab)


def test_defects_present_in_the_sample_sized_tree(tree):
    _, manifest = tree
    for ep in ENDPOINTS:
        t = manifest["endpoints"][ep]
        for v in (LIVE, SHADOW):
            r = t["records"][v]
            assert r["unparseable_lines"] >= 2 and r["duplicate_records"] >= 2
            assert r["missing_inference_id"] >= 2 and r["base64_records"] >= 5
            assert r["non_finite_output"] >= 1 and r["out_of_range_output"] >= 1
        assert t["unmatched"]["live_only"] > 0 and t["unmatched"]["shadow_only"] > 0
        assert t["labels"]["labels_only"] >= 3 and t["labels"]["unlabelled_pairs"] > 0
        assert t["labels"]["keyed_on_event_id"] >= 2
        assert t["cross_hour_pairs"] >= 5


def test_negative_control_tampering_is_caught(tree, tmp_path):
    """A copy with one score changed, one line dropped and one label flipped must not match."""
    root, manifest = tree
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    f = _files(copy / "datacapture" / "churn-endpoint" / LIVE)[0]
    lines = f.read_text().splitlines()
    for k, line in enumerate(lines):  # reverse every plain CSV score of the file
        if '"encoding":"CSV"}},"eventMetadata"' in line and '"inferenceId"' in line:
            rec = json.loads(line)
            s = float(rec["captureData"]["endpointOutput"]["data"])
            if 0.0 <= s <= 1.0:
                rec["captureData"]["endpointOutput"]["data"] = f"{1.0 - s:.4f}"
                lines[k] = json.dumps(rec, separators=(",", ":"))
    del lines[-1]
    f.write_text("\n".join(lines) + "\n")
    g = _files(copy / "groundtruth" / "churn-endpoint-same")[0]
    glines = g.read_text().splitlines()
    r0 = json.loads(glines[0])
    r0["groundTruthData"]["data"] = "1" if r0["groundTruthData"]["data"] == "0" else "0"
    glines[0] = json.dumps(r0, separators=(",", ":"))
    g.write_text("\n".join(glines) + "\n")
    problems = _compare(copy, manifest)
    assert any("churn-endpoint/variant-live/lines" in p for p in problems)
    assert any(p.startswith(("churn-endpoint/auc live", "churn-endpoint/diff"))
               for p in problems)
    assert any(p.startswith("churn-endpoint-same/") for p in problems)


def test_same_model_shadow_is_identical(tree):
    root, manifest = tree
    t = manifest["endpoints"]["churn-endpoint-same"]
    assert t["expected_decision"] == "go"
    assert t["agreement"] == 1.0 and t["flips"] == {"positive_to_negative": 0,
                                                    "negative_to_positive": 0}
    assert t["score_diff"]["mean_abs"] == 0.0 and t["mcnemar"] == {"b": 0, "c": 0}
    assert t["quality"]["auc"]["diff"] == 0.0
    # "identical up to output formatting": the text differs, the value does not
    seen = _read_endpoint(root, "churn-endpoint-same")
    L, S = seen["variants"][LIVE]["valid"], seen["variants"][SHADOW]["valid"]
    assert all(L[i]["score"] == S[i]["score"] for i in set(L) & set(S))


def test_regression_shadow_differs_as_designed(tree):
    _, manifest = tree
    t = manifest["endpoints"]["churn-endpoint"]
    assert t["expected_decision"] == "no-go"
    assert -0.06 < t["quality"]["auc"]["diff"] < -0.01
    assert t["quality"]["calibration_in_the_large"]["diff"] > 0.03
    assert t["mcnemar"]["b"] > t["mcnemar"]["c"]
    assert t["bias"]["difference_change"] > 0
    assert t["latency"]["ratio"]["p99"] > 1.1
    assert t["errors"][SHADOW]["5xx"] > t["errors"][LIVE]["5xx"]


# ---------------------------------------------------------------------------------------------
# CloudWatch exports and endpoint configs


def _cloudwatch(root: Path, ep: str) -> dict:
    q = json.loads((root / "cloudwatch" / f"{ep}_queries.json").read_text())
    r = json.loads((root / "cloudwatch" / f"{ep}_results.json").read_text())
    by_id = {x["Id"]: x for x in q["MetricDataQueries"]}
    out = {}
    for res in r["MetricDataResults"]:
        ms = by_id[res["Id"]]["MetricStat"]
        dims = {d["Name"]: d["Value"] for d in ms["Metric"]["Dimensions"]}
        assert ms["Metric"]["Namespace"] == "AWS/SageMaker" and ms["Period"] == 60
        assert dims["EndpointName"] == ep and res["StatusCode"] == "Complete"
        assert res["Timestamps"] == sorted(res["Timestamps"], reverse=True)  # newest first
        assert all(re.match(r"^2026-11-20T\d\d:\d\d:00\+00:00$", s) for s in res["Timestamps"])
        out[(dims["VariantName"], ms["Metric"]["MetricName"], ms["Stat"])] = dict(
            zip(res["Timestamps"], res["Values"]))
    return out


def test_cloudwatch_consistent_with_requests(tree):
    root, manifest = tree
    for ep in ENDPOINTS:
        cw = _cloudwatch(root, ep)
        t = manifest["endpoints"][ep]
        for v in (LIVE, SHADOW):
            inv = cw[(v, "Invocations", "Sum")]
            assert sum(inv.values()) == t["errors"][v]["invocations"]
            assert sum(cw[(v, "Invocation5XXErrors", "Sum")].values()) == t["errors"][v]["5xx"]
            assert sum(cw[(v, "Invocation4XXErrors", "Sum")].values()) == t["errors"][v]["4xx"]
            n = cw[(v, "ModelLatency", "SampleCount")]
            avg = cw[(v, "ModelLatency", "Average")]
            lat = t["latency"][v]
            assert sum(n.values()) == lat["samples"]
            pooled_mean = sum(n[k] * avg[k] for k in n) / sum(n.values())
            assert pooled_mean == pytest.approx(lat["mean_us"], abs=0.01)
            assert max(cw[(v, "ModelLatency", "Maximum")].values()) == lat["maximum_us"]
            assert min(cw[(v, "ModelLatency", "Minimum")].values()) == lat["minimum_us"]
            p99 = cw[(v, "ModelLatency", "p99")]
            assert set(p99) == set(n)
            assert np.mean(list(p99.values())) == pytest.approx(lat["mean_of_minute_p99_us"],
                                                                abs=0.01)
            # the point of writing the pooled truth: averaging per-minute p99s is wrong
            assert lat["mean_of_minute_p99_us"] < 0.85 * lat["p99_us"]
            assert max(p99.values()) >= lat["p99_us"]
            for k in n:  # per-minute statistics are ordered
                mins = cw[(v, "ModelLatency", "Minimum")][k]
                assert mins <= cw[(v, "ModelLatency", "p50")][k] <= cw[(v, "ModelLatency",
                                                                        "p90")][k]
                assert cw[(v, "ModelLatency", "p90")][k] <= p99[k] <= cw[
                    (v, "ModelLatency", "Maximum")][k]


def test_cloudwatch_reads_with_abkit_reader(tree):
    from abkit.io.cloudwatch import read_get_metric_data

    root, _ = tree
    series = read_get_metric_data(root / "cloudwatch" / "churn-endpoint_results.json",
                                  root / "cloudwatch" / "churn-endpoint_queries.json")
    assert len(series) == 20
    assert {s.dimensions["VariantName"] for s in series} == {LIVE, SHADOW}
    assert {s.stat for s in series if s.metric == "ModelLatency"} == {
        "SampleCount", "Average", "Minimum", "Maximum", "p50", "p90", "p99"}


def test_endpoint_config(tree):
    root, _ = tree
    for ep in ENDPOINTS:
        cfg = json.loads((root / "endpoint-config" / f"{ep}.json").read_text())
        keys = {"VariantName", "ModelName", "InitialInstanceCount", "InstanceType",
                "InitialVariantWeight"}
        assert [v["VariantName"] for v in cfg["ProductionVariants"]] == [LIVE]
        assert [v["VariantName"] for v in cfg["ShadowProductionVariants"]] == [SHADOW]
        assert all(set(v) == keys for v in cfg["ProductionVariants"]
                   + cfg["ShadowProductionVariants"])
        dc = cfg["DataCaptureConfig"]
        assert dc["EnableCapture"] is True and dc["InitialSamplingPercentage"] == 100
        assert {o["CaptureMode"] for o in dc["CaptureOptions"]} == {"Input", "Output"}
    same = json.loads((root / "endpoint-config" / "churn-endpoint-same.json").read_text())
    assert same["ProductionVariants"][0]["ModelName"] == same["ShadowProductionVariants"][0][
        "ModelName"]


# ---------------------------------------------------------------------------------------------
# determinism, the shipped sample, the CLI


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_shadow_capture(a, seed=5, requests=300)
    write_shadow_capture(b, seed=5, requests=300)
    write_shadow_capture(c, seed=6, requests=300)
    fa = [p.relative_to(a) for p in _files(a)]
    assert fa == [p.relative_to(b) for p in _files(b)]
    assert all((a / p).read_bytes() == (b / p).read_bytes() for p in fa)
    # negative control: another seed gives other file names and other bytes
    assert fa != [p.relative_to(c) for p in _files(c)]
    assert (a / "manifest.json").read_bytes() != (c / "manifest.json").read_bytes()


def test_shipped_sample_regenerates_byte_for_byte(tmp_path):
    out = tmp_path / "shadow"
    r = subprocess.run([sys.executable, "-m", "abkit.datasets_capture", str(out)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    shipped = [p.relative_to(SAMPLE) for p in _files(SAMPLE) if p.name != "README.md"]
    fresh = [p.relative_to(out) for p in _files(out)]
    assert shipped == fresh
    mismatch = [str(p) for p in fresh if not filecmp.cmp(SAMPLE / p, out / p, shallow=False)]
    assert mismatch == [], "regenerate with: python -m abkit.datasets_capture data/shadow"
    m = json.loads((SAMPLE / "manifest.json").read_text())
    assert m["seed"] == DEFAULT_SEED and m["requests_per_endpoint"] == DEFAULT_REQUESTS
    total = sum(p.stat().st_size for p in _files(SAMPLE))
    assert total < 3_000_000


def test_regenerating_over_own_tree_keeps_other_files(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    (out / "README.md").write_text("mine")
    write_shadow_capture(out, seed=1, requests=200)
    write_shadow_capture(out, seed=2, requests=200)  # replaces the generated tree
    assert (out / "README.md").read_text() == "mine"
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2
    names = {p.name for p in _files(out / "datacapture")}
    write_shadow_capture(out, seed=1, requests=200)
    assert names.isdisjoint({p.name for p in _files(out / "datacapture")})


def test_refuses_foreign_content(tmp_path, capsys):
    out = tmp_path / "x"
    (out / "datacapture").mkdir(parents=True)
    with pytest.raises(FileExistsError):
        write_shadow_capture(out, requests=100)
    assert main([str(out), "--requests", "100"]) == 2
    assert "choose an empty folder" in capsys.readouterr().err
    with pytest.raises(ValueError):
        write_shadow_capture(tmp_path / "y", requests=10)


@pytest.mark.slow
def test_large_tree_recovers_the_design(tmp_path):
    """50,000 requests per endpoint: realised truth near the injected design, in seconds."""
    t0 = time.perf_counter()
    m = write_shadow_capture(tmp_path, requests=50_000)
    elapsed = time.perf_counter() - t0
    assert elapsed < 30
    reg, same = m["endpoints"]["churn-endpoint"], m["endpoints"]["churn-endpoint-same"]
    assert -0.04 < reg["quality"]["auc"]["diff"] < -0.02
    assert 0.77 < reg["quality"]["auc"]["live"] < 0.85
    prev = reg["labels"]["positives_in_labelled_pairs"] / reg["labels"]["labelled_pairs"]
    assert 0.2 < prev < 0.3
    assert reg["errors"][LIVE]["5xx_rate"] == pytest.approx(0.005, abs=0.0015)
    assert reg["errors"][SHADOW]["5xx_rate"] == pytest.approx(0.015, abs=0.003)
    assert reg["latency"]["ratio"]["p99"] == pytest.approx(1.30, abs=0.06)
    assert reg["latency"]["ratio"]["p50"] == pytest.approx(1.10, abs=0.02)
    g = reg["bias"]["by_group"]
    rise_group = g["month-to-month"][SHADOW]["positive_rate"] - g["month-to-month"][LIVE][
        "positive_rate"]
    rise_rest = g["one-year"][SHADOW]["positive_rate"] - g["one-year"][LIVE]["positive_rate"]
    assert rise_group > 2 * rise_rest > 0
    # the drift is in both variants' inputs and located at h0
    for v in (LIVE, SHADOW):
        ks = reg["drift"]["ks_before_after"][v]
        assert ks["monthly_charges"]["pvalue"] < 1e-6 and ks["tenure_months"]["pvalue"] > 1e-3
        hours = reg["drift"]["by_hour"][v]
        jumps = np.diff([h["monthly_charges_mean"] for h in hours[:6]])
        assert int(np.argmax(jumps)) + 1 == reg["drift"]["onset_hour"]
    assert same["quality"]["auc"]["diff"] == 0.0 and same["agreement"] == 1.0
    assert same["latency"]["ratio"]["p99"] == pytest.approx(1.0, abs=0.05)
    assert same["errors"][SHADOW]["5xx_rate"] == pytest.approx(0.005, abs=0.0015)
    assert reg["cross_hour_pairs"] >= 10

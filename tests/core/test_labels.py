"""A label typo is a usage error (exit 2) in every strategy, never a verdict (issue #11).

Each strategy case is run through the real CLI on the shipped sample data with one label of
the spec changed: before this check canary/linear said NO-GO ("roll back", from an SRM with
0 control rows), blue/green INCONCLUSIVE and A/B "only one variant has data"; the exit code
assertion is the negative control (1 and 3 fail it).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from abkit.cli import main
from abkit.core.labels import MOSTLY, check_labels, closest_label
from abkit.datasets import write_log
from abkit.errors import InputError

DATA = Path(__file__).resolve().parents[2] / "data"


# ---------------------------------------------------------------- the check itself
def test_closest_label_case_then_spelling():
    assert closest_label("Baseline", ["canary", "baseline"]) == "baseline"
    assert closest_label("treatmnet", ["control", "treatment"]) == "treatment"
    assert closest_label("CONTROL", ["control"]) == "control"
    assert closest_label("blue", ["control", "treatment"]) is None


def test_declared_label_without_rows():
    with pytest.raises(InputError) as e:
        check_labels("log.csv", {"experiment.control": "Baseline",
                                 "experiment.candidate": "canary"},
                     {"canary": 900}, {"baseline": 9100}, 10_000)
    msg = e.value.message
    assert msg.startswith("log.csv: the spec's experiment.control label 'Baseline' has no "
                          "usable rows; did you mean 'baseline'?")
    assert "declared: experiment.control = 'Baseline', experiment.candidate = 'canary'" in msg
    assert "labels seen: 'baseline' 9,100, 'canary' 900" in msg
    assert "experiment.control = 'baseline'" in e.value.hint


def test_mostly_unknown_labels():
    ok = {"experiment.control": "a", "experiment.candidate": "b"}
    # exactly half unknown passes; more than half is refused
    check_labels("x", ok, {"a": 250, "b": 250}, {"c": 500}, 1000)
    assert MOSTLY == 0.5
    with pytest.raises(InputError, match=r"501 of 1,000 rows carry a label the spec does not "
                                         r"declare \('B ' looks like 'b'\)"):
        check_labels("x", ok, {"a": 250, "b": 249}, {"B ": 501}, 1000)


def test_no_declared_labels_or_no_rows_is_not_this_checks_business():
    check_labels("x", {}, {}, {"z": 5}, 5)
    check_labels("x", {"experiment.control": "a"}, {}, {}, 0)


def test_many_labels_are_listed_most_frequent_first_and_cut():
    unknown = {f"v{i}": 100 + i for i in range(12)}
    with pytest.raises(InputError) as e:
        check_labels("x", {"experiment.control": "ctl"}, {}, unknown, 2000)
    assert "'v11' 111, 'v10' 110" in e.value.message and "and 4 more" in e.value.message


# ---------------------------------------------------------------- every strategy, by the CLI
def _retyped(tmp_path: Path, spec: Path, *changes: tuple[str, str]) -> Path:
    text = spec.read_text()
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    out = tmp_path / spec.name
    out.write_text(text)
    return out


CASES = {
    # the spec's control written "Control" (also in its split) while the data say "control"
    "ab": ("ab_example.csv", "ab_example.toml",
           [('control = "control"', 'control = "Control"'),
            ("split = { control =", "split = { Control =")],
           "experiment.control label 'Control'", "control"),
    # the case: "Baseline" for "baseline"
    "canary": ("canary.csv", "canary.toml",
               [('control = "baseline"', 'control = "Baseline"'),
                ("baseline = 0.9", "Baseline = 0.9")],
               "experiment.control label 'Baseline'", "baseline"),
    "linear": ("linear.csv.gz", "linear.toml", [('control = "current"', 'control = "Current"')],
               "experiment.control label 'Current'", "current"),
    "bluegreen": ("bluegreen_smoke.csv.gz", "bluegreen.toml", [('blue = "blue"', 'blue = "Blue"')],
                  "experiment.blue label 'Blue'", "blue"),
}


@pytest.mark.parametrize("command", ["gate", "report"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_label_typo_is_exit_2(tmp_path, capsys, case, command):
    log, spec, changes, says, meant = CASES[case]
    spec = _retyped(tmp_path, DATA / spec, *changes)
    rc = main([command, str(DATA / log), "--spec", str(spec)])
    out, err = capsys.readouterr()
    assert rc == 2, err
    assert out == "" and "Traceback" not in err
    assert says in err and f"did you mean {meant!r}?" in err and "labels seen:" in err


def test_canary_rows_mostly_unknown_is_exit_2(tmp_path, capsys):
    df = pd.read_csv(DATA / "canary.csv")
    vcol = "variant"
    assert vcol in df.columns
    df.loc[df.index % 10 < 6, vcol] = "canary-v2"  # 60 % of rows: a label no one declared
    log = write_log(df, tmp_path / "canary.csv")
    rc = main(["gate", str(log), "--spec", str(DATA / "canary.toml")])
    err = capsys.readouterr().err
    assert rc == 2 and "rows carry a label the spec does not declare" in err, err
    assert "'canary-v2'" in err


def test_shadow_capture_variant_typo_is_exit_2(tmp_path, capsys):
    tree = tmp_path / "shadow"
    shutil.copytree(DATA / "shadow", tree)
    spec = _retyped(tmp_path, tree / "shadow.toml", ('live = "variant-live"',
                                                     'live = "Variant-live"'))
    spec = spec.rename(tree / "typo.toml")
    rc = main(["gate", str(tree / "datacapture" / "churn-endpoint"), "--spec", str(spec)])
    err = capsys.readouterr().err
    assert rc == 2 and "no variant folder 'Variant-live'; did you mean 'variant-live'?" in err


def test_shadow_generic_log_variant_typo_is_exit_2(tmp_path, capsys):
    df = pd.DataFrame({"request_id": [f"r{i}" for i in range(40)] * 2,
                       "variant": ["live"] * 40 + ["cand"] * 40,
                       "score": [0.1 * (i % 10) for i in range(80)],
                       "label": [i % 2 for i in range(80)]})
    log = write_log(df, tmp_path / "log.csv")
    spec = tmp_path / "s.toml"
    spec.write_text('[experiment]\nstrategy = "shadow"\nlive = "live"\ncandidate = "Cand"\n'
                    'label_column = "label"\n[[metrics]]\nname = "auc"\nmargin = 0.01\n')
    rc = main(["gate", str(log), "--spec", str(spec)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert re.search(r"experiment.candidate label 'Cand' has no usable rows; did you mean "
                     r"'cand'\?", err), err

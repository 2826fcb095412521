"""Hostile names in real reports (issue #12, "one sanitiser for every text output").

Variant labels, metric, column and feature names, file names and values quoted in messages
come from logs and specs. In the terminal text, the Markdown, ``$GITHUB_STEP_SUMMARY`` and
the error messages they must not bring raw control, escape or bidi characters, and a newline
in a name must not start a line, heading or table row of its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import abkit
import abkit.report.render as render
from abkit.cli import main
from abkit.core.sanitize import markdown, plain
from abkit.datasets import write_log
from abkit.errors import AbkitError, InputError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"

OSC_LINK = "\x1b]8;;http://evil\x07"  # a terminal hyperlink (ESC ] ... BEL)
FORGED = "\n### ✅ abkit ab: **GO**"   # a newline, then abkit's own heading
PIECES = {"osc": OSC_LINK, "newline": FORGED, "pipe": "|", "cr": "\r", "rlo": "\u202e",
          "csi": "\x1b[2J", "c1": "\x9b31m", "row": "\n| forged | row |"}
EVERYTHING = "".join(PIECES.values())

# what must never reach the output: C0 except abkit's own "\n", DEL, C1, bidi, separators
BAD = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                 "\u2028\u2029]")
HEADING = re.compile(r"### (✅|❌|⚠️) abkit (ab|canary|linear|shadow|bluegreen): "
                     r"\*\*(GO|NO-GO|INCONCLUSIVE)\*\*")
BADGE = {"go": "GO", "no-go": "NO-GO", "inconclusive": "INCONCLUSIVE"}


def assert_clean_text(out: str) -> None:
    assert not BAD.search(out), BAD.search(out)
    assert not [line for line in out.split("\n") if line.lstrip().startswith("#")]


def assert_clean_markdown(out: str, decision: str) -> None:
    assert not BAD.search(out), BAD.search(out)
    lines = out.split("\n")
    headings = [line for line in lines if line.lstrip().startswith("#")]
    assert headings == [lines[0]], headings  # abkit's one heading, first
    m = HEADING.fullmatch(lines[0])
    assert m and m.group(3) == BADGE[decision], lines[0]
    # every row of a table has as many cell boundaries (unescaped "|") as its header
    cells = None
    for line in lines:
        if not line.startswith("|"):
            cells = None
            continue
        n = re.sub(r"\\.", "", line).count("|")
        cells = n if cells is None else cells
        assert n == cells, line


def check_report(rep, *names: str) -> tuple[str, str]:
    """The text and Markdown of ``rep`` are clean, and show each hostile name escaped."""
    text, md = rep.to_text(), rep.to_markdown()
    assert_clean_text(text)
    assert_clean_markdown(md, rep.decision)
    for name in names:
        # negative control: the raw name holds what the output must not, and reached the
        # report (the JSON keeps it, escaped by json)
        assert "\n" in name and "\n" not in plain(name) and "\n" not in markdown(name)
        assert json.dumps(name)[1:-1] in rep.to_json()
        assert plain(name) in text
        assert markdown(name) in md
    return text, md


def _ab_frame(label: str, column: str, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    arm = np.arange(n) % 2
    return pd.DataFrame({"unit_id": np.arange(n),
                         "variant": np.where(arm == 1, "control", label),
                         column: (rng.random(n) < 0.3 + 0.05 * (arm == 0)).astype(int),
                         "latency_ms": rng.normal(100, 10, n)})


def _ab_spec(label: str, column: str, metric: str) -> dict:
    return {"experiment": {"strategy": "ab", "variant_column": "variant",
                           "unit_column": "unit_id", "control": "control",
                           "split": {"control": 0.5, label: 0.5}},
            "metrics": [{"name": metric, "kind": "proportion", "column": column,
                         "role": "primary"},
                        {"name": "latency", "kind": "mean", "column": "latency_ms",
                         "role": "guardrail", "good": "decrease", "margin": 0.02}]}


@pytest.mark.parametrize("piece", sorted(PIECES))
def test_ab_each_hostile_piece(piece: str) -> None:
    bad = "x" + PIECES[piece] + "\ny"  # each name also holds a newline
    label, column, metric = "treat" + bad, "conv" + bad, "m" + bad
    rep = abkit.analyze(_ab_frame(label, column), _ab_spec(label, column, metric))
    check_report(rep, label, metric)


def test_ab_everything_at_once() -> None:
    label, column, metric = "t" + EVERYTHING, "c" + EVERYTHING, "m" + EVERYTHING
    rep = abkit.analyze(_ab_frame(label, column), _ab_spec(label, column, metric))
    text, md = check_report(rep, label, metric)
    assert "\\x1b]8;;http://evil\\x07" in text  # visible, not executed
    assert "\\\\x1b]8;;http://evil\\\\x07" in md  # Markdown shows one backslash
    assert "abkit ab: **GO**" not in md.split("\n", 1)[1]  # no forged bold GO either
    frag = rep._repr_html_()  # the notebook fragment: HTML-escaped and plain()-escaped
    assert not BAD.search(frag) and "\n" not in frag and "<http" not in frag
    assert "\\x1b]8;;http://evil\\x07" in frag


def test_negative_control_without_the_sanitiser(monkeypatch) -> None:
    """The same report with the sanitiser switched off forges a heading and a table row, and
    prints a raw ESC: the checks above would catch a renderer that skipped it."""
    label, column, metric = "t" + EVERYTHING, "c" + EVERYTHING, "m" + EVERYTHING
    rep = abkit.analyze(_ab_frame(label, column), _ab_spec(label, column, metric))
    monkeypatch.setattr(render, "plain", str)
    monkeypatch.setattr(render, "_md", str)
    text, md = rep.to_text(), rep.to_markdown()
    assert "\x1b" in text and "\u202e" in text
    assert "\n### ✅ abkit ab: **GO**" in md
    with pytest.raises(AssertionError):
        assert_clean_text(text)
    with pytest.raises(AssertionError):
        assert_clean_markdown(md, rep.decision)


def test_canary_hostile_labels_metric_and_column() -> None:
    bad = "x" + EVERYTHING
    df = pd.read_csv(DATA / "canary.csv")
    df["variant"] = df["variant"].replace({"canary": "can" + bad})
    df = df.rename(columns={"latency_ms": "lat" + bad})
    spec = {"experiment": {"strategy": "canary", "variant_column": "variant",
                           "control": "baseline", "timestamp_column": "ts", "look_every": "1m",
                           "split": {"baseline": 0.9, "can" + bad: 0.1}},
            "metrics": [{"name": "err" + bad, "kind": "proportion", "column": "error",
                         "role": "guardrail", "good": "decrease", "margin": 0.0},
                        {"name": "latency", "kind": "mean", "column": "lat" + bad,
                         "role": "guardrail", "good": "decrease", "margin": 0.0}]}
    rep = abkit.analyze(df, spec)
    _, md = check_report(rep, "can" + bad, "err" + bad, "lat" + bad)
    assert "<details><summary>timeline</summary>" in md  # the timeline table was checked


def test_bluegreen_hostile_label_and_metric() -> None:
    bad = "x" + EVERYTHING
    df = pd.read_csv(DATA / "bluegreen_smoke.csv.gz")
    df["variant"] = df["variant"].replace({"green": "gr" + bad})
    spec = {"experiment": {"strategy": "bluegreen", "variant_column": "variant",
                           "timestamp_column": "ts", "blue": "blue", "green": "gr" + bad,
                           "exclude": "2m", "look_every": "1m"},
            "metrics": [{"name": "lat" + bad, "kind": "mean", "column": "latency_ms",
                         "role": "guardrail", "good": "decrease", "margin": 0.05}]}
    rep = abkit.analyze(df, spec)
    text, _ = check_report(rep, "gr" + bad, "lat" + bad)
    assert "smoke test (both served at the same time): " + plain("lat" + bad) in text


def _shadow_frame(live: str, cand: str, feature: str, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    a = pd.DataFrame({"request_id": [f"r{i}" for i in range(n)], "variant": live,
                      "score": 1 / (1 + np.exp(-x)), "label": y, feature: x})
    b = a.assign(variant=cand, score=1 / (1 + np.exp(-(x + rng.normal(0, 0.5, n)))))
    return pd.concat([a, b], ignore_index=True)


@pytest.mark.parametrize("ext", ["jsonl", "parquet"])
def test_shadow_hostile_labels_and_feature(tmp_path: Path, ext: str) -> None:
    bad = "x" + EVERYTHING
    live, cand, feature = "live" + bad, "cand" + bad, "f" + bad
    path = write_log(_shadow_frame(live, cand, feature), tmp_path / f"log.{ext}")
    spec = {"experiment": {"strategy": "shadow", "live": live, "candidate": cand,
                           "label_column": "label", "features": [feature],
                           "min_labelled_pairs": 50},
            "metrics": [{"name": "auc", "margin": 0.05}]}
    rep = abkit.analyze(path, spec)
    check_report(rep, live, cand)


# ----------------------------------------------------------------- spec files and the CLI

def _toml_string(s: str) -> str:
    """``s`` as the body of a TOML basic string (every non-printable as ``\\uXXXX``)."""
    return "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
                   for c in s)


def _spec_toml(path: Path, metric_name: str) -> Path:
    esc = _toml_string(metric_name)
    path.write_text(
        '[experiment]\nstrategy = "ab"\nvariant_column = "variant"\nunit_column = "unit_id"\n'
        'control = "control"\nsplit = { control = 0.5, treatment = 0.5 }\n\n'
        f'[[metrics]]\nname = "{esc}"\nkind = "proportion"\ncolumn = "converted"\n'
        'role = "primary"\n')
    return path


def test_spec_metric_name_with_a_newline_through_the_cli(tmp_path: Path, capsys,
                                                         monkeypatch) -> None:
    name = "conversion" + FORGED + OSC_LINK
    spec = _spec_toml(tmp_path / "spec.toml", name)
    assert abkit.spec.load_spec(spec).metrics[0].name == name  # the raw name is read as is
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code = main(["gate", str(DATA / "ab_example.csv"), "--spec", str(spec)])
    out = capsys.readouterr()
    assert code in (0, 1, 3)
    decision = {0: "go", 1: "no-go", 3: "inconclusive"}[code]
    assert_clean_text(out.out)
    assert_clean_text(out.err)
    assert plain(name) in out.out
    md = summary.read_text()
    assert_clean_markdown(md.rstrip("\n") + "\n", decision)
    assert markdown(name) in md
    for fmt in ("text", "markdown"):
        assert main(["report", str(DATA / "ab_example.csv"), "--spec", str(spec),
                     "--format", fmt]) == 0
        got = capsys.readouterr().out
        (assert_clean_text(got) if fmt == "text" else assert_clean_markdown(got, decision))


def test_error_naming_a_hostile_column_has_no_raw_escape(tmp_path: Path, capsys) -> None:
    column = "evil" + OSC_LINK + "\x1b[2J\u202e"
    log = write_log(_ab_frame("treatment", column), tmp_path / "log.jsonl")
    with pytest.raises(InputError) as info:  # negative control: the hint lists it raw
        abkit.analyze(log, variant_column="nope")
    assert column in (info.value.hint or "") + info.value.message
    code = main(["report", str(log), "--variant-col", "nope"])
    err = capsys.readouterr().err
    assert code == 2
    assert "abkit: error:" in err and plain(column) in err
    assert "\x1b" not in err and "\u202e" not in err and "\x07" not in err
    assert not BAD.search(err)


def test_error_naming_a_hostile_spec_file(tmp_path: Path, capsys) -> None:
    spec = str(tmp_path / "spec\x1b[2J\n### GO.toml")
    with pytest.raises(AbkitError) as info:  # negative control: the message holds it raw
        abkit.analyze(DATA / "ab_example.csv", spec)
    assert "\x1b" in info.value.message
    code = main(["report", str(DATA / "ab_example.csv"), "--spec", spec])
    err = capsys.readouterr().err
    assert code == 2
    assert_clean_text(err)
    assert "spec\\x1b[2J\\n### GO.toml" in err


def test_error_str_sanitises_message_and_hint() -> None:
    e = AbkitError("no column 'a\x1b[31m\nb'", "use \u202eexe.txt")
    assert str(e) == "no column 'a\\x1b[31m\\nb'\n  hint: use \\u202eexe.txt"
    assert e.message == "no column 'a\x1b[31m\nb'" and e.hint == "use \u202eexe.txt"  # raw
    assert str(AbkitError("plain message")) == "plain message"


def test_validate_spec_and_pytest_failures_are_sanitised(tmp_path: Path, capsys) -> None:
    from abkit.testing import assert_go

    name = "conversion" + FORGED + OSC_LINK
    spec = _spec_toml(tmp_path / "spec.toml", name)
    assert main(["validate-spec", str(spec)]) == 0
    out = capsys.readouterr().out
    assert_clean_text(out)
    assert plain(name) in out
    from abkit.datasets import make_ab_log

    rep = abkit.analyze(make_ab_log(3000, seed=12, scenario="null", dirty=False), spec)
    assert rep.decision != "go"
    with pytest.raises(AssertionError) as e:
        assert_go(rep)
    assert_clean_text(str(e.value))
    assert plain(name) in str(e.value)

"""Strict parsing where a slip is costly (issue #11): durations, margins, split shares and the
strategy name. Each rule is tested in every strategy it applies to, through the CLI (exit 2,
the spec file, the key and a hint) or ``parse_spec`` (the SpecError), next to the accepted
forms, the shipped samples and the README examples.

Negative controls: a ``# before:`` comment says what the old parser did with each refused
input; the ``pytest.raises`` (or exit-code) assertion after it is what that behaviour fails.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from abkit.cli import main
from abkit.errors import SpecError
from abkit.spec import load_spec, parse_spec
from abkit.spec.schedule import DURATION_GRAMMAR, parse_duration

ROOT = Path(__file__).resolve().parents[2]
LOG = str(ROOT / "data" / "ab_example.csv")
SHIPPED = sorted((ROOT / "data").glob("*.toml")) + sorted((ROOT / "data" / "shadow").glob("*.toml"))

GUARD = {"name": "e", "kind": "proportion", "column": "e", "role": "guardrail", "good": "decrease"}
CANARY = {"strategy": "canary", "control": "a", "candidate": "b", "timestamp_column": "ts",
          "split": {"a": 0.9, "b": 0.1}}
LINEAR = {"strategy": "linear", "control": "a", "candidate": "b", "timestamp_column": "ts",
          "schedule": "Linear10PercentEvery1Minute"}
BLUEGREEN = {"strategy": "bluegreen", "blue": "a", "green": "b", "timestamp_column": "ts"}
AB = {"strategy": "ab", "control": "a", "split": {"a": 0.5, "b": 0.5}}
SHADOW = {"strategy": "shadow", "live": "a", "candidate": "b"}


def spec(exp: dict, **metric) -> dict:
    m = {"name": "latency_p99"} if exp.get("strategy") == "shadow" else dict(GUARD)
    return {"experiment": exp, "metrics": [{**m, **metric}]}


def cli_error(tmp_path: Path, capsys, data: dict) -> str:
    """``abkit report`` with ``data`` written as YAML: asserts exit 2, returns stderr."""
    p = tmp_path / "spec.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    rc = main(["report", LOG, "--spec", str(p)])
    err = capsys.readouterr().err
    assert rc == 2 and str(p) in err and "hint:" in err and "Traceback" not in err, err
    return err


def test_shipped_specs_and_readme_examples_still_load():
    for f in SHIPPED:
        load_spec(f)
    readme = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```toml\n(.*?)```", readme, re.S) if "[[metrics]]" in b]
    assert blocks
    for b in blocks:
        parse_spec(tomllib.loads(b), source="README.md")
    # data/linear.toml has margin = 1.0 (twice the control's exceedances): still valid
    assert [m.margin for m in load_spec(ROOT / "data" / "linear.toml").metrics][2] == 1.0


# ---------------------------------------------------------------------- durations


@pytest.mark.parametrize("text,secs", [
    ("1m", 60), ("2m", 120), ("10m", 600), ("30s", 30), ("6s", 6), ("90s", 90),
    ("1h30m", 5400), ("1.5h", 5400), ("2d", 172800), ("1m30s", 90), ("250ms", 0.25),
    (30, 30), (1.5, 1.5),
])
def test_the_duration_grammar_accepts(text, secs):
    assert parse_duration(text) == secs


REFUSED = ["1 min", "5 minutes", "2 h", "1h 30m", "5M", "1H", "30sec", "5min", "PT5M",
           "30m1h", "1m1m", "1e3s", ".5m", "5", "-1m", "m5", "", " 5m", "367d"]


@pytest.mark.parametrize("bad", REFUSED)
def test_the_duration_grammar_refuses(bad):
    # before: "1 min", "2 h", "1h 30m", "5M", "1H", "30sec", "5min" and "30m1h" were accepted
    # (spaces dropped, case folded, units in any order); the raises fails on those
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize("exp,key", [
    (CANARY, "look_every"), (CANARY, "min_duration"), (LINEAR, "look_every"),
    (LINEAR, "min_duration"), (BLUEGREEN, "look_every"), (BLUEGREEN, "exclude"),
    (BLUEGREEN, "window"),
])
def test_one_min_is_refused_in_every_strategy(tmp_path, capsys, exp, key):
    # before: look_every = "1 min" was read as 60 s; exit 2 is what that fails
    err = cli_error(tmp_path, capsys, spec({**exp, key: "1 min"}))
    assert f"experiment.{key}: '1 min' is not a duration" in err
    assert "a duration is a number followed directly by d, h, m, s or ms" in err


def test_schedule_wait_follows_the_grammar(tmp_path, capsys):
    err = cli_error(tmp_path, capsys, spec({**LINEAR, "schedule": {"steps": [0.1, 0.5],
                                                                    "wait": "10 min"}}))
    assert "experiment.schedule: wait: '10 min' is not a duration" in err
    assert DURATION_GRAMMAR in err


# ---------------------------------------------------------------------- margins


MARGIN_STRATEGIES = [AB, CANARY, LINEAR, BLUEGREEN, SHADOW]


@pytest.mark.parametrize("exp", MARGIN_STRATEGIES, ids=lambda e: e["strategy"])
def test_margin_5_meant_as_5_percent_is_refused(tmp_path, capsys, exp):
    # before: margin = 5 was taken as +500 % (a guardrail that can hardly fail)
    err = cli_error(tmp_path, capsys, spec(exp, margin=5))
    assert "metrics[0].margin: 5 is a margin above 100 %" in err
    assert "write 0.05 for 5 %" in err and 'margin = "500%"' in err


@pytest.mark.parametrize("exp", MARGIN_STRATEGIES, ids=lambda e: e["strategy"])
@pytest.mark.parametrize("written,value", [("500%", 5.0), ("5%", 0.05), (" 2.5% ", 0.025),
                                           (1.0, 1.0), (0.05, 0.05), (0, 0.0)])
def test_margin_forms_that_are_accepted(exp, written, value):
    sp = parse_spec(spec(exp, margin=written))
    assert sp.metrics[0].margin == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("bad,needle", [
    (1.5, "above 100 %"), (100, "write 1 for 100 %"), ("5", "is not a margin"),
    ("1001%", "is not a margin"), ("-5%", "is not a margin"), ("5 %%", "is not a margin"),
    (-0.1, "out of range"), ([0.05], "expected a number"),
])
def test_margin_refusals(bad, needle):
    with pytest.raises(SpecError, match="metrics\\[0\\].margin") as e:
        parse_spec(spec(AB, margin=bad), source="m.toml")
    assert needle in str(e.value)


def test_margin_above_100_percent_round_trips():
    sp = parse_spec(spec(CANARY, margin="250%"))
    assert sp.metrics[0].to_dict()["margin"] == "250.0%"
    again = sp.with_(alpha=0.01)  # re-validates to_dict()
    assert again.metrics[0].margin == 2.5 and again.alpha == 0.01


# ---------------------------------------------------------------------- split shares


@pytest.mark.parametrize("exp", [AB, CANARY], ids=lambda e: e["strategy"])
@pytest.mark.parametrize("split,total", [({"a": 1, "b": 1}, "2"), ({"a": 90, "b": 10}, "100"),
                                         ({"a": 0.9, "b": 0.2}, "1.1"),
                                         ({"a": 0.5, "b": 0.4}, "0.9")])
def test_split_must_sum_to_1(tmp_path, capsys, exp, split, total):
    # before: any positive weights were accepted and normalised silently
    err = cli_error(tmp_path, capsys, spec({**exp, "split": split}))
    assert f"experiment.split: the shares sum to {total}, not 1" in err
    assert "split = { a = " in err  # the hint gives the normalised shares


@pytest.mark.parametrize("split", [{"a": 0.9, "b": 0.1}, {"a": 0.7, "b": 0.2, "c": 0.1},
                                   {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3},
                                   {"a": 0.333, "b": 0.333, "c": 0.334}])
def test_split_shares_that_sum_to_1_within_1e_9(split):
    assert parse_spec({"experiment": {"split": split}, "metrics": []}).split == split


def test_split_hint_sums_to_1():
    with pytest.raises(SpecError) as e:
        parse_spec({"experiment": {"split": {"a": 1, "b": 1, "c": 1}}, "metrics": []})
    assert "split = { a = 0.3333, b = 0.3333, c = 0.3334 }" in e.value.hint


# ---------------------------------------------------------------------- strategy names


@pytest.mark.parametrize("written,meant", [
    ("Canary", "canary"), ("blue-green", "bluegreen"), ("Blue_Green", "bluegreen"),
    ("LINEAR", "linear"), ("A/B", "ab"), ("canery", "canary"), ("shadow-test", "shadow"),
])
def test_a_wrong_strategy_name_is_reported_first(tmp_path, capsys, written, meant):
    # keys of the meant strategy: with an unknown strategy they used to be reported as
    # unknown keys ("experiment: unknown keys 'candidate', 'look_every', ...") instead
    exp = {**(CANARY if meant in ("canary", "ab") else LINEAR if meant == "linear" else
              BLUEGREEN if meant == "bluegreen" else SHADOW), "strategy": written,
           "look_every": "1m"}
    err = cli_error(tmp_path, capsys, spec(exp))
    assert f"experiment.strategy: {written!r} is not one of" in err
    assert f"did you mean {meant!r}?" in err and "unknown key" not in err


def test_a_strategy_of_the_wrong_type():
    # before: TypeError (unhashable list) and exit 4
    with pytest.raises(SpecError, match="experiment.strategy: \\['canary'\\] is not one of"):
        parse_spec({"experiment": {"strategy": ["canary"]}})

"""Bounded spec parsing (issue #12): hostile specs end in exit 2 with a message naming the spec
file and the key, and a hint; never a traceback, RecursionError, TypeError or MemoryError.

The hostile cases (alias bomb, deep nesting, huge documents and schedules) run in a
subprocess under a 1 GiB address-space limit and a 30 s timeout, so that a regression shows
as a failed test rather than a hung or swapped-out test run.

Negative controls: each case says, in a ``# before:`` comment, what the old loader or parser
did; the assertion after it is the one the old behaviour fails.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from abkit.cli import main
from abkit.errors import SpecError
from abkit.spec import load_spec, parse_spec
from abkit.spec.bounds import MAX_STEPS, show

ROOT = Path(__file__).resolve().parents[2]
LOG = str(ROOT / "data" / "ab_example.csv")
LIMIT = 1 << 30  # 1 GiB of address space for the hostile cases

_RUNNER = """
import json, sys, time
from abkit.cli import main
t = time.perf_counter()
rc = main(["report", sys.argv[1], "--spec", sys.argv[2]])
print(json.dumps({"rc": rc, "seconds": time.perf_counter() - t}))
"""


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def run_hostile(tmp_path: Path, name: str, text: str) -> tuple[int, float, str]:
    """``abkit report LOG --spec <name>`` in a subprocess under 1 GiB and 30 s: (exit code,
    seconds spent in main, stderr)."""
    spec = tmp_path / name
    spec.write_text(text, encoding="utf-8")
    r = subprocess.run([sys.executable, "-c", _RUNNER, LOG, str(spec)], capture_output=True,
                       text=True, timeout=30, preexec_fn=_limit, cwd=ROOT)
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    return out["rc"], out["seconds"], r.stderr


def cli(tmp_path: Path, capsys, name: str, text: str) -> str:
    """``abkit report LOG --spec <name>`` in-process; asserts exit 2, returns stderr."""
    spec = tmp_path / name
    spec.write_text(text, encoding="utf-8")
    rc = main(["report", LOG, "--spec", str(spec)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and str(spec) in err and "hint:" in err, err
    return err


# A YAML "billion laughs": 9 levels of 9 aliases, 9**9 = 387 million strings when expanded.
BOMB = "".join(
    f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 9 if i else
                                                  ['"lol"'] * 9) + "]\n"
    for i in range(9)
) + "experiment:\n  name: *i\n"


# ---------------------------------------------------------------------- hostile, subprocess


def test_yaml_alias_bomb_fails_fast_without_expanding(tmp_path):
    # before: yaml.safe_load expanded the aliases and the error message repr()'d the value:
    # a minute of CPU, then MemoryError (exit 4). The assertions below fail on that.
    rc, seconds, err = run_hostile(tmp_path, "bomb.yaml", BOMB)
    assert rc == 2 and seconds < 1.0
    assert "bomb.yaml" in err and "alias *a is not allowed" in err and "hint:" in err
    assert "lol" not in err  # nothing was expanded or shown


@pytest.mark.parametrize("name,text,key", [
    ("deep_seq.yaml", "experiment:\n  name: " + "[" * 100_000 + "]" * 100_000 + "\n",
     "experiment.name[0][0]"),
    ("deep_map.yaml", "experiment:\n  name: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
     "experiment.name.a.a"),
    ("deep_block.yaml", "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "x\n",
     "k0.k1.k2"),
    ("deep_array.toml", "[experiment]\nname = " + "[" * 100_000 + "]" * 100_000 + "\n",
     "line 2, key name"),
    ("deep_inline.toml", "[experiment]\nname = " + "{ a = " * 5000 + "1" + " }" * 5000 + "\n",
     "line 2, key name"),
    ("deep_headers.toml", "[" + ".".join(["a"] * 500) + "]\nx = 1\n", "a.a.a.a"),
])
def test_deep_nesting_is_refused(tmp_path, name, text, key):
    # before: RecursionError from the YAML composer or tomllib (exit 4, a traceback); the
    # table-header case parsed and failed later on an unknown key 'a'.
    rc, seconds, err = run_hostile(tmp_path, name, text)
    assert rc == 2 and seconds < 5.0, err
    assert name in err and key in err and "nested more than 20 levels" in err
    assert "hint:" in err and "RecursionError" not in err


def test_huge_spec_file_is_refused_unread(tmp_path):
    # before: read and parsed whatever its size (a data file passed as --spec by mistake)
    rc, seconds, err = run_hostile(tmp_path, "huge.toml", "# " + "x" * (1 << 20) + "\n")
    assert rc == 2 and seconds < 1.0
    assert "huge.toml" in err and "larger than 1 MiB" in err and "hint:" in err


def test_linear_schedule_with_tiny_step_is_refused(tmp_path):
    text = ('[experiment]\nstrategy = "linear"\ncontrol = "a"\ncandidate = "b"\n'
            'timestamp_column = "ts"\n'
            '[experiment.schedule]\nType = "LINEAR"\nWaitIntervalInSeconds = 60\n'
            'LinearStepSize = { Type = "CAPACITY_PERCENT", Value = 0.00001 }\n'
            '[[metrics]]\nname = "e"\nkind = "proportion"\ncolumn = "e"\nrole = "guardrail"\n')
    # before: built ten million steps (seconds of CPU, hundreds of MB), then went on
    rc, seconds, err = run_hostile(tmp_path, "tiny_step.toml", text)
    assert rc == 2 and seconds < 1.0
    assert "tiny_step.toml" in err and "experiment.schedule" in err
    assert "10,000,000 steps" in err and f"at most {MAX_STEPS:,}" in err


@pytest.mark.parametrize("name,text", [
    ("bigint.toml", "[experiment]\nalpha = " + "7" * 5000 + "\n"),
    ("bigint.yaml", "experiment:\n  alpha: " + "7" * 5000 + "\n"),
])
def test_integer_too_long_to_read(tmp_path, name, text):
    # before: ValueError "Exceeds the limit (4300 digits)" escaped the loader (exit 4)
    rc, _, err = run_hostile(tmp_path, name, text)
    assert rc == 2 and name in err and "4300 digits" in err


# ---------------------------------------------------------------------- YAML strictness


def test_duplicate_yaml_key_is_an_error(tmp_path, capsys):
    text = ("metrics:\n  - name: latency\n    kind: mean\n    column: latency_ms\n"
            "    role: guardrail\n    good: decrease\n    margin: 0.02\n    good: increase\n")
    # before (yaml.safe_load): the last key wins silently and the guardrail's good flips
    assert yaml.safe_load(text)["metrics"][0]["good"] == "increase"
    err = cli(tmp_path, capsys, "dup.yaml", text)
    assert "metrics[0].good (line 8): duplicate key 'good' (first written on line 6)" in err


def test_duplicate_key_in_flow_mapping(tmp_path):
    p = tmp_path / "dup.yml"
    p.write_text("experiment: {control: a, control: b}\n")
    with pytest.raises(SpecError, match=r"dup.yml: experiment.control \(line 1\): duplicate"):
        load_spec(p)


def test_duplicate_toml_key_stays_an_error(tmp_path, capsys):
    err = cli(tmp_path, capsys, "dup.toml", '[experiment]\nalpha = 0.05\nalpha = 0.1\n')
    assert "invalid TOML" in err and "alpha" in err


@pytest.mark.parametrize("text,needle", [
    ("experiment:\n  <<: {control: a}\n", "merge keys (<<) are not supported"),
    ("experiment:\n  ? [a, b]\n  : 1\n", "a mapping key must be a plain name"),
    ("base: &b {alpha: 0.05}\nexperiment: *b\n", "YAML alias *b is not allowed"),
])
def test_yaml_merge_complex_keys_and_aliases_are_refused(tmp_path, capsys, text, needle):
    # before: merged, constructed and expanded without a word
    err = cli(tmp_path, capsys, "x.yaml", text)
    assert needle in err


def test_yaml_anchor_without_alias_is_harmless(tmp_path):
    p = tmp_path / "anchor.yaml"
    p.write_text("metrics:\n  - &m {name: y, kind: mean, column: y}\n")
    assert load_spec(p).metrics[0].name == "y"


def test_a_dict_from_python_is_bounded_too():
    d: dict = {}
    d["experiment"] = {"name": d}  # a self-referencing dict
    # before: RecursionError when the digest or the unknown-key check walked it
    with pytest.raises(SpecError, match="nested more than 20 levels"):
        parse_spec(d)


# ---------------------------------------------------------------------- truncated values


def test_values_in_messages_are_cut_to_80_characters(tmp_path, capsys):
    long = "x" * 100_000
    # before: the whole 100,000-character value was printed
    err = cli(tmp_path, capsys, "long.toml", f'[[metrics]]\nname = "m"\nkind = "{long}"\n'
              'column = "y"\n')
    assert "metrics[0].kind" in err and "…" in err and len(err) < 600


def test_show_bounds_every_value():
    assert show("a" * 200) == "'" + "a" * 78 + "…" and len(show("a" * 200)) == 80
    assert show(10 ** 5000) == "<integer of about 5,000 digits>"  # repr() would raise
    assert show(list(range(10 ** 6))) == "<list of 1,000,000 items>"
    assert show("short") == "'short'"


# ---------------------------------------------------------------------- a wrong type


SCALAR_KEYS = [
    ("experiment", "strategy"), ("experiment", "control"), ("experiment", "variant_column"),
    ("experiment", "alpha"), ("experiment", "correction"), ("experiment", "name"),
    ("metrics", "kind"), ("metrics", "column"), ("metrics", "margin"), ("metrics", "role"),
    ("metrics", "good"),
]


@pytest.mark.parametrize("table,key", SCALAR_KEYS)
@pytest.mark.parametrize("bad", [["a", "b"], {"a": 1}, 10 ** 30])
def test_a_list_or_table_where_a_scalar_belongs(tmp_path, capsys, table, key, bad):
    spec = {"experiment": {"control": "control", "split": {"control": 0.5, "treatment": 0.5}},
            "metrics": [{"name": "conversion", "kind": "proportion", "column": "converted"}]}
    (spec["experiment"] if table == "experiment" else spec["metrics"][0])[key] = bad
    # before: strategy = [...] raised TypeError (unhashable, exit 4); a huge integer raised
    # OverflowError in the number check (exit 4)
    err = cli(tmp_path, capsys, "wrong.yaml", yaml.safe_dump(spec))
    path = f"experiment.{key}" if table == "experiment" else f"metrics[0].{key}"
    assert path in err


ROLLOUT = {"strategy": "canary", "control": "a", "candidate": "b", "timestamp_column": "ts",
           "split": {"a": 0.9, "b": 0.1}}
GUARD = [{"name": "e", "kind": "proportion", "column": "e", "role": "guardrail"}]


@pytest.mark.parametrize("key,bad", [
    ("look_every", ["1m"]), ("start", ["2026-01-01"]), ("start", {"a": 1}),
    ("min_samples", 10 ** 400), ("instances", [4]), ("schedule", [1, 2]),
    ("min_duration", {"m": 5}),
])
def test_rollout_keys_of_the_wrong_type(key, bad):
    with pytest.raises(SpecError, match=f"experiment.{key}"):
        parse_spec({"experiment": {**ROLLOUT, key: bad}, "metrics": GUARD}, source="r.toml")


@pytest.mark.parametrize("key,bad", [
    ("switch_at", [1]), ("window", {"h": 1}), ("exclude", [0]), ("min_rows", "30"),
    ("tightest_at", 10 ** 400),
])
def test_bluegreen_keys_of_the_wrong_type(key, bad):
    exp = {"strategy": "bluegreen", "blue": "b", "green": "g", "timestamp_column": "ts",
           key: bad}
    with pytest.raises(SpecError, match=f"experiment.{key}"):
        parse_spec({"experiment": exp, "metrics": GUARD}, source="bg.toml")


def test_non_string_keys_do_not_crash_the_key_check():
    # before: sorted() over {1, 'b'} raised TypeError
    with pytest.raises(SpecError, match="unknown keys 1, 'b'"):
        parse_spec({"experiment": {1: "a", "b": 2}})


# ---------------------------------------------------------------------- steps and looks


def sched_spec(schedule, **exp):
    return {"experiment": {"strategy": "linear", "control": "a", "candidate": "b",
                           "timestamp_column": "ts", "schedule": schedule, **exp},
            "metrics": GUARD}


@pytest.mark.parametrize("schedule,needle", [
    ({"Type": "LINEAR", "WaitIntervalInSeconds": 60,
      "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 0.001}}, "100,000 steps"),
    ({"Type": "LINEAR", "WaitIntervalInSeconds": 60,
      "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 1}}, "instances"),
    ({"steps": [i / 20_000 for i in range(1, 20_001)], "wait": "1m"}, "20,000 shares"),
    ({"Type": "LINEAR", "WaitIntervalInSeconds": 10 ** 400,
      "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 10}}, "WaitIntervalInSeconds"),
    ({"Type": "LINEAR", "WaitIntervalInSeconds": 60,
      "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": float("nan")}}, "Value"),
])
def test_schedule_steps_are_bounded(schedule, needle):
    t = time.perf_counter()
    with pytest.raises(SpecError, match="experiment.schedule") as e:
        parse_spec(sched_spec(schedule))
    assert needle in str(e.value) and time.perf_counter() - t < 1.0


def test_instance_count_fleet_is_bounded():
    sched = {"Type": "LINEAR", "WaitIntervalInSeconds": 60,
             "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 1}}
    with pytest.raises(SpecError, match="experiment.instances: expected a whole number in "
                       "1..10,000"):
        parse_spec(sched_spec(sched, instances=10 ** 9))
    assert len(parse_spec(sched_spec(sched, instances=100)).rollout.schedule.steps) == 100


def test_the_largest_schedule_allowed_still_parses():
    sched = {"Type": "LINEAR", "WaitIntervalInSeconds": 1,
             "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 0.01}}
    spec = parse_spec(sched_spec(sched, look_every="1s"))
    assert len(spec.rollout.schedule.steps) == 10_000


@pytest.mark.parametrize("look", ["250ms", 0.5, "0.9s"])
def test_look_every_is_at_least_a_second(look):
    # before: accepted; "1ms" looks over a day of data made 86 million looks
    with pytest.raises(SpecError, match="experiment.look_every: .* is shorter than 1 s") as e:
        parse_spec({"experiment": {**ROLLOUT, "look_every": look}, "metrics": GUARD})
    assert "look_every = \"1s\"" in e.value.hint


def test_look_every_is_at_least_a_second_in_bluegreen():
    exp = {"strategy": "bluegreen", "blue": "b", "green": "g", "timestamp_column": "ts",
           "look_every": "500ms"}
    with pytest.raises(SpecError, match="experiment.look_every"):
        parse_spec({"experiment": exp, "metrics": GUARD})


def test_looks_needed_by_the_schedule_are_bounded():
    # 10 steps of 1 h: 32,400 s to the last comparative step, 32,400 looks at 1 s
    sched = "Linear10PercentEvery60Minutes"
    with pytest.raises(SpecError, match="32,400 looks; at most 10,000") as e:
        parse_spec(sched_spec(sched, look_every="1s"))
    assert "at least 4 s" in e.value.hint
    assert parse_spec(sched_spec(sched, look_every="4s")).rollout.look_every == 4.0

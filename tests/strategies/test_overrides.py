"""Every analyze keyword and CLI option is applied, or refused with exit 2, in every strategy.

The old behaviour (shadow and blue/green silently ignored --variant-col, --control and
engine=; canary ignored --unit-col) is the negative control: each refusal below was a
silent success before.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from abkit.cli import main
from abkit.errors import InputError
from abkit.pipeline import analyze
from abkit.strategies.base import REGISTRY, Overrides, get_strategy

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {
    "ab": ("data/ab_example.csv", "data/ab_example.toml"),
    "canary": ("data/canary.csv", "data/canary.toml"),
    "linear": ("data/linear.csv.gz", "data/linear.toml"),
    "shadow": ("data/shadow/datacapture/churn-endpoint", "data/shadow/shadow.toml"),
    "bluegreen": ("data/bluegreen_regression.csv.gz", "data/bluegreen.toml"),
}
CLI = {
    "variant_column": ["--variant-col", "no_such_column"],
    "unit_column": ["--unit-col", "no_such_column"],
    "control": ["--control", "no_such_label"],
    "on_rejected": ["--fail-on-rejected"],
    "deterministic": ["--parallel"],
}


def _run(args, capsys):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        code = main(["gate", *args, "--no-step-summary"])
    finally:
        os.chdir(cwd)
    return code, capsys.readouterr().err


def test_registry_covers_every_strategy():
    from abkit.spec import STRATEGIES

    assert set(REGISTRY) == set(STRATEGIES)
    for name in REGISTRY:
        assert name in get_strategy(name).names


@pytest.mark.parametrize("option", sorted(CLI))
@pytest.mark.parametrize("strategy", sorted(SAMPLES))
def test_every_option_is_applied_or_refused(strategy, option, capsys):
    logs, spec = SAMPLES[strategy]
    code, err = _run([logs, "--spec", spec, *CLI[option]], capsys)
    from abkit.spec import load_spec

    accepted = option in get_strategy(strategy).accepted(load_spec(ROOT / spec))
    if not accepted:
        assert code == 2 and "does not apply to a" in err, err
    elif option in ("variant_column", "unit_column"):
        # applied: the bogus column name is looked for, and its absence is a usage error
        assert code == 2 and "no_such_column" in err, err
    elif option == "control":
        assert code == 2 and "no_such_label" in err, err
    else:  # on_rejected, deterministic: applied, the run still completes or fails on rows
        assert code in (0, 1, 2, 3), err
        assert "does not apply" not in err


@pytest.mark.parametrize("strategy", sorted(SAMPLES))
def test_engine_keyword(strategy):
    logs, spec = SAMPLES[strategy]
    from abkit.spec import load_spec

    if "engine" in get_strategy(strategy).accepted(load_spec(ROOT / spec)):
        assert analyze(str(ROOT / logs), ROOT / spec, engine="duckdb").decision
        with pytest.raises(InputError, match="unknown engine"):
            analyze(str(ROOT / logs), ROOT / spec, engine="spork")
    else:
        with pytest.raises(InputError, match="does not apply"):
            analyze(str(ROOT / logs), ROOT / spec, engine="duckdb")


def test_overrides_given():
    assert Overrides(control="a", engine="duckdb").given() == {"control": "a",
                                                               "engine": "duckdb"}
    assert Overrides(control="a", engine="duckdb").spec_changes() == {"control": "a"}

"""--delimiter, --decimal and --memory-limit, end to end through the CLI (issues #12, #13)."""

from __future__ import annotations

from pathlib import Path

import pytest

import abkit
from abkit.cli import main

SPEC = ('[experiment]\nunit_column = "unit_id"\ncontrol = "control"\n'
        'split = { control = 0.5, treatment = 0.5 }\n'
        '[[metrics]]\nname = "y"\nkind = "mean"\ncolumn = "y"\nrole = "primary"\n')


@pytest.fixture
def semicolons(tmp_path) -> tuple[Path, Path]:
    rows = ["variant;unit_id;y"] + [
        f"{'control' if i % 2 else 'treatment'};u{i};{(i % 7) + (0.5 if i % 2 else 1.5)}"
        .replace(".", ",") for i in range(400)]
    log = tmp_path / "eu.csv"
    log.write_text("\n".join(rows) + "\n")
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    return log, spec


def test_decimal_comma_file_needs_both_options(semicolons, capsys):
    log, spec = semicolons
    assert main(["report", str(log), "--spec", str(spec)]) == 2
    assert "pass --delimiter ';'" in capsys.readouterr().err
    assert main(["report", str(log), "--spec", str(spec), "--delimiter", ";"]) == 2
    err = capsys.readouterr().err
    assert "column 'y'" in err and "--decimal ," in err  # names the column and the fix
    assert main(["report", str(log), "--spec", str(spec), "--delimiter", ";",
                 "--decimal", ",", "--format", "json"]) == 0
    rep = abkit.analyze(log, spec, delimiter=";", decimal=",")
    assert rep.to_dict()["data"]["rows_used"] == 400
    rev = rep.comparison("y")
    assert rev.result.control_value == pytest.approx(
        sum((i % 7) + 0.5 for i in range(1, 400, 2)) / 200)


def test_bad_option_values_are_exit_2(semicolons, capsys):
    log, spec = semicolons
    for args, says in ((["--delimiter", "ab"], "one character"),
                       (["--decimal", ","], "needs another --delimiter"),
                       (["--memory-limit", "lots"], "memory limit")):
        assert main(["report", str(log), "--spec", str(spec), *args]) == 2
        assert says in capsys.readouterr().err


def test_memory_limit_reaches_duckdb(tmp_path):
    data = Path(__file__).resolve().parents[2] / "data"
    rep = abkit.analyze(data / "ab_example.csv", data / "ab_example.toml",
                        memory_limit="512MB")
    assert rep.decision == "go"
    with pytest.raises(abkit.errors.InputError, match="does not apply to a shadow"):
        abkit.analyze(data / "shadow" / "datacapture" / "churn-endpoint",
                      data / "shadow" / "shadow.toml", memory_limit="1GB")


def test_spec_keys_delimiter_and_decimal(semicolons, tmp_path, capsys):
    log, _ = semicolons
    spec = tmp_path / "eu.toml"
    spec.write_text(SPEC.replace('[experiment]\n',
                                 '[experiment]\ndelimiter = ";"\ndecimal = ","\n'))
    assert main(["report", str(log), "--spec", str(spec), "--format", "json"]) == 0
    rep = abkit.analyze(log, spec)
    assert rep.to_dict()["data"]["rows_used"] == 400
    assert rep.to_dict()["data"]["rows_rejected"] == {}
    # the command line wins over the spec: '.' as decimal mark rejects every y
    assert main(["report", str(log), "--spec", str(spec), "--decimal", "."]) == 2
    assert "column 'y'" in capsys.readouterr().err


@pytest.mark.parametrize("keys, says", [
    ('delimiter = ";;"', "experiment.delimiter"),
    ('delimiter = "\\""', "experiment.delimiter"),
    ('decimal = ","', "experiment.decimal"),
    ('decimal = ";"\ndelimiter = ";"', "experiment.decimal"),
    ('delimiter = 3', "experiment.delimiter"),
])
def test_bad_spec_keys_name_the_key(semicolons, tmp_path, capsys, keys, says):
    log, _ = semicolons
    spec = tmp_path / "bad.toml"
    spec.write_text(SPEC.replace('[experiment]\n', f'[experiment]\n{keys}\n'))
    assert main(["report", str(log), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err

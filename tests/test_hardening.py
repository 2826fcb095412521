"""A corpus of broken and hostile inputs: each gives one clear message and exit code 2, or
(where the data are partly usable) a correct report with exact row accounting. Never a
traceback, never a hang (every case runs in-process through the CLI's main())."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from abkit.cli import main

HEADER = "variant,unit_id,y\n"
ROWS = "".join(f"{'control' if i % 2 else 'treatment'},u{i},{i % 7}\n" for i in range(200))
SPEC = (
    '[experiment]\nunit_column = "unit_id"\ncontrol = "control"\n'
    '[[metrics]]\nname = "y"\nkind = "mean"\ncolumn = "y"\nrole = "primary"\n'
)


def _bytes(n: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.getrandbits(8) for _ in range(n))


def _gz_truncated() -> bytes:
    blob = gzip.compress((HEADER + ROWS * 200).encode())
    return blob[: len(blob) // 2]


# name -> (file name, content, expected exit code, text expected on stderr or report check)
FAILING = {
    "empty file": ("log.csv", b"", "has no columns (is it empty?)"),
    "header only": ("log.csv", HEADER.encode(), "has no data rows"),
    "binary garbage": ("log.csv", _bytes(5000), "does not look like a text file"),
    "binary garbage jsonl": ("log.jsonl", _bytes(5000), "does not look like a text file"),
    "binary garbage parquet": ("log.parquet", b"PAR1" + _bytes(500), "cannot read"),
    "truncated gzip": ("log.csv.gz", _gz_truncated(), "log.csv.gz"),
    "wrong delimiter": ("log.csv", (HEADER + ROWS).replace(",", ";").encode(),
                        "seems to use another delimiter"),
    "one variant only": ("log.csv", (HEADER + ROWS.replace("treatment", "control")).encode(),
                         "only one variant has data"),
    "a single row": ("log.csv", (HEADER + "control,u1,3\n").encode(),
                     "only one variant has data"),
    "duplicated column name": ("log.csv", ("variant,y,y\n" + "control,1,2\n").encode(),
                               "repeats column name"),
    "non-UTF-8 header": ("log.csv", "variant,unit_id,caf\xe9\ncontrol,1,2\n".encode("latin-1"),
                         "header line is not UTF-8"),
    "empty jsonl": ("log.jsonl", b"", "has no columns"),
}


@pytest.mark.parametrize("case", sorted(FAILING))
def test_unusable_input_is_one_message_and_exit_2(case, tmp_path, capsys):
    name, content, needle = FAILING[case]
    path = tmp_path / name
    path.write_bytes(content)
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    for args in (["report", str(path), "--spec", str(spec)], ["gate", str(path)]):
        rc = main(args)
        out, err = capsys.readouterr()
        assert rc == 2, (case, args, err)
        assert "Traceback" not in err and out == ""
        assert err.startswith("abkit: error: ")
    assert needle in err, err


def _report(path: Path, tmp_path: Path, capsys, *extra: str) -> dict:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    rc = main(["report", str(path), "--spec", str(spec), "--format", "json", *extra])
    out, err = capsys.readouterr()
    assert rc == 0, err
    doc = json.loads(out)
    d = doc["data"]
    assert d["rows_read"] == d["rows_used"] + sum(d["rows_rejected"].values())
    return doc


def test_unknown_control(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text(HEADER + ROWS)
    rc = main(["report", str(path), "--control", "blue"])
    assert rc == 2 and "experiment.control label 'blue' has no usable rows" in capsys.readouterr().err


def test_mixed_types_in_a_column_are_rejected_by_row(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text(HEADER + ROWS + "control,x1,abc\ntreatment,x2,12 kg\ncontrol,x3,\n")
    d = _report(path, tmp_path, capsys)["data"]
    assert d["rows_rejected"] == {"non_numeric_value": 2, "missing_value": 1}
    assert d["rows_used"] == 200


def test_nan_inf_and_huge_values(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text(HEADER + ROWS + "control,x1,nan\ntreatment,x2,inf\ncontrol,x3,-Infinity\n"
                    "treatment,x4,1e308\ncontrol,x5,-1e308\n")
    doc = _report(path, tmp_path, capsys)
    assert doc["data"]["rows_rejected"] == {"non_finite_value": 3}
    c = doc["comparisons"][0]  # 1e308 values are kept; their squares overflow -> diagnostic
    assert "NUMERIC_OVERFLOW" in [x["code"] for x in c["diagnostics"]]
    assert c["pvalue"] is None and doc["decision"] == "inconclusive"


def test_duplicated_header_line_inside_the_data(tmp_path, capsys):
    path = tmp_path / "log.csv"  # two files concatenated with `cat`
    path.write_text(HEADER + ROWS + HEADER + ROWS.replace(",u", ",w"))
    d = _report(path, tmp_path, capsys)["data"]
    assert d["rows_read"] == 401 and d["rows_used"] == 400
    assert d["rows_rejected"] == {"non_numeric_value": 1}


def test_byte_order_mark(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROWS).encode())
    assert _report(path, tmp_path, capsys)["data"]["rows_used"] == 200


def test_non_utf8_bytes_in_a_row(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_bytes((HEADER + ROWS).encode() + "control,u999,caf\xe9\n".encode("latin-1"))
    d = _report(path, tmp_path, capsys)["data"]
    assert d["rows_rejected"] == {"unparseable_line": 1}
    assert "line 202" in d["examples"]["unparseable_line"]


def test_a_10mb_line(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text(HEADER + ROWS + "control,u5000," + "9" * 10_000_000 + "\n")
    d = _report(path, tmp_path, capsys)["data"]
    assert d["rows_read"] == 201 and d["rows_rejected"] == {"non_finite_value": 1}
    j = tmp_path / "log.jsonl"
    j.write_text('{"variant":"control","unit_id":"a1","y":1}\n'
                 '{"variant":"treatment","unit_id":"a2","y":"' + "a" * 10_000_000 + '"}\n'
                 + "".join(f'{{"variant":"{v}","unit_id":"b{i}","y":{i % 5}}}\n'
                           for i, v in enumerate(["control", "treatment"] * 50)))
    d = _report(j, tmp_path, capsys)["data"]
    assert d["rows_read"] == 102 and d["rows_rejected"] == {"non_numeric_value": 1}


def test_folder_without_logs_and_missing_path(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("nothing here")
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "holds no log files" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("name, text, needle", [
    ("unknown.toml", SPEC + "colour = 'red'\n", "unknown key 'colour'"),
    ("tags.yaml", "experiment: !!python/object/apply:os.system ['echo pwned']\n",
     "invalid YAML"),
    ("syntax.toml", "[experiment\n", "invalid TOML"),
    ("alpha.toml", SPEC.replace("[experiment]\n", "[experiment]\nalpha = 1.5\n"),
     "experiment.alpha: 1.5 is out of range"),
    ("margin.toml", SPEC.replace('role = "primary"', 'role = "guardrail"\nmargin = -0.5'),
     "margin: -0.5 is out of range"),
])
def test_bad_specs_exit_2(tmp_path, capsys, name, text, needle):
    log = tmp_path / "log.csv"
    log.write_text(HEADER + ROWS)
    spec = tmp_path / name
    spec.write_text(text)
    rc = main(["gate", str(log), "--spec", str(spec)])
    err = capsys.readouterr().err
    assert rc == 2 and needle in err and "Traceback" not in err


def test_pandas_index_column_without_a_name(tmp_path, capsys):
    """DataFrame.to_csv() writes the index as an unnamed first column."""
    path = tmp_path / "log.csv"
    path.write_text("," + HEADER + "".join(f"{i},{r}\n" for i, r in
                                           enumerate(ROWS.splitlines())))
    assert _report(path, tmp_path, capsys)["data"]["rows_used"] == 200


def test_dollar_signs_in_names_render(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text(HEADER.replace("y", "rev_$usd_$eur") + ROWS)
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.replace('column = "y"', 'column = "rev_$usd_$eur"'))
    out = tmp_path / "r.html"
    assert main(["report", str(path), "--spec", str(spec), "--format", "html", "-o",
                 str(out)]) == 0
    assert "rev_$usd_$eur" in out.read_text()


def test_output_into_a_missing_folder_is_a_user_error(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text(HEADER + ROWS)
    rc = main(["report", str(path), "-o", str(tmp_path / "no" / "such" / "r.json")])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot write" in err and "Traceback" not in err


def test_brackets_in_an_existing_file_name(tmp_path, capsys):
    path = tmp_path / "exp[1].csv"
    path.write_text(HEADER + ROWS)
    assert _report(path, tmp_path, capsys)["data"]["rows_used"] == 200


def test_yaml_boolean_variant_keys_match_boolean_labels(tmp_path, capsys):
    import pandas as pd

    df = pd.DataFrame({"variant": [True, False] * 100, "y": [float(i % 7) for i in range(200)]})
    df.to_parquet(tmp_path / "log.parquet")
    spec = tmp_path / "s.yaml"
    spec.write_text("experiment:\n  control: false\n  split: {true: 0.5, false: 0.5}\n"
                    "metrics:\n  - {name: y, kind: mean, column: y}\n")
    rc = main(["report", str(tmp_path / "log.parquet"), "--spec", str(spec), "--format", "json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert json.loads(out)["data"]["units"] == {"false": 100, "true": 100}


@pytest.mark.parametrize("name", ["_v", "_u", "_rows", "\x00v"])
def test_metric_columns_named_like_internals(name):
    """Column names must never collide with an engine's internal columns."""
    import numpy as np
    import pandas as pd

    from abkit.analysis import reduce_logs

    rng = np.random.default_rng(3)
    df = pd.DataFrame({"variant": ["control", "treatment"] * 500, "uid": range(1000),
                       name: rng.normal(0, 1, 1000)})
    spec = {"experiment": {"unit_column": "uid"},
            "metrics": [{"name": "m", "kind": "mean", "column": name}]}
    a = reduce_logs(df, spec, engine="pandas")
    b = reduce_logs(df, spec, engine="duckdb")
    assert a.units == b.units == {"control": 500, "treatment": 500}
    for v in ("control", "treatment"):
        assert a.moments["m"][v].mean == pytest.approx(b.moments["m"][v].mean)


@pytest.mark.parametrize("opened, closed, used, rejected", [
    (501, None, 499, {"unparseable_line": 501}),   # an unclosed quote runs to the end
    (501, 701, 799, {"unparseable_line": 200, "non_numeric_value": 1}),  # closed 200 later
])
def test_a_stray_quote_loses_no_line(tmp_path, capsys, opened, closed, used, rejected):
    """Lines swallowed by a quoted field spanning line ends are counted, never dropped."""
    lines = [f"{'control' if i % 2 else 'treatment'},u{i},{i % 7}.0" for i in range(1000)]
    lines[opened - 2] = lines[opened - 2].rsplit(",", 1)[0] + ',"5.0'
    if closed:
        lines[closed - 2] = lines[closed - 2] + '"'
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n")
    doc = _report(path, tmp_path, capsys)
    d = doc["data"]
    assert d["rows_read"] == 1000
    assert d["rows_used"] == used and d["rows_rejected"] == rejected
    assert "quoted fields" in d["examples"]["quoted_field_spans_lines"]
    assert any("rows were rejected" in w for w in doc["warnings"])

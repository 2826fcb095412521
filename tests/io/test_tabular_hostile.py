"""CSV / JSON Lines / Parquet through DuckDB: RFC 4180 records, duplicate Parquet columns,
and messages that name the column, the reason and example values (issue #12)."""

from __future__ import annotations

import pytest

from abkit.analysis import reduce_logs

from io_helpers import cli

SPEC = {"experiment": {"strategy": "ab", "variant_column": "variant",
                       "unit_column": "unit_id", "control": "control"},
        "metrics": [{"name": "value", "kind": "mean", "column": "value",
                     "role": "primary"}]}
SPEC_TOML = """[experiment]
strategy = "ab"
variant_column = "variant"
unit_column = "unit_id"
control = "control"

[[metrics]]
name = "value"
kind = "mean"
column = "value"
role = "primary"
"""


def _rows(n: int, note) -> list[str]:
    return [f"{'control' if i % 2 else 'treatment'},u{i},{i % 5}.5,{note(i)}"
            for i in range(n)]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_quoted_field_with_line_breaks_is_one_record(tmp_path, newline):
    # every third note holds line breaks, a blank line, a comma and an escaped quote
    note = (lambda i: '"first line\nsecond, line\n\n  \nsaid ""hi"""' if i % 3 == 0
            else "plain")
    text = "variant,unit_id,value,note\n" + "\n".join(_rows(300, note)) + "\n"
    p = tmp_path / "log.csv"
    p.write_bytes(text.replace("\n", newline).encode())
    red = reduce_logs(p, SPEC)
    assert (red.rows_read, red.rows_used, red.rejected) == (300, 300, {})


def test_a_quote_that_swallows_rows_is_still_counted(tmp_path):
    rows = _rows(100, lambda i: "n")
    rows[10] = rows[10][:-1] + '"n'   # opens a quote ...
    rows[30] = rows[30] + '"'          # ... closed 20 rows later: rows 11-30 are swallowed
    p = tmp_path / "log.csv"
    p.write_text("variant,unit_id,value,note\n" + "\n".join(rows) + "\n")
    red = reduce_logs(p, SPEC)
    assert red.rows_read == 100
    assert red.rejected == {"unparseable_line": 20}
    assert red.rows_used == 80
    assert "quoted fields" in red.examples["quoted_field_spans_lines"]


def test_duplicate_parquet_column_names_are_an_error(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    t = pa.table([pa.array(["control", "treatment"]), pa.array(["u1", "u2"]),
                  pa.array([1.0, 2.0]), pa.array([3.0, 4.0])],
                 names=["variant", "unit_id", "value", "value"])
    p = tmp_path / "log.parquet"
    pq.write_table(t, p)
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC_TOML)
    code, _, err = cli(["report", p, "--spec", spec], capsys)
    assert code == 2
    assert "repeats column name(s) value" in err and "log.parquet" in err


def test_column_whose_rows_are_all_rejected_is_named_with_examples(tmp_path, capsys):
    p = tmp_path / "log.csv"
    p.write_text("variant,unit_id,value\ncontrol,u1,abc\ntreatment,u2,x\ncontrol,u3,\n"
                 "treatment,u4,y\ncontrol,u5,zz\n")
    red = reduce_logs(p, SPEC)
    assert red.rows_used == 0
    assert red.rejected == {"non_numeric_value": 4, "missing_value": 1}
    assert red.examples["non_numeric_value"] == (
        "column 'value': non_numeric_value for 4 rows, e.g. 'abc', 'x', 'y'")
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC_TOML)
    code, _, err = cli(["report", p, "--spec", spec], capsys)
    assert code == 2 and "rejected" in err  # the message naming the column: see report


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_decimal_comma_suggests_the_decimal_option(tmp_path, fmt):
    if fmt == "jsonl":
        p = tmp_path / "log.jsonl"
        p.write_text('{"variant": "control", "unit_id": "u1", "value": "1,5"}\n'
                     '{"variant": "treatment", "unit_id": "u2", "value": "2,25"}\n')
    else:  # quoted, so that the comma-separated file still has three fields
        p = tmp_path / "log.csv"
        p.write_text('variant,unit_id,value\ncontrol,u1,"1,5"\ntreatment,u2,"2,25"\n')
    red = reduce_logs(p, SPEC)
    ex = red.examples["non_numeric_value"]
    assert "column 'value'" in ex and "'1,5'" in ex and "--decimal ," in ex


def test_semicolon_file_suggests_the_delimiter(tmp_path, capsys):
    p = tmp_path / "log.csv"
    p.write_text("variant;unit_id;value\ncontrol;u1;1,5\ntreatment;u2;2,5\n")
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC_TOML)
    code, _, err = cli(["report", p, "--spec", spec], capsys)
    assert code == 2 and "another delimiter" in err

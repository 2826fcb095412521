"""CloudWatch exports with nulls or wrong types: exit 2 naming the file and the key, never a
TypeError (issue #12)."""

from __future__ import annotations

import json
import shutil

import pytest

from abkit.errors import InputError
from abkit.io.cloudwatch import read_get_metric_data

from io_helpers import ROOT, cli

SHADOW = ROOT / "data" / "shadow"


@pytest.fixture
def tree(tmp_path):
    dst = tmp_path / "shadow"
    shutil.copytree(SHADOW, dst)
    return dst


def _edit(tree, fn, which="results"):
    p = tree / "cloudwatch" / f"churn-endpoint_{which}.json"
    doc = json.loads(p.read_text())
    fn(doc)
    p.write_text(json.dumps(doc))
    return p


@pytest.mark.parametrize("key,edit,want", [
    ("Timestamps[1]", lambda d: d["MetricDataResults"][0]["Timestamps"].__setitem__(1, None),
     "MetricDataResults[0] ('invocations_sum_variant_live').Timestamps[1] is null"),
    ("Values[0]", lambda d: d["MetricDataResults"][0]["Values"].__setitem__(0, None),
     "MetricDataResults[0] ('invocations_sum_variant_live').Values[0] is null, not a number"),
    ("Timestamps", lambda d: d["MetricDataResults"][0].__setitem__("Timestamps", None),
     "Timestamps is null, not an array"),
    ("Values", lambda d: d["MetricDataResults"][0].__setitem__("Values", "1,2"),
     "Values is string, not an array"),
    ("MetricDataResults", lambda d: d.__setitem__("MetricDataResults", None),
     "MetricDataResults is null, not an array"),
])
def test_null_in_results_is_exit_2_naming_file_and_key(tree, capsys, key, edit, want):
    p = _edit(tree, edit)
    code, _, err = cli(["report", tree / "datacapture" / "churn-endpoint", "--spec",
                        tree / "guardrails.toml"], capsys)
    assert code == 2, err
    assert "churn-endpoint_results.json" in err and want in err
    with pytest.raises(InputError, match="churn-endpoint_results.json"):
        read_get_metric_data(p, tree / "cloudwatch" / "churn-endpoint_queries.json")


@pytest.mark.parametrize("edit,want", [
    (lambda d: d["MetricDataQueries"][0]["MetricStat"].__setitem__("Period", None),
     "MetricStat.Period is None"),
    (lambda d: d["MetricDataQueries"][0]["MetricStat"]["Metric"].__setitem__(
        "Dimensions", [None]), "Dimensions[0] is not"),
    (lambda d: d["MetricDataQueries"][0]["MetricStat"].__setitem__("Metric", None),
     "MetricStat.Metric is null"),
    (lambda d: d["MetricDataQueries"][0].__setitem__("Id", ["x"]), "Id is array, not a string"),
])
def test_wrong_types_in_queries_name_the_key(tree, edit, want):
    q = _edit(tree, edit, "queries")
    with pytest.raises(InputError, match="churn-endpoint_queries.json") as e:
        read_get_metric_data(tree / "cloudwatch" / "churn-endpoint_results.json", q)
    assert want in str(e.value)


def test_cloudwatch_file_that_is_a_fifo_is_refused(tmp_path):
    import os

    fifo = tmp_path / "r.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is a fifo"):
        read_get_metric_data(fifo, fifo)


def test_deeply_nested_export_is_an_input_error(tmp_path):
    p = tmp_path / "r.json"
    p.write_text('{"a": ' + "[" * 100000 + "]" * 100000 + "}")
    with pytest.raises(InputError, match="nested too deeply"):
        read_get_metric_data(p, p)

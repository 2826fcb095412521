"""Property tests of the readers and the row accounting (hypothesis).

Random logs full of junk go through a real CSV file and DuckDB, and through the pandas
engine: both must account for every row identically and never crash.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abkit.analysis import reduce_logs

VALUES = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "abc", "inf", "-inf", "nan", "1e308", "true", "false", "a,b",
                     'say "hi"', " 2 ", "0", "1", "-3.5"]),
    st.integers(-5, 5).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
)
VARIANTS = st.one_of(st.none(), st.sampled_from(["control", "treatment", " control ", "", "x"]))
UNITS = st.one_of(st.none(), st.integers(0, 12).map(lambda i: f"u{i}"))

ROW = st.fixed_dictionaries({"variant": VARIANTS, "unit_id": UNITS, "y": VALUES, "b": VALUES,
                             "n": VALUES, "d": VALUES})

SPECS = [
    {"experiment": {"unit_column": "unit_id", "split": {"control": 0.5, "treatment": 0.5}},
     "metrics": [{"name": "y", "kind": "mean", "column": "y"},
                 {"name": "b", "kind": "proportion", "column": "b"},
                 {"name": "r", "kind": "ratio", "numerator": "n", "denominator": "d"}]},
    {"experiment": {"unit_column": "unit_id", "granularity": "request"},
     "metrics": [{"name": "y", "kind": "mean", "column": "y", "covariate": "n"},
                 {"name": "b", "kind": "proportion", "column": "b", "aggregate": "max"}]},
    {"experiment": {},
     "metrics": [{"name": "y", "kind": "mean", "column": "y"}]},
]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=40), which=st.integers(0, len(SPECS) - 1))
def test_accounting_adds_up_and_engines_agree(tmp_path_factory, rows, which):
    spec = SPECS[which]
    frame = pd.DataFrame(rows, columns=["variant", "unit_id", "y", "b", "n", "d"])
    path = tmp_path_factory.mktemp("log") / "log.csv"
    frame.to_csv(path, index=False)
    from_file = reduce_logs(path, spec)
    from_frame = reduce_logs(frame, spec, engine="pandas")
    for red in (from_file, from_frame):
        assert red.rows_read == len(rows)
        assert red.rows_used + sum(red.rejected.values()) == red.rows_read
        assert all(n > 0 for n in red.rejected.values())
        assert sum(red.units.values()) <= red.rows_used
    assert from_file.rejected == from_frame.rejected
    assert from_file.units == from_frame.units
    for metric, arms in from_file.moments.items():
        for v, m in arms.items():
            o = from_frame.moments[metric][v]
            assert m.n == o.n
            assert all(math.isfinite(x) or abs(x) > 1e300 for x in m.mean)
            assert m.mean == pytest.approx(o.mean, rel=1e-9, abs=1e-9)

"""The one number formatter (abkit.fmt), and units in the rendered tables (issue #14)."""

from __future__ import annotations

from pathlib import Path

import pytest

import abkit
from abkit.errors import SpecError
from abkit.fmt import fmt_estimate, fmt_interval, fmt_num, fmt_p, fmt_time, plural

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize("est, ci, kw, want", [
    # the mixed-precision interval: one precision for all three numbers
    (0.0128, (0.004204, 0.0214), {}, "+0.0128 [+0.0042, +0.0214]"),
    (2.417, (1.262, 3.571), {}, "+2.4 [+1.3, +3.6]"),
    (12345.6, (11000.2, 13691.0), {}, "+12,346 [+11,000, +13,691]"),
    (0.1263, (0.0356, 0.2154), {"pct": True}, "+12.6% [+3.6%, +21.5%]"),
    (8.89, (8.031, 9.749), {"unit": "ms"}, "+8.89 [+8.03, +9.75] ms"),
    (-0.4, (-13.0, 12.0), {}, "+0 [-13, +12]"),  # never "-0"
    (1e-7, (-2e-7, 3e-7), {}, "+1e-07 [-2e-07, +3e-07]"),
    (0.05, None, {}, "+0.05"),
    (None, None, {}, "n/a"),
])
def test_estimate_and_interval_share_one_precision(est, ci, kw, want):
    assert fmt_estimate(est, ci, **kw) == want


def test_numbers_pvalues_times_plurals():
    assert fmt_num(20007.0) == "20,007" and fmt_num(0.009937) == "0.009937"
    assert fmt_num(119.93, unit="ms") == "119.9 ms" and fmt_num(None) == "n/a"
    assert fmt_p(0.0) == "< 1e-300" and fmt_p(5e-324) == "< 1e-300"  # never 0.0e+00
    assert fmt_p(3.5e-49) == "3.5e-49" and fmt_p(0.2377) == "0.238" and fmt_p(None) == "n/a"
    assert fmt_time(1795168800.123456) == "2026-11-20T10:00:00Z"
    assert fmt_time("2026-11-20T12:00:00.5+02:00") == "2026-11-20T10:00:00Z"
    assert plural(1, "metric") == "1 metric" and plural(2, "metric") == "2 metrics"
    assert plural(1000, "row") == "1,000 rows"
    assert fmt_interval(0.1674, 3.192) == "[+0.2, +3.2]"


def test_a_unit_from_the_spec_is_shown_beside_the_values(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('[experiment]\nstrategy = "ab"\nunit_column = "unit_id"\n'
                    'control = "control"\nsplit = { control = 0.5, treatment = 0.5 }\n'
                    '[[metrics]]\nname = "latency"\nkind = "mean"\ncolumn = "latency_ms"\n'
                    'role = "guardrail"\ngood = "decrease"\nmargin = 0.02\nunit = "ms"\n')
    rep = abkit.analyze(DATA / "ab_example.csv", spec)
    row = next(line for line in rep.to_text().splitlines() if line.startswith("latency "))
    assert "120.1 ms" in row and "] ms" in row
    assert "| 120.1 ms |" in rep.to_markdown()
    assert rep.to_dict()["spec"]["metrics"][0]["unit"] == "ms"
    spec.write_text(spec.read_text().replace('unit = "ms"', 'unit = ["ms"]'))
    with pytest.raises(SpecError, match=r"metrics\[0\]\.unit"):
        abkit.analyze(DATA / "ab_example.csv", spec)

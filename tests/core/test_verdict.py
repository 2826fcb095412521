"""The one promotion rule (abkit.core.verdict): GO only when every guardrail is shown
within its margin, in the shared code and through the A/B strategy (issue #11)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import abkit
from abkit.core.verdict import Verdict, VerdictRow, promote_only_if_safe, unproven_guardrails


def _row(metric="latency", role="guardrail", **guardrail) -> VerdictRow:
    g = {"margin_abs": 2.0, "noninferior_pvalue": 0.3, "regressed": False,
         "noninferior": False} | guardrail
    return VerdictRow(metric=metric, kind="mean", role=role, good="decrease",
                      control="control", treatment="treatment",
                      ci={"low": 0.5, "high": 2.5}, guardrail=g if role == "guardrail" else None)


def test_go_with_an_unproven_guardrail_becomes_inconclusive():
    v = promote_only_if_safe(Verdict("go", ("primary won",), (_row(),)))
    assert v.decision == "inconclusive"
    assert v.reasons == ("guardrail latency is not shown within its margin: interval "
                         "[+0.5, +2.5] against a margin of 2 (non-inferiority p = 0.300); harm "
                         "beyond the margin is not shown either; more data would settle it",)


def test_go_with_every_guardrail_shown_safe_stands():
    v = Verdict("go", ("primary won",), (_row(noninferior=True), _row("conv", role="primary")))
    assert promote_only_if_safe(v) is v


@pytest.mark.parametrize("decision", ["no-go", "inconclusive"])
def test_other_decisions_are_left_alone(decision):
    v = Verdict(decision, ("x",), (_row(),))
    assert promote_only_if_safe(v) is v


def test_a_shown_harm_is_not_an_unproven_guardrail():
    # regressed guardrails are a NO-GO, which the strategy decides, not an INCONCLUSIVE
    assert unproven_guardrails([_row(regressed=True)]) == []


def test_a_zero_margin_says_what_to_set():
    (reason,) = unproven_guardrails([_row(margin_abs=0.0)])
    assert "set the guardrail's margin" in reason


def _ab_log(latency_shift: float, latency_sd: float, n: int = 10_000) -> pd.DataFrame:
    """Two arms; the treatment's conversion is clearly better, its latency mean is
    exactly ``100 + latency_shift`` against 100."""
    rng = np.random.default_rng(7)

    def lat(shift):
        z = rng.standard_normal(n)
        return 100.0 + shift + latency_sd * (z - z.mean()) / z.std(ddof=1)

    return pd.DataFrame({
        "variant": ["control"] * n + ["treatment"] * n,
        "conv": np.r_[(np.arange(n) % 10 == 0), (np.arange(n) % 8 == 0)].astype(float),
        "latency": np.r_[lat(0.0), lat(latency_shift)],
    })


SPEC = {"metrics": [
    {"name": "conv", "kind": "proportion", "column": "conv", "role": "primary"},
    {"name": "latency", "kind": "mean", "column": "latency", "role": "guardrail",
     "good": "decrease", "margin": 0.07},
]}


def test_ab_guardrail_past_its_margin_is_not_go():
    # the case: latency +7.41 % [+6.67 %, +8.15 %] against a 7 % margin was GO with
    # "no guardrail regressed"; the interval reaches past the margin and harm beyond it is
    # not shown either, so the answer is INCONCLUSIVE, with the reason
    rep = abkit.analyze(_ab_log(7.41, 26.7), SPEC)
    lat = rep.comparison("latency")
    assert lat.result.absolute.ci.low < 7.0 < lat.result.absolute.ci.high
    assert rep.decision == "inconclusive"
    assert any(r.startswith("guardrail latency is not shown within its margin") for r in rep.reasons)
    g = next(c for c in rep.to_dict()["comparisons"] if c["metric"] == "latency")["guardrail"]
    assert g["noninferior"] is False and g["regressed"] is False


def test_ab_no_effect_guardrail_with_enough_data_is_go():
    rep = abkit.analyze(_ab_log(0.0, 10.0), SPEC)
    assert rep.decision == "go", rep.reasons
    assert any("every guardrail shown within its margin (latency)" in r for r in rep.reasons)
    g = next(c for c in rep.to_dict()["comparisons"] if c["metric"] == "latency")["guardrail"]
    assert g["noninferior"] is True and g["noninferior_pvalue"] < 1e-6


# ---------------------------------------------------------------- the rule in every strategy
DATA = __import__("pathlib").Path(__file__).resolve().parents[2] / "data"
SAMPLES = {
    "ab": (DATA / "ab_example.csv", DATA / "ab_example.toml"),
    "linear": (DATA / "linear.csv.gz", DATA / "linear.toml"),
    "bluegreen": (DATA / "bluegreen_smoke.csv.gz", DATA / "bluegreen.toml"),
    "shadow": (DATA / "shadow" / "datacapture" / "churn-endpoint-same",
               DATA / "shadow" / "guardrails-same.toml"),
}


@pytest.mark.parametrize("strategy", sorted(SAMPLES))
def test_the_pipeline_applies_the_rule_to_every_strategy(strategy, monkeypatch):
    """Each sample here is GO. If a strategy's own decide() gave GO with a guardrail row that
    is not shown within its margin, the one orchestration must still say INCONCLUSIVE: the
    rule lives in abkit.pipeline, not in four decide() functions. Negative control: the same
    run without the tampering stays GO."""
    from dataclasses import replace

    from abkit.strategies.base import get_strategy

    log, spec = SAMPLES[strategy]
    assert abkit.analyze(log, spec).decision == "go"
    cls = type(get_strategy("canary" if strategy == "linear" else strategy))
    real = cls.decide

    def tampered(self, sp, results):
        v = real(self, sp, results)
        rows = tuple(replace(r, guardrail={**r.guardrail, "noninferior": False,
                                           "regressed": False})
                     if r.role == "guardrail" else r for r in v.rows)
        assert any(r.role == "guardrail" for r in rows)
        return replace(v, rows=rows)

    monkeypatch.setattr(cls, "decide", tampered)
    rep = abkit.analyze(log, spec)
    assert rep.decision == "inconclusive"
    assert any("is not shown within its margin" in r for r in rep.reasons)

"""When canary and linear may promote, and the per-step sequential SRM (issue #11).

The gate is the real :class:`abkit.rollout.gate.SequentialGate`, fed look-by-look cells in
the layout of :mod:`abkit.engine.rollout_reduce` (``[n, sum x, sum x^2]`` per variant for one
proportion column), built from the issue's cases:

* a SageMaker LINEAR rollout, +20 % every 10 min, looked at every minute, 1,000 rows a
  minute: the old rule promoted it at minute 7 of step 1;
* a router that sticks at 40 % when step 3 schedules 60 %: the old pooled SRM needed a second
  minute (one log rate ratio over all steps, pinned by the 40,000 on-schedule rows of steps
  1-2) and the verdict stayed GO because the first decisive look stood.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from abkit.engine.rollout_reduce import build_rollout_plan
from abkit.rollout.gate import SequentialGate
from abkit.spec import parse_spec
from abkit.stats.mixture import SequentialSRM


def _spec(schedule=None, split=None, **extra):
    exp = {"strategy": "linear" if schedule else "canary", "variant_column": "variant",
           "control": "current", "candidate": "candidate", "timestamp_column": "ts",
           "look_every": "1m", "alpha": 0.05, "min_samples": 500, **extra}
    if schedule:
        exp["schedule"] = schedule
    else:
        exp["split"] = split
    return parse_spec({"experiment": exp, "metrics": [
        {"name": "error_rate", "kind": "proportion", "column": "error", "role": "guardrail",
         "good": "decrease", "margin": 0.5}]})


LINEAR = {"Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20},
          "WaitIntervalInSeconds": 600}


def _cell(n_c: int, n_t: int, rate: float = 0.01) -> dict:
    e_c, e_t = round(n_c * rate), round(n_t * rate)
    return {"current": np.array([n_c, e_c, e_c], float),
            "candidate": np.array([n_t, e_t, e_t], float)}


def _replay(spec, shares_seen, per_minute=5000, minutes=None):
    """Feed one look a minute; ``shares_seen(minute, scheduled)`` is the candidate share the
    router actually sent. Returns the gate."""
    plan = build_rollout_plan(spec)
    sched = plan.schedule
    gate = SequentialGate(spec, plan, "current", "candidate", 0.0)
    total = minutes or int(sched.steps[-1][0] // 60) + 2
    for w in range(total):
        step = sched.step_index(w * 60.0)
        share = sched.steps[step][1]
        seen = shares_seen(w, share)
        n_t = round(per_minute * seen)
        gate.add_look(w, {(w, step): _cell(per_minute - n_t, n_t)}, {})
    return gate


def test_linear_is_not_promoted_before_the_final_shift():
    spec = _spec(LINEAR)
    gate = _replay(spec, lambda w, share: share)
    sig = [k.signal for k in gate.looks]
    # the evidence held early (the old rule promoted here: negative control)
    first_pass = sig.index("step-passed")
    assert gate.looks[first_pass].step == 0
    # ... but GO comes only at the end of the last step with both variants (minute 40)
    assert gate.promoted is not None and gate.promoted.elapsed == pytest.approx(2400.0)
    assert all(k.decision == "inconclusive" for k in gate.looks if k.elapsed < 2400)
    assert {k.step for k in gate.looks if k.signal == "step-passed"} == {0, 1, 2, 3}
    assert "promotion waits for the schedule's final shift" in gate.looks[first_pass].reasons[0]


def test_stuck_router_is_no_go_at_the_first_look_of_the_new_step():
    spec = _spec(LINEAR)
    # steps 1-2 on schedule; from step 3 (minute 20) the router sticks at 40 % (of 60 %)
    gate = _replay(spec, lambda w, share: 0.4 if w >= 20 else share)
    k = gate.rolled_back
    assert k is not None and k.window == 20, k and k.window  # the first minute of step 3
    assert "traffic split departs from the schedule" in k.reasons[0]
    assert gate.looks[-1].decision == "no-go" and gate.promoted is None
    # passed steps before it do not protect the candidate
    assert any(x.signal == "step-passed" for x in gate.looks[:20])


def test_issue_numbers_pooled_srm_was_a_look_late():
    """796 of 1,974 rows to the candidate against 60 % scheduled, after 40,000 on-schedule rows
    of steps 1-2: per step, p < 0.001 at that first minute; the pooled e-process (the old
    gate) is not there yet: the negative control."""
    v = ("current", "candidate")
    pooled = SequentialSRM(v)
    per_step = [SequentialSRM(v), SequentialSRM(v)]
    for i, share in enumerate((0.2, 0.4)):
        for _ in range(10):
            n_t = round(2000 * share)
            counts = {"current": 2000 - n_t, "candidate": n_t}
            shares = {"current": 1 - share, "candidate": share}
            pooled = pooled.update(counts, shares)
            per_step[i] = per_step[i].update(counts, shares)
    new = {"current": 1974 - 796, "candidate": 796}
    sh = {"current": 0.4, "candidate": 0.6}
    pooled = pooled.update(new, sh)
    step3 = SequentialSRM(v).update(new, sh)
    log_e = sum(s.test().log_evalue for s in per_step) + step3.test().log_evalue
    assert math.exp(-log_e) < 1e-3
    assert pooled.test().pvalue > 1e-3


def test_fixed_split_promotes_on_min_samples_as_before():
    spec = _spec(split={"current": 0.9, "candidate": 0.1})
    gate = _replay(spec, lambda w, share: share, minutes=30)
    assert gate.final_shift is None
    assert gate.promoted is not None and gate.promoted.number < 30
    assert not any(k.signal == "step-passed" for k in gate.looks)


def test_min_duration_counts_time_with_data_in_both_variants():
    spec = _spec(split={"current": 0.9, "candidate": 0.1}, min_duration="10m")
    plan = build_rollout_plan(spec)
    gate = SequentialGate(spec, plan, "current", "candidate", 0.0)
    # an hour of wall clock, but data in only 6 of its minutes
    for w in (0, 10, 20, 30, 40, 50):
        k = gate.add_look(w, {(w, 0): _cell(9000, 1000)}, {})
    assert k.covered == 360.0 and k.elapsed == 3060.0
    assert gate.promoted is None
    assert any("covered by data in both variants" in r for r in k.reasons)


def test_undecided_rollout_says_what_would_settle_it():
    from abkit.rollout.verdict import rollout_verdict

    spec = _spec(LINEAR)
    gate = _replay(spec, lambda w, share: share, minutes=15)
    v = rollout_verdict(spec, gate)
    assert v.decision == "inconclusive"
    assert v.reasons[0].startswith("no decision yet after 15 looks; steps 1, 2 passed")
    need = [r for r in v.reasons if r.startswith("to promote: ")]
    assert need == ["to promote: the schedule reaches its final shift to 100 % after 40 min: "
                    "25 min more of the rollout"]


def test_settle_names_samples_and_metric_needs():
    from abkit.rollout.verdict import rollout_verdict

    spec = _spec(split={"current": 0.9, "candidate": 0.1}, min_samples=5000)
    plan = build_rollout_plan(spec)
    gate = SequentialGate(spec, plan, "current", "candidate", 0.0)
    for w in range(3):
        gate.add_look(w, {(w, 0): _cell(900, 100)}, {})
    v = rollout_verdict(spec, gate)
    need = [r for r in v.reasons if r.startswith("to promote: ")]
    assert need[0] == ("to promote: min_samples: 4,700 more candidate rows (300 of 5,000, "
                       "about 47 min at the observed rate)")
    assert need[1].startswith("to promote: error_rate: not yet shown non-inferior")
    assert "more candidate rows (at least" in need[1]


# ---------------------------------------------------------------------- calibration
@pytest.mark.slow
@pytest.mark.parametrize("schedule", ["canary", "linear"])
def test_aa_srm_false_alarms_at_or_below_alpha(schedule):
    """A/A: arm sizes binomial at the scheduled share, 100 one-minute looks of 2,000 rows;
    the share of runs in which the per-step SRM *ever* flags at 0.05 must stay within
    alpha + 2 se; the fixed-horizon chi-square re-applied at every look must not (the
    negative control). 400 runs each, seed 20261203: canary 3.25 % (naive 37.0 %), linear
    2.25 % (naive 37.5 %), bound 7.18 %."""
    level, runs = 0.05, 400
    spec = _spec(**({"schedule": {"Type": "CANARY", "CanarySize": {
        "Type": "CAPACITY_PERCENT", "Value": 10}, "WaitIntervalInSeconds": 6000}}
        if schedule == "canary" else {"schedule": {"steps": [round(0.1 * i, 1)
                                                           for i in range(1, 10)],
                                                 "wait": "10m"}}),
                 srm_threshold=level)
    plan = build_rollout_plan(spec)
    sched = plan.schedule
    rng = np.random.default_rng(20261203)
    from scipy.stats import chi2

    flagged = naive = 0
    for _ in range(runs):
        gate = SequentialGate(spec, plan, "current", "candidate", 0.0)
        seen = expected = 0.0
        naive_hit = False
        for w in range(100):
            step = sched.step_index(w * 60.0)
            share = sched.steps[step][1]
            if share >= 1.0:
                break
            n_t = int(rng.binomial(2000, share))
            k = gate.add_look(w, {(w, step): _cell(2000 - n_t, n_t)}, {})
            # negative control: the fixed-horizon chi-square of the cumulative counts against
            # the schedule, re-applied at every look
            seen, expected = seen + n_t, expected + 2000 * share
            total = 2000.0 * (w + 1)
            x2 = (seen - expected) ** 2 / expected + (seen - expected) ** 2 / (total - expected)
            naive_hit |= bool(chi2.sf(x2, 1) < level)
        flagged += k.srm_pvalue is not None and k.srm_pvalue < level
        naive += naive_hit
    bound = level + 2 * math.sqrt(level * (1 - level) / runs)
    print(f"{schedule}: per-step SRM ever flagged {flagged / runs:.2%}, naive re-applied "
          f"chi-square {naive / runs:.2%}, bound {bound:.2%}")
    assert flagged / runs <= bound, (flagged / runs, bound)
    assert naive / runs > bound, (naive / runs, bound)

"""The strategy sections of the text and Markdown reports as raw lines (shadow, blue/green),
and the number helpers every renderer shares; :mod:`abkit.report.render` sanitises them
(the HTML report escapes them itself)."""

from __future__ import annotations

from typing import Any

from ..fmt import fmt_estimate, fmt_num, plural
from ..fmt import fmt_p as _p

__all__ = ["bluegreen_lines", "shadow_lines"]


def _num(x: float | None) -> str:
    return fmt_num(x)


def _ci(ci: dict | None, fmt) -> str:
    return "" if not ci else f" [{fmt(ci['low'])}, {fmt(ci['high'])}]"


def _estimate(x: float | None, ci: dict | None, *, pct: bool = False,
              unit: str | None = None) -> str:
    """An estimate and its interval in one precision (:func:`abkit.fmt.fmt_estimate`)."""
    return fmt_estimate(x, ci, pct=pct, unit=unit)



def _est(x: dict | None, pct: bool = False) -> str:
    """'0.879 [0.857, 0.898]' from {'estimate', 'ci'} (or {'rate', ...})."""
    if not x:
        return "n/a"
    v = x.get("estimate", x.get("rate"))
    return fmt_estimate(v, x.get("ci"), pct=pct, signed=False)


def shadow_lines(doc: dict[str, Any]) -> list[str]:
    """The shadow section as text lines."""
    sh = doc["shadow"]
    u = sh["unmatched"]
    gs = [f"{c['metric']} {c.get('status', '?').upper() if c.get('status') == 'fail' else c.get('status', '?')}"
          for c in doc["comparisons"] if c["role"] == "guardrail"]
    out = ["guardrails: " + (", ".join(gs) if gs else "none")] if gs else []
    out += [f"pairs {sh['pairs']:,} ({sh['labelled_pairs']:,} labelled); unmatched: live only "
           f"{u.get('live_only', 0):,}, shadow only {u.get('shadow_only', 0):,}, labels only "
           f"{u.get('labels_only', 0):,}"]
    fl = sh.get("flips") or {}
    out.append(f"agreement at threshold {sh['threshold']:g}: {_est(sh.get('agreement'), True)}; "
               f"flips negative->positive {_est(fl.get('neg_to_pos'), True)}, "
               f"positive->negative {_est(fl.get('pos_to_neg'), True)}")
    mc = sh.get("mcnemar") or {}
    if mc.get("b") is not None:
        out.append(f"McNemar on correctness: b (live right, candidate wrong) {mc['b']}, "
                   f"c (live wrong, candidate right) {mc['c']}, p = {_p(mc.get('pvalue'))}")
    sc = sh.get("scores") or {}
    if sc.get("mean"):
        sp = (sc.get("spearman") or {}).get("estimate")
        out.append(f"score difference (candidate - live): mean {_est(sc['mean'])}, mean |d| "
                   f"{_num(sc.get('mean_abs'))}; Spearman {_num(sp)}")
    for name, q in (sh.get("quality") or {}).items():
        out.append(f"  {name}: live {_num(q['live'])}, candidate {_num(q['shadow'])}, "
                   f"difference {_estimate(q['diff'], q['ci'])}")
    lat = sh.get("latency")
    if lat:
        for key, row in (lat.get("quantiles") or {}).items():
            ratio = row.get("ratio")
            rci = row.get("ratio_ci") or row.get("ci")
            out.append(f"latency {key}: live {_num((row.get('live') or {}).get('estimate'))}, "
                       f"candidate {_num((row.get('candidate') or {}).get('estimate'))}, "
                       f"ratio {_num(ratio)}{_ci(rci, _num)} ({lat.get('source')})")
    err = sh.get("errors")
    if err:
        out.append(f"errors: live {_est(err.get('live'), True)}, candidate "
                   f"{_est(err.get('candidate'), True)} ({err.get('source')})")
    tests = [d for d in sh.get("drift") or [] if d.get("flags")]
    drifted = [d for d in tests if d.get("drifted")]
    if tests:
        feats = [f"{d['feature']}" + (f" (since {d['onset']})" if d.get("onset") else "")
                 + ("" if d["scope"].startswith("time") else " between variants")
                 for d in drifted]
        out.append(f"drift (KS / chi-square with effect floors): {len(drifted)} of {len(tests)} "
                   "flagged" + (": " + ", ".join(feats) if feats else ""))
    b = sh.get("bias")
    if b:
        for c in b.get("comparisons", []):
            ch = (c.get("dppl") or {}).get("change") or {}
            out.append(f"bias ({b.get('group_column')}): {c.get('facet_d')} vs {c.get('facet_a')}"
                       f": DPPL live {_num(((c.get('dppl') or {}).get('live') or {}).get('estimate'))}"
                       f", candidate {_num(((c.get('dppl') or {}).get('candidate') or {}).get('estimate'))}"
                       f", change {_est(ch)}")
    return out


def bluegreen_lines(doc: dict[str, Any]) -> list[str]:
    """The blue/green section as text lines."""
    bg = doc["bluegreen"]
    sw = bg.get("switch") or {}
    w = bg.get("windows") or {}
    out = [f"switch at {sw.get('time_iso')} ({sw.get('method')}); compared: "
           + "; ".join(f"{x.get('label')} {x.get('start_iso', '')[:19]} - "
                       f"{x.get('end_iso', '')[:19]}" for x in w.values() if isinstance(x, dict))]
    out.append(f"decision based on the {bg.get('basis')} comparison")
    smoke = bg.get("smoke_test") or {}
    if smoke.get("available"):
        out.append("smoke test (both served at the same time): "
                   + ", ".join(f"{c['metric']} {_estimate(c.get('effect'), c.get('ci'))}"
                               for c in smoke.get("comparisons") or []))
    tc = bg.get("time_confounding") or {}
    if tc.get("agrees") is not None:
        out.append("matched hours agree with the plain before/after comparison"
                   if tc["agrees"] else
                   "matched hours DISAGREE with the plain before/after comparison (a daily "
                   "pattern, not the model, may explain the plain one)")
    early = bg.get("early") or {}
    first = early.get("first_regression")
    if first:
        out.append(f"early check (anytime-valid, every {early.get('look_every', 60):g} s): "
                   f"{', '.join(first.get('metrics') or [])} regressed at look "
                   f"{first.get('number')} ({first.get('time_iso', '')}, "
                   f"{(first.get('elapsed') or 0) / 60:.0f} min after the switch)")
    elif early.get("looks"):
        out.append(f"early check (anytime-valid): no regression in "
                   f"{plural(len(early['looks']), 'look')}")
    rb = bg.get("rollback") or {}
    out.append("rollback recommended" + (f" from {rb.get('at_iso')}" if rb.get("at_iso") else "")
               if rb.get("recommended") else "rollback not recommended")
    return out

"""Render a report dict (``Report.to_dict()``) as terminal text, Markdown or an HTML fragment.

Names and values in the report come from logs and specs, so every final line or cell goes
through :mod:`abkit.core.sanitize` once: :func:`~abkit.core.sanitize.plain` in text,
:func:`~abkit.core.sanitize.markdown` in Markdown. The line builders (``comparison_rows``,
``shadow_lines``, ...) return raw strings, for the HTML report escapes them itself.
"""

from __future__ import annotations

import html
from typing import Any

from ..core.sanitize import markdown as _md
from ..core.sanitize import plain
from ..fmt import fmt_num, plural
from .quantile_notes import quantile_notes
from .sections import _estimate, bluegreen_lines, shadow_lines
from ..fmt import fmt_p as _p

__all__ = ["render_text", "render_markdown", "render_html_fragment", "comparison_rows",
           "text_table", "timeline_rows", "shadow_lines", "bluegreen_lines"]

_BADGE = {"go": "GO", "no-go": "NO-GO", "inconclusive": "INCONCLUSIVE"}
_HEAD = ["metric", "role", "treatment", "control", "treat.", "effect [CI]", "relative [CI]",
         "p (two-sided)", "adjusted p", "verdict"]


def table_head(doc: dict[str, Any]) -> list[str]:
    """The comparison table's header for ``doc``: the p-value column says which p-value the
    strategy's rows hold, so no two numbers share one name (the reasons use the same
    labels: adjusted p, harm p, non-inferiority p, anytime-valid p)."""
    head = list(_HEAD)
    if doc.get("timeline") is not None:
        head[7] = "anytime-valid harm p"
    elif doc.get("shadow") is not None:
        head[7] = "non-inferiority p"
    return head


def _units(doc: dict[str, Any]) -> dict[str, str]:
    """Metric name -> its unit, where the spec gives one (``unit = "ms"``)."""
    return {m["name"]: m["unit"] for m in (doc.get("spec") or {}).get("metrics", ())
            if isinstance(m, dict) and m.get("unit")}


def comparison_rows(doc: dict[str, Any]) -> list[list[str]]:
    """One row of display strings per comparison."""
    units = _units(doc)
    rows = []
    for c in doc["comparisons"]:
        # a verdict word only with significance at the decision's level
        verdict = "no difference shown" if c["verdict"] == "neutral" else c["verdict"]
        g = c.get("guardrail")
        if g and g.get("regressed"):
            verdict = "REGRESSED"
        flags = [d["code"] for d in c["diagnostics"]]
        if flags:
            verdict += " (" + ", ".join(flags) + ")"
        if c.get("status"):  # shadow: pass / fail / inconclusive per metric
            verdict = "FAIL" if c["status"] == "fail" else c["status"]
        if g and g["margin"] and c["kind"] in ("quality", "errors", "bias"):
            role = c["role"] + f" (margin {g['margin']:g})"
        else:
            role = c["role"] + (f" (margin {g['margin']:.1%})" if g and g["margin"] else "")
        rows.append([
            c["metric"] + (" (cuped)" if c.get("cuped") else ""),
            role,
            c["treatment"],
            fmt_num(c["control_value"], unit=units.get(c["metric"])),
            fmt_num(c["treatment_value"], unit=units.get(c["metric"])),
            _estimate(c["effect"], c["ci"],  # a quantile's effect: a share (the test's)
                      unit=None if c["kind"] == "quantile" else units.get(c["metric"])),
            _estimate(c["rel_effect"], c["rel_ci"], pct=True),
            _p(c["pvalue"]),
            _p(c["pvalue_adjusted"]),
            verdict,
        ])
    return rows


def text_table(rows: list[list[str]], *, indent: str = "", rule: bool = True,
               head: list[str] | None = None) -> list[str]:
    """The comparison table as aligned text lines, header first (a dashed rule under it)."""
    head = head or _HEAD
    table = [head] + rows
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    out = []
    for j, r in enumerate(table):
        out.append(indent + "  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
        if j == 0 and rule:
            out.append(indent + "  ".join("-" * w for w in widths))
    return out


def _pick_looks(doc: dict[str, Any], most: int | None = 16) -> list[dict | None]:
    """Looks to show: all when few (or ``most=None``), else the first, the deciding and the
    last ones (None marks a gap)."""
    tl = doc.get("timeline") or []
    if most is None or len(tl) <= most:
        return list(tl)
    keep = set(range(4)) | set(range(len(tl) - 4, len(tl)))
    k = doc.get("decided_at_look")
    if k:
        keep |= {i for i in range(k - 3, k + 2) if 0 <= i < len(tl)}
    out: list[dict | None] = []
    for i in sorted(keep):
        if out and out[-1] is not None and i - tl.index(out[-1]) > 1:
            out.append(None)
        out.append(tl[i])
    return out


def timeline_rows(doc: dict[str, Any], *, all_looks: bool = False
                  ) -> tuple[list[str], list[list[str]]]:
    """Header and display rows of the canary/linear timeline: with ``all_looks`` every look
    (the HTML page), else at most 16 with "..." for the gaps (text and Markdown)."""
    names = [c["metric"] for c in doc["comparisons"]]
    ctrl, cand = doc["control"], doc["rollout"]["candidate"]
    head = ["look", "at", "step (share)", f"n {cand} / {ctrl}"] + \
        [f"{n} [CS]" for n in names] + ["signal", "decision"]
    rows = []
    for x in _pick_looks(doc, None if all_looks else 16):
        if x is None:
            rows.append(["..."] + [""] * (len(head) - 1))
            continue
        cells = [str(x["look"]), x["at"][11:19] if x["at"] else "",
                 f"{x['step']} ({x['share']:.0%})",
                 f"{x['n'].get(cand, 0):,} / {x['n'].get(ctrl, 0):,}"]
        for n in names:
            m = x["metrics"].get(n)
            cells.append("n/a" if not m or m["estimate"] is None else
                         _estimate(m["estimate"], m["ci"]))
        cells += [x["signal"], x["decision"]]
        rows.append(cells)
    return head, rows


def _timeline_text(doc: dict[str, Any]) -> list[str]:
    head, rows = timeline_rows(doc)
    table = [[plain(c) for c in r] for r in [head] + rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    n = len(doc["timeline"])
    k = doc.get("decided_at_look")
    out = [f"timeline: {plural(n, 'look')} every {doc['rollout']['look_every_s']:g} s"
           + (f"; decided at look {k} ({doc['decided_at']})" if k else "; no decision")]
    for j, r in enumerate(table):
        out.append("  " + "  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
        if j == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return out


def _data_lines(doc: dict[str, Any]) -> list[str]:
    d = doc["data"]
    rej = sum(d["rows_rejected"].values())
    lines = [f"rows read {d['rows_read']:,}, used {d['rows_used']:,}, rejected {rej:,}"]
    for reason, n in d["rows_rejected"].items():
        cols = d["rejected_columns"].get(reason)
        extra = f" (columns: {', '.join(f'{k} {v:,}' for k, v in cols.items())})" if cols else ""
        lines.append(f"  {reason}: {n:,}{extra}")
    if d["unknown_variants"]:
        lines.append("  unknown variants: " + ", ".join(
            f"{k!r} {v:,}" for k, v in d["unknown_variants"].items()))
    for reason, ex in d["examples"].items():
        label = f"first {reason}" if reason in d["rows_rejected"] else reason.replace("_", " ")
        lines.append(f"  {label}: {ex}")
    units = ", ".join(f"{k} {v:,}" for k, v in d["units"].items())
    s = doc["srm"]
    exp = ", ".join(f"{k} {v:.1%}" for k, v in s["expected"].items())
    status = "passed" if s["passed"] else "FAILED"
    what = "rows" if doc.get("timeline") is not None else "units"
    seq = "sequential " if doc.get("timeline") is not None else ""
    if doc.get("shadow") is not None or doc.get("bluegreen") is not None:
        lines.append(f"rows: {units}")
        return lines
    if s["passed"] is None:  # the designed split is unknown: nothing was tested
        lines.append(f"{what}: {units}; SRM not tested: split unknown (give --split or "
                     "--endpoint-config)")
        return lines
    lines.append(f"{what}: {units}; {seq}SRM {status} (p = {_p(s['pvalue'])}, expected {exp})")
    return lines


def render_text(doc: dict[str, Any]) -> str:
    """A compact terminal report, decision first."""
    out = [f"abkit {doc['strategy']} analysis: {_BADGE[doc['decision']]}"]
    out += [f"  - {r}" for r in doc["reasons"]]
    out.append("")
    out += _data_lines(doc)
    for note in doc["inferred"]:
        out.append(f"inferred {note}")
    for w in doc["warnings"]:
        out.append(f"warning: {w}")
    out.append("")
    out += _standing(doc)
    out += text_table([[plain(c) for c in r] for r in comparison_rows(doc)],
                      head=table_head(doc))
    out += [plain(line) for line in quantile_notes(doc)]
    st = doc["settings"]
    out.append("")
    if doc.get("bluegreen") is not None:
        out += bluegreen_lines(doc)
        out.append("")
    if doc.get("shadow") is not None:
        out += shadow_lines(doc)
        out.append("")
        out.append(f"alpha {st['alpha']:g}, {st['confidence_level']:.0%} CIs; differences are "
                   "candidate - live on the same requests; margins are absolute (latency: "
                   "relative)")
        return _text_lines(out)
    if doc.get("timeline") is not None:
        out += _timeline_text(doc)
        out.append("")
        out.append(
            f"alpha {st['alpha']:g}: anytime-valid {st['confidence_level']:.0%} confidence "
            f"sequences; rollback tests one-sided at {st['alpha_rollback']:.3g} "
            f"(Bonferroni over gating metrics); effects are candidate - control"
        )
        return _text_lines(out)
    out.append(
        f"alpha {st['alpha']:g}, {st['confidence_level']:.0%} CIs, correction "
        f"{st['correction']}; effects are treatment - control"
    )
    return _text_lines(out)


def _standing(doc: dict[str, Any]) -> list[str]:
    """A rollout's table is one look: say which (the look that decided, or the last)."""
    tl = doc.get("timeline")
    if not tl:
        return []
    k = doc.get("decided_at_look")
    look = tl[k - 1] if k else tl[-1]
    why = "the look that decided" if k else "the last look"
    return [f"comparisons at look {look['look']} ({look['at']}, step {look['step']}), {why}:"]


def _text_lines(lines: list[str]) -> str:
    """The text report: each line through :func:`plain` (idempotent, so the table cells
    sanitised before alignment stay as they are), so no name can start a line of its own."""
    return "\n".join(plain(line) for line in lines) + "\n"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(_md(c) for c in cells) + " |"


def render_markdown(doc: dict[str, Any]) -> str:
    """Markdown for pull-request comments and ``$GITHUB_STEP_SUMMARY``."""
    icon = {"go": "✅", "no-go": "❌", "inconclusive": "⚠️"}[doc["decision"]]
    out = [f"### {icon} abkit {_md(doc['strategy'])}: **{_BADGE[doc['decision']]}**", ""]
    out += [f"- {_md(r)}" for r in doc["reasons"]]
    out += [f"- ⚠️ {_md(w)}" for w in doc["warnings"]]
    out.append("")
    out += [x for line in _standing(doc) for x in (_md(line), "")]
    out.append(_md_row(table_head(doc)))
    out.append("|" + "---|" * len(_HEAD))
    out += [_md_row(r) for r in comparison_rows(doc)]
    out.append("")
    out += [f"<sub>{_md(line)}</sub><br>" for line in quantile_notes(doc)]
    if doc.get("shadow") is not None:
        out += [f"- {_md(line)}" for line in shadow_lines(doc)]
        out.append("")
    if doc.get("bluegreen") is not None:
        out += [f"- {_md(line)}" for line in bluegreen_lines(doc)]
        out.append("")
    if doc.get("timeline") is not None:
        head, rows = timeline_rows(doc)
        out.append("<details><summary>timeline</summary>")
        out.append("")
        out.append(_md_row(head))
        out.append("|" + "---|" * len(head))
        out += [_md_row(r) for r in rows]
        out.append("")
        out.append("</details>")
        out.append("")
    out += [f"<sub>{_md(line.strip())}</sub><br>" for line in _data_lines(doc)]
    return "\n".join(out) + "\n"


def render_html_fragment(doc: dict[str, Any]) -> str:
    """A small escaped HTML table for notebooks (``_repr_html_``); control and bidi
    characters shown as escapes (:func:`plain`), as in the text report."""
    def e(x: str) -> str:
        return html.escape(plain(x))

    colour = {"go": "#1a7f37", "no-go": "#cf222e", "inconclusive": "#9a6700"}[doc["decision"]]
    parts = [
        f'<div class="abkit-report"><p><strong style="color:{colour}">'
        f"{e(_BADGE[doc['decision']])}</strong> abkit {e(doc['strategy'])} analysis</p><ul>",
        *[f"<li>{e(r)}</li>" for r in doc["reasons"]],
        "</ul><table><thead><tr>",
        *[f"<th>{e(h)}</th>" for h in table_head(doc)],
        "</tr></thead><tbody>",
    ]
    for r in comparison_rows(doc):
        parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>")
    parts.append("</tbody></table>")
    parts += [f"<div><small>{e(line)}</small></div>" for line in _data_lines(doc)]
    parts.append("</div>")
    return "".join(parts)

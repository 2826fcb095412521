"""The SQL that decides the common capture and ground-truth lines (see :mod:`.duckdb_capture`).

Every query reads a table ``lines(r, line)`` (``r`` the row's position) and returns the rows
it can decide *as the Python rules would*: ``r`` plus the values of a used record. It is
conservative on purpose: a line is returned only when every rule it touches is known to give
the Python answer (strict JSON, no duplicate keys on the read objects, ASCII edges around
ids and tokens, plain numbers). Everything else (every rejection among them) is left to the
Python rules of :mod:`.records`, which produce the reference verdict and message.

Known differences of DuckDB's JSON reader that the guards cover: it accepts trailing commas,
``inf``/``nan`` tokens and duplicate keys (it reads the first, Python the last), and rejects
lone surrogate escapes; Python raises RecursionError on deep nesting.
"""

from __future__ import annotations

from typing import Sequence

#: numbers as both Python's float() and DuckDB's cast read them identically
_NUM = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
#: a CSV payload whose first field is a plain number (no quotes, one line)
_CSV_NUM = r"^[ \t\n\r\f]*(" + _NUM + r")[ \t\r\f]*(?:,[^\n\"]*)?[ \t\n\r\f]*$"
#: the ASCII whitespace both Python's str.strip() and this SQL strip
_WS = "chr(32) || chr(9) || chr(10) || chr(13) || chr(11) || chr(12)"
_GENERIC = ("octet-stream", "binary", "application/x-www-form-urlencoded", "text/")
_MAX_BRACKETS = 64


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def json_path(steps: Sequence[str | int]) -> str | None:
    """A DuckDB JSON path for parsed ``steps``; None when a key cannot be written safely."""
    out = "$"
    for st in steps:
        if isinstance(st, int):
            if abs(st) >= 2**31:  # DuckDB cannot bind the path; the Python rules read it
                return None
            out += f"[{st}]" if st >= 0 else f"[#{st}]"
        else:
            if any(c in st for c in "\"\\'") or any(ord(c) < 32 for c in st):
                return None
            out += f'."{st}"'
    return out


def _key_parents(steps: Sequence[str | int]) -> list[str]:
    """Paths of the objects whose keys ``steps`` read (to check they hold no duplicates)."""
    parents = []
    for k, st in enumerate(steps):
        if isinstance(st, str):
            parents.append(json_path(steps[:k]) or "$")
    return parents


#: text Python's json would reject although DuckDB reads it (a trailing comma; a bare
#: inf/nan/Infinity/NaN token, which Python either rejects or reads as non-finite), or may
#: read differently: such lines go to the Python rules
_GUARD = (r",[ \t\n\r]*[\]}]|(?:^|[:,\[])[ \t\n\r]*[-+]?(?:[nN][aA][nN]|[iI][nN][fF])")
#: text shorter than this cannot nest deep enough for Python's recursion limit (1000) to
#: matter; longer text is sent to Python when it holds more than _MAX_BRACKETS brackets
_SHORT = 1000


def _guard_ok(text: str) -> str:
    """True unless ``text`` holds JSON that Python reads otherwise, or deep nesting
    (validity itself is checked by ``json_valid``)."""
    return (f"(NOT regexp_matches({text}, {quote(_GUARD)}) AND (length({text}) < "
            f"{_SHORT} OR length({text}) - length(replace(replace({text}, '{{', ''), '[', ''))"
            f" <= {_MAX_BRACKETS}))")


def _strict_json(text: str) -> str:
    """``text`` when it is JSON that Python's json reads the same way, else NULL."""
    return f"CASE WHEN json_valid({text}) AND {_guard_ok(text)} THEN {text} END"


def _distinct_keys(j: str, paths: Sequence[str]) -> str:
    if not paths:
        return "TRUE"
    lst = ", ".join(quote(p) for p in paths)
    return (f"list_bool_and(list_transform(json_keys({j}, [{lst}]), "
            "lambda k: k IS NULL OR len(k) = len(list_distinct(k))))")


def _ascii_edges(x: str) -> str:
    return (f"(length({x}) > 0 AND left({x}, 1) BETWEEN '!' AND '~' "
            f"AND right({x}, 1) BETWEEN '!' AND '~')")


def _payload(p: str) -> tuple[str, str]:
    """(kind, text) SQL of a payload whose columns are ``{p}_enc, {p}_dty, {p}_data,
    {p}_cty, {p}_ct, {p}_b64``: kind 'csv' / 'json' when the Python decoder would read it
    that way, NULL when the line needs the Python rules."""
    ct = f"lower({p}_ct)"
    ct_ok = (f"({p}_cty IS NULL OR {p}_cty = 'NULL' OR ({p}_cty = 'VARCHAR' AND "
             f"regexp_full_match({p}_ct, '[ -~]*')))")
    generic = " OR ".join(f"contains({ct}, {quote(g)})" for g in _GENERIC)
    sniff = (f"CASE WHEN regexp_matches({p}_b64, '^[ \\t\\n\\r]*[\\[{{]') THEN 'json' "
             f"WHEN regexp_full_match({p}_b64, '[\\t\\n\\r -~]*') THEN 'csv' END")
    kind = (f"CASE WHEN {p}_enc = 'CSV' AND {p}_dty = 'VARCHAR' THEN 'csv' "
            f"WHEN {p}_enc = 'JSON' AND {p}_dty IN ('VARCHAR', 'OBJECT', 'ARRAY', 'BIGINT', "
            f"'UBIGINT', 'DOUBLE') THEN 'json' "
            f"WHEN {p}_b64 IS NOT NULL AND {ct_ok} THEN CASE "
            f"WHEN contains(coalesce({ct}, ''), 'json') THEN 'json' "
            f"WHEN contains(coalesce({ct}, ''), 'csv') OR contains(coalesce({ct}, ''), "
            f"'text/plain') THEN 'csv' "
            f"WHEN coalesce({p}_ct, '') = '' OR {generic} THEN {sniff} END END")
    text = f"CASE WHEN {p}_enc IN ('CSV', 'JSON') THEN {p}_data ELSE {p}_b64 END"
    return kind, text


def _base64(p: str) -> str:
    return (f"CASE WHEN {p}_enc = 'BASE64' AND {p}_dty = 'VARCHAR' AND "
            f"length({p}_data) % 4 = 0 AND regexp_full_match({p}_data, '[A-Za-z0-9+/]*={{0,2}}')"
            f" THEN try(decode(from_base64({p}_data))) END")


def _json_number(val: str, vty: str) -> str:
    return (f"CASE WHEN {vty} = 'BIGINT' THEN CAST(CAST({val} AS BIGINT) AS DOUBLE) "
            f"WHEN {vty} = 'UBIGINT' THEN CAST(CAST({val} AS UBIGINT) AS DOUBLE) "
            f"WHEN {vty} = 'DOUBLE' THEN TRY_CAST(CAST({val} AS VARCHAR) AS DOUBLE) END")


def _csv_number(text: str) -> str:
    return (f"CASE WHEN regexp_matches({text}, {quote(_CSV_NUM)}) THEN "
            f"TRY_CAST(regexp_extract({text}, {quote(_CSV_NUM)}, 1) AS DOUBLE) END")


def _value(j: str, steps) -> str:
    return f"json_extract({j}, {quote(json_path(steps))})" if steps else j


def capture_sql(n_feat: int, out_steps, lab_steps, lo: float, hi: float) -> str:
    """The query deciding common capture lines (see the module docstring)."""
    cap, out, inp, meta = ("$.captureData", "$.captureData.endpointOutput",
                           "$.captureData.endpointInput", "$.eventMetadata")
    paths = ["$", cap, out, meta, f"{meta}.inferenceTime", f"{meta}.eventId",
             f"{meta}.inferenceId", f"{out}.encoding", f"{out}.data", f"{out}.observedContentType",
             inp, f"{inp}.encoding", f"{inp}.data", f"{inp}.observedContentType"]
    lst = ", ".join(quote(p) for p in paths)
    leaves = ", ".join(quote(p) for k, p in enumerate(paths) if k in (4, 5, 6, 7, 8, 9, 11, 12, 13))
    key_objs = ["$", cap, out, meta] + ([inp] if n_feat else [])
    o_kind, o_text = _payload("o")
    i_kind, i_text = _payload("i")
    o_val = _value("o_j", out_steps)
    lab = (f", CASE WHEN o_kind = 'json' THEN CAST({_value('o_j', lab_steps)} AS VARCHAR) END"
           " AS lab" if lab_steps is not None else "")
    dup_o = _distinct_keys("o_j", _key_parents(out_steps or ()) +
                           _key_parents(lab_steps or ()))
    toks = "".join(f", toks[{k + 1}] AS t{k}, CASE WHEN regexp_full_match(toks[{k + 1}], "
                   f"{quote(_NUM)}) THEN TRY_CAST(toks[{k + 1}] AS DOUBLE) END AS x{k}"
                   for k in range(n_feat))
    in_ok = (f"i_kind = 'csv' AND {_ascii_edges('core')} AND NOT contains(core, chr(10)) "
             f"AND NOT contains(core, '\"') AND len(toks) = {n_feat}") if n_feat else "TRUE"
    lo_s, hi_s = (f"CAST({quote(repr(float(v)))} AS DOUBLE)" for v in (lo, hi))
    return f"""
WITH b0 AS MATERIALIZED (
    -- its own step: inlined, DuckDB computes json_type once per ty[i] test below
    SELECT r, v, json_type(line, [{lst}]) AS ty, json_extract_string(line, [{leaves}]) AS s,
           {_distinct_keys('line', key_objs)} AS keys_ok
    FROM lines WHERE json_valid(line) AND {_guard_ok('line')}),
b AS MATERIALIZED (
  SELECT r, v, ty, s, keys_ok FROM b0
  WHERE ty[1] = 'OBJECT' AND ty[2] = 'OBJECT' AND ty[3] = 'OBJECT'
    AND ty[4] = 'OBJECT' AND ty[5] = 'VARCHAR'
    AND (ty[6] IS NULL OR ty[6] IN ('NULL', 'VARCHAR'))
    AND (ty[7] IS NULL OR ty[7] IN ('NULL', 'VARCHAR'))
    AND (ty[6] = 'VARCHAR' OR ty[7] = 'VARCHAR')
    {"AND ty[11] = 'OBJECT'" if n_feat else ""}),
c AS (SELECT r, v, s[1] AS ts, CASE WHEN ty[6] = 'VARCHAR' THEN s[2] END AS eid,
             CASE WHEN ty[7] = 'VARCHAR' THEN s[3] END AS iid,
             s[4] AS o_enc, ty[9] AS o_dty, s[5] AS o_data, ty[10] AS o_cty, s[6] AS o_ct,
             s[7] AS i_enc, ty[13] AS i_dty, s[8] AS i_data, ty[14] AS i_cty, s[9] AS i_ct
      FROM b
      WHERE keys_ok AND (ty[6] IS DISTINCT FROM 'VARCHAR' OR {_ascii_edges('s[2]')})
        AND (ty[7] IS DISTINCT FROM 'VARCHAR' OR {_ascii_edges('s[3]')})),
d AS (SELECT *, {_base64('o')} AS o_b64, {_base64('i') if n_feat else 'NULL'} AS i_b64 FROM c),
e AS MATERIALIZED (SELECT *, {o_kind} AS o_kind, {o_text} AS o_text,
             {i_kind if n_feat else 'NULL'} AS i_kind, {i_text if n_feat else 'NULL'} AS i_text
      FROM d),
f AS MATERIALIZED (  -- its own step: inlined, trim(i_text) is computed once per use
      SELECT *, CASE WHEN o_kind = 'json' THEN {_strict_json('o_text')} END AS o_j,
             trim(i_text, {_WS}) AS core
      FROM e WHERE o_kind IS NOT NULL),
g AS (SELECT *, {o_val} AS o_val, string_split(core, ',') AS toks FROM f
      WHERE o_kind = 'csv' OR o_j IS NOT NULL),
h AS (SELECT *, CASE WHEN o_kind = 'csv' THEN {_csv_number('o_text')}
                     ELSE {_json_number('o_val', 'json_type(o_val)')} END AS y
             {lab}
      FROM g WHERE (o_kind = 'csv' OR {dup_o}) AND {in_ok})
SELECT r, v, eid, iid, ts, y{', lab' if lab_steps is not None else ''}{toks}
FROM h WHERE isfinite(y) AND y >= {lo_s} AND y <= {hi_s}
"""


def label_sql(steps, label_kind: str) -> str:
    """The query deciding common ground-truth lines: ``r, eid, y, ts``."""
    gt, meta = "$.groundTruthData", "$.eventMetadata"
    paths = ["$", gt, meta, f"{meta}.eventId", f"{meta}.inferenceId", f"{meta}.inferenceTime",
             f"{gt}.encoding", f"{gt}.data", f"{gt}.observedContentType"]
    lst = ", ".join(quote(p) for p in paths)
    kind, text = _payload("g")
    val = _value("g_j", steps)
    csv_tok = f"regexp_extract(g_text, {quote(_CSV_NUM.replace(_NUM, '[A-Za-z0-9.+-]+'))}, 1)"
    if label_kind == "binary":
        y_csv = (f"CASE WHEN lower({csv_tok}) IN ('1', '1.0', 'true', 'yes') THEN 1.0 "
                 f"WHEN lower({csv_tok}) IN ('0', '0.0', 'false', 'no') THEN 0.0 END")
        num = _json_number("g_val", "g_vty")
        y_json = f"CASE WHEN {num} IN (0, 1) THEN {num} END"
    else:
        y_csv, y_json = _csv_number("g_text"), _json_number("g_val", "g_vty")
    return f"""
WITH a AS (SELECT r, {_strict_json('line')} AS j FROM lines),
b AS MATERIALIZED (SELECT r, json_type(j, [{lst}]) AS ty, json_extract_string(j, [{lst}]) AS s,
             {_distinct_keys('j', ['$', gt, meta])} AS keys_ok
      FROM a WHERE j IS NOT NULL),
c AS (SELECT r, CASE WHEN ty[4] = 'VARCHAR' THEN s[4] ELSE s[5] END AS eid,
             CASE WHEN ty[6] = 'VARCHAR' THEN s[6] END AS ts,
             s[7] AS g_enc, ty[8] AS g_dty, s[8] AS g_data, ty[9] AS g_cty, s[9] AS g_ct
      FROM b
      WHERE keys_ok AND ty[1] = 'OBJECT' AND ty[2] = 'OBJECT' AND ty[3] = 'OBJECT'
        AND ((ty[4] = 'VARCHAR' AND {_ascii_edges('s[4]')})
             OR ((ty[4] IS NULL OR ty[4] = 'NULL') AND ty[5] = 'VARCHAR'
                 AND {_ascii_edges('s[5]')}))),
d AS (SELECT *, {_base64('g')} AS g_b64 FROM c),
e AS (SELECT *, {kind} AS g_kind, {text} AS g_text FROM d),
f AS (SELECT *, CASE WHEN g_kind = 'json' THEN {_strict_json('g_text')} END AS g_j
      FROM e WHERE g_kind IS NOT NULL),
g AS (SELECT *, {val} AS g_val FROM f WHERE g_kind = 'csv' OR g_j IS NOT NULL),
h AS (SELECT *, json_type(g_val) AS g_vty FROM g
      WHERE g_kind = 'csv' OR {_distinct_keys('g_j', _key_parents(steps or ()))}),
k AS (SELECT r, eid, ts, CASE WHEN g_kind = 'csv' THEN {y_csv} ELSE {y_json} END AS y FROM h)
SELECT r, eid, y, ts FROM k WHERE isfinite(y)
"""

"""The one sanitiser for text that came from logs or specs (variant labels, metric and column
names, file names, values quoted in messages) before it reaches a terminal, Markdown,
``$GITHUB_STEP_SUMMARY`` or an error message.

:func:`plain` is for terminal text and messages. It shows as visible escapes every character
that could move the cursor, recolour or clear the screen, open a hyperlink, ring the bell,
start a new line or reorder what the reader sees:

* C0 controls ``U+0000``-``U+001F``: ``\\n``, ``\\r`` and ``\\t`` as themselves
  (backslash + letter), the others as ``\\xNN`` (ESC is ``\\x1b``);
* DEL ``U+007F`` and the C1 controls ``U+0080``-``U+009F`` (CSI ``\\x9b``, OSC ``\\x9d``,
  NEL ``\\x85``) as ``\\xNN``;
* Unicode bidirectional controls (``U+061C``, ``U+200E``, ``U+200F``, ``U+202A``-``U+202E``,
  ``U+2066``-``U+2069``), the line and paragraph separators ``U+2028``/``U+2029`` and lone
  surrogates as ``\\uNNNN``.

Everything else, backslashes included, passes unchanged, so ordinary names and file paths
(Windows ones too) read as before. The price is that the text ``\\x1b`` and a real ESC look
the same once escaped: the output is for reading, not for parsing back. ``plain`` is
idempotent (its output holds nothing it would escape).

:func:`markdown` is :func:`plain` plus escaping what could change the structure of GitHub
Markdown, for table cells, list items and ``<sub>`` lines. The set is kept small so that
ordinary names (``conversion_rate``, ``latency_ms``, ``p99``, ``data/x.csv``) and abkit's
own wording (``[low, high]`` intervals, ``(margin 5.0%)``) render unchanged:

* ``\\`` ``\\``-escaped first (so a name cannot cancel the escapes that follow);
* ``&``, ``<``, ``>`` as HTML entities (no raw HTML, no ``<http://...>`` autolinks, no
  ``&#27;`` character references, no ``>`` block quotes);
* ``|`` (a table cell boundary), `````` ` `````` (code spans), ``*`` and ``~`` (emphasis and
  GFM strikethrough) everywhere;
* ``_`` only at a word boundary: GitHub does not emphasise on intraword underscores, so
  ``conversion_rate`` stays as it is while ``_x_`` becomes ``\\_x\\_``;
* ``]`` when ``(`` or ``:`` follows it: without ``](`` there is no inline link or image and
  without ``]:`` no link reference definition, so ``[``/``]`` themselves stay (``!`` is
  harmless without them);
* at the start of the text only, after any spaces (a list item's content may be indented):
  ``#`` (a heading inside a list item), ``-``/``+`` and ``1.``/``1)`` followed by a space or
  the end (a nested list), and ``-`` followed by ``-`` (``---`` or ``-- -``, a thematic
  break). A leading ``-`` before a digit stays, so ``-0.026`` renders as before.

Not escaped, as they do not change the structure: ``@mentions``, ``#123`` issue references,
``:emoji:`` shortcodes and bare URLs (GitHub links them; they stay visible text).
``markdown`` is *not* idempotent: a second pass escapes the backslashes and entities of the
first. Call it once, on the final cell or line.

This module imports nothing from abkit.
"""

from __future__ import annotations

import re

__all__ = ["plain", "markdown", "UNSAFE_CHARS"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BIDI_AND_SEPARATORS = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A),
                        0x2028, 0x2029]


def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in [*range(0x00, 0x20), *range(0x7F, 0xA0)]:
        table[cp] = _NAMED.get(chr(cp), f"\\x{cp:02x}")
    for cp in [*_BIDI_AND_SEPARATORS, *range(0xD800, 0xE000)]:
        table[cp] = f"\\u{cp:04x}"
    return table


_TABLE = _table()
#: every character :func:`plain` escapes (for tests and for callers that want to check)
UNSAFE_CHARS = frozenset(chr(cp) for cp in _TABLE)
_UNSAFE_RE = re.compile("[" + "".join(re.escape(c) for c in sorted(UNSAFE_CHARS)) + "]")


def plain(text: object) -> str:
    """``text`` (``str()`` of it) with every control, bidi and line-separator character shown
    as a visible escape (see the module docstring). Idempotent; at most six characters out
    per character in."""
    s = text if isinstance(text, str) else str(text)
    if not _UNSAFE_RE.search(s):
        return s
    return s.translate(_TABLE)


_MD_CHARS = {"\\": "\\\\", "&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "`": "\\`",
             "*": "\\*", "~": "\\~"}
_MD_RE = re.compile(r"[\\&<>|`*~]")
_UNDERSCORES = re.compile(r"_+")
_LINK_CLOSE = re.compile(r"\](?=[(:])")
_LEADING_MARKER = re.compile(
    r"^( *)(?:(#)|(-(?=-)|[-+](?=\s|$))|(\d{1,9})([.)])(?=\s|$))")


def _underscores(m: re.Match) -> str:
    s, i, j = m.string, m.start(), m.end()
    intraword = i > 0 and j < len(s) and s[i - 1].isalnum() and s[j].isalnum()
    return m.group(0) if intraword else "\\_" * (j - i)


def _leading(m: re.Match) -> str:
    indent = m.group(1)
    if m.group(2):
        return indent + "\\#"
    if m.group(3):
        return indent + "\\" + m.group(3)
    return indent + m.group(4) + "\\" + m.group(5)


def markdown(text: object) -> str:
    """``text`` made safe to place in a GitHub Markdown table cell, list item or ``<sub>``
    line: :func:`plain`, then the Markdown escapes of the module docstring. Not idempotent:
    apply it once, to the final string."""
    s = plain(text)
    s = _MD_RE.sub(lambda m: _MD_CHARS[m.group(0)], s)
    if "_" in s:
        s = _UNDERSCORES.sub(_underscores, s)
    if "]" in s:
        s = _LINK_CLOSE.sub("\\]", s)
    return _LEADING_MARKER.sub(_leading, s, count=1)

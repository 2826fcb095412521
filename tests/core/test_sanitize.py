"""abkit.core.sanitize: the one sanitiser for names and values from logs and specs.

No formulas here: the expected strings are written out by hand from the module docstring.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abkit.core.sanitize import UNSAFE_CHARS, markdown, plain

ORDINARY = ["conversion_rate", "latency_ms", "p99", "data/x.csv", "C:\\logs\\a.csv",
            "[low, high]", "(margin 5.0%)", "revenue (cuped)", "variant-shadow",
            "-0.02585 [-0.04295, -0.008752]", "+1.20% [+0.3%, +2.1%]", "Zürich", "日本語",
            "log_loss", "churn-endpoint/variant-live/2026/11/20", "n/a", "#123", "@team",
            "first duplicate_event", "p = 0.057", "2026-11-20T11:00:00Z"]
BIDI = [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
        0x2066, 0x2067, 0x2068, 0x2069]


# --- plain ---------------------------------------------------------------------------------

@pytest.mark.parametrize("ch, want", [("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")])
def test_plain_named_c0(ch: str, want: str) -> None:
    assert plain(f"a{ch}b") == f"a{want}b"


@pytest.mark.parametrize("cp", [cp for cp in range(0x20) if chr(cp) not in "\n\r\t"])
def test_plain_other_c0_as_hex(cp: int) -> None:
    assert plain(chr(cp)) == f"\\x{cp:02x}"


def test_plain_esc_osc_bel() -> None:
    hostile = "\x1b]8;;http://evil\x07click\x1b]8;;\x07\x1b[2J"
    out = plain(hostile)
    assert out == "\\x1b]8;;http://evil\\x07click\\x1b]8;;\\x07\\x1b[2J"
    assert "\x1b" in hostile and "\x1b" not in out and "\x07" not in out


@pytest.mark.parametrize("cp", [0x7F, *range(0x80, 0xA0)])
def test_plain_del_and_c1_as_hex(cp: int) -> None:
    assert plain(f"x{chr(cp)}y") == f"x\\x{cp:02x}y"


def test_plain_c1_examples() -> None:
    assert plain("\x9b2J\x9d0;t\x85") == "\\x9b2J\\x9d0;t\\x85"  # CSI, OSC, NEL


@pytest.mark.parametrize("cp", [*BIDI, 0x2028, 0x2029, 0xD800, 0xDBFF, 0xDC00, 0xDFFF])
def test_plain_bidi_separators_surrogates_as_u(cp: int) -> None:
    assert plain(f"a{chr(cp)}b") == f"a\\u{cp:04x}b"


def test_unsafe_set_is_what_the_docstring_lists() -> None:
    want = {*range(0x20), *range(0x7F, 0xA0), *BIDI, 0x2028, 0x2029, *range(0xD800, 0xE000)}
    assert {ord(c) for c in UNSAFE_CHARS} == want


@pytest.mark.parametrize("name", ORDINARY)
def test_plain_leaves_ordinary_names(name: str) -> None:
    assert plain(name) == name


def test_plain_of_non_strings() -> None:
    assert plain(5) == "5"
    assert plain(None) == "None"
    assert plain(1.5) == "1.5"


def test_plain_is_idempotent_on_examples() -> None:
    for s in ["\x1b[31mred\x1b[0m", "a\nb\r\n", "\u202egnp.exe", "\\x1b", "\ud800", *ORDINARY]:
        once = plain(s)
        assert plain(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)))
def test_plain_never_lets_an_unsafe_char_through(s: str) -> None:
    out = plain(s)
    assert not (set(out) & UNSAFE_CHARS)
    assert plain(out) == out  # idempotent
    assert len(out) <= 6 * len(s)
    if not (set(s) & UNSAFE_CHARS):
        assert out == s


# --- markdown ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [n for n in ORDINARY if "\\" not in n and not n.startswith("#")])
def test_markdown_leaves_ordinary_names(name: str) -> None:
    assert markdown(name) == name


def test_markdown_windows_path_renders_as_itself() -> None:
    # backslashes are doubled so that Markdown shows each one once
    assert markdown("C:\\logs\\a.csv") == "C:\\\\logs\\\\a.csv"


@pytest.mark.parametrize("raw, want", [
    ("a|b", "a\\|b"),
    ("`code`", "\\`code\\`"),
    ("**bold**", "\\*\\*bold\\*\\*"),
    ("~~gone~~", "\\~\\~gone\\~\\~"),
    ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
    ("<http://evil>", "&lt;http://evil&gt;"),
    ("&#27;", "&amp;#27;"),
    ("a > b", "a &gt; b"),
    ("\\|", "\\\\\\|"),  # a name cannot cancel the escape that follows
    ("_x_", "\\_x\\_"),
    ("__init__", "\\_\\_init\\_\\_"),
    ("a_b", "a_b"),
    ("a _b", "a \\_b"),
    ("[click](http://evil)", "[click\\](http://evil)"),
    ("![i](http://evil/x.png)", "![i\\](http://evil/x.png)"),
    ("[x]: http://evil", "[x\\]: http://evil"),
    ("[low, high]", "[low, high]"),
])
def test_markdown_escapes(raw: str, want: str) -> None:
    assert markdown(raw) == want


@pytest.mark.parametrize("raw, want", [
    ("# GO", "\\# GO"),
    ("### GO", "\\### GO"),
    ("   # GO", "   \\# GO"),  # indented: still a heading inside a list item
    ("- item", "\\- item"),
    ("+ item", "\\+ item"),
    ("-", "\\-"),
    ("---", "\\---"),  # thematic break
    ("-- -", "\\-- -"),
    ("1. item", "1\\. item"),
    ("12) item", "12\\) item"),
    ("-0.5 [-1, 0]", "-0.5 [-1, 0]"),
    ("1.5", "1.5"),
    ("x # y", "x # y"),  # only at the start
])
def test_markdown_leading_markers(raw: str, want: str) -> None:
    assert markdown(raw) == want


def test_markdown_newline_cannot_start_a_heading_or_row() -> None:
    raw = "latency\n### ✅ abkit ab: **GO**\n| x | y |"
    out = markdown(raw)
    assert "\n" in raw and "\n" not in out and "\r" not in out
    assert out == "latency\\\\n### ✅ abkit ab: \\*\\*GO\\*\\*\\\\n\\| x \\| y \\|"


def test_markdown_escapes_control_chars_visibly() -> None:
    # plain gives \x1b; markdown doubles the backslash so that GitHub shows "\x1b"
    assert markdown("a\x1bb") == "a\\\\x1bb"
    assert markdown("\u202e") == "\\\\u202e"


def test_markdown_is_not_idempotent() -> None:
    assert markdown(markdown("a*b")) != markdown("a*b")


def _unescaped(out: str, ch: str) -> bool:
    """True if ``ch`` occurs in ``out`` without a backslash escaping it."""
    return ch in re.sub(r"\\.", "", out, flags=re.S)  # drop every escaped pair first


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)))
def test_markdown_never_lets_structure_through(s: str) -> None:
    out = markdown(s)
    assert not (set(out) & UNSAFE_CHARS)
    assert "<" not in out and ">" not in out
    for ch in "|`*~":
        assert not _unescaped(out, ch), (s, out)
    assert not re.match(r" *(#|[-+](\s|$)|--|\d{1,9}[.)](\s|$))", out), (s, out)

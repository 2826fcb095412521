"""A test helper: two JSON-like values equal up to floating-point noise (shared by the
blue/green cell tests and the blue/green engine conformance test)."""

from __future__ import annotations

import math

REL = 1e-9


def close_json(a, b) -> bool:
    """The same keys, lengths and strings, and numbers equal to 1e-9 relative (1e-9 absolute:
    early-look estimates are differences of means near 0)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            close_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(close_json, a, b))
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=REL, abs_tol=1e-9)
    return a == b

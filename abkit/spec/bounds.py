"""The bounds every spec is held to, and the helpers that enforce them.

A spec is small, hand-written text; nothing in it should be able to make abkit run for
minutes, exhaust memory or recurse without end. The limits:

* ``MAX_SPEC_BYTES`` (1 MiB): a larger spec file is refused before it is parsed;
* ``MAX_DEPTH`` (20): tables/arrays (TOML) or mappings/sequences (YAML) nested deeper are
  refused (the deepest shipped form, a SageMaker ``DeploymentConfig`` schedule, needs 6);
* ``MAX_STEPS`` (10,000): a rollout schedule with more steps is refused (a SageMaker
  ``LINEAR`` schedule with a 0.00001 % step would otherwise build ten million);
* ``MAX_LOOKS`` (10,000) and ``MIN_LOOK_EVERY`` (1 s): ``look_every`` is at least a second,
  and a schedule must complete within ``MAX_LOOKS`` looks;
* ``MAX_DURATION`` (366 days): the longest duration a spec may write;
* ``SHOW_CHARS`` (80): values quoted in messages are cut to this many characters, with
  ``…`` (:func:`show`); a value is never expanded or printed whole.

YAML anchors without aliases are harmless, but aliases (``*name``) and merge keys (``<<``)
are refused outright (see :mod:`abkit.spec.load`), so an alias bomb costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import SpecError

MAX_SPEC_BYTES = 1 << 20
MAX_DEPTH = 20
MAX_STEPS = 10_000
MAX_LOOKS = 10_000
MIN_LOOK_EVERY = 1.0
MAX_DURATION = 366 * 86400.0
SHOW_CHARS = 80


def show(v: Any, limit: int = SHOW_CHARS) -> str:
    """``repr(v)`` cut to ``limit`` characters (``…`` marks the cut).

    Containers are summarised by type and length once their repr would be long, so a huge or
    deeply nested value is never rendered whole; integers too long to print (Python refuses
    ints of more than 4,300 digits) are shown by their digit count.
    """
    if isinstance(v, (list, tuple, dict, set, frozenset)) and len(v) > limit:
        return f"<{type(v).__name__} of {len(v):,} items>"
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 3 * limit:
        return f"<integer of about {int(v.bit_length() * 0.30103):,} digits>"
    try:
        text = repr(v)
    except (ValueError, RecursionError):  # pragma: no cover - guarded above
        return f"<{type(v).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut(text: str, limit: int = SHOW_CHARS) -> str:
    """``text`` cut to ``limit`` characters (``…`` marks the cut), unquoted."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _step(path: str, key: Any) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    name = show(key, 40) if not isinstance(key, str) else key[:40]
    return f"{path}.{name}" if path else name


def check_depth(data: Any, source: str | None) -> None:
    """Refuse a parsed spec (or a dict from Python) nested deeper than ``MAX_DEPTH``.

    Iterative, so a self-referencing dict or a document built past the recursion limit is
    refused with the key path where the limit was crossed, never a RecursionError.
    """
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, Mapping):
            items: Any = node.items()
        elif isinstance(node, (list, tuple)):
            items = enumerate(node)
        else:
            continue
        if depth > MAX_DEPTH:
            raise too_deep(source, path or "top level")
        for k, v in items:
            if isinstance(v, (Mapping, list, tuple)):
                stack.append((v, depth + 1, _step(path, k)))


def too_deep(source: str | None, where: str) -> SpecError:
    at = f" in {source}" if source else ""
    return SpecError(f"spec error{at}: {where}: tables/lists nested more than {MAX_DEPTH} "
                     "levels deep", "a spec needs at most 6 levels; check the brackets")

"""The small JSON path grammar used for ``output_field`` / ``label_field``."""

from __future__ import annotations

import re
from typing import Any, Sequence


def parse_path(path: str) -> tuple[str | int, ...]:
    """Parse a small JSON path such as ``predictions[0].score`` into its steps.

    Grammar: keys separated by ``.``, list indices in brackets (``[0]``, ``[-1]``); an index
    may come first (``[0].score``) and indices may follow each other (``a[0][1]``). Keys may
    hold any character except ``.``, ``[`` and ``]``. Written here on purpose: no ``eval``,
    no JSONPath dependency. Raises ValueError for an empty or malformed path.
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError("the path must be a non-empty string such as 'predictions[0].score'")
    s = path.strip()
    steps: list[str | int] = []
    i, n = 0, len(s)

    def bad(at: int, what: str) -> ValueError:
        return ValueError(f"cannot parse the path {path!r} at character {at + 1}: {what} "
                          "(expected keys separated by '.', indices like [0])")

    while i < n:
        c = s[i]
        if c == "[":
            j = s.find("]", i)
            if j < 0:
                raise bad(i, "unclosed '['")
            tok = s[i + 1:j].strip()
            if not re.fullmatch(r"-?\d+", tok):
                raise bad(i, f"index {tok!r} is not an integer")
            steps.append(int(tok))
            i = j + 1
            continue
        if c == "]":
            raise bad(i, "unexpected ']'")
        if c == ".":
            if not steps:
                raise bad(i, "a path cannot start with '.'")
            i += 1
        elif steps:
            raise bad(i, "a key must follow '.'")
        j = i
        while j < n and s[j] not in ".[]":
            j += 1
        if j == i:
            raise bad(i, "empty key")
        steps.append(s[i:j])
        i = j
    return tuple(steps)


def extract_path(obj: Any, steps: Sequence[str | int]) -> Any:
    """Follow parsed path ``steps`` into a decoded JSON value; KeyError when absent."""
    for st in steps:
        if isinstance(st, int):
            if not isinstance(obj, list) or not -len(obj) <= st < len(obj):
                raise KeyError(st)
            obj = obj[st]
        else:
            if not isinstance(obj, dict) or st not in obj:
                raise KeyError(st)
            obj = obj[st]
    return obj

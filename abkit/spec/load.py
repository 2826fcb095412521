"""``load_spec``: read a spec from a ``.toml``/``.yaml``/``.yml`` file (or take a dict or a
spec) and hand it to ``parse_spec``.

Reading is bounded (:mod:`abkit.spec.bounds`): a file over 1 MiB is refused unread, nesting
deeper than 20 levels is refused before the parser recurses, and in YAML

* aliases (``*name``) and merge keys (``<<``) are refused, so an alias bomb fails at its first
  alias, before anything is expanded;
* a key written twice in one mapping is an error (TOML's own rule), where YAML would let the
  last one win silently;
* keys must be scalars, and only the safe YAML tags are read (no ``!!python/...``).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Mapping

from ..errors import SpecError
from .bounds import MAX_DEPTH, MAX_SPEC_BYTES, cut, show, too_deep
from .experiment import ExperimentSpec, parse_spec


def load_spec(spec: str | Path | Mapping[str, Any] | ExperimentSpec) -> ExperimentSpec:
    """Load a spec from a ``.toml``/``.yaml``/``.yml`` file, a dict, or pass a spec through."""
    if isinstance(spec, ExperimentSpec):
        return spec
    if isinstance(spec, Mapping):
        return parse_spec(spec)
    path = Path(spec)
    if not path.is_file():
        raise SpecError(f"spec file not found: {path}", "check the path given to --spec")
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise SpecError(
            f"spec file {path} has an unknown extension {suffix!r}",
            "use a .toml, .yaml or .yml file",
        )
    with path.open("rb") as fh:
        blob = fh.read(MAX_SPEC_BYTES + 1)
    if len(blob) > MAX_SPEC_BYTES:
        raise SpecError(f"spec error in {path}: the file is larger than "
                        f"{MAX_SPEC_BYTES // (1 << 20)} MiB", "a spec is a few kilobytes of "
                        "settings; check that --spec names the spec, not a data file")
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SpecError(f"spec error in {path}: not UTF-8 text ({e.reason} at byte {e.start})")
    data = _toml(text, str(path)) if suffix == ".toml" else _yaml(text, str(path))
    return parse_spec(data, source=str(path))


def _toml(text: str, source: str) -> Any:
    _toml_brackets(text, source)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _toml_error(e, text, source) from None
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise SpecError(f"spec error in {source}: invalid TOML: {cut(str(e))}") from None
    except RecursionError:  # pragma: no cover - _toml_brackets refuses deep nesting first
        raise too_deep(source, "a value") from None


def _toml_error(e: Exception, text: str, source: str) -> SpecError:
    """tomllib's message, with the line it points at (so the key is named) and a hint."""
    msg = str(e)
    m = re.search(r"\(at line (\d+), column \d+\)", msg)
    line = ""
    if m and 0 < int(m.group(1)) <= text.count("\n") + 1:
        line = f" [line {m.group(1)}: {cut(text.splitlines()[int(m.group(1)) - 1].strip(), 60)}]"
    hint = ("a key may be written only once in a table (the same holds for YAML specs)"
            if "overwrite" in msg or "declare" in msg.lower() else
            "check the TOML syntax on that line: strings in quotes, tables in [brackets]")
    return SpecError(f"spec error in {source}: invalid TOML: {cut(msg, 200)}{line}", hint)


def _toml_brackets(text: str, source: str) -> None:
    """Refuse inline arrays/tables nested deeper than ``MAX_DEPTH`` before tomllib, which
    parses them recursively, sees them. Strings and comments are skipped; the error names the
    line and the key being assigned there. (Table headers nest without recursion; their depth
    is checked on the parsed document, by key path.)"""
    depth, line, i, n = 0, 1, 0, len(text)
    key, line_start = "", 0
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            line_start = i + 1
        elif c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            j = i + len(quote)
            while j < n:
                if text[j] == "\\" and c == '"':
                    j += 2
                    continue
                if text.startswith(quote, j) or (len(quote) == 1 and text[j] == "\n"):
                    break
                j += 1
            line += text.count("\n", i, j)
            i = j + len(quote)
            continue
        elif c == "=" and depth == 0:
            key = text[line_start:i].strip()
        elif c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                at = f"line {line}, key {cut(key, 40)}" if key else f"line {line}"
                raise too_deep(source, at)
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1


def _yaml(text: str, source: str) -> Any:
    import yaml

    loader = _bounded_loader(yaml)(text)
    loader.source = source
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as e:
        raise SpecError(f"spec error in {source}: invalid YAML: {cut(str(e), 400)}",
                        "check the YAML syntax at that line") from None
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise SpecError(f"spec error in {source}: invalid YAML: {cut(str(e))}") from None
    finally:
        loader.dispose()
    return {} if data is None else data


_LOADER: Any = None


def _bounded_loader(yaml: Any) -> Any:
    """A ``yaml.SafeLoader`` whose composer refuses aliases, merge keys, non-scalar and
    duplicate keys, and nesting past ``MAX_DEPTH``, each with the key path and line."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER

    class BoundedLoader(yaml.SafeLoader):
        source = ""

        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self.path: list[str] = []

        def _fail(self, mark: Any, problem: str, hint: str) -> SpecError:
            where = "".join(self.path).lstrip(".") or "top level"
            return SpecError(f"spec error in {self.source}: {where} (line {mark.line + 1}): "
                             f"{problem}", hint)

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(parent, yaml.MappingNode) and index is None:  # a key
                if not isinstance(event, yaml.ScalarEvent):
                    raise self._fail(event.start_mark, "a mapping key must be a plain name",
                                     "write keys as names; YAML complex keys are not used")
                if event.tag == "tag:yaml.org,2002:merge" or (event.value == "<<" and
                                                              event.implicit[0]):
                    raise self._fail(event.start_mark, "YAML merge keys (<<) are not "
                                     "supported", "write the keys out in full")
            if isinstance(event, yaml.AliasEvent):
                raise self._fail(event.start_mark, f"YAML alias *{cut(event.anchor, 40)} is "
                                 "not allowed in a spec", "write the value out in full "
                                 "instead of referring to an &anchor")
            if isinstance(parent, yaml.MappingNode) and index is not None:
                self.path.append("." + str(index.value)[:40])
            elif isinstance(parent, yaml.SequenceNode):
                self.path.append(f"[{index}]")
            else:
                self.path.append("")
            try:
                nested = isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent))
                if nested and len(self.path) > MAX_DEPTH:
                    raise self._fail(event.start_mark, f"mappings/lists nested more than "
                                     f"{MAX_DEPTH} levels deep", "a spec needs at most 6 "
                                     "levels; check the indentation and brackets")
                node = super().compose_node(parent, index)
                if isinstance(node, yaml.MappingNode):
                    self._unique_keys(node)
                return node
            finally:
                self.path.pop()

        def _unique_keys(self, node: Any) -> None:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                if key in seen:
                    self.path.append("." + str(key_node.value)[:40])
                    raise self._fail(key_node.start_mark, f"duplicate key {show(key, 40)} "
                                     f"(first written on line {seen[key]})",
                                     "write each key once: YAML would keep only the last one")
                seen[key] = line

    _LOADER = BoundedLoader
    return _LOADER

"""``load_spec``: read a spec from a ``.toml``/``.yaml``/``.yml`` file (or take a dict or a
spec) and hand it to ``parse_spec``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Mapping

from ..errors import SpecError
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
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise SpecError(f"spec error in {path}: not UTF-8 text ({e.reason} at byte {e.start})")
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise SpecError(f"spec error in {path}: invalid TOML: {e}") from None
    elif suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise SpecError(f"spec error in {path}: invalid YAML: {e}") from None
        if data is None:
            data = {}
    else:
        raise SpecError(
            f"spec file {path} has an unknown extension {suffix!r}",
            "use a .toml, .yaml or .yml file",
        )
    return parse_spec(data, source=str(path))

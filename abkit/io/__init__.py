"""Reading logs: only this layer knows file formats."""

from .sources import FORMATS, Source, resolve_sources

__all__ = ["FORMATS", "Source", "resolve_sources"]

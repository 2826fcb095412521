"""The argument checks live in :mod:`abkit.core.checks` (shared by every layer)."""

from ..core.checks import (  # noqa: F401
    ALTERNATIVES, check_alpha, check_alternative, check_unit_interval,
)

"""Errors a user can fix, and the exit codes the CLI maps verdicts and errors to."""

from __future__ import annotations

from enum import IntEnum

from .core.sanitize import plain

__all__ = ["AbkitError", "ExitCode", "InputError", "RejectedRowsError", "SpecError"]


class ExitCode(IntEnum):
    """Stable process exit codes of ``abkit gate`` (``abkit report`` uses 0, 2 and 4 only)."""

    GO = 0
    NO_GO = 1
    USAGE = 2
    INCONCLUSIVE = 3
    INTERNAL = 4


class AbkitError(Exception):
    """A problem with the user's input or spec: shown as one message, exit code 2.

    The message names the file, column, key or line involved, and ``hint`` says what would
    fix it.
    """

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        """The message as printed on stderr: ``message`` and ``hint`` quote names and values
        from logs and specs, so each goes through :func:`~abkit.core.sanitize.plain` (control
        and bidi characters shown as escapes; the only line break is abkit's own, before the
        hint). ``self.message`` and ``self.hint`` stay raw."""
        msg = plain(self.message)
        return msg if not self.hint else f"{msg}\n  hint: {plain(self.hint)}"


class SpecError(AbkitError):
    """The experiment spec is malformed, has unknown keys or out-of-range values."""


class InputError(AbkitError):
    """The log files or DataFrame cannot be analysed as given."""


class RejectedRowsError(InputError):
    """Raised under ``on_rejected = "fail"`` when any input row was rejected."""

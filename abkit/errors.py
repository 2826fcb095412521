"""Errors a user can fix, and the exit codes the CLI maps verdicts and errors to."""

from __future__ import annotations

from enum import IntEnum

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
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class SpecError(AbkitError):
    """The experiment spec is malformed, has unknown keys or out-of-range values."""


class InputError(AbkitError):
    """The log files or DataFrame cannot be analysed as given."""


class RejectedRowsError(InputError):
    """Raised under ``on_rejected = "fail"`` when any input row was rejected."""

"""The errors a user can fix. The CLI prints them as one line plus a hint, without a traceback."""

from __future__ import annotations


class JasterError(Exception):
    """Base class of this project's own errors (data, settings, arguments, optional metrics, sandbox).

    ``message`` says what is wrong (naming the file, URL, key or value); ``hint`` says what to do.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class SettingsError(JasterError, ValueError):
    """A ``jaster_*`` metadata key or ``JASTER_*`` variable that is unknown or has a bad value."""

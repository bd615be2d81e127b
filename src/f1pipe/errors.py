"""Errors that reach the user as one line (the CLI prints ``error: <message>``, no traceback)."""


class F1PipeError(Exception):
    """A failure with a clear, one-line message saying what to fix. Exit status 1."""

    exit_code = 1


class ConfigError(F1PipeError):
    """A missing or bad setting, found before any work. Exit status 2."""

    exit_code = 2


class LandingError(F1PipeError):
    """One lake object could not be read into the warehouse (corrupt, unreadable): it is
    reported and skipped."""


class ReadOnlyError(F1PipeError):
    """A statement that would change the warehouse, sent through a read-only command."""

"""Errors that are expected and shown to the user as one line, never as a traceback."""


class UserError(Exception):
    """An expected failure (bad input, offline, missing workspace): print ``str(e)`` and exit 2."""


class Cancelled(Exception):
    """Raised inside a stage when the caller's cancel event is set; the workspace stays usable."""

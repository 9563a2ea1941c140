"""Errors the bot reports to a person as one clear line (CLI) or a 4xx (HTTP)."""


class UserError(Exception):
    """Bad input or configuration; the message says what and where."""


class NotFound(UserError):
    """The thing named does not exist."""


class Conflict(UserError):
    """The request is valid but the current state does not allow it."""

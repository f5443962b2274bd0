"""The one family of errors inviter raises; each knows the exit status it means.

Exit statuses (SPEC "send"): 0 all done, 1 some recipients or replies failed, 2 bad usage or
bad input (nothing done), 3 the server could not be reached or refused the login.
"""

from __future__ import annotations


class InviterError(Exception):
    """Root of every error a user may see; its ``str`` is the one line they read."""

    exit_code = 2


class ConfigError(InviterError):
    """inviter.toml (or an override) is missing, malformed or inconsistent."""


class ContactError(InviterError):
    """A contact file or a contact given by hand is not acceptable."""


class TemplateError(InviterError):
    """A template is missing, does not compile, or uses an unknown variable."""


class InputError(InviterError):
    """Some other input (a command's argument, a file) is not acceptable."""


class DatabaseError(InviterError):
    """The database cannot be opened, or its schema is not one this release knows."""


class ConnectionFailure(InviterError):
    """The mail server (SMTP or IMAP) cannot be reached or refuses the login."""

    exit_code = 3


class PartialFailure(InviterError):
    """The command did its work, but some items failed; each was reported already."""

    exit_code = 1


class StoppedAfterSending(InviterError):
    """A run stopped by an error after some messages had left: not "nothing was sent"."""

    exit_code = 1

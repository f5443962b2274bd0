"""Where messages go: what a transport is, and the outcomes the mailer acts on.

Two transports: the outbox Maildir (outbox.py) and an SMTP submission server (smtp.py). Both
hand over exactly the same bytes (``wire_bytes``), so a message in the outbox is byte for byte
what the SMTP server would receive. smtp.py wraps aiosmtplib's exceptions, once, into the three
outcomes the mailer acts on (sending.md, "How aiosmtplib reports them"):

- ``ConnectionFailure`` (exit 3): the server cannot be reached, TLS cannot be set up, or the login
  is refused. ``LoginRefused`` is the login case: trying again will not help.
- ``DeliveryError``: the server answered this message with a 4xx or 5xx; the connection is usable
  again unless ``closes`` (421).
- ``ConnectionDropped``: the connection is gone mid-message; ``uncertain`` when it went after the
  data was sent, so the message may have been delivered (RFC 1047).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from inviter.errors import ConnectionFailure, InviterError


class LoginRefused(ConnectionFailure):
    """The server refused the login (535 and friends): retrying cannot help."""


class DeliveryError(InviterError):
    """The server answered one message with an error code."""

    exit_code = 1

    def __init__(self, code: int, response: str, *, stage: str) -> None:
        super().__init__(f"{code} {response}".strip())
        self.code = code
        self.response = response
        self.stage = stage

    @property
    def permanent(self) -> bool:
        """True for 5xx: never retried (RFC 5321 §4.2.1; retrying gets a sender throttled)."""
        return self.code >= 500

    @property
    def closes(self) -> bool:
        """True when the server closes the connection after this answer (421, RFC 5321 §3.8)."""
        return self.code == 421

    @property
    def throttles(self) -> bool:
        """True for answers that ask for fewer connections (421, 432, 454; sending.md)."""
        return self.code in (421, 432, 454)


class ConnectionDropped(InviterError):
    """The connection went away (or stalled) in the middle of a message."""

    exit_code = 1

    def __init__(self, reason: str, *, uncertain: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.uncertain = uncertain


def wire_bytes(data: bytes) -> bytes:
    """Return the message as it travels: CRLF line ends and a final CRLF (RFC 5321 §4.1.1.4).

    aiosmtplib makes the same changes before the data goes out; doing them here first makes the
    outbox copy identical to what the server receives.
    """
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    return data if data.endswith(b"\r\n") else data + b"\r\n"


@dataclass(frozen=True)
class Accepted:
    """The server's 250 after the data: the message is its responsibility now."""

    code: int
    response: str


class Connection(Protocol):
    """One open channel for messages: an SMTP connection or the outbox."""

    async def open(self) -> None:
        """Connect (and log in); raise ConnectionFailure."""

    async def send(self, sender: str, recipient: str, data: bytes) -> Accepted:
        """Hand over one message; raise DeliveryError or ConnectionDropped."""

    async def close(self) -> None:
        """Say goodbye; never raise."""

    def abort(self) -> None:
        """Drop the connection at once, without a goodbye (a run stopped mid-message)."""


class Transport(Protocol):
    """A way out for messages."""

    name: str
    max_connections: int | None

    def connection(self) -> Connection:
        """Return a new, unopened connection."""

    def describe(self) -> str:
        """Say where messages go, for people."""

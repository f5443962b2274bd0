"""The outbox: each message written as a file into a Maildir, nothing leaving the machine.

``inviter send`` with ``transport = "outbox"`` (the default) writes here, so staff can read every
message before the season's real run; the files are byte for byte what an SMTP server would get.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from inviter.deliver.transport import Accepted, wire_bytes
from inviter.errors import ConnectionFailure, InputError
from inviter.translation import _


class OutboxTransport:
    """Writes each message as a file into a Maildir: nothing leaves the machine."""

    name = "outbox"
    max_connections: int | None = 1

    def __init__(self, path: Path) -> None:
        self.path = path
        self._count = 0

    def describe(self) -> str:
        """Name the folder the messages land in."""
        return str(self.path / "new")

    def connection(self) -> OutboxConnection:
        """Return a writer into the Maildir."""
        return OutboxConnection(self)

    def prepare(self) -> None:
        """Make the Maildir (tmp/, new/, cur/); raise InputError if that is impossible."""
        try:
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                _(
                    "{folder}: cannot make the outbox Maildir: {reason}; "
                    "set [send] outbox to a folder you can write"
                ).format(folder=self.path, reason=exc.strerror)
            ) from None

    def write(self, data: bytes) -> Path:
        """Write one message: tmp/ first, then rename into new/ (atomic; Maildir's protocol)."""
        self._count += 1
        # Maildir unique name: time, pid and a counter, host (cr.yp.to/proto/maildir.html).
        host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
        unique = f"{time.time_ns()}.P{os.getpid()}Q{self._count}.{host}"
        temp = self.path / "tmp" / unique
        final = self.path / "new" / unique
        try:
            with open(temp, "xb") as handle:
                handle.write(data)
            os.replace(temp, final)
        except OSError as exc:
            raise ConnectionFailure(
                _("{folder}: cannot write to the outbox: {reason}").format(
                    folder=self.path, reason=exc.strerror
                )
            ) from None
        return final


class OutboxConnection:
    """The outbox seen as a connection, so the mailer treats both transports alike."""

    def __init__(self, outbox: OutboxTransport) -> None:
        self.outbox = outbox

    async def open(self) -> None:
        """Make sure the Maildir exists."""
        self.outbox.prepare()

    async def send(self, sender: str, recipient: str, data: bytes) -> Accepted:
        """Write the message's wire bytes into new/."""
        path = self.outbox.write(wire_bytes(data))
        return Accepted(250, _("written to {file}").format(file=path))

    def abort(self) -> None:
        """Nothing is on a wire: a file is written whole or not at all."""

    async def close(self) -> None:
        """Nothing to close."""

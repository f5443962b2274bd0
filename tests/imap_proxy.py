"""A line relay on loopback in front of the real Dovecot, to stage what a busy mailbox does.

It passes every byte through unchanged except where a test asks: a hook runs just before a
client command is forwarded (another IMAP session deletes a message between inviter's SEARCH
and its FETCH, as staff deleting it in Outlook at that moment would), and server lines can be
rewritten (a BAD answer, a junk UIDVALIDITY) to stand for servers that misbehave.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.dovecot import free_port

ClientHook = Callable[[bytes], None]
ServerRewrite = Callable[[bytes], bytes]


@dataclass
class ImapProxy:
    """Listen on 127.0.0.1:port and relay each connection to Dovecot's plain port."""

    upstream: int
    before_command: ClientHook | None = None
    rewrite: ServerRewrite | None = None
    port: int = field(default_factory=free_port)
    commands: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self._server.settimeout(0.2)
        while not self._stopped.is_set():
            try:
                client, _address = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._to_server, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._to_client, args=(upstream, client), daemon=True).start()

    def _to_server(self, client: socket.socket, upstream: socket.socket) -> None:
        with client.makefile("rb") as lines:
            for line in lines:
                self.commands.append(line)
                if self.before_command is not None:
                    self.before_command(line)
                try:
                    upstream.sendall(line)
                except OSError:
                    return
        upstream.close()

    def _to_client(self, upstream: socket.socket, client: socket.socket) -> None:
        with upstream.makefile("rb") as lines:
            for line in lines:
                try:
                    client.sendall(self.rewrite(line) if self.rewrite else line)
                except OSError:
                    return
        client.close()

    def stop(self) -> None:
        self._stopped.set()
        self._server.close()
        self._thread.join(timeout=5)


class BadAnswer:
    """Turn the tagged OK that ends one kind of command into a BAD, as a confused server does."""

    def __init__(self, command: bytes) -> None:
        self.command = command
        self.tag = b""

    def remember(self, line: bytes) -> None:
        """Note the tag of the command to spoil (use as the proxy's before_command)."""
        if self.command in line.upper():
            self.tag = line.split(b" ", 1)[0]

    def rewrite(self, line: bytes) -> bytes:
        """Answer BAD instead of that command's OK (use as the proxy's rewrite)."""
        if self.tag and line.startswith(self.tag + b" OK"):
            tag, self.tag = self.tag, b""
            return tag + b" BAD Error in IMAP command: unexpected argument\r\n"
        return line


def junk_uidvalidity(line: bytes) -> bytes:
    """Replace the UIDVALIDITY a SELECT or EXAMINE answers with something not a number."""
    return re.sub(rb"\[UIDVALIDITY \d+\]", rb"[UIDVALIDITY 99999999999999999999x]", line)

"""A real SMTP server for the sending tests: aiosmtpd in a thread, recording what it receives.

The handler can be told to misbehave the ways sending.md lists: refuse a recipient with a 4xx or
5xx (a number of times or always), answer DATA with an error, answer 421 after N messages on a
connection, hold each message a while, drop the connection after it has stored a message (the
client then cannot know it was delivered), allow only so many connections at once (432), and
require AUTH by password or XOAUTH2. It serves plain text, STARTTLS or implicit TLS with a
``trustme`` certificate.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Received:
    """One message the server accepted (or stored before dropping the connection)."""

    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    connection: int
    at: float

    @property
    def message_id(self) -> str:
        """The Message-ID header's value."""
        found = _MESSAGE_ID.search(self.data)
        return found.group(1).decode() if found else ""


@dataclass
class Plan:
    """Answers to give some number of times (None: always)."""

    answer: str
    times: int | None

    def take(self) -> str | None:
        if self.times is None:
            return self.answer
        if self.times <= 0:
            return None
        self.times -= 1
        return self.answer


@dataclass
class RecordingHandler:
    """Records messages; misbehaves on request. Safe to read from the test's thread."""

    delay: float = 0.0
    per_connection: int | None = None  # 421 on the message after this many on one connection
    max_connections: int | None = None  # 432 at EHLO beyond this many at once
    users: dict[str, str] = field(default_factory=dict)  # password logins
    tokens: dict[str, str] = field(default_factory=dict)  # XOAUTH2 logins
    # Or ask an OAuth provider whether (user, token) is good (tests/oauth_provider.py).
    token_check: Callable[[str, str], bool] | None = None
    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[int, str, str]] = field(default_factory=list)  # connection, mech, user
    commands: list[str] = field(default_factory=list)
    clock: Callable[[], float] = time.time  # stamps Received.at (a fake clock in rate tests)
    peak_connections: int = 0  # TCP connections open at once, refused ones included
    peak_served: int = 0  # connections open at once that were let past EHLO (not refused)
    connections_seen: int = 0
    _rcpt: dict[str, Plan] = field(default_factory=dict)
    _data: dict[str, Plan] = field(default_factory=dict)
    _drop: dict[str, Plan] = field(default_factory=dict)
    _active: set[Any] = field(default_factory=set)
    _served: set[Any] = field(default_factory=set)
    _count: dict[int, int] = field(default_factory=dict)
    _numbers: dict[Any, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- what the test asks for

    def refuse(self, address: str, answer: str, *, times: int | None = None) -> None:
        """Answer RCPT TO for ``address`` with ``answer`` (``times`` times, or always)."""
        self._rcpt[address] = Plan(answer, times)

    def refuse_data(self, address: str, answer: str, *, times: int | None = None) -> None:
        """Answer the end of DATA for ``address`` with ``answer``."""
        self._data[address] = Plan(answer, times)

    def drop_after_data(self, address: str, *, times: int | None = 1) -> None:
        """Store the message for ``address``, then close the connection without answering."""
        self._drop[address] = Plan("drop", times)

    def to(self, address: str) -> list[Received]:
        """Return the messages received for one address."""
        with self.lock:
            return [m for m in self.messages if address in m.recipients]

    # -- connection bookkeeping (called by CountingSMTP)

    def opened(self, peer: Any) -> int:
        with self.lock:
            self.connections_seen += 1
            self._numbers[peer] = self.connections_seen
            self._active.add(peer)
            self.peak_connections = max(self.peak_connections, len(self._active))
            return len(self._active)

    def serve(self, peer: Any) -> None:
        """Count a connection the limit lets through, for the ``peak_served`` high-water mark."""
        with self.lock:
            self._served.add(peer)
            self.peak_served = max(self.peak_served, len(self._served))

    def closed(self, peer: Any) -> None:
        with self.lock:
            self._active.discard(peer)
            self._served.discard(peer)

    def number(self, session: Any) -> int:
        with self.lock:
            return self._numbers.get(session.peer, 0)

    # -- aiosmtpd hooks

    async def handle_MAIL(
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        with self.lock:
            self.commands.append(f"MAIL {address}")
        envelope.mail_from = address
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        with self.lock:
            self.commands.append(f"RCPT {address}")
            plan = self._rcpt.get(address)
            answer = plan.take() if plan else None
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        number = self.number(session)
        if self.delay:
            await asyncio.sleep(self.delay)
        recipients = tuple(envelope.rcpt_tos)
        with self.lock:
            done = self._count.get(number, 0)
            if self.per_connection is not None and done >= self.per_connection:
                # Answer 421, then close (RFC 5321 §3.8): the close runs after the answer
                # has been written.
                transport = server.transport
                assert transport is not None  # the handler runs on an open connection
                asyncio.get_running_loop().call_soon(transport.close)
                return "421 4.7.0 Too many messages on this connection, try again later"
            for address in recipients:
                plan = self._data.get(address)
                answer = plan.take() if plan else None
                if answer:
                    return answer
            self._count[number] = done + 1
            self.messages.append(
                Received(
                    envelope.mail_from, recipients, envelope.original_content, number, self.clock()
                )
            )
            dropping = any(
                (plan := self._drop.get(address)) is not None and plan.take()
                for address in recipients
            )
        if dropping:
            # Delivered, but the client never hears so (sending.md: "outcome unknown").
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
        return "250 2.0.0 OK: queued"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """XOAUTH2 as Google and Microsoft implement it (developers.google.com xoauth2)."""
        try:
            fields = base64.b64decode(args[1]).decode().split("\x01")
            user = fields[0].removeprefix("user=")
            token = fields[1].removeprefix("auth=Bearer ")
        except (IndexError, ValueError):
            return AuthResult(success=False, message="501 5.5.2 Cannot decode XOAUTH2")
        good = self.token_check(user, token) if self.token_check else self.tokens.get(user) == token
        if good:
            with self.lock:
                self.logins.append((self.number(server.session), "XOAUTH2", user))
            return AuthResult(success=True, auth_data=user)
        # The failure is a 334 challenge holding a JSON error; the client answers with an
        # empty line and then gets the 535.
        error = json.dumps({"status": "401", "schemes": "bearer"}).encode()
        await server.challenge_auth(error)
        return AuthResult(success=False, handled=False)

    def authenticator(
        self, server: SMTP, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        """Check a PLAIN or LOGIN password against ``users``."""
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = data.login.decode()
        if self.users.get(user) == data.password.decode():
            with self.lock:
                self.logins.append((self.number(session), mechanism, user))
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)


class CountingSMTP(SMTP):
    """aiosmtpd's SMTP that tells the handler about connections and can refuse extra ones."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self._original_transport is None and self.transport is None
        super().connection_made(transport)
        if first and self.session is not None:
            self._peer_key = self.session.peer
            self._active_now = self.event_handler.opened(self._peer_key)
            limit = self.event_handler.max_connections
            if limit is None or self._active_now <= limit:
                self.event_handler.serve(self._peer_key)

    def connection_lost(self, error: Exception | None) -> None:
        self.event_handler.closed(getattr(self, "_peer_key", None))
        super().connection_lost(error)

    async def smtp_EHLO(self, hostname: str) -> None:
        limit = self.event_handler.max_connections
        if limit is not None and getattr(self, "_active_now", 0) > limit:
            # Microsoft 365's answer past three connections (sending.md).
            await self.push("432 4.3.2 Concurrent connections limit exceeded")
            assert self.transport is not None
            self.transport.close()
            return
        await super().smtp_EHLO(hostname)


class Certificates:
    """A throw-away certificate authority and a server certificate for 127.0.0.1."""

    def __init__(self, folder: Path) -> None:
        self.ca = trustme.CA()
        self.cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = folder / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.cert.configure_cert(context)
        return context


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Controller(Controller):
    def factory(self) -> SMTP:
        with warnings.catch_warnings():
            # "Requiring AUTH while not requiring TLS": on purpose, for plain-text tests.
            warnings.simplefilter("ignore")
            return CountingSMTP(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    """``with SmtpServer(handler, tls=...) as server:`` runs aiosmtpd on 127.0.0.1."""

    def __init__(
        self,
        handler: RecordingHandler,
        *,
        tls: str = "none",  # "none", "starttls" or "tls"
        certificates: Certificates | None = None,
        auth: bool = False,
        offer_auth: bool = True,
    ) -> None:
        self.handler = handler
        self.port = free_port()
        kwargs: dict[str, Any] = {
            "hostname": "127.0.0.1",
            "port": self.port,
            "server_hostname": "smtp.test",
            "auth_required": auth,
            # aiosmtpd only knows STARTTLS as "TLS" (with implicit TLS it would hide AUTH);
            # plain-text AUTH only where the test is about something else than TLS.
            # Without TLS, requiring it for AUTH hides AUTH from EHLO: a server with no login.
            "auth_require_tls": tls == "starttls" or not offer_auth,
            "authenticator": handler.authenticator,
            "ready_timeout": 10.0,
        }
        if tls == "starttls":
            assert certificates is not None
            kwargs["tls_context"] = certificates.server_context()
            kwargs["require_starttls"] = True
        elif tls == "tls":
            assert certificates is not None
            kwargs["ssl_context"] = certificates.server_context()
        self.controller = _Controller(handler, **kwargs)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        # The controller's own readiness probe is not part of any test.
        with self.handler.lock:
            self.handler.connections_seen = 0
            self.handler.peak_connections = 0
            self.handler.peak_served = 0
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

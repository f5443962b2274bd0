"""The fault matrix: each SMTP answer class of sending.md, through ``inviter send``, in one table.

Every row runs the real command line against aiosmtpd (tests/smtpd.py) that misbehaves one way,
with the test meeting's five library heads as the audience, ``retries = 2`` (three attempts at
most) and ``concurrency = 3`` unless the row says otherwise. Each row states the outcome per
recipient as the database records it (status, the server's code, attempts) and as the server saw
it (copies received), the exit status (0 all sent, 1 some not reached for sure, 3 nothing sent
because the server could not be used) and the error line.

Where a message may have arrived although its answer was lost (a drop or a stall after DATA),
the retry carries the same Message-ID: the row checks that too.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from inviter.store.models import FAILED, SENT, UNCERTAIN

from .conftest import Invoke
from .proof_support import NoTlsNowServer, StallingHandler
from .sending_support import (
    AUDIENCE,
    MEETING,
    deliveries,
    meeting_state,
    open_db,
    prepare_folder,
    smtp_env,
)
from .smtpd import Certificates, SmtpServer

KARI, PER = "kari@example.org", "per@example.org"
ONE_FAILED = "Error: 1 recipient not reached for sure; see the list above\n"

# (status, code, attempts, copies the server stored); "any" copies: not fixed by the row.
Expected = tuple[str, int | None, int, int]
OK: Expected = (SENT, 250, 1, 1)


@dataclass(frozen=True)
class Row:
    """One answer class: how the server misbehaves, and what inviter must make of it."""

    name: str
    prepare: Callable[[StallingHandler], None] = lambda handler: None
    server: str = "plain"  # plain, tls, starttls-454, stopped, auth
    env: dict[str, str] = field(default_factory=dict)
    expect: dict[str, Expected] = field(default_factory=dict)  # the rest: OK
    exit_code: int = 0
    stderr: str = ""  # exact; "{port}" is the server's port; a trailing "…" means "starts with"
    nothing_recorded: bool = False  # exit 3: no delivery rows, no meeting state
    same_message_id: tuple[str, ...] = ()


def _refuse(address: str, answer: str, times: int | None = None) -> Callable[..., None]:
    return lambda handler: handler.refuse(address, answer, times=times)


def _refuse_data(address: str, answer: str, times: int | None = None) -> Callable[..., None]:
    return lambda handler: handler.refuse_data(address, answer, times=times)


def _refuse_all(handler: StallingHandler) -> None:
    for address in AUDIENCE:
        handler.refuse(address, f"550 5.1.1 <{address}>: Recipient address rejected")


ROWS = [
    Row("250 accepted"),
    Row(
        "RCPT 550 for one recipient",
        _refuse(PER, "550 5.1.1 <per@example.org>: Recipient address rejected"),
        expect={PER: (FAILED, 550, 1, 0)},
        exit_code=1,
        stderr=ONE_FAILED,
    ),
    Row(
        "RCPT 451 then 250",
        _refuse(KARI, "451 4.7.1 Greylisted, try again", times=1),
        expect={KARI: (SENT, 250, 2, 1)},
    ),
    Row(
        "every RCPT refused 550",
        _refuse_all,
        expect=dict.fromkeys(AUDIENCE, (FAILED, 550, 1, 0)),
        exit_code=1,
        stderr="Error: 5 recipients not reached for sure; see the list above\n",
    ),
    Row(
        "DATA 451 then 250",
        _refuse_data(KARI, "451 4.3.0 Local error in processing", times=1),
        expect={KARI: (SENT, 250, 2, 1)},
    ),
    Row(
        "DATA 554",
        _refuse_data(PER, "554 5.7.1 Message rejected as spam"),
        expect={PER: (FAILED, 554, 1, 0)},
        exit_code=1,
        stderr=ONE_FAILED,
    ),
    Row(
        "452 too many recipients, then 250",
        _refuse(KARI, "452 4.5.3 Too many recipients", times=1),
        expect={KARI: (SENT, 250, 2, 1)},
    ),
    Row(
        "RCPT 450 every time: retries run out",
        _refuse(KARI, "450 4.2.1 Mailbox busy"),
        expect={KARI: (FAILED, 450, 3, 0)},
        exit_code=1,
        stderr=ONE_FAILED,
    ),
    Row(
        "server drops after DATA once (uncertain)",
        lambda handler: handler.drop_after_data(KARI, times=1),
        expect={KARI: (SENT, 250, 2, 2)},
        same_message_id=(KARI,),
    ),
    Row(
        "server drops after DATA every time (uncertain)",
        lambda handler: handler.drop_after_data(KARI, times=None),
        # One retry after an uncertain attempt, never more (issue 20: 6 copies with retries=5).
        expect={KARI: (UNCERTAIN, None, 2, 2)},
        exit_code=1,
        stderr=ONE_FAILED,
        same_message_id=(KARI,),
    ),
    Row(
        "server stalls past the timeout after DATA once (uncertain)",
        lambda handler: handler.stall_after_data(KARI, times=1),
        env={"INVITER_SMTP_TIMEOUT": "0.4"},
        # aiosmtpd drops a message whose client hung up: one copy, from the retry.
        expect={KARI: (SENT, 250, 2, 1)},
    ),
    Row(
        "server stalls past the timeout after DATA every time (uncertain)",
        lambda handler: handler.stall_after_data(KARI, times=None),
        env={"INVITER_SMTP_TIMEOUT": "0.4"},
        expect={KARI: (UNCERTAIN, None, 2, 0)},
        exit_code=1,
        stderr=ONE_FAILED,
    ),
    Row(
        "535 authentication failed",
        server="auth",
        env={"INVITER_SMTP_USERNAME": "ola", "INVITER_SMTP_PASSWORD": "feil-passord"},
        exit_code=3,
        stderr=(
            "Error: 127.0.0.1:{port}: the server refused the login for 'ola': 535 5.7.8 "
            "Authentication credentials invalid; check the username and INVITER_SMTP_PASSWORD "
            "(or the OAuth token)\n"
        ),
        nothing_recorded=True,
    ),
    Row(
        "454 TLS not available (STARTTLS answered 454)",
        server="starttls-454",
        env={"INVITER_SMTP_SECURITY": "starttls"},
        exit_code=3,
        stderr=(
            "Error: 127.0.0.1:{port}: the server answered 454 4.7.0 TLS not available due to "
            "temporary reason\n"
        ),
        nothing_recorded=True,
    ),
    Row(
        "STARTTLS stripped from the EHLO answer",
        env={"INVITER_SMTP_SECURITY": "starttls"},
        exit_code=3,
        stderr=(
            "Error: 127.0.0.1:{port}: the server does not offer STARTTLS; refusing to send in "
            'plain text ([smtp] security = "starttls"; use "tls" for port 465)\n'
        ),
        nothing_recorded=True,
    ),
    Row(
        "TLS certificate not trusted",
        server="tls",
        env={"INVITER_SMTP_SECURITY": "tls"},
        exit_code=3,
        stderr="Error: 127.0.0.1:{port}: TLS failed: the server's certificate is not trusted (…",
        nothing_recorded=True,
    ),
    Row(
        "connection refused",
        server="stopped",
        exit_code=3,
        stderr="Error: 127.0.0.1:{port}: cannot connect: …",
        nothing_recorded=True,
    ),
]

# 421 after N messages and 432 too many connections depend on which message meets the fault:
# they are the two tests after the table.


@pytest.fixture
def folder(project: Path) -> Path:
    """The project folder holding the test meeting and its five library heads."""
    return prepare_folder(project)


def _server(
    row: Row, handler: StallingHandler, tmp_path: Path
) -> tuple[AbstractContextManager[SmtpServer], dict[str, str]]:
    """Return the row's server (not yet started) and the environment that goes with it."""
    if row.server == "auth":
        handler.users["ola"] = "riktig-passord"
        return SmtpServer(handler, auth=True), {}
    if row.server == "tls":
        return SmtpServer(handler, tls="tls", certificates=Certificates(tmp_path)), {}
    if row.server == "starttls-454":
        certificates = Certificates(tmp_path)
        ca_file = {"INVITER_SMTP_CA_FILE": str(certificates.ca_file)}
        return NoTlsNowServer(handler, certificates), ca_file
    if row.server == "stopped":
        return nullcontext(SmtpServer(handler)), {}  # a free port nobody listens on
    return SmtpServer(handler), {}


def _check_stderr(expected: str, actual: str, port: int) -> None:
    expected = expected.replace("{port}", str(port))
    if expected.endswith("…"):
        assert actual.startswith(expected[:-1]), actual
        assert actual.count("\n") == 1, actual  # one line, no traceback
    else:
        assert actual == expected


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_answer_class(row: Row, folder: Path, invoke: Invoke, tmp_path: Path) -> None:
    handler = StallingHandler(stall_seconds=1.2)
    row.prepare(handler)
    serving, extra = _server(row, handler, tmp_path)
    with serving as server:
        result = invoke("send", "--meeting", MEETING, env=smtp_env(server, **row.env, **extra))
    assert result.exit_code == row.exit_code, result.output
    _check_stderr(row.stderr, result.stderr, server.port)
    db = open_db(folder)
    if row.nothing_recorded:
        assert deliveries(db) == []
        assert meeting_state(db) is None
        assert handler.messages == []
        assert result.stdout == ""
        return
    rows = {r.email: r for r in deliveries(db)}
    assert sorted(rows) == AUDIENCE  # one row per recipient, whatever happened
    state = {
        email: (r.status, r.code, r.attempts, len(handler.to(email))) for email, r in rows.items()
    }
    assert state == {email: row.expect.get(email, OK) for email in AUDIENCE}
    for email in row.same_message_id:
        copies = handler.to(email)
        assert {c.message_id for c in copies} == {rows[email].message_id}
    for email, (status, *_rest) in row.expect.items():
        if status != SENT:
            assert f"    {email}: " in result.stdout  # each problem is listed with its reason


def test_421_after_n_messages_reconnects_and_loses_nothing(folder: Path, invoke: Invoke) -> None:
    # One connection, two messages a connection: every third attempt meets "421, closing".
    handler = StallingHandler(per_connection=2)
    with SmtpServer(handler) as server:
        env = smtp_env(server, INVITER_SEND_CONCURRENCY="1", INVITER_SEND_RETRIES="5")
        result = invoke("send", "--meeting", MEETING, env=env)
    assert result.exit_code == 0, result.output
    rows = deliveries(open_db(folder))
    assert {(r.email, r.status, r.code) for r in rows} == {(e, SENT, 250) for e in AUDIENCE}
    assert sorted(m.recipients[0] for m in handler.messages) == AUDIENCE  # once each
    per_connection: dict[int, int] = {}
    for message in handler.messages:
        per_connection[message.connection] = per_connection.get(message.connection, 0) + 1
    assert max(per_connection.values()) <= 2
    # Each 421 cost one attempt and closed one connection; the last one ended with QUIT.
    refused = sum(r.attempts for r in rows) - len(AUDIENCE)
    assert refused == handler.connections_seen - 1 >= 2


def test_432_too_many_connections_shrinks_to_what_the_server_allows(
    folder: Path, invoke: Invoke
) -> None:
    # Microsoft 365 allows three; this server one. aiosmtplib sends EHLO with the first MAIL
    # when there is no TLS or login, so an extra connection meets 432 with a message in hand:
    # that message is retried (temporary), the pool shrinks, nothing is sent twice.
    handler = StallingHandler(max_connections=1, delay=0.02)
    with SmtpServer(handler) as server:
        env = smtp_env(server, INVITER_SEND_CONCURRENCY="3")
        result = invoke("send", "--meeting", MEETING, env=env)
    assert result.exit_code == 0, result.output
    rows = deliveries(open_db(folder))
    assert {(r.email, r.status, r.code) for r in rows} == {(e, SENT, 250) for e in AUDIENCE}
    assert sorted(m.recipients[0] for m in handler.messages) == AUDIENCE  # once each
    assert len({m.connection for m in handler.messages}) == 1
    refused = handler.connections_seen - 1
    assert refused >= 1
    assert sum(r.attempts for r in rows) - len(AUDIENCE) == refused  # one attempt per 432

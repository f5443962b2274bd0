"""Assemble the e-mail one recipient gets: texts, the calendar inline and attached (imip.md 12).

The result is the exact bytes SMTP's DATA gets and the outbox stores: CRLF line ends and 7-bit
ASCII throughout (quoted-printable text, base64 calendars, RFC 2047 headers), so it passes any
server with or without 8BITMIME (imip.md 14, 15).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from datetime import datetime
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address
from email.utils import format_datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from inviter.compose.calendar import build_cancel, build_request, serialize
from inviter.domain import Kind, Meeting, Organizer, Recipient
from inviter.errors import InputError
from inviter.text import one_line, with_lines
from inviter.translation import _

if TYPE_CHECKING:
    from inviter.compose.templates import Templates


# sending.md, CVE-2024-6923: C0/C1 controls, U+0085, U+2028 and U+2029 end a header line in
# some readers; an encoded word in a name can be decoded into one by the next reader.
_ENCODED_WORD_START = re.compile(r"=\?")
_MESSAGE_ID = re.compile(r"<[!#-'*+\-/-9=?A-Z^-~.]+@[A-Za-z0-9.\-]+>")
_LINE = 78  # RFC 5322 §2.1.1: lines SHOULD be no longer than 78 characters


def safe_name(name: str) -> str:
    """Return a display name that cannot carry a header line: controls become spaces.

    Contacts are checked at import already (addresses.unsafe_reason); this is the last guard
    before the header is written. ``=?`` is broken up so no reader decodes it as an encoded word.
    """
    name = " ".join(one_line(name).split())
    return _ENCODED_WORD_START.sub("= ?", name)


def mailbox(name: str, addr: str) -> Address:
    """Return a header address; raise InputError for anything but one plain address."""
    try:
        address = Address(display_name=safe_name(name), addr_spec=addr)
    except (ValueError, IndexError, HeaderParseError) as exc:
        message = _("'{address}' is not one plain e-mail address: {reason}")
        raise InputError(message.format(address=addr, reason=exc)) from None
    if address.addr_spec != addr or not addr.isascii() or not address.domain:
        raise InputError(_("'{address}' is not one plain e-mail address").format(address=addr))
    return address


def new_message_id(organizer: Organizer) -> str:
    """Return a fresh Message-ID under the organizer's domain, angle brackets included."""
    return f"<{secrets.token_hex(16)}@{organizer.domain}>"


def build_message(
    meeting: Meeting,
    organizer: Organizer,
    recipient: Recipient,
    *,
    kind: Kind,
    uid: str,
    sequence: int,
    now: datetime,
    message_id: str,
    templates: Templates,
    previous: Meeting | None = None,
    withdrawn: bool = False,
) -> bytes:
    """The exact message bytes (CRLF, 7-bit) as SMTP DATA gets them and the outbox stores them.

    ``previous``: for an update, the version it replaces (the text says what changed).
    """
    if not _MESSAGE_ID.fullmatch(message_id):
        message = _("Message-ID {message_id} is not <local@domain>")
        raise InputError(message.format(message_id=repr(message_id)))
    to = mailbox(recipient.name, recipient.email)
    safe = Recipient(**{**recipient.__dict__, "name": to.display_name})
    rendered = templates.render(
        meeting,
        organizer,
        safe,
        kind=kind,
        sequence=sequence,
        previous=previous,
        withdrawn=withdrawn,
    )
    build = build_cancel if kind == "cancel" else build_request
    calendar = serialize(
        build(meeting, organizer, safe.email, safe.name, uid=uid, sequence=sequence, now=now)
    )
    method = "CANCEL" if kind == "cancel" else "REQUEST"

    # Measured (benchmarks/build_message.py): EmailMessage(policy=SMTP) spends most of its time
    # re-parsing every part's headers while it writes them; the tree here is fixed, so it is
    # written directly, with From, To and Subject as RFC 2047 encoded words (imip.md 15).
    seed = hashlib.sha256(message_id.encode()).hexdigest()
    # "=_" never occurs in quoted-printable or base64 text, so the boundaries cannot collide;
    # derived from the Message-ID, the same message always has the same bytes.
    mixed, alternative = f"=_m{seed[:24]}", f"=_a{seed[24:48]}"
    calendar_b64 = _base64(calendar)
    parts = [
        _from_header(organizer.name, organizer.email),
        _address_header("To", to),
        _unstructured_header("Subject", rendered.subject),
        f"Date: {format_datetime(now)}\r\n",
        f"Message-ID: {message_id}\r\n",
        "MIME-Version: 1.0\r\n",
        f'Content-Type: multipart/mixed; boundary="{mixed}"\r\n',
        "\r\n",
        f"--{mixed}\r\n",
        f'Content-Type: multipart/alternative; boundary="{alternative}"\r\n',
        "\r\n",
        f"--{alternative}\r\n",
        _text_part("plain", rendered.text),
        f"--{alternative}\r\n",
        _text_part("html", rendered.html),
        f"--{alternative}\r\n",
        # imip.md 13: method= on the Content-Type, uppercase, equal to METHOD inside.
        f'Content-Type: text/calendar; charset="UTF-8"; method={method}\r\n',
        "Content-Transfer-Encoding: base64\r\n",
        "\r\n",
        calendar_b64,
        f"--{alternative}--\r\n",
        "\r\n",
        f"--{mixed}\r\n",
        # imip.md 12: some clients read only the attachment, others only the inline part.
        'Content-Type: application/ics; name="invitation.ics"\r\n',
        'Content-Disposition: attachment; filename="invitation.ics"\r\n',
        "Content-Transfer-Encoding: base64\r\n",
        "\r\n",
        calendar_b64,
        f"--{mixed}--\r\n",
    ]
    text = "".join(parts)
    if not text.isascii():  # imip.md 14: never 8bit; a non-ASCII character here is a bug
        raise AssertionError("message is not 7-bit")
    return text.encode("ascii")


@lru_cache(maxsize=16)
def _from_header(name: str, addr: str) -> str:
    """Return the From line; the same for every message of a run, so made once."""
    return _address_header("From", mailbox(name, addr))


def _address_header(field: str, address: Address) -> str:
    """Return an address header line: a quoted or RFC 2047-encoded name, then <addr-spec>."""
    if address.display_name.isascii():
        line = f"{field}: {address}"  # Address quotes a name holding specials (a comma)
        if len(line) > _LINE and address.display_name:
            name = str(address)[: -len(address.addr_spec) - 3]  # drop " <addr-spec>"
            line = f"{field}: {name}\r\n <{address.addr_spec}>"
        return f"{line}\r\n"
    words = _encode_words(field, address.display_name)
    tail = f"<{address.addr_spec}>"
    last = words.rsplit("\r\n", 1)[-1]
    joint = " " if len(last) + 1 + len(tail) <= _LINE else "\r\n "
    return f"{field}: {words}{joint}{tail}\r\n"


@lru_cache(maxsize=64)
def _unstructured_header(field: str, value: str) -> str:
    """Return an unstructured header line (Subject): as is if ASCII, else RFC 2047 words."""
    if value.isascii():
        folded = Header(value, header_name=field).encode(maxlinelen=_LINE, linesep="\r\n")
        # A single word too long to fold stays on one line (RFC 5322 §2.1.1 allows 998).
        return f"{field}: {value if folded.startswith(chr(13)) else folded}\r\n"
    return f"{field}: {_encode_words(field, value)}\r\n"


# RFC 2047 §5 (3): the characters a "Q" encoded word in a phrase may carry as themselves (the
# set email.quoprimime uses in headers); a space is "_" (§4.2 (2)), the rest =XX of UTF-8.
_Q_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-!*+/")
_WORD_OPEN, _WORD_CLOSE = "=?utf-8?q?", "?="
_WORD = 75  # RFC 2047 §2: an encoded word is at most 75 characters long


@lru_cache(maxsize=4096)
def _q(char: str) -> str:
    if char in _Q_SAFE:
        return char
    if char == " ":
        return "_"
    return "".join(f"={byte:02X}" for byte in char.encode("utf-8"))


def _encode_words(field: str, value: str) -> str:
    """Encode the whole value as UTF-8 "Q" encoded words, folded between characters.

    Each word holds whole characters (RFC 2047 §5: no word may split a multi-octet character),
    is at most 75 characters, and every line at most 78 with "Field: " in front of the first.
    RFC 2047 §6.2: white space between encoded words is dropped when decoding, so the text comes
    back exactly. (email.policy.SMTP keeps the space before a fold it puts in front of an encoded
    word, so "a –" unfolds with two spaces; and its folder is where CVE-2024-6923 lives.)
    Written here rather than by email.header.Header, which measured half of a message's build
    time (it tries both encodings and measures every character; benchmarks/RESULTS.md).
    The Subject and From lines that use it are cached: the same for every message of a run.
    """
    overhead = len(_WORD_OPEN) + len(_WORD_CLOSE)
    room = min(_WORD, _LINE - len(field) - 2)  # the first line starts with "Field: "
    words: list[str] = []
    word: list[str] = []
    length = overhead
    for char in value:
        encoded = _q(char)
        if word and length + len(encoded) > room:
            words.append(_WORD_OPEN + "".join(word) + _WORD_CLOSE)
            room = min(_WORD, _LINE - 1)  # a folded line starts with one space
            word, length = [], overhead
        word.append(encoded)
        length += len(encoded)
    words.append(_WORD_OPEN + "".join(word) + _WORD_CLOSE)
    return "\r\n ".join(words)


def _text_part(subtype: str, text: str) -> str:
    # imip.md 14: quoted-printable, never 8bit (that needs the server's 8BITMIME).
    text = with_lines(text)
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii")
    body = encoded.replace("\n", "\r\n")
    if not body.endswith("\r\n"):
        body += "\r\n"
    return (
        f'Content-Type: text/{subtype}; charset="UTF-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n"
        f"\r\n{body}"
    )


def _base64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")

"""Delivery reports: which invitation did not arrive, for good (bounced) or not yet (delayed).

With Microsoft 365 or Gmail as the relay a mistyped address is accepted at SMTP time and a
report comes back later to the organizer's mailbox. RFC 3464 ``multipart/report;
report-type=delivery-status`` (Microsoft 365/Exchange, Gmail, Postfix, Exim all send it) is read
here, per recipient: Action ``failed`` is a bounce, ``delayed`` a delay (the server still tries),
``delivered``/``relayed``/``expanded`` no failure at all. Other shapes (old Exchange and Exim
text reports) are left to GNU Mailman's maintained detectors, ``flufl.bounce``. An automatic
reply (out of office) is never a bounce, whatever a detector says.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.message import Message

from flufl.bounce import all_failures

from inviter.addresses import normalize_email
from inviter.text import one_line

# flufl.bounce runs every detector and, when one raises (Yale's on a message without From:
# indexes an empty list), logs the traceback with log.exception (flufl/bounce/_scan.py) and goes
# on with the others. With no logging configured, Python's last-resort handler would print
# that traceback on staff's terminal; the result is the same without it.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

MAX_FAILURES = 200  # recipients read from one report: ours carry one each
_REASON_CHARS = 300


@dataclass(frozen=True)
class Failure:
    """One recipient a report says was not reached."""

    recipient: str
    permanent: bool  # bounced for good; False: delayed, the server is still trying
    status: str = ""  # the DSN status code, "5.1.1"
    reason: str = ""  # the server's words, one line


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery report says, and which message it is about."""

    failures: tuple[Failure, ...]
    original_message_id: str = ""


def _one_line(text: str) -> str:
    return " ".join(one_line(text).split())[:_REASON_CHARS]


def _address(field: str) -> str:
    """Read ``rfc822; addr`` (RFC 3464 §2.3.2) into a normalised address, or ""."""
    value = field.partition(";")[2] if ";" in field else field
    try:
        return normalize_email(value.strip().strip("<>"))
    except ValueError:
        return ""


def _blocks(part: Message) -> list[Message]:
    """The per-message and per-recipient blocks of a message/delivery-status part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    return []


def _dsn(report: Message) -> list[Failure] | None:
    """Read an RFC 3464 report; None when it holds no delivery-status part."""
    status_part = next(
        (p for p in report.walk() if p.get_content_type() == "message/delivery-status"), None
    )
    if status_part is None:
        return None
    found = []
    for block in _blocks(status_part)[: MAX_FAILURES + 1]:
        action = str(block.get("Action", "")).strip().lower()
        if action not in {"failed", "delayed"}:
            continue  # delivered, relayed, expanded: not a failure (§2.3.3)
        recipient = _address(str(block.get("Final-Recipient") or block.get("Original-Recipient")))
        if not recipient:
            continue
        diagnostic = str(block.get("Diagnostic-Code", "")).partition(";")[2] or str(
            block.get("Diagnostic-Code", "")
        )
        found.append(
            Failure(
                recipient=recipient,
                permanent=action == "failed",
                status=_one_line(str(block.get("Status", ""))),
                reason=_one_line(diagnostic),
            )
        )
    return found


def _original_id(report: Message) -> str:
    """The Message-ID of the message reported on: from the returned headers, else a reference."""
    for part in report.walk():
        ctype = part.get_content_type()
        if ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            found = re.search(r"(?im)^message-id:\s*(<[^<>\s]+>)", text)
            if found:
                return found.group(1)
        elif ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                value = str(inner[0].get("Message-ID", "")).strip()
                if value:
                    return value[:300]
    refs = f"{report.get('In-Reply-To', '')} {report.get('References', '')}"
    references = re.findall(r"<[^<>\s]+>", refs)
    return references[-1] if references else ""


def read_delivery_report(message: Message, *, auto_reply: bool) -> DeliveryReport | None:
    """Return what a delivery report says, or None for any other message."""
    # An RFC 3464 report is one whatever its headers (Postfix marks its bounces
    # Auto-Submitted: auto-replied, RFC 3834 §5); anything else that is an automatic reply is
    # an out-of-office, never a bounce (SPEC), whatever a pattern detector would say.
    failures = _dsn(message)
    if failures is None and auto_reply:
        return None
    if failures is None:
        try:
            temporary, permanent = all_failures(message)
        except Exception:  # a detector tripping on hostile input: not a report we can read
            return None
        failures = [
            Failure(address, permanent=True)
            for address in map(_address, (a.decode("utf-8", "replace") for a in permanent))
            if address
        ] + [
            Failure(address, permanent=False)
            for address in map(_address, (a.decode("utf-8", "replace") for a in temporary))
            if address
        ]
    if not failures:
        return None
    return DeliveryReport(tuple(failures[:MAX_FAILURES]), _original_id(message))

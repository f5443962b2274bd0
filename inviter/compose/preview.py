"""Render one invitation exactly as ``send`` would, for a person to look at before sending."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from inviter.addresses import normalize_email
from inviter.compose.message import build_message, new_message_id
from inviter.compose.templates import SAMPLE_RECIPIENT, Templates
from inviter.config import Settings
from inviter.contacts.audience import select_audience
from inviter.domain import Kind, Meeting, Recipient
from inviter.errors import InputError
from inviter.locale.labels import format_number
from inviter.store.database import Database
from inviter.store.meetings import ensure_state, planned_sequence
from inviter.store.models import Contact
from inviter.translation import _


@dataclass(frozen=True)
class Preview:
    """One rendered message and who it was rendered for."""

    meeting: Meeting
    recipient: Recipient
    sample_reason: str  # why a made-up recipient was used, in the staff language; "" if none
    kind: Kind
    uid: str
    sequence: int
    data: bytes
    output_path: Path | None


def preview_invitation(
    settings: Settings,
    db: Database,
    slug: str,
    *,
    to: str | None = None,
    kind: Kind = "request",
    output_path: Path | None = None,
) -> Preview:
    """Build the message the next ``send`` (or ``remind``/``cancel``) would send; write it to
    ``output_path`` if given.

    The meeting's permanent UID is made on first use and kept (meetings.ensure_state), so the
    preview shows the UID every later message carries.
    """
    meeting = settings.meeting(slug)
    templates = Templates(settings.templates_dir)
    templates.check(meeting, settings.organizer)  # a template error stops here, exit 2
    with db.session() as session:
        state = ensure_state(session, meeting, settings)
        sequence = planned_sequence(session, state, meeting)
        uid = state.uid
        recipient, sample_reason = _recipient(session, meeting, to)
    if kind == "cancel":
        sequence += 1  # imip.md 11: a cancellation carries a higher SEQUENCE
    # Whole seconds: the Date header and DTSTAMP carry no fractions.
    now = datetime.now(UTC).replace(microsecond=0)
    data = build_message(
        meeting,
        settings.organizer,
        recipient,
        kind=kind,
        uid=uid,
        sequence=sequence,
        now=now,
        message_id=new_message_id(settings.organizer),
        templates=templates,
    )
    if output_path is not None:
        try:
            output_path.write_bytes(data)
        except OSError as exc:
            message = _("{file}: cannot be written: {reason}")
            raise InputError(message.format(file=output_path, reason=exc.strerror)) from None
    return Preview(meeting, recipient, sample_reason, kind, uid, sequence, data, output_path)


def _recipient(session: Session, meeting: Meeting, to: str | None) -> tuple[Recipient, str]:
    """Return the contact given, else the first of the audience, else a labelled sample."""
    if to is not None:
        try:
            address = normalize_email(to)
        except ValueError as exc:
            raise InputError(f"--to: {exc}") from None
        contact = session.scalar(select(Contact).where(Contact.email == address))
        if contact is None:
            message = _(
                "--to: {email} is not in the contact list; "
                "import or add the contact first, or leave out --to"
            )
            raise InputError(message.format(email=address))
        return Recipient.from_contact(contact), ""
    audience = select_audience(session, meeting)
    if audience:
        return Recipient.from_contact(audience[0]), ""
    has_contacts = session.scalar(select(Contact.id).limit(1)) is not None
    reason = (
        _("nobody in the contact list is in this meeting's audience")
        if has_contacts
        else _("the contact list is empty")
    )
    return SAMPLE_RECIPIENT, reason


def describe_preview(preview: Preview) -> str:
    """Return a readable rendering: the headers, the parts, the plain text and the calendar.

    Inviter's own words follow the staff language; the message itself (its header names, its
    text and calendar) is shown as it is, in the recipient's language.
    """
    message = email.message_from_bytes(preview.data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    lines = []
    if preview.sample_reason:
        sample = _(
            "Sample recipient ({reason}): {name} <{email}> is made up; "
            "nothing goes to this address."
        )
        lines.append(
            sample.format(
                reason=preview.sample_reason,
                name=SAMPLE_RECIPIENT.name,
                email=SAMPLE_RECIPIENT.email,
            )
        )
        lines.append("")
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        lines.append(f"{name}: {message[name]}")
    lines.append("")
    calendar_line = _("Calendar: UID {uid}, version {number}; {size} bytes, 7-bit ASCII")
    lines.append(
        calendar_line.format(
            uid=preview.uid, number=preview.sequence + 1, size=format_number(len(preview.data))
        )
    )
    lines.append(_("Parts:"))
    lines += _tree(message, 1)
    text = calendar = ""
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not text:
            text = _decoded(part)
        elif part.get_content_type() == "text/calendar" and not calendar:
            calendar = _decoded(part)
    lines += ["", "----- text/plain -----", text.rstrip("\n")]
    lines += ["", "----- text/calendar -----", calendar.replace("\r\n", "\n").rstrip("\n")]
    lines += ["", _("(The HTML part is not shown: write the message with -o FILE.eml to see it.)")]
    return "\n".join(lines)


def _tree(part: EmailMessage, depth: int) -> list[str]:
    label = part.get_content_type()
    method = part.get_param("method")
    if method:
        label += f"; method={method}"
    filename = part.get_filename()
    if filename:
        label += "; " + _("attachment {file}").format(file=filename)
    cte = part.get("Content-Transfer-Encoding")
    if cte:
        label += f" ({cte})"
    lines = [f"{'  ' * depth}{label}"]
    if part.is_multipart():
        for child in part.iter_parts():
            assert isinstance(child, EmailMessage)
            lines += _tree(child, depth + 1)
    return lines


def _decoded(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""

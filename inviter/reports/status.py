"""Who was sent what, who failed, who answered what: one meeting's state, computed once.

The attendance list, ``status`` and the programme report all read this, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from inviter.config import Settings
from inviter.contacts.audience import audience_query, check_audience
from inviter.domain import Meeting
from inviter.store.answers import PersonAnswers, answers_of
from inviter.store.meetings import get_state, has_sent
from inviter.store.models import (
    BOUNCED,
    CANCEL,
    DELAYED,
    FAILED,
    PENDING,
    REQUEST,
    SENT,
    UNCERTAIN,
    Contact,
    Delivery,
    MeetingState,
)
from inviter.store.versions import is_current

# RFC 5545 PARTSTAT -> the SPEC's rsvp words.
RSVP_WORDS = {
    "ACCEPTED": "accepted",
    "DECLINED": "declined",
    "TENTATIVE": "tentative",
    "DELEGATED": "delegated",
    "NEEDS-ACTION": "needs-action",
}


@dataclass(frozen=True)
class RecipientStatus:
    """One person of a meeting: invited, in the audience, or a forwarded guest."""

    email: str
    name: str
    role: str = ""
    municipality: str = ""
    region: str = ""
    organization: str = ""
    title: str = ""
    phone: str = ""
    # sent, failed, pending, uncertain; None for a forwarded guest (never sent anything).
    delivery: str | None = PENDING
    response: str = ""  # the server's last answer, for a failure
    rsvp: str = "needs-action"
    forwarded: bool = False
    in_audience: bool = True
    uninvited: bool = False  # sent a cancellation of their own (cancel --to)
    delegated_to: str = ""
    comment: str = ""
    guests: int = 0
    counter: bool = False  # proposed a new time (COUNTER), for staff to look at
    # Who sent the answer that counts (the From of its message; None for one recorded by hand).
    answered_by: str | None = None
    answered_via: str | None = None  # "mail" or "rsvp set"
    # A newer answer whose sender is not the attendee: shown, not counted until confirmed.
    unverified_rsvp: str | None = None
    unverified_sender: str | None = None
    # Their answer to a version before the last change of time, place or link: not counted.
    earlier_rsvp: str | None = None
    # The time a COUNTER proposed (aware, UTC), and what they wrote with it.
    proposed_start: datetime | None = None
    proposed_end: datetime | None = None
    proposal_comment: str = ""
    # For a forwarded guest: the invitee whose invitation they answered, where the reply says.
    forwarded_by: str | None = None


@dataclass(frozen=True)
class MeetingStatus:
    """A meeting's recipients and the counts the SPEC's ``status --json`` gives."""

    meeting: Meeting
    uid: str | None
    sequence: int | None
    cancelled: bool
    transport: str
    recipients: list[RecipientStatus] = field(default_factory=list)
    # The config differs from what was sent: an update is due (SPEC: "changed, update not sent").
    changed: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """The counts of ``status --json``, with this tool's additions (README).

        Delivery figures count the audience as it is now, so ``sent`` never exceeds
        ``audience`` and nobody who will never be sent anything is pending or failed;
        those invited who have left the audience since are ``left_audience``.
        """
        invited = [r for r in self.recipients if not r.forwarded and not r.uninvited]
        audience = [r for r in invited if r.in_audience]
        answers = [r for r in self.recipients if not r.uninvited]
        return {
            "audience": len(audience),
            # Delayed: accepted, and a report says it is still on its way (not a failure).
            "sent": sum(r.delivery in (SENT, DELAYED) for r in audience),
            "failed": sum(r.delivery == FAILED for r in audience),
            "bounced": sum(r.delivery == BOUNCED for r in audience),
            "delayed": sum(r.delivery == DELAYED for r in audience),
            "pending": sum(r.delivery == PENDING for r in audience),
            "uncertain": sum(r.delivery == UNCERTAIN for r in audience),
            "left_audience": sum(
                not r.in_audience and r.delivery in (SENT, DELAYED) for r in invited
            ),
            "accepted": sum(r.rsvp == "accepted" for r in answers),
            "declined": sum(r.rsvp == "declined" for r in answers),
            "tentative": sum(r.rsvp == "tentative" for r in answers),
            "no_answer": sum(r.rsvp == "needs-action" for r in audience),
            "answered_earlier": sum(
                r.earlier_rsvp is not None and r.rsvp == "needs-action" for r in answers
            ),
            "forwarded": sum(r.forwarded and r.answered_via is not None for r in self.recipients),
            "unverified": sum(r.unverified_rsvp is not None for r in answers),
        }


def _delivery_state(
    deliveries: Iterable[Delivery], sequence: int, transport: str
) -> Delivery | None:
    """Pick the invitation delivery that tells this person's state for the current version."""
    current = [
        d
        for d in deliveries
        if d.kind == REQUEST and d.sequence == sequence and d.transport == transport
    ]
    return max(current, key=lambda d: d.id) if current else None


def meeting_status(session: Session, settings: Settings, meeting: Meeting) -> MeetingStatus:
    """Compute who is invited, what reached them, and what they answered."""
    transport = settings.send.transport
    state = get_state(session, meeting)
    check_audience(session, meeting)
    audience = {c.email: c for c in session.scalars(audience_query(meeting.audience))}
    if state is None:
        return MeetingStatus(
            meeting=meeting,
            uid=None,
            sequence=None,
            cancelled=False,
            transport=transport,
            recipients=[_person(c, delivery=PENDING) for c in audience.values()],
        )
    by_email: dict[str, list[Delivery]] = {}
    for delivery in session.scalars(
        select(Delivery).where(Delivery.meeting_id == state.id).order_by(Delivery.id)
    ):
        by_email.setdefault(delivery.email, []).append(delivery)
    answers = answers_of(session, state)
    invited = {e for e, ds in by_email.items() if any(d.kind == REQUEST for d in ds)}
    emails = set(audience) | invited
    guests = {e for e in answers if e not in emails}
    others = emails - set(audience) | guests
    contacts: dict[str, Contact] = dict(audience)
    if others:
        for known in session.scalars(select(Contact).where(Contact.email.in_(others))):
            contacts[known.email] = known
    recipients = []
    for email in sorted(emails):
        deliveries = by_email.get(email, [])
        current = _delivery_state(deliveries, state.sequence, transport)
        uninvited = any(d.kind == CANCEL and d.status == SENT for d in deliveries) and not (
            current and current.id > max(d.id for d in deliveries if d.kind == CANCEL)
        )
        contact = contacts.get(email)
        name = contact.name if contact else (deliveries[-1].name if deliveries else email)
        recipients.append(
            _person(
                contact,
                email=email,
                name=name,
                delivery=current.status if current else PENDING,
                # The server's answer, or the delivery report's reason, when not simply sent.
                response=current.response if current and current.status != SENT else "",
                answers=answers.get(email),
                in_audience=email in audience,
                uninvited=uninvited and not state.cancelled,
            )
        )
    for email in sorted(guests):
        # Never invited, yet answered: a guest. Through one of our UIDs that means the
        # invitation was forwarded (SPEC); an answer taken by phone (rsvp set) is not.
        said = answers[email]
        answer = said.counted or said.earlier or said.unverified or said.counter
        if answer is None:  # only an unverified answer to an earlier version: nothing to show
            continue
        guest = _person(
            contacts.get(email),
            email=email,
            name=answer.name or email,
            delivery=None,
            answers=said,
            forwarded=answer.forwarded,
            in_audience=False,
        )
        if email not in contacts and answer.forwarded:
            guest = _placed(session, guest, answer.via)
        recipients.append(guest)
    return MeetingStatus(
        meeting=meeting,
        uid=state.uid,
        sequence=state.sequence,
        cancelled=state.cancelled,
        transport=transport,
        recipients=recipients,
        changed=_changed(session, state, meeting),
    )


def _placed(session: Session, guest: RecipientStatus, via: str) -> RecipientStatus:
    """Place a forwarded guest who is no contact: by who forwarded the invitation to them, else
    by their address (one municipality's or region's contacts share its domain)."""
    forwarder = session.scalar(select(Contact).where(Contact.email == via)) if via else None
    if forwarder is not None:
        return replace(
            guest,
            municipality=forwarder.municipality,
            region=forwarder.region,
            forwarded_by=forwarder.email,
        )
    domain = guest.email.rpartition("@")[2]
    places: set[tuple[str, str]] = {
        (municipality, region)
        for municipality, region in session.execute(
            select(Contact.municipality, Contact.region)
            .where(Contact.email.like(f"%@{domain}"))
            .distinct()
        )
    }
    regions = {region for _municipality, region in places}
    if len(places) == 1:
        [(municipality, region)] = places
        return replace(guest, municipality=municipality, region=region)
    if len(regions) == 1:
        return replace(guest, region=regions.pop())
    return guest


def _changed(session: Session, state: MeetingState, meeting: Meeting) -> bool:
    """True when something was sent and the config no longer says what was sent."""
    if state.cancelled or not any(has_sent(session, state, s) for s in range(state.sequence + 1)):
        return False
    return not is_current(state.fingerprint, meeting) or not has_sent(
        session, state, state.sequence
    )


def _person(
    contact: Contact | None,
    *,
    email: str | None = None,
    name: str | None = None,
    delivery: str | None,
    response: str = "",
    answers: PersonAnswers | None = None,
    forwarded: bool = False,
    in_audience: bool = True,
    uninvited: bool = False,
) -> RecipientStatus:
    """Make one RecipientStatus from a contact (if known) and what they answered (if any)."""
    said = answers or PersonAnswers()
    reply, unverified, counter = said.counted, said.unverified, said.counter
    return RecipientStatus(
        email=email or (contact.email if contact else ""),
        name=name or (contact.name if contact else ""),
        role=contact.role if contact else "",
        municipality=contact.municipality if contact else "",
        region=contact.region if contact else "",
        organization=contact.organization if contact else "",
        title=contact.title if contact else "",
        phone=contact.phone if contact else "",
        delivery=delivery,
        response=response,
        rsvp=RSVP_WORDS.get(reply.partstat, "needs-action") if reply else "needs-action",
        forwarded=forwarded,
        in_audience=in_audience,
        uninvited=uninvited,
        delegated_to=reply.delegated_to if reply else "",
        comment=reply.comment if reply else "",
        guests=reply.guests if reply else 0,
        counter=counter is not None,
        answered_by=(reply.sender or None) if reply and reply.method != "MANUAL" else None,
        answered_via=("rsvp set" if reply.method == "MANUAL" else "mail") if reply else None,
        unverified_rsvp=RSVP_WORDS.get(unverified.partstat) if unverified else None,
        unverified_sender=(unverified.sender or None) if unverified else None,
        earlier_rsvp=RSVP_WORDS.get(said.earlier.partstat) if said.earlier else None,
        proposed_start=counter.proposed_start if counter else None,
        proposed_end=counter.proposed_end if counter else None,
        proposal_comment=counter.comment if counter else "",
    )

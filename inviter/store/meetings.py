"""A meeting's calendar identity (UID, SEQUENCE) and the programme at a glance."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inviter.config import Settings
from inviter.domain import Meeting, Organizer
from inviter.store.models import REQUEST, Delivery, MeetingState
from inviter.store.uid_book import UidBook
from inviter.store.versions import is_current, meeting_fingerprint, record_version


def new_uid(organizer: Organizer) -> str:
    """Return a fresh UID: random, holding no personal data (imip.md 2)."""
    return f"{uuid.uuid4()}@{organizer.domain}"


def get_state(session: Session, meeting: Meeting) -> MeetingState | None:
    """Return the stored state of a meeting, or None if nothing was ever made for it."""
    return session.scalar(select(MeetingState).where(MeetingState.slug == meeting.slug))


def planned_uid(settings: Settings, meeting: Meeting) -> str:
    """Return the UID a meeting with no state yet will get: the one kept beside the config."""
    return UidBook(settings.base_dir).get(meeting.slug) or new_uid(settings.organizer)


def ensure_state(session: Session, meeting: Meeting, settings: Settings) -> MeetingState:
    """Return the meeting's state, giving it a UID on first use. The UID never changes.

    The UID is also kept beside the config (inviter.uid_book), and taken from there when the
    database has none: a database made anew keeps the meetings' calendar identities.
    """
    book = UidBook(settings.base_dir)
    state = get_state(session, meeting)
    if state is None:
        state = MeetingState(
            slug=meeting.slug,
            uid=book.get(meeting.slug) or new_uid(settings.organizer),
            sequence=0,
            fingerprint=meeting_fingerprint(meeting),
        )
        session.add(state)
        session.flush()
        record_version(session, state, meeting)
    book.keep(meeting.slug, state.uid)  # also for a database made before the file existed
    return state


def has_sent(session: Session, state: MeetingState, sequence: int) -> bool:
    """True if any invitation of this version was sent (by any transport)."""
    found = session.scalar(
        select(Delivery.id)
        .where(
            Delivery.meeting_id == state.id,
            Delivery.kind == REQUEST,
            Delivery.sequence == sequence,
        )
        .limit(1)
    )
    return found is not None


def planned_sequence(session: Session, state: MeetingState, meeting: Meeting) -> int:
    """Return the SEQUENCE the next invitation carries, without changing anything."""
    if is_current(state.fingerprint, meeting):
        return state.sequence
    # The config changed. If the old version never reached anyone, it is simply replaced.
    if not has_sent(session, state, state.sequence):
        return state.sequence
    return highest_sequence(session, state) + 1


def highest_sequence(session: Session, state: MeetingState) -> int:
    """The highest SEQUENCE anyone was sent, cancellations included (RFC 5546 §2.1.4: a client
    ignores a message with a lower SEQUENCE than the one it holds)."""
    sent = session.scalar(
        select(func.max(Delivery.sequence)).where(Delivery.meeting_id == state.id)
    )
    return max(state.sequence, sent or 0)


def reinstate(session: Session, state: MeetingState, meeting: Meeting) -> int:
    """Take a cancellation back: a new version above every SEQUENCE sent, the meeting no longer
    cancelled, and answers counted from this version only; return its SEQUENCE."""
    sequence = highest_sequence(session, state) + 1
    state.sequence = sequence
    state.fingerprint = meeting_fingerprint(meeting)
    state.cancelled = False
    state.answers_from = sequence
    record_version(session, state, meeting)
    return sequence


def advance_version(session: Session, state: MeetingState, meeting: Meeting) -> int:
    """Bring the state to the config's version (a higher SEQUENCE if it changed); return it."""
    sequence = planned_sequence(session, state, meeting)
    state.sequence = sequence
    state.fingerprint = meeting_fingerprint(meeting)
    record_version(session, state, meeting)
    return sequence

"""A meeting's calendar identity (UID, SEQUENCE) and the programme at a glance."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inviter.audience import audience_query
from inviter.config import Meeting, Organizer, Settings
from inviter.db import Database
from inviter.models import REQUEST, SENT, Delivery, MeetingState
from inviter.uid_book import UidBook


def meeting_fingerprint(meeting: Meeting) -> str:
    """Hash what makes a new version of the invitation: time, place, link and title.

    imip.md 10: a changed event goes out as an update with a higher SEQUENCE.
    """
    data = {
        "start": meeting.start.isoformat(),
        "end": meeting.end.isoformat(),
        "timezone": meeting.timezone,
        "location": meeting.location,
        "online_url": meeting.online_url,
        "title": meeting.title,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


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
    if state.fingerprint == meeting_fingerprint(meeting):
        return state.sequence
    # The config changed. If the old version never reached anyone, it is simply replaced.
    return state.sequence + 1 if has_sent(session, state, state.sequence) else state.sequence


def advance_version(session: Session, state: MeetingState, meeting: Meeting) -> int:
    """Bring the state to the config's version (a higher SEQUENCE if it changed); return it."""
    sequence = planned_sequence(session, state, meeting)
    state.sequence = sequence
    state.fingerprint = meeting_fingerprint(meeting)
    return sequence


@dataclass(frozen=True)
class MeetingSummary:
    """One meeting of the programme, for ``meetings list``."""

    meeting: Meeting
    audience: int
    sent: int
    sequence: int | None
    cancelled: bool


def summarize_meetings(settings: Settings, db: Database) -> list[MeetingSummary]:
    """Return each meeting with its audience size and how many have its current version."""
    summaries = []
    with db.reading() as session:
        for meeting in settings.meetings:
            size_query = select(func.count()).select_from(
                audience_query(meeting.audience).order_by(None).subquery()
            )
            size = session.scalar(size_query) or 0
            state = get_state(session, meeting)
            sent = 0
            if state is not None:
                sent = (
                    session.scalar(
                        select(func.count(func.distinct(Delivery.email))).where(
                            Delivery.meeting_id == state.id,
                            Delivery.kind == REQUEST,
                            Delivery.sequence == state.sequence,
                            Delivery.transport == settings.send.transport,
                            Delivery.status == SENT,
                        )
                    )
                    or 0
                )
            summaries.append(
                MeetingSummary(
                    meeting=meeting,
                    audience=size,
                    sent=sent,
                    sequence=None if state is None else state.sequence,
                    cancelled=bool(state and state.cancelled),
                )
            )
    return summaries


def meetings_document(summaries: list[MeetingSummary]) -> list[dict[str, object]]:
    """Return ``meetings list --json`` (SPEC: slug, title, start, end, location, audience, sent)."""
    return [
        {
            "slug": s.meeting.slug,
            "title": s.meeting.title,
            "start": s.meeting.start_at.isoformat(),
            "end": s.meeting.end_at.isoformat(),
            "location": s.meeting.location or s.meeting.online_url,
            "audience": s.audience,
            "sent": s.sent,
        }
        for s in summaries
    ]

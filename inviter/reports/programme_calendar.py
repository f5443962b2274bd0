"""``inviter calendar``: the whole programme as one calendar file for the organizer's own calendar.

Each meeting carries the UID and SEQUENCE its invitations carry (or will carry), so importing the
file into Outlook, Google or Apple Calendar shows the season in the organizer's calendar and
updates the same entries later, never a second copy of a meeting. A meeting never sent gets its
UID now and keeps it (inviter-uids.toml), so its invitations, sent later, match.
"""

from __future__ import annotations

from datetime import datetime

from inviter.compose.calendar import ProgrammeEntry, build_programme, serialize
from inviter.config import Settings
from inviter.store.database import Database
from inviter.store.meetings import get_state, highest_sequence, planned_sequence, planned_uid
from inviter.store.models import utcnow
from inviter.store.uid_book import UidBook


def programme_calendar(settings: Settings, db: Database, *, now: datetime | None = None) -> bytes:
    """Return the METHOD:PUBLISH calendar of every meeting in inviter.toml."""
    entries = []
    book = UidBook(settings.base_dir)
    with db.reading() as session:
        for meeting in settings.meetings:
            state = get_state(session, meeting)
            if state is None:
                uid = planned_uid(settings, meeting)
                book.keep(meeting.slug, uid)  # the invitations sent later take this one
                entries.append(ProgrammeEntry(meeting, uid, 0))
                continue
            # A cancelled meeting as its cancellation left it: STATUS:CANCELLED, and the
            # cancellation's SEQUENCE (RFC 5546 §2.1.4: a lower one would be ignored).
            if state.cancelled:
                sequence = highest_sequence(session, state)
            else:
                sequence = planned_sequence(session, state, meeting)
            entries.append(ProgrammeEntry(meeting, state.uid, sequence, state.cancelled))
    calendar = build_programme(entries, settings.organizer, now=now or utcnow())
    return serialize(calendar)

"""``meetings list``: every meeting of the programme with its audience and how far sending got.

Its figures come from the same computation as ``status``, ``attendance`` and ``report``
(inviter.status), so the four agree after uninvites, removed contacts, forwarded guests and a
change of transport (SPEC, second edition).
"""

from __future__ import annotations

from dataclasses import dataclass

from inviter.config import Settings
from inviter.domain import Meeting
from inviter.reports.status import meeting_status
from inviter.store.database import Database


@dataclass(frozen=True)
class MeetingSummary:
    """One meeting of the programme, for ``meetings list``."""

    meeting: Meeting
    audience: int
    sent: int
    sequence: int | None
    cancelled: bool
    changed: bool  # the config differs from what was sent: an update is due
    bounced: int = 0  # invitations a delivery report said did not arrive


def summarize_meetings(settings: Settings, db: Database) -> list[MeetingSummary]:
    """Return each meeting with its audience size and how many have its current version."""
    summaries = []
    with db.reading() as session:
        for meeting in settings.meetings:
            status = meeting_status(session, settings, meeting)
            counts = status.counts
            summaries.append(
                MeetingSummary(
                    meeting=meeting,
                    audience=counts["audience"],
                    sent=counts["sent"],
                    sequence=status.sequence,
                    cancelled=status.cancelled,
                    changed=status.changed,
                    bounced=counts["bounced"],
                )
            )
    return summaries


def meetings_document(summaries: list[MeetingSummary]) -> list[dict[str, object]]:
    """Return ``meetings list --json`` (SPEC: slug, title, start, end, location, audience, sent,
    and since the second edition changed)."""
    return [
        {
            "slug": s.meeting.slug,
            "title": s.meeting.title,
            "start": s.meeting.start_at.isoformat(),
            "end": s.meeting.end_at.isoformat(),
            "location": s.meeting.location or s.meeting.online_url,
            "audience": s.audience,
            "sent": s.sent,
            "changed": s.changed,
            "bounced": s.bounced,
        }
        for s in summaries
    ]

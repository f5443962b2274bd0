"""``status``: one meeting's state as the SPEC's JSON object or as a table for a terminal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inviter.config import Settings
from inviter.reports.status import MeetingStatus, RecipientStatus, meeting_status
from inviter.reports.terminal import meeting_span, paint, render_table
from inviter.store.database import Database

_RSVP_COLOUR = {"accepted": "green", "declined": "red", "tentative": "yellow"}
_DELIVERY_COLOUR = {
    "failed": "red",
    "bounced": "red",
    "uncertain": "yellow",
    "delayed": "yellow",
    "pending": "dim",
}


def load_status(settings: Settings, db: Database, slug: str) -> MeetingStatus:
    """Compute the state of the meeting ``slug`` (InputError for an unknown slug)."""
    meeting = settings.meeting(slug)
    with db.reading() as session:
        return meeting_status(session, settings, meeting)


def status_document(status: MeetingStatus) -> dict[str, Any]:
    """Return the SPEC's ``status --json`` object (extra keys beside the SPEC's ones)."""
    return {
        "meeting": status.meeting.slug,
        "changed": status.changed,
        **status.counts,
        "recipients": [
            {
                "email": r.email,
                "name": r.name,
                "delivery": r.delivery,
                "rsvp": r.rsvp,
                "forwarded": r.forwarded,
                "in_audience": r.in_audience,
                "uninvited": r.uninvited,
                "role": r.role,
                "municipality": r.municipality,
                "region": r.region,
                "response": r.response,
                "delegated_to": r.delegated_to,
                "comment": r.comment,
                "guests": r.guests,
                "counter": r.counter,
                "answered_by": r.answered_by,
                "answered_via": r.answered_via,
                "unverified_rsvp": r.unverified_rsvp,
                "unverified_sender": r.unverified_sender,
                "earlier_rsvp": r.earlier_rsvp,
                "forwarded_by": r.forwarded_by,
                "proposed_start": _iso(r.proposed_start, status),
                "proposed_end": _iso(r.proposed_end, status),
            }
            for r in status.recipients
        ],
    }


def _iso(moment: datetime | None, status: MeetingStatus) -> str | None:
    """A proposed time in the meeting's own zone, as ``start`` is given in meetings list."""
    return moment.astimezone(status.meeting.tzinfo).isoformat() if moment else None


def _proposal(r: RecipientStatus, status: MeetingStatus) -> str:
    """Say the time a COUNTER proposed, in the meeting's zone, and what came with it."""
    if r.proposed_start is None:
        return "proposed a new time"
    zone = status.meeting.tzinfo
    start = r.proposed_start.astimezone(zone)
    text = f"proposed {start:%Y-%m-%d %H:%M}"
    if r.proposed_end is not None:
        end = r.proposed_end.astimezone(zone)
        text += f"–{end:%H:%M}" if end.date() == start.date() else f" – {end:%Y-%m-%d %H:%M}"
    if r.proposal_comment:
        text += f" “{' '.join(r.proposal_comment.split())[:60]}”"
    return text


def _notes(r: RecipientStatus, status: MeetingStatus) -> str:
    """Say what else a person at the terminal should know about one recipient."""
    notes = []
    if r.forwarded:
        notes.append(
            f"forwarded guest (from {r.forwarded_by})" if r.forwarded_by else "forwarded guest"
        )
    if not r.in_audience and not r.forwarded:
        notes.append("left the audience")
    if r.uninvited:
        notes.append("uninvited")
    if r.delegated_to:
        notes.append(f"delegated to {r.delegated_to}")
    if r.guests:
        notes.append(f"+{r.guests} guest{'s' if r.guests > 1 else ''}")
    if r.earlier_rsvp and r.rsvp == "needs-action":
        notes.append(f"{r.earlier_rsvp} for an earlier version")
    if r.counter:
        notes.append(_proposal(r, status))
    if r.unverified_rsvp:
        notes.append(
            f"unverified: {r.unverified_rsvp} sent by {r.unverified_sender or 'unknown'}"
            " (confirm with rsvp set)"
        )
    if r.answered_by and r.answered_by != r.email:
        notes.append(f"answered by {r.answered_by}")
    if r.response:
        notes.append(r.response)
    if r.comment:
        comment = " ".join(r.comment.split())
        notes.append(f"“{comment[:60]}{'…' if len(comment) > 60 else ''}”")
    return "; ".join(notes)


def status_table(status: MeetingStatus, *, color: bool = False) -> str:
    """Render the counts and one row per recipient for a terminal."""
    meeting = status.meeting
    counts = status.counts
    when = meeting_span(meeting)
    head = [f"{meeting.slug}: {meeting.title} ({when})"]
    if status.cancelled:
        head.append(paint("cancelled", "red", color))
    elif status.changed:
        head.append(paint("changed, update not sent", "yellow", color))
    lines = [" ".join(head)]
    if status.uid is None:
        lines.append("Nothing has been sent for this meeting yet.")
    lines.append(
        f"audience {counts['audience']}, sent {counts['sent']}, "
        f"failed {paint(str(counts['failed']), 'red' if counts['failed'] else None, color)}, "
        f"pending {counts['pending']}, uncertain {counts['uncertain']}"
        + (f", bounced {counts['bounced']}" if counts["bounced"] else "")
        + (f", delayed {counts['delayed']}" if counts["delayed"] else "")
        + (f", left the audience {counts['left_audience']}" if counts["left_audience"] else "")
    )
    lines.append(
        f"accepted {counts['accepted']}, declined {counts['declined']}, "
        f"tentative {counts['tentative']}, no answer {counts['no_answer']}, "
        f"forwarded guests {counts['forwarded']}"
        + (f", unverified {counts['unverified']}" if counts["unverified"] else "")
        + (
            f", answered an earlier version {counts['answered_earlier']}"
            if counts["answered_earlier"]
            else ""
        )
    )
    rows, colours = [], []
    for r in status.recipients:
        delivery = r.delivery or "—"
        rows.append([r.name, r.email, r.municipality, delivery, r.rsvp, _notes(r, status)])
        colours.append(
            [
                "dim" if r.uninvited or (not r.in_audience and not r.forwarded) else None,
                None,
                None,
                _DELIVERY_COLOUR.get(delivery),
                _RSVP_COLOUR.get(r.rsvp),
                None,
            ]
        )
    if rows:
        lines.append("")
        lines.append(
            render_table(
                ["name", "email", "municipality", "delivery", "answer", "notes"],
                rows,
                colours=colours,
                color=color,
            )
        )
    return "\n".join(lines)

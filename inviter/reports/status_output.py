"""``status``: one meeting's state as the SPEC's JSON object or as a table for a terminal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inviter.config import Settings
from inviter.reports.status import MeetingStatus, RecipientStatus, meeting_status
from inviter.reports.terminal import (
    answer_word,
    delivery_word,
    meeting_span,
    paint,
    render_table,
    response_text,
)
from inviter.store.database import Database
from inviter.translation import _, ngettext

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
        return _("proposed a new time")
    zone = status.meeting.tzinfo
    start = r.proposed_start.astimezone(zone)
    when = f"{start:%Y-%m-%d %H:%M}"
    if r.proposed_end is not None:
        end = r.proposed_end.astimezone(zone)
        when += f"–{end:%H:%M}" if end.date() == start.date() else f" – {end:%Y-%m-%d %H:%M}"
    text = _("proposed {time}").format(time=when)
    if r.proposal_comment:
        text += f" “{' '.join(r.proposal_comment.split())[:60]}”"
    return text


def _notes(r: RecipientStatus, status: MeetingStatus) -> str:
    """Say what else a person at the terminal should know about one recipient."""
    notes = []
    if r.forwarded:
        notes.append(
            _("forwarded guest (from {email})").format(email=r.forwarded_by)
            if r.forwarded_by
            else _("forwarded guest")
        )
    if not r.in_audience and not r.forwarded:
        notes.append(_("left the audience"))
    if r.uninvited:
        notes.append(_("uninvited"))
    if r.delegated_to:
        notes.append(_("delegated to {email}").format(email=r.delegated_to))
    if r.guests:
        notes.append(ngettext("+{count} guest", "+{count} guests", r.guests).format(count=r.guests))
    if r.earlier_rsvp and r.rsvp == "needs-action":
        notes.append(
            _("{answer} for an earlier version").format(answer=answer_word(r.earlier_rsvp))
        )
    if r.counter:
        notes.append(_proposal(r, status))
    if r.unverified_rsvp:
        notes.append(
            _("unverified: {answer} sent by {sender} (confirm with rsvp set)").format(
                answer=answer_word(r.unverified_rsvp),
                sender=r.unverified_sender or _("unknown"),
            )
        )
    if r.answered_by and r.answered_by != r.email:
        notes.append(_("answered by {email}").format(email=r.answered_by))
    if r.response:
        notes.append(response_text(r.response))
    if r.comment:
        comment = " ".join(r.comment.split())
        notes.append(f"“{comment[:60]}{'…' if len(comment) > 60 else ''}”")
    return "; ".join(notes)


def _will_be_sent(r: RecipientStatus, status: MeetingStatus) -> bool:
    """True for someone the next send (or a resend) would reach: in the audience, not
    uninvited, the meeting not cancelled."""
    return r.in_audience and not r.forwarded and not r.uninvited and not status.cancelled


def _delivery_cell(r: RecipientStatus, status: MeetingStatus) -> str:
    """What reached the person, in words; a dash for someone who is never to be sent anything
    (a forwarded guest, someone uninvited or gone from the audience)."""
    if r.delivery is None or (r.delivery == "pending" and not _will_be_sent(r, status)):
        return "—"
    return delivery_word(r.delivery)


def _answer_cell(r: RecipientStatus) -> str:
    """The answer that counts, in words; "awaiting reply" only for someone who has the
    invitation (sent, delayed, or maybe sent) and was not uninvited, a dash for someone who
    has nothing to answer."""
    has_it = r.delivery in ("sent", "delayed", "uncertain") and not r.uninvited
    if r.rsvp == "needs-action" and not has_it:
        return "—"
    return answer_word(r.rsvp)


def status_table(status: MeetingStatus, *, color: bool = False) -> str:
    """Render the counts and one row per recipient for a terminal."""
    meeting = status.meeting
    counts = status.counts
    when = meeting_span(meeting)
    head = [f"{meeting.slug}: {meeting.title} ({when})"]
    if status.cancelled:
        head.append(paint(_("cancelled"), "red", color))
    elif status.changed:
        head.append(paint(_("changed, update not sent"), "yellow", color))
    lines = [" ".join(head)]
    if status.uid is None:
        lines.append(_("Nothing has been sent for this meeting yet."))
    failed = paint(str(counts["failed"]), "red" if counts["failed"] else None, color)
    delivery = [
        _("audience {count}").format(count=counts["audience"]),
        _("sent {count}").format(count=counts["sent"]),
        _("failed {count}").format(count=failed),
        _("not sent yet {count}").format(count=counts["pending"]),
        _("uncertain {count}").format(count=counts["uncertain"]),
    ]
    if counts["bounced"]:
        delivery.append(_("bounced {count}").format(count=counts["bounced"]))
    if counts["delayed"]:
        delivery.append(_("delayed {count}").format(count=counts["delayed"]))
    if counts["left_audience"]:
        delivery.append(_("left the audience {count}").format(count=counts["left_audience"]))
    lines.append(", ".join(delivery))
    answers = [
        _("accepted {count}").format(count=counts["accepted"]),
        _("declined {count}").format(count=counts["declined"]),
        _("tentative {count}").format(count=counts["tentative"]),
        _("no answer {count}").format(count=counts["no_answer"]),
        _("forwarded guests {count}").format(count=counts["forwarded"]),
    ]
    if counts["unverified"]:
        answers.append(_("unverified {count}").format(count=counts["unverified"]))
    if counts["answered_earlier"]:
        answers.append(
            _("answered an earlier version {count}").format(count=counts["answered_earlier"])
        )
    lines.append(", ".join(answers))
    rows, colours = [], []
    for r in status.recipients:
        delivery_cell = _delivery_cell(r, status)
        rows.append(
            [
                r.name,
                r.email,
                r.municipality,
                delivery_cell,
                _answer_cell(r),
                _notes(r, status),
            ]
        )
        colours.append(
            [
                "dim" if r.uninvited or (not r.in_audience and not r.forwarded) else None,
                None,
                None,
                _DELIVERY_COLOUR.get(r.delivery or "") if delivery_cell != "—" else None,
                _RSVP_COLOUR.get(r.rsvp),
                None,
            ]
        )
    if rows:
        lines.append("")
        headers = [_("name"), _("email"), _("municipality"), _("delivery"), _("answer"), _("notes")]
        lines.append(render_table(headers, rows, colours=colours, color=color))
    return "\n".join(lines)

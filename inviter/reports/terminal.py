"""Tables for a person at a terminal, in colour where the terminal shows it."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from inviter.domain import Meeting
from inviter.reports.meeting_list import MeetingSummary
from inviter.store.models import BOUNCED_NOTE, DELAYED_NOTE, NO_REASON, STOPPED_BEFORE_TURN
from inviter.translation import N_, _

_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_GREEN = "\x1b[32m"
_YELLOW = "\x1b[33m"
_RED = "\x1b[31m"
_RESET = "\x1b[0m"

COLOURS = {"green": _GREEN, "yellow": _YELLOW, "red": _RED, "dim": _DIM, "bold": _BOLD}

# What staff read for a delivery state and an answer (the JSON keeps the SPEC's words): words
# people use, never the protocol's "pending" or "needs-action"; translated where shown.
DELIVERY_WORDS = {
    "sent": N_("sent"),
    "failed": N_("failed"),
    "bounced": N_("bounced"),
    "delayed": N_("delayed"),
    "uncertain": N_("uncertain"),
    "pending": N_("not sent yet"),
}
ANSWER_WORDS = {
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "tentative": N_("tentative"),
    "delegated": N_("delegated"),
    "needs-action": N_("awaiting reply"),
}


def delivery_word(delivery: str) -> str:
    """Return a delivery state (``sent``, ``pending``…) as staff read it."""
    word = DELIVERY_WORDS.get(delivery)
    return _(word) if word else delivery


def answer_word(rsvp: str) -> str:
    """Return an answer (``accepted``, ``needs-action``…) as staff read it."""
    word = ANSWER_WORDS.get(rsvp)
    return _(word) if word else rsvp


def response_text(response: str) -> str:
    """What the database keeps of a delivery's outcome, as staff read it: inviter's own notes
    (kept in English: the next run compares them; a delivery report's "bounced: 5.1.1 unknown
    user", "delayed: no reason given") in the language of the run, a server's answer as the
    server wrote it."""
    if response == STOPPED_BEFORE_TURN:
        return _(STOPPED_BEFORE_TURN)
    if response.startswith(BOUNCED_NOTE):
        text = _("bounced: {reason}")
    elif response.startswith(DELAYED_NOTE):
        text = _("delayed: {reason}")
    else:
        return response
    reason = response.partition(": ")[2]
    return text.format(reason=_(NO_REASON) if reason == NO_REASON else reason)


def width(text: str) -> int:
    """Return how many terminal columns ``text`` takes (combining marks take none)."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def paint(text: str, colour: str | None, enabled: bool) -> str:
    """Wrap ``text`` in an ANSI colour when enabled."""
    if not enabled or not colour:
        return text
    return f"{COLOURS[colour]}{text}{_RESET}"


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    colours: Sequence[Sequence[str | None]] | None = None,
    color: bool = False,
) -> str:
    """Lay out rows under headers in aligned columns; optional per-cell colours."""
    widths = [width(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], width(cell))

    def line(cells: Sequence[str], cell_colours: Sequence[str | None]) -> str:
        parts = []
        for index, cell in enumerate(cells):
            pad = " " * (widths[index] - width(cell))
            parts.append(paint(cell, cell_colours[index], color) + pad)
        return "  ".join(parts).rstrip()

    out = [line(headers, ["bold"] * len(headers))]
    out.append("  ".join("-" * w for w in widths))
    for index, row in enumerate(rows):
        out.append(line(row, colours[index] if colours else [None] * len(row)))
    return "\n".join(out)


def meeting_span(meeting: Meeting) -> str:
    """Return ``2022-11-09 10:00–15:00``, or both dates for a meeting over several days."""
    if meeting.start.date() == meeting.end.date():
        return f"{meeting.start:%Y-%m-%d %H:%M}–{meeting.end:%H:%M}"
    return f"{meeting.start:%Y-%m-%d %H:%M} – {meeting.end:%Y-%m-%d %H:%M}"


def meetings_table(summaries: Sequence[MeetingSummary], *, color: bool = False) -> str:
    """Render ``meetings list`` for a terminal."""
    rows = []
    colours: list[list[str | None]] = []
    for s in summaries:
        m = s.meeting
        when = meeting_span(m)
        if s.cancelled:
            state, colour = _("cancelled"), "red"
        elif s.changed:
            state, colour = _("changed, update not sent"), "yellow"
        elif s.sequence is None or s.sent == 0:
            state, colour = _("not sent"), "dim"
        elif s.sent >= s.audience:
            state, colour = _("sent"), "green"
        else:
            state, colour = _("partly sent"), "yellow"
        if s.bounced:
            state += ", " + _("{count} bounced").format(count=s.bounced)
        rows.append(
            [
                m.slug,
                when,
                m.location or _("online"),
                str(s.audience),
                f"{s.sent}/{s.audience}",
                state,
            ]
        )
        colours.append([None, None, None, None, None, colour])
    return render_table(
        [_("meeting"), _("when"), _("where"), _("audience"), _("sent"), _("state")],
        rows,
        colours=colours,
        color=color,
    )

"""Tables for a person at a terminal, in colour where the terminal shows it."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from inviter.domain import Meeting
from inviter.reports.meeting_list import MeetingSummary

_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_GREEN = "\x1b[32m"
_YELLOW = "\x1b[33m"
_RED = "\x1b[31m"
_RESET = "\x1b[0m"

COLOURS = {"green": _GREEN, "yellow": _YELLOW, "red": _RED, "dim": _DIM, "bold": _BOLD}


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
            state, colour = "cancelled", "red"
        elif s.changed:
            state, colour = "changed, update not sent", "yellow"
        elif s.sequence is None or s.sent == 0:
            state, colour = "not sent", "dim"
        elif s.sent >= s.audience:
            state, colour = "sent", "green"
        else:
            state, colour = "partly sent", "yellow"
        if s.bounced:
            state += f", {s.bounced} bounced"
        rows.append(
            [m.slug, when, m.location or "online", str(s.audience), f"{s.sent}/{s.audience}", state]
        )
        colours.append([None, None, None, None, None, colour])
    return render_table(
        ["meeting", "when", "where", "audience", "sent", "state"],
        rows,
        colours=colours,
        color=color,
    )

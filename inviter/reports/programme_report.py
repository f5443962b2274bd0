"""The whole meeting programme at a glance: counts per meeting and answers per region.

Built on ``status.meeting_status`` alone, so every number agrees with ``status``: a region's
answers add up to the meeting's accepted, tentative, declined and no-answer counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from inviter.config import Settings
from inviter.domain import Meeting, Organizer
from inviter.locale.collation import region_rank
from inviter.locale.labels import region_label
from inviter.reports.pages import generated_stamp, render
from inviter.reports.status import MeetingStatus, meeting_status
from inviter.store.database import Database

ANSWERS = ("accepted", "tentative", "declined", "no_answer")

# The chart's geometry, in SVG user units (CSS pixels at 100 %).
LABEL_WIDTH = 140
BAR_WIDTH = 300
GAP = 12
TEXT_WIDTH = 300
ROW_HEIGHT = 26
BAR_HEIGHT = 16
TOP = 4
LABEL_CHARS = 18  # what fits in LABEL_WIDTH at the chart's 12 px; longer names are cut, with …


@dataclass(frozen=True)
class RegionAnswers:
    """How the people of one region answered one meeting."""

    region: str
    accepted: int = 0
    tentative: int = 0
    declined: int = 0
    no_answer: int = 0

    @property
    def total(self) -> int:
        """Everyone counted in this region."""
        return self.accepted + self.tentative + self.declined + self.no_answer


@dataclass(frozen=True)
class Segment:
    """One coloured piece of a region's bar."""

    answer: str
    count: int
    x: float
    width: float


@dataclass(frozen=True)
class ChartRow:
    """One region's bar and where it is drawn."""

    answers: RegionAnswers
    y: float
    segments: tuple[Segment, ...]

    @property
    def label(self) -> str:
        """The region's name as it fits beside the bar (the full name is in the row's title)."""
        name = region_label(self.answers.region)
        return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True)
class Chart:
    """A stacked horizontal bar chart of answers per region, laid out for SVG."""

    rows: tuple[ChartRow, ...]
    width: int
    height: int
    label_width: int
    text_x: int
    bar_height: int


@dataclass(frozen=True)
class MeetingOverview:
    """One meeting of the programme: its counts and its answers per region."""

    meeting: Meeting
    cancelled: bool
    counts: dict[str, int]
    regions: tuple[RegionAnswers, ...]

    @property
    def chart(self) -> Chart:
        """The answers per region, laid out as a chart."""
        return chart_layout(self.regions)


@dataclass(frozen=True)
class Programme:
    """Every meeting of inviter.toml, in the config's order."""

    organizer: Organizer
    meetings: tuple[MeetingOverview, ...]


def answers_by_region(status: MeetingStatus) -> tuple[RegionAnswers, ...]:
    """Count each region's answers, the way ``MeetingStatus.counts`` counts the meeting's.

    A forwarded guest's answer counts in their region; only the audience can owe one. Someone
    uninvited is not counted; a delegated answer is in none of the four (as in ``status``).
    """
    tally: dict[str, dict[str, int]] = {}
    for r in status.recipients:
        if r.uninvited:
            continue
        if r.rsvp in ("accepted", "tentative", "declined"):
            answer = r.rsvp
        elif r.rsvp == "needs-action" and r.in_audience and not r.forwarded:
            answer = "no_answer"
        else:
            continue
        counts = tally.setdefault(r.region, dict.fromkeys(ANSWERS, 0))
        counts[answer] += 1
    return tuple(
        RegionAnswers(region, **counts)
        for region, counts in sorted(tally.items(), key=lambda item: region_rank(item[0]))
    )


def chart_layout(regions: Sequence[RegionAnswers]) -> Chart:
    """Lay out one bar per region, lengths to scale with the largest region."""
    largest = max((r.total for r in regions), default=0) or 1
    rows = []
    for index, region in enumerate(regions):
        x = float(LABEL_WIDTH)
        segments = []
        for answer in ANSWERS:
            count = getattr(region, answer)
            if count:
                width = BAR_WIDTH * count / largest
                segments.append(Segment(answer, count, round(x, 2), round(width, 2)))
                x += width
        rows.append(ChartRow(region, TOP + index * ROW_HEIGHT, tuple(segments)))
    return Chart(
        rows=tuple(rows),
        width=LABEL_WIDTH + BAR_WIDTH + GAP + TEXT_WIDTH,
        height=TOP * 2 + max(len(rows), 1) * ROW_HEIGHT,
        label_width=LABEL_WIDTH,
        text_x=LABEL_WIDTH + BAR_WIDTH + GAP,
        bar_height=BAR_HEIGHT,
    )


def build_overview(status: MeetingStatus) -> MeetingOverview:
    """Return a meeting's line of the programme from its status."""
    return MeetingOverview(
        meeting=status.meeting,
        cancelled=status.cancelled,
        counts=status.counts,
        regions=answers_by_region(status),
    )


def programme_overview(settings: Settings, db: Database) -> Programme:
    """Return every meeting of the programme with its counts and answers per region."""
    with db.reading() as session:
        meetings = tuple(
            build_overview(meeting_status(session, settings, meeting))
            for meeting in settings.meetings
        )
    return Programme(organizer=settings.organizer, meetings=meetings)


def overview_document(
    settings: Settings, db: Database, *, generated_at: datetime | None = None
) -> bytes:
    """Return the programme overview as one self-contained HTML page (UTF-8)."""
    programme = programme_overview(settings, db)
    return render_overview_page(programme, generated_at=generated_at or datetime.now(UTC)).encode()


def render_overview_page(programme: Programme, *, generated_at: datetime) -> str:
    """Return the programme overview: a table of meetings and a chart per meeting."""
    return render(
        "overview.html.j2",
        programme=programme,
        generated=generated_stamp(generated_at),
    )

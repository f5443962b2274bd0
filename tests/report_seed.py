"""Real database rows for the attendance and report tests: contacts, deliveries and replies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from inviter.config import Settings, load_settings
from inviter.store.database import Database
from inviter.store.meetings import ensure_state
from inviter.store.models import CANCEL, REQUEST, SENT, Contact, Delivery, Reply

T0 = datetime(2022, 10, 1, 12, 0, tzinfo=UTC)
MEETING = "temamote-tromso"


@dataclass(frozen=True)
class Person:
    """Someone on a meeting's list, with what they answered (None: no answer)."""

    email: str
    name: str
    municipality: str = "Tromsø"
    region: str = "Tromsø og omegn"
    answer: str | None = None  # an RFC 5545 PARTSTAT
    forwarded: bool = False  # a guest: never sent anything, only a reply
    contact: bool = True  # in the contact list (a forwarded guest may not be)
    role: str = "biblioteksjef"
    organization: str = ""
    title: str = ""
    uninvited: bool = False
    phone: str = ""


def open_project(project: Path) -> tuple[Settings, Database]:
    """Return the settings and database of a test project folder."""
    settings = load_settings(project / "inviter.toml", env={})
    return settings, Database(settings.database_url)


def seed(settings: Settings, db: Database, people: list[Person], slug: str = MEETING) -> None:
    """Store the people as contacts, send each an invitation, and record their answers."""
    meeting = settings.meeting(slug)
    with db.session() as s:
        state = ensure_state(s, meeting, settings)
        for p in people:
            known = s.scalar(select(Contact).where(Contact.email == p.email))
            if p.contact and known is None:
                s.add(
                    Contact(
                        email=p.email,
                        name=p.name,
                        role=p.role,
                        municipality=p.municipality,
                        region=p.region,
                        organization=p.organization,
                        title=p.title,
                        phone=p.phone,
                    )
                )
            if not p.forwarded:
                s.add(_delivery(state.id, p.email, REQUEST, 0))
            if p.uninvited:
                s.add(_delivery(state.id, p.email, CANCEL, 1))
            if p.answer:
                s.add(
                    Reply(
                        meeting_id=state.id,
                        email=p.email,
                        name=p.name if p.forwarded else "",
                        partstat=p.answer,
                        dtstamp=T0,
                        forwarded=p.forwarded,
                    )
                )


def seeded_project(project: Path) -> Path:
    """The project folder with PEOPLE invited to temamote-tromso and their answers."""
    settings, db = open_project(project)
    seed(settings, db, PEOPLE)
    db.close()
    return project


def _delivery(meeting_id: int, email: str, kind: str, sequence: int) -> Delivery:
    return Delivery(
        meeting_id=meeting_id,
        email=email,
        kind=kind,
        sequence=sequence,
        transport="outbox",
        message_id=f"<{kind}.{email}>",
        status=SENT,
    )


SCRIPT_NAME = "<script>alert(1)</script>"
FORMULA_NAME = '=HYPERLINK("http://x","y")'

# One of each case the lists must handle: the four regions, another region, no region,
# Norwegian letters, hostile names, a forwarded guest, tentative, declined and uninvited ones.
PEOPLE = [
    Person(
        "aase@example.org",
        "Åse Aasen",
        "Harstad",
        "Sør-Troms",
        "ACCEPTED",
        title="Leder",
        phone="+47 777 00 101",
    ),
    Person("zara@example.org", "Zara Zahl", "Harstad", "Sør-Troms", "ACCEPTED"),
    Person("oeyvind@example.org", "Øyvind Ørn", "Harstad", "Sør-Troms", "ACCEPTED"),
    Person("aile@example.org", "Áile Ŋuolja", "Kåfjord", "Nord-Troms", "ACCEPTED"),
    Person("script@example.org", SCRIPT_NAME, "Lyngen", "Nord-Troms", "ACCEPTED"),
    Person("formula@example.org", FORMULA_NAME, "Tromsø", "Tromsø og omegn", "ACCEPTED"),
    Person("plus@example.org", "+47 900 00 000", "Balsfjord", "Tromsø og omegn", "ACCEPTED"),
    Person("at@example.org", "@SUM(A1:A9)", "Senja", "Midt-Troms", "ACCEPTED"),
    Person("minus@example.org", "-Minus Mo", "Bardu", "Midt-Troms", "TENTATIVE"),
    Person("kiruna@example.org", "Kari Kiruna", "Kiruna", "Norrbotten", "ACCEPTED"),
    Person("nowhere@example.org", "Nils Uten", "", "", "ACCEPTED"),
    Person("no@example.org", "Nei Nilsen", "Tromsø", "Tromsø og omegn", "DECLINED"),
    Person("quiet@example.org", "Stille Stine", "Tromsø", "Tromsø og omegn"),
    Person(
        "gone@example.org", "Borte Bård", "Tromsø", "Tromsø og omegn", "ACCEPTED", uninvited=True
    ),
    # The leader a library head forwarded the invitation to: a contact, but not in the audience.
    Person(
        "leder@example.org",
        "Leder | Lund",
        "Skjervøy",
        "Nord-Troms",
        "ACCEPTED",
        forwarded=True,
        role="kommunedirektør",
    ),
    # A guest nobody knows: the reply's name only, no region.
    Person("ukjent@example.org", "Gjest Ukjent", "", "", "ACCEPTED", forwarded=True, contact=False),
]

# The order the list must have: regions north to south, others, unknown; then municipality, name.
ACCEPTED_ORDER = [
    "aile@example.org",  # Nord-Troms, Kåfjord
    "script@example.org",  # Nord-Troms, Lyngen
    "leder@example.org",  # Nord-Troms, Skjervøy (a forwarded guest: no contact row)
    "plus@example.org",  # Tromsø og omegn, Balsfjord
    "formula@example.org",  # Tromsø og omegn, Tromsø
    "at@example.org",  # Midt-Troms, Senja
    "zara@example.org",  # Sør-Troms, Harstad: Z, Ø, Å
    "oeyvind@example.org",
    "aase@example.org",
    "kiruna@example.org",  # another region
    "ukjent@example.org",  # no region (a guest known by the reply's name only)
    "nowhere@example.org",
]

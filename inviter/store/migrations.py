"""Bring a database made by an earlier release up to this release's schema, in place.

Each step takes the schema from one version to the next with plain ``ALTER TABLE`` statements,
run in the transaction that also writes the new version number, so an upgrade is all or
nothing. A database is never rebuilt: the raw replies and delivery records it keeps are the
evidence of who was sent what (imip.md 19).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from inviter.locale.regions import OFFICIAL_NAMES


def _to_2(session: Session, dialect: str) -> None:
    """Version 2: replies know whether their sender is the attendee, who sent them and, for a
    forwarded guest, whose invitation they answer (meeting_versions is a new table: made by
    create_all before this step runs)."""
    true = "true" if dialect == "postgresql" else "1"
    session.execute(
        text(f"ALTER TABLE replies ADD COLUMN verified BOOLEAN NOT NULL DEFAULT {true}")
    )
    session.execute(text("ALTER TABLE replies ADD COLUMN sender VARCHAR(320) NOT NULL DEFAULT ''"))
    session.execute(text("ALTER TABLE replies ADD COLUMN via VARCHAR(320) NOT NULL DEFAULT ''"))
    # Municipalities with names in several languages are stored by their whole official name
    # ("Gáivuotna – Kåfjord – Kaivuono"), which every list and export now shows.
    for norwegian, official in OFFICIAL_NAMES.items():
        session.execute(
            text("UPDATE contacts SET municipality = :official WHERE municipality = :norwegian"),
            {"official": official, "norwegian": norwegian},
        )
    if dialect == "postgresql":
        # SQLite stores any integer in an INTEGER column; PostgreSQL's is signed 32-bit, and
        # UIDVALIDITY may be up to 2^32-1.
        session.execute(
            text(
                "ALTER TABLE imap_marks ALTER COLUMN uidvalidity TYPE BIGINT, "
                "ALTER COLUMN last_uid TYPE BIGINT"
            )
        )


# STEPS[n] takes a database of version n to version n + 1.
STEPS: dict[int, Callable[[Session, str], None]] = {1: _to_2}


def upgrade(session: Session, version: int, dialect: str) -> None:
    """Run every step from ``version`` to the newest, in order, inside ``session``."""
    while version in STEPS:
        STEPS[version](session, dialect)
        version += 1

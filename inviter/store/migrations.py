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


def _to_3(session: Session, dialect: str) -> None:
    """Version 3: a reinstated meeting's answers start afresh (meetings.answers_from), and the
    cancellation rows of a whole meeting are told from those of one person uninvited (batch
    'meeting'), so that reinstating invites again those the cancellation reached and not those
    uninvited one by one. Rows of meetings cancelled before this release cannot be told apart:
    the cancellation rows of a cancelled meeting are all taken as the meeting's."""
    session.execute(text("ALTER TABLE meetings ADD COLUMN answers_from INTEGER NOT NULL DEFAULT 0"))
    session.execute(
        text(
            "UPDATE deliveries SET batch = 'meeting' WHERE kind = 'cancel' AND batch = '' "
            "AND meeting_id IN (SELECT id FROM meetings WHERE cancelled = :yes)"
        ),
        {"yes": True},
    )


# STEPS[n] takes a database of version n to version n + 1.
STEPS: dict[int, Callable[[Session, str], None]] = {1: _to_2, 2: _to_3}


def upgrade(session: Session, version: int, dialect: str) -> None:
    """Run every step from ``version`` to the newest, in order, inside ``session``."""
    while version in STEPS:
        STEPS[version](session, dialect)
        version += 1

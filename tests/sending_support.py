"""Shared set-up for the sending tests: a small meeting, contacts in the database, SMTP settings."""

from __future__ import annotations

import email
import email.policy
import os
import sys
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

import pexpect
from sqlalchemy import select

from inviter.config import Settings, load_settings
from inviter.store.database import Database
from inviter.store.models import Contact, Delivery, MeetingState

from .smtpd import SmtpServer

MEETING = "testmote"

CONFIG = """\
[organizer]
name = "Troms fylkeskommune, fylkesbiblioteket"
email = "bibliotek@example.org"

[send]
transport = "outbox"
outbox = "outbox"
concurrency = 3
rate_per_minute = 0
retries = 2
retry_delay = 0.01

[smtp]
host = "127.0.0.1"
port = 2525
security = "none"
timeout = 5

[[meeting]]
slug = "testmote"
title = "Temamøte: Litteratur og kultur"
template = "temamote"
start = 2099-11-09T10:00:00  # in the future: over SMTP a started meeting needs --force
end = 2099-11-09T15:00:00
timezone = "Europe/Oslo"
location = "{location}"
description = "Program følger."
audience = {{ roles = ["biblioteksjef"], exclude = [{exclude}] }}
"""

# (email, name, role, municipality, region, language)
PEOPLE = [
    ("kari@example.org", "Kari Nordmann", "biblioteksjef", "Tromsø", "Tromsø og omegn", "nb"),
    ("aile@example.org", "Áile Ŋuolja", "biblioteksjef", "Kåfjord", "Nord-Troms", "nb"),
    ("per@example.org", "Per Ørnes", "biblioteksjef", "Harstad", "Sør-Troms", "nb"),
    ("ellen@example.org", "Ellen Kåsa", "biblioteksjef", "Lyngen", "Nord-Troms", "en"),
    ("oystein@example.org", "Øystein Æsøy", "biblioteksjef", "Senja", "Midt-Troms", "nb"),
    ("ola@example.org", "Ola Ordfører", "ordfører", "Senja", "Midt-Troms", "nb"),
]
AUDIENCE = sorted(p[0] for p in PEOPLE if p[2] == "biblioteksjef")


def write_config(folder: Path, *, location: str = "Tromsø", exclude: tuple[str, ...] = ()) -> Path:
    """Write the test meeting's inviter.toml into ``folder``; return its path."""
    path = folder / "inviter.toml"
    excluded = ", ".join(f'"{e}"' for e in exclude)
    path.write_text(CONFIG.format(location=location, exclude=excluded), encoding="utf-8")
    return path


def add_contacts(db: Database, people: Sequence[tuple[str, ...]] | None = None) -> None:
    """Store contacts directly (the contacts importer is tested elsewhere)."""
    with db.session() as session:
        for address, name, role, municipality, region, language in people or PEOPLE:
            session.add(
                Contact(
                    email=address,
                    name=name,
                    role=role,
                    municipality=municipality,
                    region=region,
                    organization=f"{municipality} bibliotek",
                    title="Biblioteksjef" if role == "biblioteksjef" else "Ordfører",
                    language=language,
                )
            )


def smtp_env(server: SmtpServer, **extra: str) -> dict[str, str]:
    """Return the environment that points inviter at the test server."""
    env = {
        "INVITER_SEND_TRANSPORT": "smtp",
        "INVITER_SMTP_HOST": "127.0.0.1",
        "INVITER_SMTP_PORT": str(server.port),
        "INVITER_SMTP_SECURITY": "none",
    }
    env.update(extra)
    return env


def settings_for(folder: Path, env: dict[str, str] | None = None) -> Settings:
    """Load the folder's settings with these environment overrides."""
    return load_settings(folder / "inviter.toml", env=env or {})


def open_db(folder: Path) -> Database:
    """Open the folder's database (made on first use)."""
    return Database(f"sqlite:///{folder / 'inviter.db'}")


def deliveries(db: Database) -> list[Delivery]:
    """Return every delivery row, oldest first."""
    with db.session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def meeting_state(db: Database) -> MeetingState | None:
    """Return the test meeting's stored state."""
    with db.session() as session:
        return session.scalar(select(MeetingState).where(MeetingState.slug == MEETING))


def parse(data: bytes) -> EmailMessage:
    """Parse message bytes with the standard library's modern parser."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def calendar_of(data: bytes) -> str:
    """Return the inline text/calendar part, decoded and unfolded."""
    for part in parse(data).walk():
        if part.get_content_type() == "text/calendar":
            text = part.get_payload(decode=True)
            assert isinstance(text, bytes)
            return text.decode("utf-8").replace("\r\n ", "")
    raise AssertionError("no text/calendar part")


def prop(calendar: str, name: str) -> str:
    """Return the value of the first property ``name`` in a calendar text."""
    for line in calendar.split("\r\n"):
        key = line.split(":", 1)[0].split(";", 1)[0]
        if key == name:
            return line.split(":", 1)[1]
    raise AssertionError(f"no {name} in the calendar")


def prepare_folder(project: Path) -> Path:
    """Turn the project into the test meeting's folder with its six contacts (five invited)."""
    write_config(project)
    db = open_db(project)
    add_contacts(db)
    db.close()
    return project


def at_a_terminal(folder: Path, env: dict[str, str], *args: str) -> pexpect.spawn:
    """Run ``inviter ARGS`` at a pseudo-terminal, as staff do: questions are asked there."""
    return pexpect.spawn(
        sys.executable,
        ["-m", "inviter", *args],
        cwd=str(folder),
        env={**os.environ, **env},
        encoding="utf-8",
        timeout=60,
    )

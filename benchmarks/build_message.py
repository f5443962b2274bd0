"""Time building one complete invitation message, and compare with EmailMessage(policy=SMTP).

Run: .venv/bin/python benchmarks/build_message.py
sending.md's figures: EmailMessage(policy.SMTP) about 1.9 ms a message, the legacy API 0.5 ms.
"""

from __future__ import annotations

import timeit
from datetime import UTC, datetime
from pathlib import Path

from common import email_message_bytes

from inviter.config import load_settings
from inviter.ics import build_request
from inviter.messages import Recipient, build_message
from inviter.templates import Templates

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Print the time per message of both ways."""
    settings = load_settings(ROOT / "inviter.toml", env={})
    meeting = settings.meeting("regionmote-nord-troms")
    organizer = settings.organizer
    templates = Templates(settings.templates_dir)
    recipient = Recipient(email="ailu.somby@example.org", name="Áilu Čađŋšŧž Somby")
    now = datetime(2022, 8, 20, 9, 30, tzinfo=UTC)

    def ours() -> bytes:
        return build_message(
            meeting,
            organizer,
            recipient,
            kind="request",
            uid="uid@example.org",
            sequence=0,
            now=now,
            message_id="<abc@example.org>",
            templates=templates,
        )

    def email_message() -> bytes:
        rendered = templates.render(meeting, organizer, recipient, kind="request")
        calendar = build_request(
            meeting,
            organizer,
            recipient.email,
            recipient.name,
            uid="uid@example.org",
            sequence=0,
            now=now,
        )
        return email_message_bytes(organizer, recipient, rendered, calendar)

    ours()
    email_message()
    for name, func in (("inviter.messages.build_message", ours), ("EmailMessage", email_message)):
        runs = 2000
        seconds = min(timeit.repeat(func, number=runs, repeat=3)) / runs
        print(f"{name:34} {seconds * 1000:.3f} ms a message ({1 / seconds:,.0f} a second)")


if __name__ == "__main__":
    main()

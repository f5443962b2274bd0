"""Reply import: replies a second from one big mbox, and the memory it takes.

Run: .venv/bin/python benchmarks/reply_import.py [--size 10000]

The mbox holds ``--size`` calendar replies in the shapes of tests/data/replies (Gmail accepted,
Outlook/Exchange accepted in base64 with Windows zone names and no ORGANIZER, Apple declined
in quoted-printable, Thunderbird tentative with 8bit text): each sample's calendar is unfolded,
given another invited person's address, and written back in the sample's own transfer
encoding, with a Message-ID of its own. The project is the shipped example with ``--size``
contacts, each sent the invitation to temamote-tromso.

Measured, each in a child process that reads its own peak RSS (VmHWM, common.peak_rss):
- ``import_replies`` (what ``inviter rsvp import`` runs): parse, match, record, keep the raw;
- the baseline in the same run: the standard library reading the same mbox and decoding every
  calendar part (``mailbox.mbox`` + ``email``), recording nothing: the least any importer does;
- ``import_replies`` of a one-message file, the memory baseline.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import json
import mailbox
import quopri
import re
import shutil
import tempfile
import time
from email.message import Message
from pathlib import Path

from common import ROOT, machine, peak_rss, run_child, table
from sqlalchemy import insert

from inviter.config import load_settings
from inviter.replies.rsvp import import_replies
from inviter.store.database import Database
from inviter.store.models import REQUEST, SENT, Contact, Delivery, MeetingState
from tests.proof_support import contact_rows
from tests.replies_helpers import DATA, SLUG, UID

SAMPLES = (
    "gmail-accepted.eml",
    "outlook-accepted.eml",
    "apple-declined.eml",
    "thunderbird-tentative.eml",
)
_MAILTO = re.compile(rb"(?i)(ATTENDEE[^:\r\n]*:mailto:)([^\r\n]+)")


def _calendar_parts(message: Message) -> list[Message]:
    """Return the calendar parts: Gmail sends one inline and the same as invite.ics."""
    found = [
        part
        for part in message.walk()
        if part.get_content_type() in ("text/calendar", "application/ics")
    ]
    if not found:
        raise ValueError("no calendar part")
    return found


def _shape(name: str) -> tuple[Message, bytes]:
    """Return a sample parsed, and its calendar unfolded (imip.md 17: at the byte level)."""
    message = email.message_from_bytes((DATA / name).read_bytes(), policy=email.policy.compat32)
    payload = _calendar_parts(message)[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return message, re.sub(rb"\r?\n[ \t]", b"", payload)


def reply(shape: tuple[Message, bytes], number: int, address: str) -> bytes:
    """Return the sample as if ``address`` had answered, with its own Message-ID."""
    message, calendar = shape
    calendar = _MAILTO.sub(lambda m: m.group(1) + address.encode(), calendar, count=1)
    for part in _calendar_parts(message):
        encoding = (part.get("Content-Transfer-Encoding") or "7bit").lower()
        if encoding == "base64":
            body = base64.encodebytes(calendar).decode("ascii")
        elif encoding == "quoted-printable":
            body = quopri.encodestring(calendar).decode("ascii")
        else:
            body = calendar.decode("ascii", "surrogateescape")  # 8bit: written back as bytes
        part.set_payload(body)
    del message["Message-ID"]
    message["Message-ID"] = f"<reply{number}@replies.example.org>"
    return message.as_bytes()


def make_project(folder: Path, size: int) -> Path:
    """Copy the shipped example; add ``size`` contacts, each sent the invitation."""
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "inviter.toml", folder / "inviter.toml")
    shutil.copytree(ROOT / "templates", folder / "templates")
    settings = load_settings(folder / "inviter.toml", env={})
    db = Database(settings.database_url)
    rows = contact_rows(size)
    with db.session() as session:
        session.execute(insert(Contact), rows)
        state = MeetingState(slug=SLUG, uid=UID, sequence=0)
        session.add(state)
        session.flush()
        session.execute(
            insert(Delivery),
            [
                {
                    "meeting_id": state.id,
                    "email": row["email"],
                    "name": row["name"],
                    "kind": REQUEST,
                    "sequence": 0,
                    "transport": "smtp",
                    "message_id": f"<inv{n}@example.org>",
                    "status": SENT,
                    "attempts": 1,
                }
                for n, row in enumerate(rows)
            ],
        )
    db.close()
    return folder


def write_mbox(path: Path, size: int) -> int:
    """Write ``size`` replies, one invited person each; return the file's size."""
    shapes = [_shape(name) for name in SAMPLES]
    with path.open("wb") as out:
        for number, row in enumerate(contact_rows(size)):
            data = reply(shapes[number % len(shapes)], number, row["email"])
            out.write(b"From MAILER-DAEMON Mon Oct 10 10:00:00 2022\n")
            # mboxrd quoting, as mailbox.mbox writes it (a body line starting "From ").
            body = re.sub(rb"(?m)^(>*From )", rb">\1", data.replace(b"\r\n", b"\n"))
            out.write(body + (b"\n" if body.endswith(b"\n") else b"\n\n"))
    return path.stat().st_size


# ---------------------------------------------------------------- the children


def child_import(folder: Path, mbox: Path) -> None:
    """Import the replies (in a child process); print JSON figures."""
    settings = load_settings(folder / "inviter.toml", env={})
    db = Database(settings.database_url)
    start = time.perf_counter()
    report = import_replies(settings, db, [mbox])
    seconds = time.perf_counter() - start
    peak = peak_rss()
    figures = {"seconds": seconds, "recorded": report.recorded, "peak": peak}
    print(json.dumps({**figures, "forwarded": report.forwarded, "review": len(report.review)}))


def child_baseline(mbox: Path) -> None:
    """Read every message and decode its calendar parts, nothing more (in a child process)."""
    start = time.perf_counter()
    calendars = 0
    for message in mailbox.mbox(str(mbox), create=False):
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                calendars += isinstance(part.get_payload(decode=True), bytes)
    seconds = time.perf_counter() - start
    peak = peak_rss()
    print(json.dumps({"seconds": seconds, "recorded": calendars, "peak": peak}))


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--child-import", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-baseline", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        child_import(*args.child_import)
        return
    if args.child_baseline:
        child_baseline(args.child_baseline)
        return

    print(f"# reply import: {args.size} replies in one mbox")
    print(f"# {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        one_project = make_project(tmp / "one", 1)
        one = tmp / "one.mbox"
        write_mbox(one, 1)
        small = run_child(__file__, "--child-import", str(one_project), str(one))
        project = make_project(tmp / "big", args.size)
        big = tmp / "big.mbox"
        size = write_mbox(big, args.size)
        base = run_child(__file__, "--child-baseline", str(big))
        ours = run_child(__file__, "--child-import", str(project), str(big))
    if ours["recorded"] != args.size or base["recorded"] != args.size or ours["forwarded"]:
        raise SystemExit(f"inviter: {ours}; calendars the baseline read: {base['recorded']}")
    rate, base_rate = args.size / ours["seconds"], args.size / base["seconds"]
    print(f"mbox: {size / 2**20:.1f} MiB; one-message import: peak RSS "
          f"{small['peak'] / 2**20:.1f} MiB")  # fmt: skip
    print(
        table(
            ["what", "seconds", "replies/s", "x baseline", "peak RSS MiB", "over one reply MiB"],
            [
                [
                    "inviter rsvp import (parse, match, record, keep raw)",
                    f"{ours['seconds']:.2f}",
                    f"{rate:,.0f}",
                    f"{rate / base_rate:.2f}",
                    f"{ours['peak'] / 2**20:.1f}",
                    f"{(ours['peak'] - small['peak']) / 2**20:.1f}",
                ],
                [
                    "baseline: mailbox.mbox + email, decode calendars only",
                    f"{base['seconds']:.2f}",
                    f"{base_rate:,.0f}",
                    "1.00",
                    f"{base['peak'] / 2**20:.1f}",
                    "",
                ],
            ],
        )
    )


if __name__ == "__main__":
    main()

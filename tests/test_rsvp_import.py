"""`rsvp import` from every container, with the review list, dedup and ordering rules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inviter.store.database import Database
from inviter.store.models import REQUEST, SENT, Delivery, MeetingState, RawMessage, Reply
from tests.conftest import Invoke
from tests.replies_helpers import DATA, UID, build_msg, prepare, sample, write_maildir, write_mbox

ANSWERED = [
    "outlook-accepted.eml",
    "gmail-accepted.eml",
    "gmail-counter.eml",
    "apple-declined.eml",
    "thunderbird-tentative.eml",
    "delegated.eml",
    "forwarded-rfc822.eml",
]
FOR_REVIEW = {
    "autoreply.eml": "an automatic reply without a calendar part",
    "plain-accepted.eml": (
        "no calendar part (an answer typed by hand?); record it with 'inviter rsvp set'"
    ),
    "truncated-calendar.eml": (
        "part 1 (text/calendar) cannot be read: line 5: ends inside VEVENT (no END)"
    ),
    "unknown-uid.eml": (
        "UID 0f0e0d0c-aaaa-bbbb-cccc-000000000000@other.example.net matches no meeting of this "
        "inviter"
    ),
}
MESSAGE_IDS = {
    "autoreply.eml": "<autoreply-1@kafjord.example.org>",
    "plain-accepted.eml": "<plain-accepted-1@kvaenangen.example.org>",
    "truncated-calendar.eml": "<broken-1@lyngen.example.org>",
    "unknown-uid.eml": "<0000000000003a3b4c05ea1b2c3f@google.com>",
}
ALL = ANSWERED + sorted(FOR_REVIEW)
EXPECTED_RSVP = {
    "hilde.marie.bjornevik@tromso.example.org": ("accepted", False),
    "emma.clarke@uit.example.org": ("accepted", False),
    "even.helgoy@karlsoy.example.org": ("needs-action", False),  # a COUNTER is no answer
    "biret.anne.ziina@balsfjord.example.org": ("declined", False),
    "anne-grethe.fylling@tromsfylke.example.org": ("tentative", False),
    "liisa.raappana@nordreisa.example.org": ("delegated", False),
    # Forwarded by Even inside his own message: its sender is not the attendee (SPEC, second
    # edition), so the guest's answer waits for staff to confirm it.
    "ordforer@karlsoy.example.org": ("needs-action", True),
    "sissel.kvalvik@kvaenangen.example.org": ("needs-action", False),
}
UNVERIFIED = {"ordforer@karlsoy.example.org": ("accepted", "even.helgoy@karlsoy.example.org")}
SUMMARY = (
    "Read 11 messages: 7 answers recorded (1 from forwarded guests, 1 proposing a new time, "
    "1 unverified, not counted).\n"
)
# Saved by a secretary as .msg files with the replies attached: none was sent by its attendee.
MSG_SUMMARY = (
    "Read 11 messages: 7 answers recorded (1 from forwarded guests, 1 proposing a new time, "
    "7 unverified, not counted).\n"
)


def status(invoke: Invoke) -> dict[str, tuple[str, bool]]:
    result = invoke("status", "--meeting", "temamote-tromso", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    return {r["email"]: (r["rsvp"], r["forwarded"]) for r in doc["recipients"]}


def eml_folder(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    folder = tmp_path / "svar"
    folder.mkdir()
    for name in ALL:
        shutil.copy(DATA / name, folder / name)
    return [str(folder)], {name: f"{folder / name} {MESSAGE_IDS.get(name, '')}" for name in ALL}


def mbox_file(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    path = write_mbox(tmp_path / "svar.mbox", [sample(n) for n in ALL])
    return [str(path)], {
        name: f"{path}, message {ALL.index(name) + 1} {MESSAGE_IDS.get(name, '')}" for name in ALL
    }


def maildir_folder(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    path = write_maildir(tmp_path / "Maildir", [sample(n) for n in ALL])
    by_bytes = {sample(n): n for n in ALL}
    where = {}
    for file in (path / "new").iterdir():
        name = by_bytes[file.read_bytes()]
        where[name] = f"{file} {MESSAGE_IDS.get(name, '')}"
    return [str(path)], where


def msg_files(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    # Outlook keeps a message it did not turn into a meeting item as an attached .eml.
    paths, where = [], {}
    for name in ALL:
        path = tmp_path / f"{name}.msg"
        path.write_bytes(
            build_msg(
                subject=f"Fwd: {name}",
                sender_name="Sekretær",
                sender="sekretaer@example.org",
                attachments=[(name, "message/rfc822", sample(name))],
            )
        )
        paths.append(str(path))
        where[name] = str(path)
    return paths, where


@pytest.mark.parametrize("container", [eml_folder, mbox_file, maildir_folder, msg_files])
def test_import_from_each_container(
    project: Path, invoke: Invoke, tmp_path: Path, container: object
) -> None:
    prepare(project)
    paths, where = container(tmp_path)  # type: ignore[operator]
    result = invoke("rsvp", "import", *paths)
    assert result.exit_code == 1
    assert result.stdout == (MSG_SUMMARY if container is msg_files else SUMMARY)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("Warning: ")]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == (7 if container is msg_files else 1)
    assert all("kept as unverified, not counted" in line for line in warnings)
    assert lines[0] == "For review (4):"
    assert lines[-1] == "Error: 4 messages not recorded; see the list above"
    listed = sorted(lines[1:-1])
    expected = []
    for name, reason in FOR_REVIEW.items():
        expected.append(f"  {where[name].strip()}: {reason}")
    if container is msg_files:
        # The .msg wrapper's own Message-ID names it: compare the start and the reason.
        assert [line.split(" <")[0] for line in listed] == sorted(
            f"  {where[n]}" for n in FOR_REVIEW
        )
        assert sorted(line.split(">: ", 1)[1] for line in listed) == sorted(FOR_REVIEW.values())
    else:
        assert listed == sorted(expected)
    doc = json.loads(invoke("status", "--meeting", "temamote-tromso", "--json").stdout)
    unverified = {
        r["email"]: (r["unverified_rsvp"], r["unverified_sender"])
        for r in doc["recipients"]
        if r["unverified_rsvp"]
    }
    if container is msg_files:
        # Everyone who answered but Even, whose COUNTER is a proposal, not an answer.
        assert set(unverified) == set(EXPECTED_RSVP) - {
            "even.helgoy@karlsoy.example.org",
            "sissel.kvalvik@kvaenangen.example.org",  # no calendar part
        }
        assert {sender for _rsvp, sender in unverified.values()} == {"sekretaer@example.org"}
        assert doc["accepted"] == doc["declined"] == doc["tentative"] == 0
    else:
        assert unverified == UNVERIFIED
        assert {e: s for e, s in status(invoke).items() if e in EXPECTED_RSVP} == EXPECTED_RSVP
        assert (doc["unverified"], doc["forwarded"]) == (1, 0)


def test_outlook_msg_meeting_response_is_recorded(project: Path, invoke: Invoke) -> None:
    prepare(project)
    path = project / "Godtatt.msg"
    path.write_bytes(
        build_msg(
            message_class="IPM.Schedule.Meeting.Resp.Pos",
            subject="Godtatt: Temamøte: Litteratur og kultur",
            sender_name="Aslak Čuđđi",
            sender="Aslak.Cuddi@lyngen.example.org",
            body="Jeg kommer.",
            uid=UID,
        )
    )
    result = invoke("rsvp", "import", "Godtatt.msg")
    assert (result.exit_code, result.stdout) == (0, "Read 1 message: 1 answer recorded.\n")
    assert status(invoke)["aslak.cuddi@lyngen.example.org"] == ("accepted", False)


def test_importing_twice_changes_nothing_and_keeps_raw_once(
    project: Path, invoke: Invoke, tmp_path: Path
) -> None:
    _settings, db = prepare(project)
    paths, _ = eml_folder(tmp_path)
    invoke("rsvp", "import", *paths)
    with db.session() as s:
        before = s.execute(select(Reply.id, Reply.partstat).order_by(Reply.id)).all()
        raw = s.scalar(
            select(RawMessage.content).where(RawMessage.source.like("%outlook-accepted.eml"))
        )
    assert raw == sample("outlook-accepted.eml")
    second = invoke("rsvp", "import", *paths)
    assert second.stdout == "Read 11 messages: 0 answers recorded, 7 already recorded.\n"
    assert second.exit_code == 1
    with db.session() as s:
        assert s.execute(select(Reply.id, Reply.partstat).order_by(Reply.id)).all() == before
        assert s.scalar(select(func.count()).select_from(RawMessage)) == 7


def _gmail_variant(partstat: str, stamp: str, sequence: str) -> bytes:
    raw = sample("gmail-accepted.eml").replace(
        b"PARTSTAT=ACCEPTED", f"PARTSTAT={partstat}".encode()
    )
    raw = raw.replace(b"DTSTAMP:20221004T101530Z", f"DTSTAMP:{stamp}".encode())
    raw = raw.replace(b"SEQUENCE:0", f"SEQUENCE:{sequence}".encode())
    # The attached copy is base64: drop it, the inline part is enough.
    return raw.split(b"\r\n--000000000000a1b2c3d4e5f60709\r\nContent-Type: application/ics")[0]


def _sent_version_1(db: Database) -> None:
    """Record that version 1 (an update) went out: replies may then claim SEQUENCE 1."""
    with db.session() as s:
        state = s.scalars(select(MeetingState)).one()
        state.sequence = 1
        s.add(
            Delivery(
                meeting_id=state.id,
                email="emma.clarke@uit.example.org",
                kind=REQUEST,
                sequence=1,
                transport="outbox",
                message_id="<update-1@example.org>",
                status=SENT,
            )
        )


def test_an_older_reply_never_overrides_a_newer_one(project: Path, invoke: Invoke) -> None:
    _settings, db = prepare(project)
    _sent_version_1(db)
    (project / "new.eml").write_bytes(_gmail_variant("DECLINED", "20221010T120000Z", "1"))
    (project / "old-stamp.eml").write_bytes(_gmail_variant("ACCEPTED", "20221004T101530Z", "1"))
    (project / "old-seq.eml").write_bytes(_gmail_variant("TENTATIVE", "20221020T120000Z", "0"))
    assert invoke("rsvp", "import", "new.eml").exit_code == 0
    result = invoke("rsvp", "import", "old-stamp.eml", "old-seq.eml")
    assert result.exit_code == 0
    assert result.stdout == (
        "Read 2 messages: 2 answers recorded, "
        "2 older than one recorded (kept in history, not counted).\n"
    )
    assert status(invoke)["emma.clarke@uit.example.org"] == ("declined", False)
    with db.session() as s:
        history = s.scalars(
            select(Reply.partstat).where(Reply.email == "emma.clarke@uit.example.org")
        ).all()
    assert sorted(history) == ["ACCEPTED", "DECLINED", "TENTATIVE"]


def test_same_sequence_newer_stamp_wins(project: Path, invoke: Invoke) -> None:
    prepare(project)
    (project / "a.eml").write_bytes(_gmail_variant("ACCEPTED", "20221004T101530Z", "0"))
    (project / "b.eml").write_bytes(_gmail_variant("TENTATIVE", "20221005T101530Z", "0"))
    assert invoke("rsvp", "import", "b.eml", "a.eml").exit_code == 0
    assert status(invoke)["emma.clarke@uit.example.org"] == ("tentative", False)


def test_unreadable_and_missing_files_are_listed_and_the_rest_goes_on(
    project: Path, invoke: Invoke
) -> None:
    prepare(project)
    (project / "broken.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    (project / "huge.eml").write_bytes(b"X" * (25 * 1024 * 1024 + 1))
    shutil.copy(DATA / "apple-declined.eml", project / "apple.eml")
    result = invoke("rsvp", "import", "broken.msg", "huge.eml", "apple.eml")
    assert result.exit_code == 1
    assert result.stdout == "Read 3 messages: 1 answer recorded.\n"
    lines = result.stderr.splitlines()
    assert lines[0] == "For review (2):"
    assert lines[1].startswith("  broken.msg: not a readable Outlook .msg file: ")
    assert lines[2] == "  huge.eml: 26214401 bytes: too big for a reply, not read"
    assert lines[3] == "Error: 2 messages not recorded; see the list above"


def test_missing_path_is_bad_usage(project: Path, invoke: Invoke) -> None:
    prepare(project)
    result = invoke("rsvp", "import", "nowhere.mbox")
    assert result.exit_code == 2
    assert "Path 'nowhere.mbox' does not exist." in result.stderr


def _guest_reply(number: int) -> bytes:
    # About 6 kB, as a real reply with its text and HTML parts is.
    filler = "Takk for invitasjonen. " * 250
    return (
        f"From: guest{number}@example.net\r\nTo: bibliotek@example.org\r\n"
        f"Message-ID: <g{number}@example.net>\r\nSubject: Accepted\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{filler}\r\n"
        "--b\r\nContent-Type: text/calendar; charset=UTF-8; method=REPLY\r\n\r\n"
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
        f"UID:{UID}\r\nDTSTAMP:20221010T100000Z\r\n"
        f"ATTENDEE;CN=Gjest {number};PARTSTAT=ACCEPTED:mailto:guest{number}@example.net\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n--b--\r\n"
    ).encode()


_MEASURED = """
import resource, sys
from inviter.cli.main import main
sys.argv = ["inviter", "rsvp", "import", sys.argv[1]]
try:
    main()
finally:
    print("maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def _import_in_child(project: Path, name: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``inviter rsvp import`` as its own process; return it and its peak RSS in bytes."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, name],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={
            k: v
            for k, v in os.environ.items()
            if not k.startswith("INVITER_") or k == "INVITER_LANG"
        },
    )
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("maxrss "), done.stderr
    return done, int(last.split()[1]) * 1024  # Linux reports kilobytes


@pytest.mark.slow
def test_ten_thousand_replies_in_one_mbox_stream(project: Path, invoke: Invoke) -> None:
    prepare(project)
    shutil.copy(DATA / "apple-declined.eml", project / "one.eml")
    small, baseline = _import_in_child(project, "one.eml")
    assert small.returncode == 0, small.stderr
    path = project / "big.mbox"
    with path.open("wb") as out:
        for number in range(10_000):
            out.write(b"From guest@example.net Mon Oct 10 10:00:00 2022\n")
            out.write(_guest_reply(number).replace(b"\r\n", b"\n") + b"\n")
    size = path.stat().st_size
    assert size > 60_000_000
    big, peak = _import_in_child(project, "big.mbox")
    assert big.returncode == 0, big.stderr
    assert big.stdout == (
        "Read 10000 messages: 10000 answers recorded (10000 from forwarded guests).\n"
    )
    # Read whole, the file alone would add its size; streamed, batches of 200 add little.
    assert peak - baseline < size / 3, f"{peak - baseline} more bytes for a {size}-byte mbox"
    counts = json.loads(invoke("status", "--meeting", "temamote-tromso", "--json").stdout)
    assert (counts["forwarded"], counts["accepted"]) == (10_000, 10_000)

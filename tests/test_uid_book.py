"""The same meeting, even after the database is lost: UIDs kept beside inviter.toml (issue 20)."""

from __future__ import annotations

import email
import re
from pathlib import Path

from tests.conftest import Invoke

MEETING = "temamote-tromso"


def uids_in(outbox: Path) -> set[str]:
    """Every calendar UID in the outbox's messages (a short ASCII line: never folded)."""
    found: set[str] = set()
    for path in (outbox / "new").iterdir():
        for part in email.message_from_bytes(path.read_bytes()).walk():
            if part.get_content_type() == "text/calendar":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                found |= set(re.findall(r"^UID:(\S+)\r?$", payload.decode(), re.M))
    return found


def sent_once(project: Path, invoke: Invoke) -> str:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    result = invoke("send", "--meeting", MEETING)
    assert result.exit_code == 0, result.output
    [uid] = uids_in(project / "outbox")
    assert f'"{MEETING}" = "{uid}"' in (project / "inviter-uids.toml").read_text(encoding="utf-8")
    return uid


def test_a_lost_database_keeps_the_uid_and_says_so(project: Path, invoke: Invoke) -> None:
    uid = sent_once(project, invoke)
    (project / "inviter.db").unlink()
    for leftover in project.glob("inviter.db-*"):
        leftover.unlink()
    assert invoke("contacts", "import", "contacts/troms.csv").stderr.startswith(
        f"Warning: {project / 'inviter.db'} is a new database, but inviter-uids.toml shows that "
        "meetings of this folder were set up before."
    )
    result = invoke("send", "--meeting", MEETING)
    assert result.exit_code == 0
    assert uids_in(project / "outbox") == {uid}  # the second copies update the same entry


def test_a_zero_length_database_is_made_anew_with_the_same_uid(
    project: Path, invoke: Invoke
) -> None:
    uid = sent_once(project, invoke)
    (project / "inviter.db").write_bytes(b"")
    for leftover in project.glob("inviter.db-*"):
        leftover.unlink()
    result = invoke("contacts", "import", "contacts/troms.csv")
    assert result.exit_code == 0, result.stderr
    assert "is a new database" in result.stderr
    assert invoke("send", "--meeting", MEETING).exit_code == 0
    assert uids_in(project / "outbox") == {uid}


def test_a_database_older_than_the_file_fills_it_in(project: Path, invoke: Invoke) -> None:
    uid = sent_once(project, invoke)
    (project / "inviter-uids.toml").unlink()
    result = invoke("preview", "--meeting", MEETING, "-o", "x.eml")
    assert (result.exit_code, result.stderr) == (0, "")
    assert uid in (project / "inviter-uids.toml").read_text(encoding="utf-8")


def test_a_damaged_uid_file_is_one_line_and_nothing_is_sent(project: Path, invoke: Invoke) -> None:
    (project / "inviter-uids.toml").write_text('"temamote-tromso" = \n', encoding="utf-8")
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    result = invoke("send", "--meeting", MEETING)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {project / 'inviter-uids.toml'}: Invalid value")
    assert line.endswith("delete it to give meetings not yet sent new calendar UIDs")
    assert not (project / "outbox").exists()


def test_a_new_season_in_a_new_folder_gets_new_uids(
    project: Path, invoke: Invoke, tmp_path: Path
) -> None:
    # Why the UID is kept, not derived from organizer and slug: next autumn's temamote-tromso
    # must not overwrite this autumn's entry in everyone's calendar.
    first = sent_once(project, invoke)
    (project / "outbox").rename(tmp_path / "old-outbox")
    (project / "inviter.db").unlink()
    (project / "inviter-uids.toml").unlink()
    for leftover in project.glob("inviter.db-*"):
        leftover.unlink()
    assert sent_once(project, invoke) != first

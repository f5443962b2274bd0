"""meetings list: the programme with audience sizes and how far sending has got."""

from __future__ import annotations

import json
from pathlib import Path

from inviter.config import load_settings
from inviter.store.database import Database
from inviter.store.meetings import advance_version, ensure_state, planned_sequence
from inviter.store.models import REQUEST, SENT, Contact, Delivery
from inviter.store.versions import meeting_fingerprint

from .conftest import Invoke


def _people(project: Path) -> Database:
    settings = load_settings(project / "inviter.toml", env={})
    db = Database(settings.database_url)
    with db.session() as s:
        s.add_all(
            [
                Contact(
                    email="a@example.org",
                    name="A",
                    role="biblioteksjef",
                    municipality="Harstad",
                    region="Sør-Troms",
                ),
                Contact(
                    email="b@example.org",
                    name="B",
                    role="biblioteksjef",
                    municipality="Lyngen",
                    region="Nord-Troms",
                ),
                Contact(
                    email="c@example.org",
                    name="C",
                    role="ordfører",
                    municipality="Lyngen",
                    region="Nord-Troms",
                ),
                Contact(
                    email="d@example.org",
                    name="D",
                    role="partner",
                    municipality="Tromsø",
                    region="Tromsø og omegn",
                ),
            ]
        )
    return db


def test_meetings_list_json(project: Path, invoke: Invoke) -> None:
    db = _people(project)
    settings = load_settings(project / "inviter.toml", env={})
    meeting = settings.meeting("temamote-tromso")
    with db.session() as s:
        state = ensure_state(s, meeting, settings)
        s.add(
            Delivery(
                meeting_id=state.id,
                email="a@example.org",
                kind=REQUEST,
                sequence=0,
                transport="outbox",
                message_id="<1@example.org>",
                status=SENT,
            )
        )
    result = invoke("meetings", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["slug"]: row for row in json.loads(result.stdout)}
    assert rows["temamote-tromso"] == {
        "slug": "temamote-tromso",
        "title": "Temamøte: Litteratur og kultur",
        "start": "2022-11-09T10:00:00+01:00",
        "end": "2022-11-09T15:00:00+01:00",
        "location": "Tromsø",
        "changed": False,
        "bounced": 0,
        "audience": 3,
        "sent": 1,
    }
    assert rows["regionmote-nord-troms"]["audience"] == 1
    assert rows["regionmote-nord-troms"]["location"] == "Digitalt møte (videolenke)"
    assert rows["bibliotekpolitisk-seminar-2022"]["audience"] == 1
    assert rows["biblioteksjefmote-2022"]["end"] == "2022-10-12T15:00:00+02:00"
    table = invoke("meetings", "list")
    assert table.exit_code == 0
    line = next(x for x in table.stdout.splitlines() if x.startswith("temamote-tromso"))
    assert line.endswith("1/3   partly sent")
    assert "\x1b[" not in table.stdout  # no colour codes when not on a terminal


def test_uid_is_permanent_and_sequence_rises_only_after_a_sent_version(project: Path) -> None:
    db = _people(project)
    settings = load_settings(project / "inviter.toml", env={})
    meeting = settings.meeting("temamote-tromso")
    with db.session() as s:
        state = ensure_state(s, meeting, settings)
        uid = state.uid
        assert uid.endswith("@example.org")
        assert len(uid) == len("00000000-0000-0000-0000-000000000000@example.org")
    moved = type(meeting)(**{**meeting.__dict__, "location": "Tromsø bibliotek, Grønnegata 94"})
    assert meeting_fingerprint(moved) != meeting_fingerprint(meeting)
    with db.session() as s:
        state = ensure_state(s, moved, settings)
        # Nothing sent yet: the version is simply replaced.
        assert advance_version(s, state, moved) == 0
        s.add(
            Delivery(
                meeting_id=state.id,
                email="a@example.org",
                kind=REQUEST,
                sequence=0,
                transport="outbox",
                message_id="<1@example.org>",
                status=SENT,
            )
        )
    with db.session() as s:
        state = ensure_state(s, meeting, settings)
        assert state.uid == uid
        assert planned_sequence(s, state, meeting) == 1
        assert advance_version(s, state, meeting) == 1
    with db.session() as s:
        state = ensure_state(s, meeting, settings)
        assert (state.uid, state.sequence) == (uid, 1)
        assert planned_sequence(s, state, meeting) == 1

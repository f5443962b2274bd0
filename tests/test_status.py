"""Status: who was sent what and who answered, computed from real database rows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from inviter.config import load_settings
from inviter.reports.status import meeting_status
from inviter.store.database import Database
from inviter.store.meetings import ensure_state
from inviter.store.models import CANCEL, FAILED, REQUEST, SENT, Contact, Delivery, Reply

T0 = datetime(2022, 10, 1, 12, 0, tzinfo=UTC)


def _contact(email: str, name: str, region: str, role: str = "biblioteksjef") -> Contact:
    return Contact(email=email, name=name, role=role, municipality="Tromsø", region=region)


def test_status_counts_and_recipients(project: Path) -> None:
    settings = load_settings(project / "inviter.toml", env={})
    meeting = settings.meeting("temamote-tromso")
    db = Database(settings.database_url)
    with db.session() as s:
        s.add_all(
            [
                _contact("a@example.org", "Áile Ŋuolja", "Tromsø og omegn"),
                _contact("b@example.org", "Bjørn Ås", "Tromsø og omegn"),
                _contact("c@example.org", "Cecilie Øien", "Tromsø og omegn"),
                _contact("d@example.org", "Dávvet Šiellá", "Tromsø og omegn"),
                _contact("left@example.org", "Left Audience", "Tromsø og omegn", role="ordfører"),
            ]
        )
        state = ensure_state(s, meeting, settings)

        def delivery(email: str, status: str, kind: str = REQUEST, response: str = "") -> Delivery:
            return Delivery(
                meeting_id=state.id,
                email=email,
                kind=kind,
                sequence=0,
                transport="outbox",
                message_id=f"<{email}>",
                status=status,
                response=response,
            )

        s.add_all(
            [
                delivery("a@example.org", SENT),
                delivery("b@example.org", SENT),
                delivery("c@example.org", FAILED, response="550 5.1.1 no such user"),
                delivery("left@example.org", SENT),
            ]
        )

        def reply(email: str, partstat: str, stamp: datetime, **kw: object) -> Reply:
            return Reply(meeting_id=state.id, email=email, partstat=partstat, dtstamp=stamp, **kw)

        s.add_all(
            [
                reply("a@example.org", "DECLINED", T0),
                reply("a@example.org", "ACCEPTED", T0.replace(hour=13)),
                reply("b@example.org", "TENTATIVE", T0),
                reply("leader@example.org", "ACCEPTED", T0, name="Leder Lund", forwarded=True),
            ]
        )
    with db.session() as s:
        status = meeting_status(s, settings, meeting)
    by_email = {r.email: r for r in status.recipients}
    assert by_email["a@example.org"].rsvp == "accepted"
    assert by_email["b@example.org"].rsvp == "tentative"
    assert by_email["c@example.org"].delivery == "failed"
    assert by_email["c@example.org"].response == "550 5.1.1 no such user"
    assert by_email["d@example.org"].delivery == "pending"
    assert by_email["left@example.org"].in_audience is False
    guest = by_email["leader@example.org"]
    assert (guest.forwarded, guest.delivery, guest.name) == (True, None, "Leder Lund")
    assert status.counts == {
        "audience": 4,
        "sent": 2,
        "failed": 1,
        "pending": 1,
        "uncertain": 0,
        "bounced": 0,
        "delayed": 0,
        "left_audience": 1,  # sent, then left the audience: in neither sent nor no_answer
        "accepted": 2,
        "declined": 0,
        "tentative": 1,
        "no_answer": 2,
        "forwarded": 1,
        "unverified": 0,
        "answered_earlier": 0,
    }
    # Uninviting someone (a CANCEL to them alone) takes them out of the counts.
    with db.session() as s:
        state = ensure_state(s, meeting, settings)
        s.add(
            Delivery(
                meeting_id=state.id,
                email="left@example.org",
                kind=CANCEL,
                sequence=1,
                transport="outbox",
                message_id="<x>",
                status=SENT,
            )
        )
    with db.session() as s:
        status = meeting_status(s, settings, meeting)
    assert {r.email: r.uninvited for r in status.recipients}["left@example.org"] is True
    assert status.counts["sent"] == 2


def test_an_answer_by_phone_from_someone_never_invited_is_a_guest_not_forwarded(
    project: Path,
) -> None:
    settings = load_settings(project / "inviter.toml", env={})
    meeting = settings.meeting("temamote-tromso")
    db = Database(settings.database_url)
    with db.session() as s:
        s.add(_contact("mayor@example.org", "Ordfører Olsen", "Tromsø og omegn", role="ordfører"))
        state = ensure_state(s, meeting, settings)
        s.add(
            Reply(
                meeting_id=state.id,
                email="mayor@example.org",
                partstat="ACCEPTED",
                dtstamp=T0,
                method="MANUAL",
                forwarded=False,
            )
        )
    with db.session() as s:
        status = meeting_status(s, settings, meeting)
    (mayor,) = status.recipients
    assert (mayor.forwarded, mayor.delivery, mayor.rsvp, mayor.role) == (
        False,
        None,
        "accepted",
        "ordfører",
    )
    assert status.counts["accepted"] == 1
    assert status.counts["forwarded"] == 0

"""`rsvp set`: an answer given by phone, recorded beside the calendar replies."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from inviter.store.models import Contact, Reply
from tests.conftest import Invoke
from tests.replies_helpers import DATA, prepare

EMMA = "emma.clarke@uit.example.org"


def rsvp_of(invoke: Invoke, email: str) -> dict[str, object]:
    doc = json.loads(invoke("status", "--meeting", "temamote-tromso", "--json").stdout)
    return next(r for r in doc["recipients"] if r["email"] == email)


def test_phone_answer_is_recorded_and_overrides_an_earlier_reply(
    project: Path, invoke: Invoke
) -> None:
    _settings, db = prepare(project)
    (project / "svar.eml").write_bytes((DATA / "outlook-accepted.eml").read_bytes())
    assert invoke("rsvp", "import", "svar.eml").exit_code == 0
    result = invoke(
        "rsvp",
        "set",
        "--meeting",
        "temamote-tromso",
        "Hilde.Marie.Bjornevik@Tromso.Example.org",
        "no",
        "--note",
        "Ringte: syk\x07 den dagen",
    )
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Recorded Hilde Marie Bjørnevik <hilde.marie.bjornevik@tromso.example.org>: "
        "declined for temamote-tromso; it counts now.\n"
    )
    person = rsvp_of(invoke, "hilde.marie.bjornevik@tromso.example.org")
    assert (person["rsvp"], person["comment"], person["forwarded"]) == (
        "declined",
        "Ringte: syk den dagen",
        False,
    )
    with db.session() as s:
        methods = s.scalars(
            select(Reply.method)
            .where(Reply.email == "hilde.marie.bjornevik@tromso.example.org")
            .order_by(Reply.id)
        ).all()
    assert methods == ["REPLY", "MANUAL"]


def test_maybe_for_a_contact_outside_the_audience(project: Path, invoke: Invoke) -> None:
    _settings, db = prepare(project)
    with db.session() as s:
        s.add(
            Contact(
                email="sarah.lindqvist@tromso.example.org",
                name="Sarah Lindqvist",
                role="kommunalsjef",
                municipality="Tromsø",
                region="Tromsø og omegn",
            )
        )
    result = invoke(
        "rsvp", "set", "--meeting", "temamote-tromso", "sarah.lindqvist@tromso.example.org", "maybe"
    )
    assert result.stdout == (
        "Recorded Sarah Lindqvist <sarah.lindqvist@tromso.example.org>: "
        "tentative for temamote-tromso; it counts now.\n"
    )
    person = rsvp_of(invoke, "sarah.lindqvist@tromso.example.org")
    assert (person["rsvp"], person["delivery"], person["in_audience"]) == (
        "tentative",
        None,
        False,
    )


def test_unknown_address_is_refused_naming_it(project: Path, invoke: Invoke) -> None:
    prepare(project)
    result = invoke("rsvp", "set", "--meeting", "temamote-tromso", "nobody@example.net", "yes")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: nobody@example.net is neither a contact nor invited to 'temamote-tromso'; "
        "add them with 'inviter contacts add' first\n"
    )


def test_bad_address_meeting_and_answer(project: Path, invoke: Invoke) -> None:
    prepare(project)
    bad = invoke("rsvp", "set", "--meeting", "temamote-tromso", "Kari\r\nBcc: x@y", "yes")
    assert bad.exit_code == 2
    assert bad.stderr == "Error: the e-mail address contains a carriage return (CR)\n"
    unknown = invoke("rsvp", "set", "--meeting", "nope", "a@example.org", "yes")
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("Error: inviter.toml: no meeting 'nope' (known: ")
    answer = invoke("rsvp", "set", "--meeting", "temamote-tromso", "a@example.org", "kanhende")
    assert answer.exit_code == 2
    assert "'kanhende' is not one of 'yes', 'no', 'maybe', 'ja', 'nei', 'kanskje'" in answer.stderr


def test_the_norwegian_words_are_answers_too(project: Path, invoke: Invoke) -> None:
    prepare(project)
    for word, expected in (("ja", "accepted"), ("nei", "declined"), ("kanskje", "tentative")):
        result = invoke("rsvp", "set", "--meeting", "temamote-tromso", EMMA, word)
        assert result.exit_code == 0, result.output
        assert rsvp_of(invoke, EMMA)["rsvp"] == expected

"""The Bokmål of ``rsvp import``, ``rsvp fetch`` and ``rsvp set`` (issue 18, point 1): the
summary, the review list and its reasons, the warnings and the errors staff read, by default;
the same run in English with --lang en. The database keeps what it always kept, in English."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from inviter.replies.recording import ImportReport
from inviter.replies.rsvp import describe_import
from inviter.reports.terminal import response_text as shown_response
from inviter.store.models import Reply
from inviter.translation import use_language
from tests.conftest import DATA, Invoke
from tests.replies_helpers import SLUG, prepare, sample, write_mbox

HILDE = "hilde.marie.bjornevik@tromso.example.org"


def mail_folder(project: Path) -> Path:
    """A folder with one reply (Gmail, accepted) and one message whose calendar is cut short."""
    folder = project / "svar"
    folder.mkdir()
    for name in ("gmail-accepted.eml", "truncated-calendar.eml"):
        shutil.copy(DATA / "replies" / name, folder / name)
    return folder


def test_import_speaks_bokmal_by_default(
    project: Path, invoke: Invoke, default_language: None
) -> None:
    prepare(project)
    result = invoke("rsvp", "import", str(mail_folder(project)))
    assert result.exit_code == 1
    assert result.stdout == "Leste 2 meldinger: 1 svar registrert.\n"
    assert result.stderr.splitlines() == [
        "Til gjennomgang (1):",
        f"  {project / 'svar' / 'truncated-calendar.eml'} <broken-1@lyngen.example.org>: "
        "del 1 (text/calendar) kan ikke leses: linje 5: slutter midt i VEVENT (mangler END)",
        "Feil: 1 melding ble ikke registrert; se listen over",
    ]


def test_import_speaks_english_with_lang_en(
    project: Path, invoke: Invoke, default_language: None
) -> None:
    prepare(project)
    result = invoke("--lang", "en", "rsvp", "import", str(mail_folder(project)))
    assert result.exit_code == 1
    assert result.stdout == "Read 2 messages: 1 answer recorded.\n"
    assert result.stderr.splitlines() == [
        "For review (1):",
        f"  {project / 'svar' / 'truncated-calendar.eml'} <broken-1@lyngen.example.org>: "
        "part 1 (text/calendar) cannot be read: line 5: ends inside VEVENT (no END)",
        "Error: 1 message not recorded; see the list above",
    ]


def test_review_reasons_in_bokmal(project: Path, invoke: Invoke, default_language: None) -> None:
    """An automatic reply, an answer typed by hand, a UID of no meeting here: each reason."""
    prepare(project)
    folder = project / "svar"
    folder.mkdir()
    for name in ("autoreply.eml", "plain-accepted.eml", "unknown-uid.eml"):
        shutil.copy(DATA / "replies" / name, folder / name)
    result = invoke("rsvp", "import", str(folder))
    assert result.exit_code == 1
    assert result.stdout == "Leste 3 meldinger: 0 svar registrert.\n"
    assert "Til gjennomgang (3):" in result.stderr
    assert ": et automatisk svar uten kalenderdel\n" in result.stderr
    assert (
        ": ingen kalenderdel (et svar skrevet for hånd?); registrer det med 'inviter rsvp set'\n"
    ) in result.stderr
    assert (
        ": UID 0f0e0d0c-aaaa-bbbb-cccc-000000000000@other.example.net hører ikke til noe møte "
        "i denne inviter-mappen\n"
    ) in result.stderr
    assert result.stderr.endswith("Feil: 3 meldinger ble ikke registrert; se listen over\n")


def test_mbox_messages_are_named_in_bokmal_and_stored_as_before(
    project: Path, invoke: Invoke, default_language: None
) -> None:
    """The review list says "melding 2"; Reply.source keeps "message 1" as it always did."""
    _settings, db = prepare(project)
    box = write_mbox(
        project / "svar.mbox", [sample("gmail-accepted.eml"), sample("truncated-calendar.eml")]
    )
    result = invoke("rsvp", "import", str(box))
    assert result.exit_code == 1
    assert f"  {box}, melding 2 <broken-1@lyngen.example.org>: del 1 (text/calendar)" in (
        result.stderr
    )
    with db.reading() as session:
        sources = list(session.scalars(select(Reply.source)))
    assert [s.split(" <")[0] for s in sources] == [f"{box}, message 1"]


def test_unverified_answer_warns_in_bokmal(
    project: Path, invoke: Invoke, default_language: None
) -> None:
    """A guest's answer forwarded inside someone else's message: kept, not counted."""
    prepare(project)
    path = project / "forwarded-rfc822.eml"
    shutil.copy(DATA / "replies" / "forwarded-rfc822.eml", path)
    result = invoke("rsvp", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Leste 1 melding: 1 svar registrert (1 fra en videresendt gjest, "
        "1 ikke bekreftet, ikke talt med).\n"
    )
    assert result.stderr.startswith(f"Advarsel: {path} <")
    assert (
        ": svaret for ordforer@karlsoy.example.org ble sendt av even.helgoy@karlsoy.example.org: "
        "lagret som ikke bekreftet og ikke talt med; bekreft det med 'inviter rsvp set "
        f"--meeting {SLUG} ordforer@karlsoy.example.org ja|nei|kanskje'\n"
    ) in result.stderr


def test_set_in_bokmal(project: Path, invoke: Invoke, default_language: None) -> None:
    prepare(project)
    result = invoke("rsvp", "set", "--meeting", SLUG, HILDE, "nei", "--note", "på telefon")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Registrerte Hilde Marie Bjørnevik <{HILDE}>: takket nei for {SLUG}; "
        "dette svaret teller nå.\n"
    )
    result = invoke("rsvp", "set", "--meeting", SLUG, "ukjent@example.org", "ja")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Feil: ukjent@example.org er verken en kontakt eller invitert til '{SLUG}'; "
        "legg personen til med 'inviter contacts add' først\n"
    )
    english = invoke("--lang", "en", "rsvp", "set", "--meeting", SLUG, HILDE, "kanskje")
    assert english.stdout == (
        f"Recorded Hilde Marie Bjørnevik <{HILDE}>: tentative for {SLUG}; it counts now.\n"
    )


def test_fetch_without_imap_settings_in_bokmal(invoke: Invoke, default_language: None) -> None:
    result = invoke("rsvp", "fetch")
    assert result.exit_code == 2
    assert result.stderr == "Feil: inviter.toml: [imap] host: må fylles ut for rsvp fetch\n"


def test_a_bounce_is_stored_in_english_and_read_in_bokmal(
    project: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Delivery.response keeps "bounced: no reason given"; shown_response says it in Bokmål."""
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    assert invoke("send", "--meeting", SLUG).exit_code == 0
    elle = "elle.marja.navvu@kafjord.example.org"
    raw = (DATA / "bounces" / "exim-plain.eml").read_bytes().replace(b"RECIPIENT", elle.encode())
    path = project / "exim-plain.eml"
    path.write_bytes(raw)
    monkeypatch.delenv("INVITER_LANG")
    result = invoke("rsvp", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Leste 1 melding: 0 svar registrert, 1 leveringsrapport (1 i retur, 0 forsinket).\n"
    )
    doc = json.loads(invoke("status", "--meeting", SLUG, "--json").stdout)
    response = next(r["response"] for r in doc["recipients"] if r["email"] == elle)
    assert response == "bounced: no reason given"
    use_language("nb")
    assert shown_response(response) == "i retur: ingen årsak oppgitt"
    assert shown_response("delayed: 4.4.1 try again") == "forsinket: 4.4.1 try again"
    assert shown_response("550 5.1.1 unknown user") == "550 5.1.1 unknown user"
    # Where staff read it: the status table and a person's history say it in Bokmål.
    table = invoke("status", "--meeting", SLUG).stdout
    assert "i retur: ingen årsak oppgitt" in table
    assert "bounced: no reason given" not in table
    history = invoke("contacts", "show", elle).stdout
    assert "i retur: ingen årsak oppgitt" in history


def test_summary_plurals_in_bokmal() -> None:
    use_language("nb")
    one = ImportReport(messages=1, recorded=1, forwarded=1, bounced=1)
    assert describe_import(one) == (
        "Leste 1 melding: 1 svar registrert (1 fra en videresendt gjest), "
        "1 leveringsrapport (1 i retur, 0 forsinket)."
    )
    many = ImportReport(messages=5, recorded=2, forwarded=2, unchanged=1, delayed=2, moved=3)
    assert describe_import(many) == (
        "Leste 5 meldinger: 2 svar registrert (2 fra videresendte gjester), "
        "1 var registrert fra før, 2 leveringsrapporter (0 i retur, 2 forsinket), 3 flyttet."
    )
    use_language("en")
    assert describe_import(many) == (
        "Read 5 messages: 2 answers recorded (2 from forwarded guests), 1 already recorded, "
        "2 delivery reports (0 bounced, 2 delayed), 3 moved."
    )

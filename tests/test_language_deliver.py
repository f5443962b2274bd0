"""Bokmål of sending (issue 18, point 1): the summary staff read after every send, cancel and
remind, the plan's refusals, and the errors of the SMTP server and the sign-in, in Bokmål by
default and in English with --lang en. The server's own answer stays as the server said it."""

from __future__ import annotations

from pathlib import Path

import pytest

from inviter.deliver.run_summary import SendReport, describe_report
from inviter.deliver.targets import RecipientResult
from inviter.store.models import SENT, UNCERTAIN
from tests.conftest import Invoke

from .sending_support import MEETING, prepare_folder, smtp_env
from .smtpd import RecordingHandler, SmtpServer

SLUG = "temamote-tromso"  # of the shipped example: 9 November 2022, long started
STARTED_NB = f"Advarsel: møtet '{SLUG}' startet 9. november 2022 kl. 10.00\n"
STARTED_EN = f"Warning: meeting '{SLUG}' started on 2022-11-09 at 10:00\n"


@pytest.fixture
def example(project: Path, invoke: Invoke) -> Path:
    """The shipped example with its contact list imported."""
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    return project


@pytest.fixture
def folder(project: Path) -> Path:
    """The sending tests' meeting (in 2099) and its six contacts, five in the audience."""
    return prepare_folder(project)


def _summary(stdout: str) -> str:
    """The summary: what follows the one line per recipient printed while sending."""
    lines = stdout.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(("Advarsel", "Warning")))
    return "".join(lines[start:])


@pytest.mark.usefixtures("default_language")
def test_a_send_into_the_outbox_is_summed_up_in_bokmal(example: Path, invoke: Invoke) -> None:
    outbox = example / "outbox" / "new"
    dry = invoke("send", "--meeting", SLUG, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.startswith(
        STARTED_NB + f"{SLUG}: invitasjon, versjon 1, via utboksen\n"
        "  prøvekjøring: 24 meldinger laget; ingenting sendt, ingenting registrert, "
        "ingen forbindelse åpnet\n"
    )

    result = invoke("send", "--meeting", SLUG)
    assert result.exit_code == 0, result.output
    assert len(list(outbox.iterdir())) == 24
    assert _summary(result.stdout) == (
        STARTED_NB + f"{SLUG}: invitasjon, versjon 1, via utboksen\n"
        "  sendt: 24\n"
        f"Ingenting har forlatt denne maskinen: meldingene ligger som filer i {outbox} "
        '(transport = "outbox"); sett transport = "smtp" i [send] for å sende dem til '
        "mottakerne.\n"
    )
    assert "SEQUENCE" not in result.stdout

    again = invoke("send", "--meeting", SLUG)
    assert again.exit_code == 0
    assert again.stdout == (
        STARTED_NB + f"{SLUG}: invitasjon, versjon 1, via utboksen\n"
        "  ingenting å sende: alle i målgruppen har gjeldende versjon\n"
        "  hadde den allerede: 24\n"
    )


@pytest.mark.usefixtures("default_language")
def test_one_message_reads_in_the_singular(example: Path, invoke: Invoke) -> None:
    outbox = example / "outbox" / "new"
    address = "elle.marja.navvu@kafjord.example.org"
    assert invoke("send", "--meeting", SLUG).exit_code == 0
    result = invoke("cancel", "--meeting", SLUG, "--to", address)
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(
        f"{SLUG}: avlysning, versjon 2, via utboksen\n"
        "  sendt: 1\n"
        f"Ingenting har forlatt denne maskinen: meldingen ligger som en fil i {outbox} "
        '(transport = "outbox"); sett transport = "smtp" i [send] for å sende den til '
        "mottakeren.\n"
    )
    again = invoke("send", "--meeting", SLUG)
    assert "  invitasjonen trukket tilbake tidligere, ikke sendt: 1\n" in again.stdout


@pytest.mark.usefixtures("default_language")
def test_the_summary_in_english_on_request(example: Path, invoke: Invoke) -> None:
    outbox = example / "outbox" / "new"
    result = invoke("--lang", "en", "send", "--meeting", SLUG)
    assert result.exit_code == 0, result.output
    assert _summary(result.stdout) == (
        STARTED_EN + f"{SLUG}: invitation, version 1, through the outbox\n"
        "  sent: 24\n"
        f"Nothing left this machine: the messages are files in {outbox} "
        '(transport = "outbox"); set transport = "smtp" in [send] to send them for real.\n'
    )


@pytest.mark.usefixtures("default_language")
def test_the_plans_refusals_are_in_bokmal(example: Path, invoke: Invoke) -> None:
    result = invoke("remind", "--meeting", SLUG, "--yes")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Feil: møtet '{SLUG}': ingenting er sendt ennå; kjør 'inviter send --meeting {SLUG}' "
        "først\n"
    )
    result = invoke("send", "--meeting", SLUG, "--to", "ingen@example.org")
    assert result.exit_code == 2
    assert (
        result.stderr == "Feil: --to ingen@example.org: er ikke en kontakt; ingenting ble sendt\n"
    )
    assert invoke("send", "--meeting", SLUG).exit_code == 0
    assert invoke("cancel", "--meeting", SLUG).exit_code == 0
    result = invoke("send", "--meeting", SLUG)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Feil: møtet '{SLUG}' er avlyst ('inviter cancel'); ingenting ble sendt; "
        f"'inviter reinstate --meeting {SLUG}' tar tilbake avlysningen\n"
    )
    english = invoke("--lang", "en", "remind", "--meeting", SLUG, "--yes")
    assert english.stderr == f"Error: meeting '{SLUG}' was cancelled; no reminder sent\n"


@pytest.mark.usefixtures("default_language")
def test_a_started_meeting_over_smtp_is_refused_in_bokmal(example: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        result = invoke("send", "--meeting", SLUG, "--yes", env=smtp_env(server))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Feil: møtet '{SLUG}' startet 9. november 2022 kl. 10.00; å sende invitasjonen nå "
        "krever --force; ingenting ble sendt\n"
    )
    assert handler.messages == []


@pytest.mark.usefixtures("default_language")
def test_a_refused_recipient_is_listed_in_bokmal_with_the_servers_answer(
    folder: Path, invoke: Invoke
) -> None:
    handler = RecordingHandler()
    handler.refuse("per@example.org", "550 5.1.1 <per@example.org>: Recipient address rejected")
    handler.refuse("kari@example.org", "451 4.7.1 Greylisted", times=3)
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        first = invoke("send", "--meeting", MEETING, env=env)
        second = invoke("send", "--meeting", MEETING, env=env)
    assert first.exit_code == 1
    summary = first.stdout[first.stdout.index(f"{MEETING}: invitasjon") :]
    assert summary.startswith(
        f"{MEETING}: invitasjon, versjon 1, via SMTP 127.0.0.1:{server.port} (none)\n"
        "  sendt: 3\n"
        "  mislyktes: 2\n"
    )
    # The server's answer as it said it; inviter's own words around it in Bokmål.
    assert "    kari@example.org: 451 4.7.1 Greylisted (etter 3 forsøk)\n" in summary
    assert "    per@example.org: 550 5.1.1 <per@example.org>: Recipient address rejected\n" in (
        summary
    )
    assert first.stderr == "Feil: 2 mottakere er ikke sikkert nådd; se listen over\n"
    assert second.exit_code == 0
    assert second.stdout == (
        "sendt: kari@example.org\n"
        f"{MEETING}: invitasjon, versjon 1, via SMTP 127.0.0.1:{server.port} (none)\n"
        "  sendt: 1\n"
        "  hadde den allerede: 3\n"
        f"  avvist tidligere, ikke prøvd igjen: 1 ('inviter send --meeting {MEETING} "
        "--to E-POST' prøver igjen)\n"
        "    per@example.org: 550 5.1.1 <per@example.org>: Recipient address rejected\n"
    )


@pytest.mark.usefixtures("default_language")
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "nb",
            "Feil: 127.0.0.1:{port}: serveren avviste innloggingen for «ola»: 535 5.7.8 "
            "Authentication credentials invalid; sjekk brukernavnet og INVITER_SMTP_PASSWORD "
            "(eller OAuth-tokenet)\n",
        ),
        (
            "en",
            "Error: 127.0.0.1:{port}: the server refused the login for 'ola': 535 5.7.8 "
            "Authentication credentials invalid; check the username and INVITER_SMTP_PASSWORD "
            "(or the OAuth token)\n",
        ),
    ],
)
def test_a_refused_login_keeps_the_servers_answer(
    folder: Path, invoke: Invoke, language: str, expected: str
) -> None:
    handler = RecordingHandler(users={"ola": "riktig"})
    with SmtpServer(handler, auth=True) as server:
        env = smtp_env(server, INVITER_SMTP_USERNAME="ola", INVITER_SMTP_PASSWORD="Feil-Ord-42")
        result = invoke("--lang", language, "send", "--meeting", MEETING, env=env)
    assert result.exit_code == 3
    assert result.stderr == expected.format(port=server.port)
    assert handler.messages == []


@pytest.mark.usefixtures("default_language")
def test_an_unreachable_server_and_a_missing_password_in_bokmal(
    folder: Path, invoke: Invoke
) -> None:
    env = {
        "INVITER_SEND_TRANSPORT": "smtp",
        "INVITER_SMTP_HOST": "127.0.0.1",
        "INVITER_SMTP_PORT": "1",
        "INVITER_SMTP_SECURITY": "none",
    }
    result = invoke("send", "--meeting", MEETING, env=env)
    assert result.exit_code == 3
    assert result.stderr.startswith("Feil: 127.0.0.1:1: kan ikke koble til: ")
    assert result.stderr.endswith("; sjekk [smtp] host og port\n")
    result = invoke("send", "--meeting", MEETING, env={**env, "INVITER_SMTP_USERNAME": "ola"})
    assert result.exit_code == 2
    assert result.stderr == (
        "Feil: [smtp] username er «ola», men det finnes ikke noe passord: sett "
        "INVITER_SMTP_PASSWORD (det er ingen terminal å spørre i)\n"
    )


def _report(**fields: object) -> SendReport:
    report = SendReport(MEETING, "request", 2, "outbox", "outbox/new")
    for name, value in fields.items():
        setattr(report, name, value)
    return report


@pytest.mark.usefixtures("bokmal")
def test_uncertain_and_stopped_take_the_right_number() -> None:
    one = _report(stopped=True, unsent=1)
    one.add(RecipientResult("a@example.org", "", UNCERTAIN, None, "tapt"))
    text = describe_report(one)
    assert text.startswith(f"{MEETING}: invitasjon, versjon 3, via utboksen\n")
    assert (
        "  stoppet med Ctrl-C eller SIGTERM: 1 ikke sendt; neste 'inviter send --meeting "
        f"{MEETING}' sender den (ingenting går tapt)\n"
    ) in text
    assert "  usikker: 1 (svaret kom bort" in text
    assert "neste 'inviter send' nevner mottakeren og spør først" in text
    assert "\n    a@example.org: tapt\n" in text

    two = _report(stopped=True, unsent=2, kind="reminder", skipped=["c@example.org"])
    for address in ("a@example.org", "b@example.org"):
        two.add(RecipientResult(address, "", UNCERTAIN, None, "tapt"))
    two.add(RecipientResult("d@example.org", "", SENT, 250, "ok", possible_duplicate=True))
    text = describe_report(two)
    assert text.startswith(f"{MEETING}: påminnelse, versjon 3, via utboksen\n")
    assert "neste 'inviter remind --meeting testmote' sender dem (ingenting går tapt)" in text
    assert "  usikre: 2 (svaret kom bort" in text
    assert "nevner mottakerne og spør først" in text
    assert "  har svart allerede: 1\n" in text
    assert "  mulige duplikater: 1 (samme Message-ID og kalender-UID" in text

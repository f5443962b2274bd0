"""Bokmål of the contact list, the season's commands and the preview (issue 18, point 1).

The CSV follows the staff language too: ``contacts export`` and ``init`` write the header row in
it (navn, e-post, … by default; name, email, … with --lang en), and ``contacts import`` reads a
header in either language, so an export in either imports back unchanged. Values stay as stored
(a contact's language is a code, nb or en, in both)."""

from __future__ import annotations

import csv
import io
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from inviter.contacts.csv_files import ALIASES
from inviter.contacts.fields import FIELDS, column_names
from inviter.translation import use_language
from tests.conftest import Invoke
from tests.dovecot import PASSWORD, USER, Dovecot
from tests.oauth_provider import CLIENT_ID, TENANT, OAuthServer
from tests.smtpd import RecordingHandler, SmtpServer
from tests.test_imap import configure

BOKMAL_HEADER = "navn,e-post,rolle,kommune,region,organisasjon,tittel,telefon,språk"
ENGLISH_HEADER = "name,email,role,municipality,region,organization,title,phone,language"


def _error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def _edit(project: Path, old: str, new: str) -> None:
    path = project / "inviter.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# ---------------------------------------------------------------- the CSV: export and import


def test_export_writes_the_header_in_bokmal_and_the_values_as_stored(
    invoke: Invoke, default_language: None
) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    bokmal = invoke("contacts", "export")
    english = invoke("--lang", "en", "contacts", "export")
    assert bokmal.exit_code == english.exit_code == 0
    nb_lines, en_lines = bokmal.stdout.splitlines(), english.stdout.splitlines()
    assert nb_lines[0] == BOKMAL_HEADER
    assert en_lines[0] == ENGLISH_HEADER
    # The values do not change with the language: codes (nb, en) and addresses as stored.
    assert nb_lines[1:] == en_lines[1:]
    rows = list(csv.reader(io.StringIO(bokmal.stdout)))
    assert {row[-1] for row in rows[1:]} <= {"nb", "en"}
    assert all("@" in row[1] for row in rows[1:])


def test_excel_export_in_bokmal(invoke: Invoke, project: Path, default_language: None) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    written = invoke("contacts", "export", "--excel", "-o", "backup.csv")
    assert written.stdout == "Skrev 36 kontakter til backup.csv\n"
    data = (project / "backup.csv").read_bytes()
    assert data.startswith(("\ufeff" + BOKMAL_HEADER.replace(",", ";") + "\r\n").encode())
    english = invoke("--lang", "en", "contacts", "export", "-o", "en.csv")
    assert english.stdout == "Wrote 36 contacts to en.csv\n"


@pytest.mark.parametrize("excel", [False, True], ids=["comma", "excel"])
@pytest.mark.parametrize(
    ("written_in", "read_in"),
    [("nb", "nb"), ("en", "en"), ("nb", "en"), ("en", "nb")],
    ids=["nb", "en", "nb-read-in-en", "en-read-in-nb"],
)
def test_an_export_imports_back_unchanged_in_either_language(
    invoke: Invoke,
    project: Path,
    default_language: None,
    written_in: str,
    read_in: str,
    excel: bool,
) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    # A value a spreadsheet would run as a formula, and an English-speaking contact.
    added = invoke(
        "contacts", "add", "--name", "=1+2 Eva", "--email", "eva@example.org",
        "--role", "partner", "--municipality", "Tromsø", "--phone", "+47 777 00 999",
        "--organization", "@Bibliotek", "--language", "en",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    excel_flag = ["--excel"] if excel else []
    first = invoke("--lang", written_in, "contacts", "export", *excel_flag, "-o", "backup.csv")
    assert first.exit_code == 0, first.output
    before = (project / "backup.csv").read_bytes()

    (project / "inviter.db").unlink()
    imported = invoke("--lang", read_in, "contacts", "import", "backup.csv")
    assert imported.exit_code == 0, imported.output
    assert (
        imported.stdout
        == {
            "nb": "backup.csv: 37 lagt til, 0 oppdatert, 0 uendret\n",
            "en": "backup.csv: 37 added, 0 updated, 0 unchanged\n",
        }[read_in]
    )

    again = invoke("--lang", written_in, "contacts", "export", *excel_flag, "-o", "again.csv")
    assert again.exit_code == 0
    assert (project / "again.csv").read_bytes() == before
    text = io.StringIO(before.decode("utf-8-sig"))
    [eva] = [row for row in csv.reader(text, delimiter=";" if excel else ",") if "eva" in row[1]]
    assert eva[0] == "'=1+2 Eva"
    assert eva[-1] == "en"


def test_an_unknown_column_is_still_reported_in_both_languages(
    invoke: Invoke, project: Path, default_language: None
) -> None:
    (project / "bad.csv").write_text(
        "navn,e-mail,rolle,kommune\nKari,kari@example.org,partner,Tromsø\n", encoding="utf-8"
    )
    bokmal = invoke("contacts", "import", "bad.csv")
    assert bokmal.exit_code == 2
    assert _error(bokmal.stderr) == (
        "Feil: bad.csv: linje 1: ukjent kolonne 'e-mail' (mente du 'email'?); kolonnene er "
        "navn, e-post, rolle, kommune, region, organisasjon, tittel, telefon, språk"
    )
    english = invoke("--lang", "en", "contacts", "import", "bad.csv")
    assert english.exit_code == 2
    assert _error(english.stderr) == (
        "Error: bad.csv: line 1: unknown column 'e-mail' (did you mean 'email'?); the columns "
        "are name, email, role, municipality, region, organization, title, phone, language"
    )
    assert invoke("contacts", "list").stdout == "Ingen kontakter.\n"


def test_header_problems_name_the_columns_in_bokmal(
    invoke: Invoke, project: Path, default_language: None
) -> None:
    (project / "few.csv").write_text("navn,e-post\nKari,kari@example.org\n", encoding="utf-8")
    assert _error(invoke("contacts", "import", "few.csv").stderr) == (
        "Feil: few.csv: linje 1: kolonnene rolle, kommune mangler "
        "(påkrevd: navn, e-post, rolle, kommune)"
    )
    (project / "one.csv").write_text("navn,e-post,rolle\nKari,k@example.org,partner\n")
    assert _error(invoke("contacts", "import", "one.csv").stderr) == (
        "Feil: one.csv: linje 1: kolonnen kommune mangler (påkrevd: navn, e-post, rolle, kommune)"
    )
    (project / "twice.csv").write_text("name,email,role,municipality,e-post\n")
    assert _error(invoke("contacts", "import", "twice.csv").stderr) == (
        "Feil: twice.csv: linje 1: kolonne 2 og 5 er begge e-post"
    )
    (project / "head.csv").write_text(BOKMAL_HEADER + "\r\n")
    assert _error(invoke("contacts", "import", "head.csv").stderr) == (
        "Feil: head.csv: inneholder ingen kontakter, bare en overskriftsrad"
    )


def test_every_column_name_of_either_language_is_read_in_both(bokmal: None) -> None:
    names = column_names()
    assert ",".join(names.values()) == BOKMAL_HEADER
    assert list(names) == list(FIELDS)
    for field, column in names.items():
        assert ALIASES[column.casefold()] == field  # so a Bokmål export imports in English too
    use_language("en")
    assert ",".join(column_names().values()) == ENGLISH_HEADER


def test_bad_rows_are_named_in_bokmal(
    invoke: Invoke, project: Path, default_language: None
) -> None:
    (project / "bad.csv").write_text(
        f"{BOKMAL_HEADER}\n"
        "Kari,kari@,partner,Tromsø,,,,,\n"
        "Ola,ola@example.org,partner,Oslo,,,,,\n"
        "Per,per@example.org,,Tromsø,,,,,\n"
        "Pål,pal@example.org,partner,Tromsø,,,,abc,\n"
        "Siv,siv@example.org,partner,Tromsø,,,,,de\n"
        "Tor,tor@example.org,partner,Tromsø,,,,,\n"
        "TOR,TOR@example.org,partner,Tromsø,,,,,\n"
        "Siri,siri@example.org,partner,Tromsø,Nord-Troms,,,,\n",
        encoding="utf-8",
    )
    result = invoke("contacts", "import", "bad.csv")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "Feil: bad.csv: 7 rader kan ikke importeres; ingenting ble importert:"
    assert lines[1].startswith("  bad.csv: linje 2: e-post: 'kari@' ")
    assert lines[2:] == [
        "  bad.csv: linje 3: region: mangler, og 'Oslo' er ikke en kommune i Troms; oppgi regionen",
        "  bad.csv: linje 4: rolle: mangler; hver kontakt må ha navn, e-post, rolle og kommune",
        "  bad.csv: linje 5: telefon: 'abc' er ikke et telefonnummer "
        "(sifre, mellomrom, + - ( ) . /)",
        "  bad.csv: linje 6: språk: 'de' støttes ikke; bruk nb eller en",
        "  bad.csv: linje 8: e-post: 'TOR@example.org' er samme adresse som "
        "'tor@example.org' på linje 7; behold bare én av dem",
        "  bad.csv: linje 9: region: 'Nord-Troms' stemmer ikke med Tromsø, som ligger i "
        "Tromsø og omegn",
    ]


def test_a_file_that_cannot_be_read_in_bokmal(
    invoke: Invoke, project: Path, default_language: None
) -> None:
    (project / "empty.csv").write_bytes(b"")
    assert _error(invoke("contacts", "import", "empty.csv").stderr) == "Feil: empty.csv: er tom"
    (project / "mixed.csv").write_bytes(
        f"{BOKMAL_HEADER}\nÅse,a@example.org,partner,Tromsø\n".encode() + b"B\xf8rre,b@x.org\n"
    )
    assert _error(invoke("contacts", "import", "mixed.csv").stderr) == (
        "Feil: mixed.csv: linje 3: byte 0xF8 er ikke UTF-8, selv om teksten foran er det; "
        "filen blander tegnkodinger: rett opp linjen eller lagre filen på nytt som CSV UTF-8"
    )
    (project / "lost.csv").write_text(
        f"{BOKMAL_HEADER}\nElle M?rj?,elle@example.org,partner,Tromsø,,,,,\n", encoding="utf-8"
    )
    assert _error(invoke("contacts", "import", "lost.csv").stderr) == (
        "Feil: lost.csv: linje 2: bokstaver er byttet ut med '?' ('Elle M?rj?'); Excels "
        "'CSV (semikolonseparert)' kan ikke lagre samiske bokstaver: lagre filen som "
        "'CSV UTF-8 (kommadelt)' og importer den på nytt"
    )


def test_a_vcard_without_a_role_in_bokmal(
    invoke: Invoke, project: Path, default_language: None
) -> None:
    (project / "kari.vcf").write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Kari Nordmann\r\nEMAIL:kari@example.org\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    assert _error(invoke("contacts", "import", "kari.vcf").stderr) == (
        "Feil: kari.vcf: linje 1: kortet 'Kari Nordmann' har ingen rolle: legg til "
        "X-INVITER-ROLE eller en CATEGORIES-verdi (biblioteksjef, kommunedirektør, "
        "kommunalsjef, ordfører, partner), eller bruk --role"
    )
    done = invoke("contacts", "import", "--role", "partner", "kari.vcf")
    assert _error(done.stderr).startswith(
        "Feil: kari.vcf: linje 1: kortet 'Kari Nordmann' har ingen kommune: legg til "
        "X-INVITER-MUNICIPALITY"
    )


# ---------------------------------------------------------------- list, add, remove


def test_list_add_and_remove_in_bokmal(
    invoke: Invoke, project: Path, default_language: None
) -> None:
    (project / "more.csv").write_text(
        "navn,e-post,rolle,kommune\nKari,kari@example.org,bibliotekrådgiver,Tromsø\n",
        encoding="utf-8",
    )
    both = invoke("contacts", "import", "contacts/troms.csv", "more.csv")
    assert both.stdout == (
        "contacts/troms.csv: 36 lagt til, 0 oppdatert, 0 uendret\n"
        "more.csv: 1 lagt til, 0 oppdatert, 0 uendret\n"
        "I alt: 37 lagt til, 0 oppdatert, 0 uendret\n"
    )
    listed = invoke("contacts", "list", "--municipality", "Tromsø").stdout.splitlines()
    assert listed[0].split() == ["navn", "e-post", "rolle", "kommune", "region", "organisasjon"]
    assert listed[-1].endswith(" kontakter")
    one = invoke("contacts", "list", "--role", "bibliotekrådgiver").stdout
    assert one.splitlines()[-1] == "1 kontakt"

    add = ["contacts", "add", "--name", "Kari", "--email", "kari@example.org", "--role"]
    again = invoke(*add, "partner", "--municipality", "Tromsø")
    assert _error(again.stderr) == (
        "Feil: contacts add: kari@example.org er allerede en kontakt (Kari, Tromsø); "
        "legg til --update for å erstatte den"
    )
    updated = invoke(*add, "biblioteksjef", "--municipality", "Tromsø", "--update")
    assert updated.stdout == (
        "Oppdaterte Kari <kari@example.org> (biblioteksjef, Tromsø, Tromsø og omegn)\n"
    )
    bad = invoke(*add, "partner", "--municipality", "Tromsø", "--phone", "ring meg", "--update")
    assert _error(bad.stderr) == (
        "Feil: contacts add: --phone: 'ring meg' er ikke et telefonnummer "
        "(sifre, mellomrom, + - ( ) . /)"
    )
    assert invoke("contacts", "remove", "KARI@example.org").stdout == "Fjernet kari@example.org\n"
    assert _error(invoke("contacts", "remove", "kari@example.org").stderr) == (
        "Feil: contacts remove: kari@example.org finnes ikke i kontaktlisten"
    )
    new = invoke(*add, "partner", "--municipality", "Tromsø")
    assert new.stdout == "La til Kari <kari@example.org> (partner, Tromsø, Tromsø og omegn)\n"


def test_contacts_help_in_bokmal(invoke: Invoke, default_language: None) -> None:
    shown = invoke("contacts", "export", "--help").stdout
    assert "Skriv kontaktlisten som CSV, med kolonnene import leser." in shown
    assert "Standard: skjermen (stdout)." in shown
    assert "  Eksempel:\n    inviter contacts export -o contacts/backup.csv" in shown
    english = invoke("--lang", "en", "contacts", "export", "--help").stdout
    assert "Write the contact list as CSV, in the columns import reads." in english


# ---------------------------------------------------------------- who a meeting invites


def test_audience_errors_in_bokmal(invoke: Invoke, project: Path, default_language: None) -> None:
    invoke("contacts", "import", "contacts/troms.csv")
    _edit(project, 'roles = ["biblioteksjef"], regions = ["Nord-Troms"]', 'roles = ["bibsjef"]')
    result = invoke("send", "--meeting", "regionmote-nord-troms", "--dry-run")
    assert result.exit_code == 2
    assert _error(result.stderr) == (
        "Feil: møtet 'regionmote-nord-troms': audience.roles: ingen kontakt har rollen "
        "'bibsjef' (mente du 'biblioteksjef'?)"
    )


def test_an_empty_audience_in_bokmal(invoke: Invoke, project: Path, default_language: None) -> None:
    _edit(project, 'roles = ["biblioteksjef"], regions = ["Nord-Troms"]', 'roles = ["partner"]')
    result = invoke("send", "--meeting", "regionmote-nord-troms", "--dry-run")
    assert result.exit_code == 2
    assert _error(result.stderr) == (
        "Feil: møtet 'regionmote-nord-troms': målgruppen er tom (roles = ['partner']): ingen å "
        "sende til; sjekk audience i inviter.toml og kontaktlisten"
    )


# ---------------------------------------------------------------- preview and templates


def test_preview_in_bokmal(invoke: Invoke, project: Path, default_language: None) -> None:
    shown = invoke("preview", "--meeting", "temamote-tromso").stdout.splitlines()
    assert shown[0] == (
        "Eksempelmottaker (kontaktlisten er tom): Ola Nordmann <ola.nordmann@example.org> er "
        "oppdiktet; ingenting sendes til denne adressen."
    )
    assert shown[2].startswith("From: ")  # the message's own header names, as they are sent
    [calendar] = [line for line in shown if line.startswith("Kalender: UID ")]
    assert calendar.endswith(" byte, 7-biters ASCII")
    assert ", versjon 1; " in calendar
    assert "Deler:" in shown
    assert "    application/ics; vedlegg invitation.ics (base64)" in shown
    assert shown[-1] == (
        "(HTML-delen vises ikke: skriv meldingen til en fil med -o FIL.eml for å se den.)"
    )
    english = invoke("--lang", "en", "preview", "--meeting", "temamote-tromso").stdout
    assert english.startswith("Sample recipient (the contact list is empty): Ola Nordmann")

    invoke("contacts", "import", "contacts/troms.csv")
    unknown = invoke("preview", "--meeting", "temamote-tromso", "--to", "x@example.org")
    assert _error(unknown.stderr) == (
        "Feil: --to: x@example.org finnes ikke i kontaktlisten; importer eller legg til "
        "kontakten først, eller utelat --to"
    )


def test_template_errors_in_bokmal(invoke: Invoke, project: Path, default_language: None) -> None:
    subject = project / "templates" / "temamote" / "nb" / "subject.txt"
    subject.write_text("{{ meeting.titel }}\n", encoding="utf-8")
    assert _error(invoke("preview", "--meeting", "temamote-tromso").stderr) == (
        "Feil: templates/temamote/nb/subject.txt: linje 1: 'meeting' har ingen egenskap 'titel'"
    )
    subject.write_text("{% include 'nope.txt' %}\n", encoding="utf-8")
    assert _error(invoke("preview", "--meeting", "temamote-tromso").stderr) == (
        "Feil: templates/temamote/nb/subject.txt: linje 1: ingen mal 'nope.txt' i templates"
    )
    subject.write_text("   \n", encoding="utf-8")
    assert _error(invoke("preview", "--meeting", "temamote-tromso").stderr) == (
        "Feil: templates/temamote/nb/subject.txt: emnet er tomt"
    )
    english = invoke("--lang", "en", "preview", "--meeting", "temamote-tromso")
    assert _error(english.stderr) == (
        "Error: templates/temamote/nb/subject.txt: the subject is empty"
    )


# ---------------------------------------------------------------- init


def test_init_writes_the_csv_header_in_the_staff_language(
    invoke: Invoke, project: Path, default_language: None
) -> None:
    result = invoke("init", "host-2027")
    assert result.exit_code == 0, result.output
    csv_file = project / "host-2027" / "contacts" / "kontakter.csv"
    assert csv_file.read_bytes() == (BOKMAL_HEADER + "\r\n").encode()
    lines = result.stdout.splitlines()
    assert "Skrev host-2027/contacts/kontakter.csv" in lines
    assert lines[-1] == (
        "Neste steg: rediger host-2027/inviter.toml der det står ENDRE, legg inn personer i "
        "host-2027/contacts/kontakter.csv og kjør 'inviter contacts import'."
    )
    again = invoke("init", "host-2027")
    assert "Beholdt host-2027/contacts/kontakter.csv (den fantes fra før)" in again.stdout

    english = invoke("--lang", "en", "init", "spring")
    written = (project / "spring" / "contacts" / "kontakter.csv").read_bytes()
    assert written == (ENGLISH_HEADER + "\r\n").encode()
    assert "Wrote spring/contacts/kontakter.csv" in english.stdout.splitlines()

    # The file staff fill in imports as it is, in either language.
    with csv_file.open("a", encoding="utf-8") as out:
        out.write("Kari Nordmann,kari@example.org,biblioteksjef,Kåfjord,,,,,\r\n")
    imported = invoke("--lang", "en", "contacts", "import", str(csv_file))
    assert imported.exit_code == 0, imported.output

    assert _error(invoke("init", "inviter.toml").stderr) == (
        "Feil: inviter.toml: er en fil; oppgi en mappe for den nye sesongen"
    )


# ---------------------------------------------------------------- login, logout, check


def test_login_and_logout_without_a_sign_in_in_bokmal(
    invoke: Invoke, default_language: None
) -> None:
    result = invoke("login", env={"INVITER_SMTP_AUTH": "xoauth2"})
    assert result.exit_code == 2
    assert _error(result.stderr) == (
        "Feil: inviter.toml: [smtp] tenant og client_id: trengs for å logge inn i Microsoft "
        "365 (be fylkets IT om app-registreringen for inviter)"
    )
    assert invoke("logout").stdout == "Det var ingen innlogging å glemme.\n"


def test_login_speaks_bokmal_at_the_terminal(project: Path, tmp_path: Path) -> None:
    with OAuthServer(tmp_path, user="bibliotek@example.org") as oauth:
        env = {
            **os.environ,
            "REQUESTS_CA_BUNDLE": str(oauth.ca_file),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "INVITER_SMTP_AUTH": "xoauth2",
            "INVITER_SMTP_USERNAME": "someone.else@example.org",
            "INVITER_SMTP_TENANT": TENANT,
            "INVITER_SMTP_CLIENT_ID": CLIENT_ID,
            "INVITER_SMTP_AUTHORITY": oauth.authority,
        }
        env.pop("INVITER_LANG")
        child = pexpect.spawn(
            sys.executable, ["-m", "inviter", "login"], cwd=str(project), env=env,
            encoding="utf-8", timeout=60,
        )  # fmt: skip
        child.expect(r"For å logge inn: åpne (\S+) i en nettleser og skriv inn koden (\w+)")
        assert child.match is not None
        oauth.provider.approve(child.match.group(2))
        child.expect(pexpect.EOF)
        child.close()
        shown = str(child.before)
    assert child.exitstatus == 0, shown
    assert "Venter på innloggingen (Ctrl-C for å avbryte) ..." in shown
    assert "Logget inn som bibliotek@example.org. Lagret i " in shown
    assert "'inviter logout' glemmer innloggingen." in shown
    assert (
        "Advarsel: [smtp] username er someone.else@example.org, men innloggingen er "
        'bibliotek@example.org: serveren vil avvise den. Sett username = "bibliotek@example.org"'
        " eller logg inn på nytt."
    ) in shown.replace("\r\n", " ").replace("  ", " ")


def test_check_in_bokmal(invoke: Invoke, default_language: None) -> None:
    with SmtpServer(RecordingHandler()) as server:
        env = {
            "INVITER_SMTP_HOST": "127.0.0.1",
            "INVITER_SMTP_PORT": str(server.port),
            "INVITER_SMTP_SECURITY": "none",
        }
        result = invoke("check", env=env)
        english = invoke("--lang", "en", "check", env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"SMTP 127.0.0.1:{server.port}: tilkoblet",
        "  ren tekst, uten TLS (security = none)",
        "  ingen innlogging (username er ikke satt)",
        "  tilbyr: størrelsesgrense 33,6 MB (33\u00a0554\u00a0432 byte), ingen PIPELINING, "
        "SMTPUTF8; innloggingsmetoder: LOGIN PLAIN XOAUTH2",
    ]
    assert result.stderr == (
        'Merk: [send] transport er "outbox": send skriver til utboksen; sett transport = "smtp" '
        "for å sende gjennom denne serveren.\n"
    )
    assert english.stdout.splitlines()[3] == (
        "  offers: size limit 33.6 MB (33,554,432 bytes), no PIPELINING, SMTPUTF8; "
        "login methods: LOGIN PLAIN XOAUTH2"
    )


def test_imap_check_in_bokmal(
    project: Path, invoke: Invoke, dovecot: Dovecot, default_language: None
) -> None:
    configure(project, dovecot, security="starttls", ca_file=str(dovecot.ca_path))
    with SmtpServer(RecordingHandler()) as server:
        env = {
            "INVITER_SMTP_HOST": "127.0.0.1",
            "INVITER_SMTP_PORT": str(server.port),
            "INVITER_SMTP_SECURITY": "none",
            "INVITER_IMAP_PASSWORD": PASSWORD,
        }
        result = invoke("check", env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[4] == f"IMAP 127.0.0.1:{dovecot.port}: tilkoblet"
    assert re.fullmatch(r"  STARTTLS, TLSv1\.[23], sertifikatet er kontrollert", lines[5])
    assert lines[6] == f"  logget inn som {USER} (passord); mappen INBOX: 0 meldinger"
    assert lines[7].startswith("  tilbyr: ")

"""Bokmål of the settings, the database and the addresses (issue 18, point 1): what staff read
when inviter.toml, an INVITER_ variable, the database or inviter-uids.toml is wrong, in Bokmål by
default and in English with --lang en, with the same exit status."""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path

import pytest

from inviter.addresses import normalize_email, unsafe_reason
from inviter.store.models import SCHEMA_VERSION
from inviter.toml_reasons import toml_reason
from tests.conftest import Invoke


def _edit(project: Path, old: str, new: str) -> None:
    path = project / "inviter.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _one_error(result_stderr: str) -> str:
    lines = result_stderr.strip().splitlines()
    assert len(lines) == 1, result_stderr
    return lines[0]


# (what is replaced, by what, the Bokmål line, the English line): each names file, meeting, key.
BAD_CONFIGS = [
    (
        "end = 2022-11-09T15:00:00",
        "end = 2022-11-09T09:00:00",
        "Feil: inviter.toml: møtet 'temamote-tromso': end: er ikke etter start",
        "Error: inviter.toml: meeting 'temamote-tromso': end: is not after start",
    ),
    (
        "start = 2022-11-24T10:00:00",
        "start = 2022-11-24",
        "Feil: inviter.toml: møtet 'temamote-harstad': start: oppgi klokkeslett også, for "
        "eksempel 2022-11-24T10:00:00",
        "Error: inviter.toml: meeting 'temamote-harstad': start: give a time of day too, e.g. "
        "2022-11-24T10:00:00",
    ),
    (
        "concurrency = 3",
        'concurrency = "five"',
        "Feil: inviter.toml: [send]: concurrency: 'five' er ikke et heltall",
        "Error: inviter.toml: [send]: concurrency: 'five' is not a valid int",
    ),
    (
        'security = "starttls"',
        'security = "ssl"',
        "Feil: inviter.toml: [smtp]: security: 'ssl' er ikke én av none, starttls, tls",
        "Error: inviter.toml: [smtp]: security: 'ssl' is not one of none, starttls, tls",
    ),
    (
        'username = ""',
        'username = "kari"\npassword = "hemmelig"',
        "Feil: inviter.toml: [smtp]: password: passord leses aldri fra filer; sett "
        "INVITER_SMTP_PASSWORD",
        "Error: inviter.toml: [smtp]: password: passwords are never read from files; set "
        "INVITER_SMTP_PASSWORD",
    ),
    (
        'email = "bibliotek@example.org"',
        'email = "bibliotek@"',
        "Feil: inviter.toml: [organizer]: email: 'bibliotek@' er ikke en gyldig e-postadresse: "
        "Det må stå noe etter @-tegnet.",
        "Error: inviter.toml: [organizer]: email: 'bibliotek@' is not a valid e-mail address: "
        "There must be something after the @-sign.",
    ),
    (
        'title = "Temamøte: Lokal arena og møteplass"',
        'title = "Temamøte\\r\\nBcc: x@example.org"',
        "Feil: inviter.toml: møtet 'temamote-harstad': title: inneholder en vognretur (CR)",
        "Error: inviter.toml: meeting 'temamote-harstad': title: contains a carriage return (CR)",
    ),
    (
        'slug = "temamote-harstad"',
        'slug = "temamote-harstad"\nroom = "B1"',
        "Feil: inviter.toml: møtet 'temamote-harstad': ukjent nøkkel 'room' (kjente nøkler: "
        "audience, description, end, location, online_url, slug, start, template, timezone, "
        "title)",
        "Error: inviter.toml: meeting 'temamote-harstad': unknown key 'room' (known: audience, "
        "description, end, location, online_url, slug, start, template, timezone, title)",
    ),
    (
        'slug = "temamote-harstad"',
        'slug = "Temamøte Harstad"',
        "Feil: inviter.toml: møte nr. 9: slug: må være med: bare små bokstaver a-z, sifre og '-'",
        "Error: inviter.toml: meeting #9: slug: is required: lower-case letters a-z, digits and "
        "'-' only",
    ),
    (
        "[organizer]",
        "[organizer",
        "Feil: inviter.toml: er ikke gyldig TOML: Det mangler ']' på slutten av tabellnavnet "
        "(linje 8, kolonne 11)",
        "Error: inviter.toml: not valid TOML: Expected ']' at the end of a table declaration "
        "(at line 8, column 11)",
    ),
    (
        'name = "Troms fylkeskommune, fylkesbiblioteket"',
        "name = Troms fylkeskommune",
        "Feil: inviter.toml: er ikke gyldig TOML: Ugyldig verdi (står teksten i anførselstegn?) "
        "(linje 9, kolonne 8)",
        "Error: inviter.toml: not valid TOML: Invalid value (at line 9, column 8)",
    ),
]


@pytest.mark.usefixtures("default_language")
@pytest.mark.parametrize(("old", "new", "bokmal_line", "english_line"), BAD_CONFIGS)
def test_a_bad_config_is_told_in_bokmal_by_default_and_in_english_on_request(
    project: Path, invoke: Invoke, old: str, new: str, bokmal_line: str, english_line: str
) -> None:
    _edit(project, old, new)
    result = invoke("meetings", "list")
    assert result.exit_code == 2
    assert _one_error(result.stderr) == bokmal_line
    english = invoke("--lang", "en", "meetings", "list")
    assert english.exit_code == 2
    assert _one_error(english.stderr) == english_line


@pytest.mark.usefixtures("default_language")
def test_a_missing_config_says_where_to_run_in_bokmal(invoke: Invoke) -> None:
    result = invoke("--config", "andre/inviter.toml", "meetings", "list")
    assert result.exit_code == 2
    assert _one_error(result.stderr) == (
        "Feil: andre/inviter.toml: finnes ikke; kjør inviter i mappen der inviter.toml ligger, "
        "eller oppgi --config PATH eller INVITER_CONFIG"
    )


@pytest.mark.usefixtures("default_language")
def test_an_unknown_meeting_is_told_with_a_suggestion(invoke: Invoke) -> None:
    result = invoke("status", "--meeting", "temamote-tromsø")
    assert result.exit_code == 2
    assert _one_error(result.stderr).startswith(
        "Feil: inviter.toml: fant ikke møtet 'temamote-tromsø' (mente du 'temamote-tromso'? "
        "kjente møter: regionmote-nord-troms, "
    )
    plain = invoke("status", "--meeting", "nope")
    assert _one_error(plain.stderr).startswith(
        "Feil: inviter.toml: fant ikke møtet 'nope' (kjente møter: regionmote-nord-troms, "
    )
    english = invoke("--lang", "en", "status", "--meeting", "nope")
    assert _one_error(english.stderr).startswith(
        "Error: inviter.toml: no meeting 'nope' (known: regionmote-nord-troms, "
    )


@pytest.mark.usefixtures("default_language")
@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        (
            "INVITER_SEND_RETRIES",
            "99",
            "Feil: inviter.toml: INVITER_SEND_RETRIES: '99' er utenfor det tillatte; oppgi et "
            "tall fra 0 til 20",
        ),
        (
            "INVITER_SMTP_VALIDATE_CERTS",
            "kanskje",
            "Feil: inviter.toml: INVITER_SMTP_VALIDATE_CERTS: 'kanskje' er ikke true eller false",
        ),
        (
            "INVITER_SMTP_HOTS",
            "x",
            "Feil: miljøvariabel: INVITER_SMTP_HOTS svarer ikke til noen innstilling; bruk "
            "INVITER_<SECTION>_<KEY> med en nøkkel fra [send], [smtp] eller [imap] i inviter.toml",
        ),
    ],
)
def test_a_bad_environment_variable_is_told_in_bokmal(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, line: str
) -> None:
    monkeypatch.setenv(variable, value)
    result = invoke("meetings", "list")
    assert result.exit_code == 2
    assert _one_error(result.stderr) == line


@pytest.mark.parametrize("language", ["nb", "en", "nb_NO.UTF-8"])
def test_inviter_lang_is_not_taken_for_a_setting(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    """INVITER_LANG chooses the language; it is no INVITER_<SECTION>_<KEY> to refuse."""
    monkeypatch.setenv("INVITER_LANG", language)
    result = invoke("meetings", "list")
    assert result.exit_code == 0, result.stderr
    assert "temamote-tromso" in result.stdout


@pytest.mark.usefixtures("default_language")
def test_database_errors_are_told_in_bokmal(project: Path, invoke: Invoke) -> None:
    (project / "ikke-en-database.db").write_text("regneark\n", encoding="utf-8")
    result = invoke("--db", "ikke-en-database.db", "meetings", "list")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert _one_error(result.stderr) == (
        f"Feil: {project / 'ikke-en-database.db'}: kan ikke åpnes: file is not a database"
    )
    english = invoke("--lang", "en", "--db", "ikke-en-database.db", "meetings", "list")
    assert english.exit_code == 2
    assert _one_error(english.stderr) == (
        f"Error: {project / 'ikke-en-database.db'}: cannot be opened: file is not a database"
    )
    missing = invoke("--db", "borte/inviter.db", "meetings", "list")
    assert missing.exit_code == 2
    assert _one_error(missing.stderr) == (
        f"Feil: {project / 'borte' / 'inviter.db'}: mappen {project / 'borte'} finnes ikke"
    )
    twice = invoke("--db", "postgresql://kari:se@cret@db.example.org/inviter", "meetings", "list")
    assert twice.exit_code == 2
    assert _one_error(twice.stderr) == (
        "Feil: --db: 'postgresql://***' har mer enn én '@'; skriv en '@' i brukernavnet eller "
        "passordet som %40"
    )


@pytest.mark.usefixtures("default_language")
def test_a_newer_schema_is_refused_in_bokmal(project: Path, invoke: Invoke) -> None:
    assert invoke("meetings", "list").exit_code == 0  # makes inviter.db
    raw = sqlite3.connect(project / "inviter.db")
    raw.execute("UPDATE schema_info SET version = ?", (SCHEMA_VERSION + 1,))
    raw.commit()
    raw.close()
    result = invoke("meetings", "list")
    assert result.exit_code == 2
    assert _one_error(result.stderr) == (
        f"Feil: {project / 'inviter.db'}: skjemaversjon {SCHEMA_VERSION + 1}, mens denne "
        f"utgaven av inviter kjenner {SCHEMA_VERSION}; oppgrader inviter"
    )


@pytest.mark.usefixtures("default_language")
def test_a_broken_uid_file_is_told_in_bokmal(project: Path, invoke: Invoke) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    (project / "inviter-uids.toml").write_text("temamote-tromso = \n", encoding="utf-8")
    result = invoke("send", "--meeting", "temamote-tromso")
    assert result.exit_code == 2
    assert _one_error(result.stderr) == (
        f"Feil: {project / 'inviter-uids.toml'}: Ugyldig verdi (står teksten i anførselstegn?) "
        "(linje 1, kolonne 19); hent filen tilbake fra en sikkerhetskopi, eller slett den for "
        "å gi møter som ikke er sendt ennå, nye kalender-UID-er"
    )
    assert not (project / "outbox" / "new").exists() or not any(
        (project / "outbox" / "new").iterdir()
    )


def _refusal(address: str) -> str:
    """Why normalize_email refuses ``address``."""
    try:
        normalize_email(address)
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"{address!r} was accepted")


@pytest.mark.usefixtures("bokmal")
def test_address_reasons_in_bokmal() -> None:
    assert unsafe_reason("Kari\tLie") == "inneholder en tabulator"
    assert unsafe_reason("Kari\x07") == "inneholder kontrolltegnet U+0007"
    assert unsafe_reason("=?utf-8?q?Kari?=") == (
        "inneholder et kodet ord etter RFC 2047 (=?…?=); skriv selve teksten"
    )
    addresses = ("", "kari lie@example.org", "kari@example", "kåri@example.org", "a@b@c.no")
    assert {address: _refusal(address) for address in addresses} == {
        "": "e-postadressen er tom",
        "kari lie@example.org": (
            "'kari lie@example.org' er ikke én enkel adresse (uten navn, komma eller mellomrom)"
        ),
        "kari@example": (
            "'kari@example' er ikke en gyldig e-postadresse: Delen etter @-tegnet er ikke "
            "gyldig. Den skal ha et punktum."
        ),
        "kåri@example.org": (
            "'kåri@example.org' er ikke en gyldig e-postadresse: Tegn utenfor ASCII (som æ, ø "
            "og å) kan ikke stå foran @-tegnet: 'å'."
        ),
        "a@b@c.no": (
            "'a@b@c.no' er ikke en gyldig e-postadresse: Delen etter @-tegnet har ugyldige tegn: "
            "'@'."
        ),
    }


@pytest.mark.parametrize(
    "source",
    [
        "[a]\n[a]",
        "a = [1,",
        "a = {b=1",
        'a = "x',
        "x",
        "a = 1\na = 2",
        "a = {b=1, b=2}",
        "[a\n",
        "[[a]\n",
        "a = hei",
        'a = "x\\q"',
        "a = 1 b",
        "a = 1979-05-27T25:00:00",
        "= 1",
    ],
)
def test_tomls_reasons_stay_as_python_wrote_them_in_english(source: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        tomllib.loads(source)
    assert toml_reason(str(caught.value)) == str(caught.value)


@pytest.mark.usefixtures("bokmal")
@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("[a]\n[a]", "Tabellen ('a',) står to ganger (linje 2, kolonne 3)"),
        ('a = "x', "Teksten er ikke avsluttet med anførselstegn (på slutten av filen)"),
        ("a = {b=1, b=2}", "Nøkkelen 'b' står to ganger i samme tabell (linje 1, kolonne 14)"),
        ("a = 1\na = 2", "Nøkkelen har allerede en verdi (på slutten av filen)"),
        ("a = 1 b", "Det står noe mer på linjen; hver nøkkel og hver tabell skal stå på en "
         "linje for seg (linje 1, kolonne 7)"),
    ],
)  # fmt: skip
def test_tomls_reasons_in_bokmal(source: str, reason: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        tomllib.loads(source)
    assert toml_reason(str(caught.value)) == reason

"""``inviter init [DIR]`` (issue 17): a new season's folder that works at once, and never a file
overwritten. ``init``, edit, ``contacts import``, ``send --dry-run`` with nothing else done."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from inviter.config import load_settings
from inviter.contacts.fields import FIELDS
from tests.conftest import ROOT, Invoke


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_init_writes_a_season_that_works_at_once(tmp_path: Path, invoke: Invoke) -> None:
    season = tmp_path / "host-2027"
    result = invoke("init", str(season))
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    written = files_under(season)
    shipped = {f"templates/{name}" for name in files_under(ROOT / "templates")}
    assert written == {"inviter.toml", "contacts/kontakter.csv"} | shipped
    for name in shipped:  # the template sets are the shipped ones, byte for byte
        assert (season / name).read_bytes() == (ROOT / name).read_bytes()
    assert (season / "contacts" / "kontakter.csv").read_bytes() == (
        ",".join(FIELDS) + "\r\n"
    ).encode()
    assert f"Wrote {season / 'inviter.toml'}" in result.stdout

    # Microsoft 365's limits and its servers, as the README recommends.
    settings = load_settings(season / "inviter.toml", env={})
    assert (settings.send.transport, settings.send.concurrency) == ("outbox", 3)
    assert settings.send.rate_per_minute == 30
    assert (settings.smtp.host, settings.smtp.port) == ("smtp.office365.com", 587)
    assert (settings.smtp.security, settings.smtp.auth) == ("starttls", "xoauth2")
    assert (settings.imap.host, settings.imap.port) == ("outlook.office365.com", 993)
    text = (season / "inviter.toml").read_text()
    assert '# host = "smtp.gmail.com"' in text  # Gmail's block, commented out, beside it

    # Edit: one person in the contact list. Then import and a dry run, nothing else done.
    with (season / "contacts" / "kontakter.csv").open("a", encoding="utf-8") as csv:
        csv.write("Kari Nordmann,kari@example.org,biblioteksjef,Tromsø,,,,,nb\r\n")
    config = ["--config", str(season / "inviter.toml")]
    imported = invoke(*config, "contacts", "import", str(season / "contacts" / "kontakter.csv"))
    assert imported.exit_code == 0, imported.output
    dry = invoke(*config, "send", "--meeting", "temamote-var", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "kari@example.org" in dry.output
    assert (season / "inviter.db").exists()


def test_init_never_overwrites_a_file(tmp_path: Path, invoke: Invoke) -> None:
    season = tmp_path / "s"
    assert invoke("init", str(season)).exit_code == 0
    config = season / "inviter.toml"
    config.write_text(config.read_text().replace("Fylkesbiblioteket", "Troms fylkesbibliotek"))
    edited = config.read_bytes()
    (season / "templates" / "temamote" / "nb" / "subject.txt").unlink()
    before = {p: p.stat().st_mtime_ns for p in season.rglob("*") if p.is_file()}

    again = invoke("init", str(season))
    assert again.exit_code == 0, again.output
    assert config.read_bytes() == edited
    assert again.stdout.splitlines()[0] == (
        f"Wrote {season / 'templates' / 'temamote' / 'nb' / 'subject.txt'}"
    )
    assert f"Kept {config} (it was there already)" in again.stdout
    for path, stamp in before.items():
        assert path.stat().st_mtime_ns == stamp, path


def test_init_in_this_folder_and_into_a_file(tmp_path: Path, invoke: Invoke) -> None:
    here = tmp_path / "here"
    here.mkdir()
    os.chdir(here)  # the invoke fixture changed the folder; init with no DIR writes here
    result = invoke("init")
    assert result.exit_code == 0, result.output
    assert (here / "inviter.toml").exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    refused = invoke("init", str(blocker))
    assert refused.exit_code == 2
    assert refused.stderr == f"Error: {blocker}: is a file; give a folder for the new season\n"


def test_the_settings_file_speaks_the_staff_language_and_keeps_it(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: staff read inviter.toml's comments too. A Bokmål init writes them in Bokmål
    and language = "nb"; an English one in English with language = "en"; the settings are
    the same otherwise, so neither file can drift from the other."""
    monkeypatch.delenv("INVITER_LANG")
    assert invoke("init", str(tmp_path / "nb")).exit_code == 0
    assert invoke("--lang", "en", "init", str(tmp_path / "en")).exit_code == 0
    nb_text = (tmp_path / "nb" / "inviter.toml").read_text(encoding="utf-8")
    en_text = (tmp_path / "en" / "inviter.toml").read_text(encoding="utf-8")
    assert "# inviter.toml: arrangøren, hvordan invitasjonene sendes" in nb_text
    assert "ENDRE:" in nb_text
    assert "EDIT:" not in nb_text
    assert "# inviter.toml: the organizer, how invitations leave" in en_text
    nb = load_settings(tmp_path / "nb" / "inviter.toml", env={})
    en = load_settings(tmp_path / "en" / "inviter.toml", env={})
    assert (nb.organizer.language, en.organizer.language) == ("nb", "en")
    assert dataclasses.replace(nb.organizer, language="en") == en.organizer
    assert (nb.send, nb.smtp, nb.imap, nb.meetings) == (en.send, en.smtp, en.imap, en.meetings)
    # The next run in that folder speaks the file's language, with no option given.
    listed = invoke("--config", str(tmp_path / "en" / "inviter.toml"), "meetings", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.output.startswith("meeting ")
    assert "not sent" in listed.output
    helped = invoke("--config", str(tmp_path / "en" / "inviter.toml"), "--help")
    assert helped.output.startswith("Usage:")

"""One language throughout (issue 18, point 1; SPEC "Language"): the catalog covers every string
staff can see and translates each; Bokmål by default, English with --lang en, INVITER_LANG or
``[organizer] language``; Click's own words follow. The Bokmål of each part's messages is tested
beside it (tests/test_language_*.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests import language_lint
from tests.conftest import ROOT, Invoke
from tools import catalog

PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([a-z]+\)s")


def test_the_catalog_has_every_string_and_translates_each() -> None:
    """Extracted from the code (Babel) against inviter.po: nothing missing, untranslated,
    unused, and the shipped .mo is the .po compiled."""
    assert catalog.check() == []


def test_no_string_staff_can_see_escapes_the_catalog() -> None:
    """Every word-like literal is marked for the catalog, or declared not shown (with why)."""
    assert language_lint.report(sorted(language_lint.PACKAGE.rglob("*.py"))) == []


def test_the_declared_not_shown_strings_still_exist() -> None:
    """A declaration that matches nothing any more is removed, so the list stays honest."""
    present = {
        (str(path.relative_to(ROOT)), text)
        for path in language_lint.PACKAGE.rglob("*.py")
        for _line, text in language_lint.unmarked(path)
    }
    assert sorted(language_lint.allowed() - present) == []


def test_each_translation_keeps_the_placeholders_of_its_message() -> None:
    """A translation that drops or renames {count} would raise KeyError at run time."""
    with catalog.PO.open("rb") as handle:
        entries = [m for m in read_po(handle) if m.id]
    wrong = []
    for message in entries:
        ids = catalog.forms(message.id)
        strings = catalog.forms(message.string)
        allowed = set(PLACEHOLDER.findall(" ".join(ids)))
        for index, string in enumerate(strings):
            if not string:
                continue  # untranslated: the test above reports it
            found = set(PLACEHOLDER.findall(string))
            # Form i of a Bokmål plural answers msgid (i = 0) or msgid_plural (i = 1); a
            # singular may leave out {count} ("én person"); nothing else may go or come.
            needed = set(PLACEHOLDER.findall(ids[min(index, len(ids) - 1)]))
            if not found <= allowed or not (needed - {"{count}"}) <= found:
                wrong.append((ids[0], string))
        if "\b" in ids[0] and not all("\b" in s for s in strings if s):
            wrong.append((ids[0], "lost Click's \\b paragraph marker"))
    assert wrong == []


def test_the_compiled_catalog_ships_in_the_package() -> None:
    """setup.cfg's package data names the .mo (an installed inviter must find it)."""
    assert "messages/*/LC_MESSAGES/*.mo" in (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert catalog.MO.stat().st_size > 10_000


# ---------------------------------------------------------------- choosing the language


@pytest.mark.usefixtures("default_language")
def test_bokmal_is_the_default_in_help_and_in_clicks_own_words(invoke: Invoke) -> None:
    result = invoke("send", "--help")
    assert result.exit_code == 0
    assert result.output.startswith("Bruk: cli send [VALG]\n")  # CliRunner's name
    assert "Inviter alle i målgruppen som ikke har fått gjeldende versjon." in result.output
    assert "Valg:\n" in result.output
    assert "--to E-POST" in result.output
    assert "[påkrevd]" in result.output
    assert "Vis denne hjelpeteksten og avslutt." in result.output
    assert "Show this message" not in result.output


@pytest.mark.usefixtures("default_language")
def test_clicks_errors_are_in_bokmal(invoke: Invoke) -> None:
    result = invoke("send", "--bogus")
    assert result.exit_code == 2
    assert "Feil: Valget '--bogus' finnes ikke." in result.output
    assert "Prøv 'cli send --help' for hjelp." in result.output
    result = invoke("send")
    assert result.exit_code == 2
    assert "Feil: Valg mangler '--meeting'." in result.output


@pytest.mark.usefixtures("default_language")
@pytest.mark.parametrize("how", ["option", "option=", "variable", "config"])
def test_english_on_request(invoke: Invoke, project: Path, how: str) -> None:
    args = ["send", "--help"]
    env: dict[str, str] = {}
    if how == "option":
        args = ["--lang", "en", *args]
    elif how == "option=":
        args = ["--lang=en", *args]
    elif how == "variable":
        env["INVITER_LANG"] = "en"
    else:
        config = project / "inviter.toml"
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("[organizer]\n", '[organizer]\nlanguage = "en"\n', 1))
    result = invoke(*args, env=env)
    assert result.exit_code == 0
    assert result.output.startswith("Usage: cli send [OPTIONS]\n")
    assert "Invite everyone in the audience who has not got the current version." in result.output
    assert "Show this message and exit." in result.output


@pytest.mark.usefixtures("default_language")
def test_the_option_wins_over_the_variable_and_the_variable_over_the_file(
    invoke: Invoke, project: Path
) -> None:
    config = project / "inviter.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[organizer]\n", '[organizer]\nlanguage = "en"\n', 1))
    assert invoke("--help", env={"INVITER_LANG": "nb"}).output.startswith("Bruk:")
    assert invoke("--lang", "en", "--help", env={"INVITER_LANG": "nb"}).output.startswith("Usage:")
    assert invoke("--lang", "nb_NO.UTF-8", "--help").output.startswith("Bruk:")


@pytest.mark.usefixtures("default_language")
def test_a_language_inviter_does_not_speak_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("--lang", "sme", "status")
    assert result.exit_code == 2
    assert result.output == ("Feil: ukjent språk 'sme'; inviter kan nb (bokmål) og en (engelsk)\n")
    result = invoke("status", env={"INVITER_LANG": "de"})
    assert result.exit_code == 2
    assert "'de'" in result.output


@pytest.mark.usefixtures("default_language")
def test_a_wrong_language_in_the_file_names_the_key(invoke: Invoke, project: Path) -> None:
    config = project / "inviter.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[organizer]\n", '[organizer]\nlanguage = "se"\n', 1))
    result = invoke("meetings", "list")
    assert result.exit_code == 2
    assert "[organizer]" in result.output
    assert "language" in result.output
    assert "'se'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("default_language")
def test_the_installed_command_speaks_bokmal_in_a_process_of_its_own(project: Path) -> None:
    """The console script, as staff run it: the catalog is found where the package is."""
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(project)}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "inviter"), "--help"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Bruk: inviter [VALG] KOMMANDO [ARGUMENTER]...")
    assert "Kommandoer:" in done.stdout

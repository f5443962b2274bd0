"""Shared fixtures: a copy of the shipped example in a temporary folder, and a CLI runner."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from inviter.cli.main import cli
from inviter.translation import use_language
from tests.dovecot import Dovecot, find_dovecot

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's INVITER_* variables out of every test, and speak English.

    Most tests assert what the English msgids say (the same words in every run); the Bokmål
    that staff see by default is tested on its own (tests/test_language.py), with
    INVITER_LANG removed or set there. Child processes inherit the variable.
    """
    import os

    for name in list(os.environ):
        if name.startswith("INVITER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("INVITER_LANG", "en")
    monkeypatch.setenv("LANGUAGE", "en")
    use_language("en")


@pytest.fixture
def default_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as staff do: no INVITER_LANG (the suite sets it to en), so Bokmål."""
    monkeypatch.delenv("INVITER_LANG")


@pytest.fixture
def bokmal() -> Iterator[None]:
    """Speak Bokmål inside the test (for functions called without the command line)."""
    use_language("nb")
    try:
        yield
    finally:
        use_language("en")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Return a folder holding a copy of the shipped example: config, templates, contacts."""
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(ROOT / "inviter.toml", folder / "inviter.toml")
    shutil.copytree(ROOT / "templates", folder / "templates")
    shutil.copytree(ROOT / "contacts", folder / "contacts")
    return folder


Invoke = Callable[..., Result]


@pytest.fixture
def invoke(project: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``inviter ARGS…`` in the project folder; returns Click's Result."""
    monkeypatch.chdir(project)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return run


def require_tool(path: str | None, what: str) -> str:
    """Return a tool's path; skip the test without it, except in CI where it must be there.

    .ci/setup-tests installs every tool; a developer without root may run the rest.
    """
    import os

    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing; .ci/setup-tests installs it")
    pytest.skip(f"{what} is not installed (bash .ci/setup-tests installs it)")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot on loopback with one user's Maildir (tests/dovecot.py)."""
    server = Dovecot(require_tool(find_dovecot(), "Dovecot (Debian dovecot-imapd)"))
    try:
        yield server
    finally:
        server.stop()

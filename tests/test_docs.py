"""Every command is documented: in the README, and by --help with an example."""

from __future__ import annotations

import click
import pytest

from inviter.cli.main import cli

from .conftest import ROOT


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path + " "))
        else:
            found.append((path, command))
    return found


COMMANDS = _commands(cli)


def test_the_spec_commands_all_exist() -> None:
    names = {name for name, _ in COMMANDS}
    assert names >= {
        "contacts import", "contacts list", "contacts add", "contacts remove",
        "contacts export", "meetings list", "preview", "send", "cancel", "remind",
        "rsvp import", "rsvp fetch", "rsvp set", "status", "attendance", "report",
        # second edition
        "init", "login", "logout", "check", "reinstate", "calendar",
    }  # fmt: skip


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_is_in_the_readme_and_has_an_example(name: str, command: click.Command) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"inviter {name}" in readme
    assert command.help is not None
    assert "Example:" in command.help
    assert f"inviter {name}" in command.help.split("Example:")[1]


def test_readme_gives_the_two_setup_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "inviter send --meeting temamote-tromso" in readme
    test_command = "bash .ci/setup-tests && .venv/bin/python -m pytest"
    assert f"```sh\n{test_command}\n```" in readme
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()

"""Audiences cannot be wrong silently (issue 15): unknown values and empty audiences, named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Invoke

MEETING = "temamote-tromso"
SHIPPED = 'audience = { roles = ["biblioteksjef", "partner"] }'


def audience(project: Path, text: str) -> None:
    config = project / "inviter.toml"
    head, found, tail = config.read_text(encoding="utf-8").partition(f'slug = "{MEETING}"')
    assert found
    assert SHIPPED in tail  # the meeting's own audience line, not another's
    tail = tail.replace(SHIPPED, f"audience = {{ {text} }}", 1)
    config.write_text(head + found + tail, encoding="utf-8")


def error(invoke: Invoke, *args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    return line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'roles = ["biblioteksjefer"]',
            "audience.roles: no contact has the role 'biblioteksjefer' "
            "(did you mean 'biblioteksjef'?)",
        ),
        (
            'regions = ["Midt Troms"]',
            "audience.regions: 'Midt Troms' is no region of Troms nor of the contact list "
            "(did you mean 'Midt-Troms'?)",
        ),
        (
            'municipalities = ["Karlsoy"]',
            "audience.municipalities: 'Karlsoy' is no municipality of Troms nor of the contact "
            "list (did you mean 'Karlsøy'?)",
        ),
    ],
)
def test_an_unknown_value_is_named_with_a_suggestion(
    project: Path, invoke: Invoke, text: str, expected: str
) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    audience(project, text)
    for command in (
        ["send", "--meeting", MEETING],
        ["status", "--meeting", MEETING],
        ["meetings", "list"],
    ):
        assert error(invoke, *command) == f"Error: meeting '{MEETING}': {expected}"
    assert not (project / "outbox").exists()


def test_an_empty_audience_is_an_error_for_send_and_remind(project: Path, invoke: Invoke) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    audience(project, 'roles = ["partner"], municipalities = ["Bardu"]')
    expected = (
        f"Error: meeting '{MEETING}': the audience is empty (roles = ['partner']; "
        "municipalities = ['Bardu']): nobody to send to; check the audience in inviter.toml "
        "and the contact list"
    )
    assert error(invoke, "send", "--meeting", MEETING) == expected
    assert not (project / "outbox").exists()


def test_a_mistyped_slug_gets_a_suggestion(project: Path, invoke: Invoke) -> None:
    line = error(invoke, "send", "--meeting", "temamote-tromsø")
    assert line.startswith(
        "Error: inviter.toml: no meeting 'temamote-tromsø' (did you mean 'temamote-tromso'? known: "
    )

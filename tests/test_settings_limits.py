"""Settings that cannot hang or crash (issue 20): out-of-range numbers, odd years, deep TOML, a BOM.

Each is run as staff would meet it, through the command line: one line naming the file and the
key, exit status 2, nothing sent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Invoke

MEETING = "temamote-tromso"


def append(project: Path, text: str) -> None:
    with (project / "inviter.toml").open("a", encoding="utf-8") as config:
        config.write(text)


def replace(project: Path, old: str, new: str) -> None:
    config = project / "inviter.toml"
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


def one_line_error(invoke: Invoke, *args: str, env: dict[str, str] | None = None) -> str:
    result = invoke(*args, env=env)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert "Traceback" not in result.output
    return line


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "retry_delay",
            "nan",
            "[send]: retry_delay: 'nan' is out of range; give a number from 0 to 3600",
        ),
        (
            "retry_delay",
            "inf",
            "[send]: retry_delay: 'inf' is out of range; give a number from 0 to 3600",
        ),
        (
            "concurrency",
            "0",
            "[send]: concurrency: '0' is out of range; give a number from 1 to 100",
        ),
        ("retries", "-1", "[send]: retries: '-1' is out of range; give a number from 0 to 20"),
    ],
)
def test_send_numbers_out_of_range(
    project: Path, invoke: Invoke, key: str, value: str, expected: str
) -> None:
    # A nan written in TOML is a float, as an environment variable's is text: both are checked.
    config = project / "inviter.toml"
    text, count = re.subn(rf"(?m)^{key} = [^\n#]*", f"{key} = {value} ", config.read_text())
    assert count == 1
    config.write_text(text, encoding="utf-8")
    assert (
        one_line_error(invoke, "send", "--meeting", MEETING) == f"Error: inviter.toml: {expected}"
    )


def test_a_port_out_of_range_in_the_file_and_in_the_environment(
    project: Path, invoke: Invoke
) -> None:
    replace(project, "port = 587", "port = 99999")
    assert one_line_error(invoke, "send", "--meeting", MEETING, "--dry-run") == (
        "Error: inviter.toml: [smtp]: port: '99999' is out of range; give a number from 1 to 65535"
    )
    replace(project, "port = 99999", "port = 587")
    line = one_line_error(invoke, "send", "--meeting", MEETING, env={"INVITER_SMTP_PORT": "99999"})
    assert line == (
        "Error: inviter.toml: INVITER_SMTP_PORT: '99999' is out of range; "
        "give a number from 1 to 65535"
    )


@pytest.mark.parametrize("year", ["9999", "0001"])
def test_a_year_beyond_reason(project: Path, invoke: Invoke, year: str) -> None:
    replace(project, "start = 2022-11-09T10:00:00", f"start = {year}-11-09T10:00:00")
    replace(project, "end = 2022-11-09T15:00:00", f"end = {year}-11-09T15:00:00")
    assert one_line_error(invoke, "meetings", "list") == (
        f"Error: inviter.toml: meeting '{MEETING}': start: the year {int(year)} is not between "
        "1900 and 2999"
    )


def test_toml_nested_thousands_deep(project: Path, invoke: Invoke) -> None:
    append(project, "\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    assert one_line_error(invoke, "meetings", "list") == (
        "Error: inviter.toml: tables or lists are nested too deeply"
    )


def test_a_byte_order_mark_is_taken_off(project: Path, invoke: Invoke) -> None:
    config = project / "inviter.toml"
    config.write_bytes(b"\xef\xbb\xbf" + config.read_bytes())
    result = invoke("meetings", "list")
    assert (result.exit_code, result.stderr) == (0, "")
    assert MEETING in result.stdout

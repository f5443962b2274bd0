"""Settings: every key checked at load, one-line errors naming file, meeting and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inviter.config import load_settings
from inviter.errors import ConfigError

from .conftest import Invoke


def _edit(project: Path, old: str, new: str) -> None:
    path = project / "inviter.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_example_loads(project: Path) -> None:
    settings = load_settings(project / "inviter.toml", env={})
    assert [m.slug for m in settings.meetings] == [
        "regionmote-nord-troms",
        "regionmote-sor-troms",
        "regionmote-tromso",
        "regionmote-midt-troms",
        "biblioteksjefmote-2022",
        "bibliotekpolitisk-seminar-2022",
        "temamote-finnsnes",
        "temamote-tromso",
        "temamote-harstad",
    ]
    meeting = settings.meeting("temamote-tromso")
    assert meeting.start_at.isoformat() == "2022-11-09T10:00:00+01:00"
    assert meeting.location == "Tromsø"
    offset = settings.meeting("regionmote-nord-troms").start_at.utcoffset()
    assert offset is not None
    assert offset.total_seconds() == 7200
    two_days = settings.meeting("biblioteksjefmote-2022")
    assert (two_days.end.date() - two_days.start.date()).days == 1
    assert settings.organizer.email == "bibliotek@example.org"
    assert settings.send.transport == "outbox"
    assert settings.database_url == f"sqlite:///{project / 'inviter.db'}"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "end = 2022-11-09T15:00:00",
            "end = 2022-11-09T09:00:00",
            "inviter.toml: meeting 'temamote-tromso': end: is not after start",
        ),
        (
            'timezone = "Europe/Oslo"\nlocation = "Tromsø"',
            'timezone = "Europe/Olso"\nlocation = "Tromsø"',
            "inviter.toml: meeting 'temamote-tromso': timezone: 'Europe/Olso' is not an IANA"
            " time zone (e.g. Europe/Oslo)",
        ),
        (
            'slug = "temamote-harstad"',
            'slug = "temamote-tromso"',
            "inviter.toml: meeting 'temamote-tromso': slug: is used twice",
        ),
        (
            'location = "Harstad"',
            'location = "Harstad"\nroom = "B2"',
            "inviter.toml: meeting 'temamote-harstad': unknown key 'room' (known:",
        ),
        (
            'audience = { roles = ["biblioteksjef", "partner"] }\n\n[[meeting]]\n'
            'slug = "temamote-tromso"',
            'audience = { role = ["biblioteksjef"] }\n\n[[meeting]]\nslug = "temamote-tromso"',
            "inviter.toml: meeting 'temamote-finnsnes': audience: unknown key 'role'",
        ),
        (
            'template = "temamote"\nstart = 2022-11-09',
            'template = "temamøte"\nstart = 2022-11-09',
            "inviter.toml: meeting 'temamote-tromso': template: no template set 'temamøte'",
        ),
        (
            "start = 2022-11-24T10:00:00",
            "start = 2022-11-24",
            "inviter.toml: meeting 'temamote-harstad': start: give a time of day too",
        ),
        (
            "concurrency = 3",
            'concurrency = "five"',
            "inviter.toml: [send]: concurrency: 'five' is not a valid int",
        ),
        (
            'security = "starttls"',
            'security = "ssl"',
            "inviter.toml: [smtp]: security: 'ssl' is not one of none, starttls, tls",
        ),
        (
            'username = ""',
            'username = "kari"\npassword = "hemmelig"',
            "inviter.toml: [smtp]: password: passwords are never read from files;"
            " set INVITER_SMTP_PASSWORD",
        ),
        (
            'email = "bibliotek@example.org"',
            'email = "bibliotek@"',
            "inviter.toml: [organizer]: email: 'bibliotek@' is not a valid e-mail address",
        ),
        (
            'title = "Temamøte: Lokal arena og møteplass"',
            'title = "Temamøte\\r\\nBcc: x@example.org"',
            "inviter.toml: meeting 'temamote-harstad': title: contains a carriage return (CR)",
        ),
        ("[organizer]", "[organizer", "inviter.toml: not valid TOML:"),
    ],
)
def test_bad_config_is_one_line_with_exit_2(
    project: Path, invoke: Invoke, old: str, new: str, message: str
) -> None:
    _edit(project, old, new)
    with pytest.raises(ConfigError) as caught:
        load_settings(project / "inviter.toml", env={})
    assert str(caught.value).startswith(message)
    result = invoke("meetings", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_environment_overrides_settings(project: Path) -> None:
    settings = load_settings(
        project / "inviter.toml",
        env={
            "INVITER_SMTP_HOST": "smtp.example.org",
            "INVITER_SMTP_PORT": "465",
            "INVITER_SEND_TRANSPORT": "smtp",
            "INVITER_SEND_RATE_PER_MINUTE": "30",
            "INVITER_SMTP_PASSWORD": "not a setting, never read here",
        },
    )
    assert settings.smtp.host == "smtp.example.org"
    assert settings.smtp.port == 465
    assert settings.send.transport == "smtp"
    assert settings.send.rate_per_minute == 30


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INVITER_SMTP_PORT": "abc"}, "inviter.toml: INVITER_SMTP_PORT: 'abc' is not a valid int"),
        ({"INVITER_SMTP_HOTS": "x"}, "environment: INVITER_SMTP_HOTS names no setting"),
        (
            {"INVITER_SEND_TRANSPORT": "pigeon"},
            "inviter.toml: INVITER_SEND_TRANSPORT: 'pigeon' is not one of outbox, smtp",
        ),
    ],
)
def test_bad_environment_override(project: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(project / "inviter.toml", env=env)


def test_missing_config_says_where_to_look(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke("--config", str(tmp_path / "nowhere.toml"), "meetings", "list")
    assert result.exit_code == 2
    assert (
        "nowhere.toml: not found; run inviter in the folder holding inviter.toml" in result.stderr
    )


def test_db_option_takes_path_or_url(project: Path, invoke: Invoke, tmp_path: Path) -> None:
    db_path = tmp_path / "elsewhere.db"
    assert invoke("--db", str(db_path), "meetings", "list").exit_code == 0
    assert db_path.exists()
    assert not (project / "inviter.db").exists()
    result = invoke("--db", "sqlite:///" + str(tmp_path / "url.db"), "meetings", "list", "--json")
    assert result.exit_code == 0
    assert (tmp_path / "url.db").exists()


def test_version(invoke: Invoke) -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert re.fullmatch(r"inviter, version \d+\.\d+\.\d+\n", result.output)

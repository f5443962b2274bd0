"""Every key of inviter.toml in one table: the checker reads it, and the README's reference is
written from it (todoman's configuration.py does the same), so the two cannot drift apart.

A key of ``[send]``, ``[smtp]`` or ``[imap]`` is checked entirely from its row: its type, its
range or choices, and its default. ``[organizer]`` and ``[[meeting]]`` keys are documented here
and their names checked from here; what they mean (an address, a time zone, a template set that
must exist) needs checks of their own in config.py.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

Value = bool | int | float | str | Path

CONFIG_NAME = "inviter.toml"


@dataclass(frozen=True)
class Setting:
    """One key: where it lives, what it takes, and what it does (a sentence for people)."""

    section: str
    key: str
    kind: type[Any]
    default: Any
    doc: str
    limits: tuple[float, float] | None = None  # numbers: both ends allowed
    choices: tuple[str, ...] = ()
    required: bool = False

    @property
    def env(self) -> str | None:
        """The environment variable that sets this key for one run, if one can."""
        if self.section in ENV_SECTIONS:
            return f"INVITER_{self.section.upper()}_{self.key.upper()}"
        return None


# The sections whose keys INVITER_<SECTION>_<KEY> may set for one run (SPEC).
ENV_SECTIONS = ("send", "smtp", "imap")

# Numbers have ranges wider than any real use and narrow enough that none can hang a run
# (retry_delay = nan never ended) or overflow a socket call (port = 99999).
_PORT = (1, 65535)
_TIMEOUT = (0.1, 3600)
_SECURITY = ("starttls", "tls", "none")
_AUTH = ("password", "xoauth2")


def _server(section: str, host: str, port: int, security: str) -> tuple[Setting, ...]:
    """The keys SMTP and IMAP share, with each server's own defaults."""
    what = "the SMTP submission server" if section == "smtp" else "the organizer's mailbox"
    return (
        Setting(section, "host", str, host, f"Host name of {what}."),
        Setting(section, "port", int, port, "Its port.", limits=_PORT),
        Setting(
            section,
            "security",
            str,
            security,
            "STARTTLS on a plain connection, TLS from the first byte, or none (a test server).",
            choices=_SECURITY,
        ),
        Setting(
            section,
            "username",
            str,
            "",
            f"Who logs in. The password never goes here: INVITER_{section.upper()}_PASSWORD "
            "or a prompt.",
        ),
        Setting(section, "auth", str, "password", "How to log in.", choices=_AUTH),
        Setting(
            section,
            "oauth_token_command",
            str,
            "",
            "With auth = xoauth2: a command that prints an OAuth 2 access token.",
        ),
        Setting(
            section,
            "timeout",
            float,
            60.0,
            "Seconds to wait for each read or write.",
            limits=_TIMEOUT,
        ),
        Setting(
            section,
            "tenant",
            str,
            "",
            "With auth = xoauth2 and `inviter login`: the Microsoft 365 tenant (its domain or ID).",
        ),
        Setting(
            section,
            "client_id",
            str,
            "",
            "The application (client) ID of the county's Entra app registration for inviter.",
        ),
        Setting(
            section,
            "authority",
            str,
            "https://login.microsoftonline.com",
            "Where `inviter login` signs in (another cloud's, or a test provider's, address).",
        ),
        Setting(section, "validate_certs", bool, True, "Check the server's certificate."),
        Setting(
            section,
            "ca_file",
            str,
            "",
            "A private certificate authority bundle, trusted instead of the system's.",
        ),
    )


SETTINGS: tuple[Setting, ...] = (
    Setting("organizer", "name", str, "", "Who invites, as calendars show it (ORGANIZER, From)."),
    Setting(
        "organizer",
        "email",
        str,
        None,
        "The organizer's address: From of every message, where replies come.",
        required=True,
    ),
    Setting(
        "organizer",
        "language",
        str,
        "nb",
        "The language inviter speaks to staff (terminal, help, errors, CSV, lists, report): nb "
        "for Bokmål or en for English; --lang and INVITER_LANG override it for one run. "
        "Invitations follow each contact's own language.",
        choices=("nb", "en"),
    ),
    Setting(
        "send",
        "transport",
        str,
        "outbox",
        "Where messages go: the outbox folder, or the SMTP server of [smtp].",
        choices=("outbox", "smtp"),
    ),
    Setting("send", "outbox", Path, Path("outbox"), "The outbox Maildir, beside inviter.toml."),
    Setting("send", "concurrency", int, 5, "SMTP connections open at once.", limits=(1, 100)),
    Setting(
        "send",
        "rate_per_minute",
        int,
        0,
        "At most this many messages in any 60 seconds; 0 is no limit (Microsoft 365: 30).",
        limits=(0, 100_000),
    ),
    Setting(
        "send",
        "retries",
        int,
        5,
        "Attempts after a temporary (4xx) refusal or a lost connection.",
        limits=(0, 20),
    ),
    Setting(
        "send",
        "retry_delay",
        float,
        30.0,
        "Seconds before the first retry; each later one waits longer, with jitter.",
        limits=(0, 3600),
    ),
    *_server("smtp", "localhost", 587, "starttls"),
    *_server("imap", "", 993, "tls"),
    Setting("imap", "folder", str, "INBOX", "The folder `rsvp fetch` reads."),
    Setting(
        "imap",
        "move_to",
        str,
        "",
        "A folder to move read replies to; empty leaves the mailbox as it was.",
    ),
    Setting(
        "meeting",
        "slug",
        str,
        None,
        "The meeting's name in commands: a-z, 0-9, - and _.",
        required=True,
    ),
    Setting("meeting", "title", str, None, "The calendar entry's title.", required=True),
    Setting(
        "meeting",
        "template",
        str,
        None,
        "The template set under templates/ that writes its messages.",
        required=True,
    ),
    Setting(
        "meeting",
        "start",
        datetime,
        None,
        "Local time in the meeting's zone, without quotes: 2022-11-09T10:00:00.",
        required=True,
    ),
    Setting("meeting", "end", datetime, None, "As start; after it.", required=True),
    Setting("meeting", "timezone", str, "Europe/Oslo", "An IANA time zone for start and end."),
    Setting("meeting", "location", str, "", "Where it is held, as calendars show it."),
    Setting("meeting", "online_url", str, "", "The video link (https://)."),
    Setting("meeting", "description", str, "", "The calendar entry's text; may have lines."),
    Setting(
        "meeting",
        "audience",
        dict,
        {},
        "Who is invited: the contacts that the filters of [meeting.audience] select.",
    ),
    Setting("meeting.audience", "roles", list, [], "Contacts with one of these roles."),
    Setting("meeting.audience", "regions", list, [], "Contacts in one of these Troms regions."),
    Setting(
        "meeting.audience",
        "municipalities",
        list,
        [],
        "Contacts in one of these municipalities (any official name).",
    ),
    Setting("meeting.audience", "include", list, [], "These addresses as well."),
    Setting("meeting.audience", "exclude", list, [], "Never these addresses."),
)


def section(name: str) -> dict[str, Setting]:
    """Return the rows of one section, by key."""
    return {s.key: s for s in SETTINGS if s.section == name}


def default(section_name: str, key: str) -> Any:
    """Return a key's default: the dataclasses of config.py take theirs from here."""
    return section(section_name)[key].default


def _shown(value: Any) -> str:
    if value is None:
        return "required"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Path):
        return f'`"{value}"`' if str(value) else '`""`'
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, dict | list):
        return "none"
    return f"`{value}`"


def _takes(setting: Setting) -> str:
    if setting.choices:
        return " or ".join(f"`{c}`" for c in setting.choices)
    if setting.limits:
        low, high = setting.limits
        return f"{setting.kind.__name__} {low:g}–{high:g}"
    return {
        str: "text",
        bool: "true/false",
        Path: "folder",
        datetime: "date and time",
        dict: "table",
        list: "list of text",
    }.get(setting.kind, setting.kind.__name__)


def reference() -> str:
    """Return the Markdown reference of every key, as the README shows it."""
    lines = ["| key | takes | default | what it does |", "|---|---|---|---|"]
    for setting in SETTINGS:
        name = f"[{setting.section}] `{setting.key}`"
        if setting.section.startswith("meeting"):
            # Written as [[meeting]] tables, the audience inline: audience = { roles = [...] }.
            path = setting.section.removeprefix("meeting").lstrip(".")
            name = f"[[meeting]] `{path + '.' if path else ''}{setting.key}`"
        lines.append(f"| {name} | {_takes(setting)} | {_shown(setting.default)} | {setting.doc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(reference(), end="")


def find_config(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path:
    """Return the config path: ``--config``, else ``INVITER_CONFIG``, else ./inviter.toml."""
    if explicit:
        return Path(explicit)
    if env.get("INVITER_CONFIG"):
        return Path(env["INVITER_CONFIG"])
    return Path.cwd() / CONFIG_NAME

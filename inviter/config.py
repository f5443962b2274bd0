"""Load and check inviter.toml into typed, frozen settings.

Every key is checked once, here, from its row in settings.py (type, range, choices, default);
the rest of the program trusts ``Settings``. Errors are one line:
``inviter.toml: meeting 'x': end: is before start``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from inviter.addresses import normalize_email, unsafe_reason
from inviter.domain import Audience, Meeting, Organizer
from inviter.errors import ConfigError, InputError
from inviter.settings import CONFIG_NAME, ENV_SECTIONS, Setting, default, section
from inviter.translation import LANGUAGES

SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
SLUG_MAX = 100  # models.MeetingState.slug is VARCHAR(100), which PostgreSQL enforces

Transport = Literal["outbox", "smtp"]
Security = Literal["starttls", "tls", "none"]
Auth = Literal["password", "xoauth2"]

# Environment variables under INVITER_ that are not settings keys: secrets and locations.
_NOT_KEYS = frozenset(
    {
        "INVITER_CONFIG",
        "INVITER_DB",
        "INVITER_SMTP_PASSWORD",
        "INVITER_SMTP_OAUTH_TOKEN",
        "INVITER_IMAP_PASSWORD",
        "INVITER_IMAP_OAUTH_TOKEN",
    }
)


# The defaults are settings.py's, so that the table the README is written from is the truth.


@dataclass(frozen=True)
class SendSettings:
    """How messages leave: the outbox Maildir or SMTP, and how fast."""

    transport: Transport = default("send", "transport")
    outbox: Path = default("send", "outbox")
    concurrency: int = default("send", "concurrency")
    rate_per_minute: int = default("send", "rate_per_minute")
    retries: int = default("send", "retries")
    retry_delay: float = default("send", "retry_delay")


@dataclass(frozen=True)
class MailServerSettings:
    """What SMTP and IMAP servers share: where, how secured, who logs in. Never a password."""

    host: str = ""
    port: int = 0
    security: Security = "tls"
    username: str = default("smtp", "username")
    auth: Auth = default("smtp", "auth")
    oauth_token_command: str = default("smtp", "oauth_token_command")
    tenant: str = default("smtp", "tenant")
    client_id: str = default("smtp", "client_id")
    authority: str = default("smtp", "authority")
    timeout: float = default("smtp", "timeout")
    validate_certs: bool = default("smtp", "validate_certs")
    ca_file: str = default("smtp", "ca_file")


@dataclass(frozen=True)
class SmtpSettings(MailServerSettings):
    """The SMTP submission server. The password is never a setting (SPEC)."""

    host: str = default("smtp", "host")
    port: int = default("smtp", "port")
    security: Security = default("smtp", "security")


@dataclass(frozen=True)
class ImapSettings(MailServerSettings):
    """The organizer's mailbox, where calendar replies arrive."""

    host: str = default("imap", "host")
    port: int = default("imap", "port")
    security: Security = default("imap", "security")
    folder: str = default("imap", "folder")
    move_to: str = default("imap", "move_to")


@dataclass(frozen=True)
class Settings:
    """Everything inviter.toml says, checked."""

    config_path: Path
    organizer: Organizer
    send: SendSettings
    smtp: SmtpSettings
    imap: ImapSettings
    meetings: tuple[Meeting, ...]
    database_url: str

    @property
    def base_dir(self) -> Path:
        """The folder holding the config: templates, database and outbox live beside it."""
        return self.config_path.parent

    @property
    def templates_dir(self) -> Path:
        """Where template sets are looked up (SPEC: templates/ beside the config)."""
        return self.base_dir / "templates"

    @property
    def outbox_path(self) -> Path:
        """The outbox Maildir, relative paths taken from the config's folder."""
        return (
            self.send.outbox if self.send.outbox.is_absolute() else self.base_dir / self.send.outbox
        )

    def meeting(self, slug: str) -> Meeting:
        """Return the meeting with this slug; an InputError lists the known ones otherwise."""
        for meeting in self.meetings:
            if meeting.slug == slug:
                return meeting
        slugs = [m.slug for m in self.meetings]
        close = difflib.get_close_matches(_ascii(slug), slugs, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        known = ", ".join(slugs) or "none"
        raise InputError(f"{self.config_path.name}: no meeting '{slug}' ({hint}known: {known})")

    def with_send(self, **changes: Any) -> Settings:
        """Return a copy with some ``[send]`` values replaced (command-line options)."""
        return dataclasses.replace(self, send=dataclasses.replace(self.send, **changes))


def _ascii(text: str) -> str:
    """Fold a slug typed with Norwegian letters to the ASCII slugs use (temamote-tromsø)."""
    folded = text.casefold().replace("ø", "o").replace("æ", "ae").replace("å", "a")
    return unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()


def load_settings(
    config_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    db: str | None = None,
) -> Settings:
    """Read, check and return the settings; raise ConfigError naming file, meeting and key."""
    env = os.environ if env is None else env
    name = config_path.name
    try:
        # Notepad saves UTF-8 with a byte-order mark, which TOML does not allow (toml.io: "A TOML
        # file must be a valid UTF-8 encoded Unicode document"): take it off, as Excel's is.
        text = config_path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8")
        raw = tomllib.loads(text)
    except RecursionError:
        # tomllib recurses once per nested table or array: a file nested thousands deep.
        raise ConfigError(f"{name}: tables or lists are nested too deeply") from None
    except FileNotFoundError:
        raise ConfigError(
            f"{config_path}: not found; run inviter in the folder holding {CONFIG_NAME}, "
            "or give --config PATH or INVITER_CONFIG"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name}: not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot be read: {exc.strerror}") from None
    check = _Checker(name)
    check.unknown_keys(raw, {"organizer", *ENV_SECTIONS, "meeting"}, "")
    overrides = _env_overrides(env, name)
    organizer = check.organizer(raw.get("organizer"))
    send = SendSettings(**check.section("send", raw.get("send", {}), overrides.get("send", {})))
    smtp = SmtpSettings(**check.section("smtp", raw.get("smtp", {}), overrides.get("smtp", {})))
    imap = ImapSettings(**check.section("imap", raw.get("imap", {}), overrides.get("imap", {})))
    meetings = check.meetings(raw.get("meeting", []), config_path.parent / "templates")
    return Settings(
        config_path=config_path.resolve(),
        organizer=organizer,
        send=send,
        smtp=smtp,
        imap=imap,
        meetings=meetings,
        database_url=database_url(db or env.get("INVITER_DB"), config_path.resolve().parent),
    )


def database_url(value: str | None, base_dir: Path) -> str:
    """Turn ``--db``/``INVITER_DB`` (a path or an SQLAlchemy URL) into a URL."""
    if not value:
        return f"sqlite:///{base_dir / 'inviter.db'}"
    if "://" in value:
        return value
    path = Path(value).expanduser()
    return f"sqlite:///{path if path.is_absolute() else Path.cwd() / path}"


def _env_overrides(env: Mapping[str, str], name: str) -> dict[str, dict[str, str]]:
    """Collect ``INVITER_<SECTION>_<KEY>`` values; report ones that name no setting."""
    result: dict[str, dict[str, str]] = {}
    for var, value in env.items():
        if not var.startswith("INVITER_") or var in _NOT_KEYS:
            continue
        part, _, key = var[len("INVITER_") :].lower().partition("_")
        if part not in ENV_SECTIONS or key not in section(part):
            raise ConfigError(
                f"environment: {var} names no setting; "
                f"use INVITER_<SECTION>_<KEY> with a key of [send], [smtp] or [imap] in {name}"
            )
        result.setdefault(part, {})[key] = value
    return result


class _Checker:
    """Checks one config file; every message starts with the file's name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, message: str) -> ConfigError:
        return ConfigError(f"{self.name}: {where}{message}")

    def unknown_keys(self, table: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.fail(where, f"unknown key '{key}' (known: {hint})")

    def text(self, where: str, key: str, value: Any, *, required: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"{key}: must be a string in quotes")
        if required and not value.strip():
            raise self.fail(where, f"{key}: must not be empty")
        reason = unsafe_reason(value) if key not in {"description"} else None
        if reason:
            raise self.fail(where, f"{key}: {reason}")
        return value.strip() if key != "description" else value

    def organizer(self, table: Any) -> Organizer:
        where = "[organizer]: "
        if not isinstance(table, dict):
            raise self.fail("", "[organizer] with name and email is required")
        self.unknown_keys(table, set(section("organizer")), where)
        if "email" not in table:
            raise self.fail(where, "email: is required (replies come to this address)")
        name = self.text(where, "name", table.get("name", ""))
        try:
            email = normalize_email(self.text(where, "email", table["email"], required=True))
        except ValueError as exc:
            raise self.fail(where, f"email: {exc}") from None
        language = self.text(where, "language", table.get("language", "nb"))
        if language not in LANGUAGES:
            raise self.fail(
                where, f"language: must be one of {', '.join(LANGUAGES)}, not '{language}'"
            )
        return Organizer(name=name.replace('"', "”"), email=email, language=language)

    def section(self, name: str, table: Any, env: Mapping[str, str]) -> dict[str, Any]:
        """Check one server section against its rows; return its values by key."""
        where = f"[{name}]: "
        if not isinstance(table, dict):
            raise self.fail("", f"[{name}] must be a table")
        rows = section(name)
        if "password" in table:
            var = f"INVITER_{name.upper()}_PASSWORD"
            raise self.fail(where, f"password: passwords are never read from files; set {var}")
        self.unknown_keys(table, set(rows), where)
        values: dict[str, Any] = {}
        for key, value in {**table, **env}.items():
            place = f"{rows[key].env}: " if key in env else f"{where}{key}: "
            values[key] = self.coerce(place, rows[key], value)
        return values

    def coerce(self, place: str, setting: Setting, value: Any) -> Any:
        """Turn one value (TOML's, or an environment variable's text) into the row's kind."""
        kind = setting.kind
        try:
            if kind is bool:
                if isinstance(value, str):
                    lowered = value.strip().lower()
                    if lowered not in {"1", "0", "true", "false", "yes", "no"}:
                        raise ValueError
                    return lowered in {"1", "true", "yes"}
                if not isinstance(value, bool):
                    raise ValueError
                return value
            if kind in {int, float}:
                if isinstance(value, bool) or not isinstance(value, int | float | str):
                    raise ValueError
                number = int(value) if kind is int else float(value)
                low, high = setting.limits or (float("-inf"), float("inf"))
                # NaN compares false with everything: "not low <= n <= high" catches it, and
                # infinity, which would make a retry wait (or a send run) for ever.
                if not low <= number <= high:
                    raise ConfigError(
                        f"{self.name}: {place}'{value}' is out of range; give a number from "
                        f"{low:g} to {high:g}"
                    )
                return number
            if kind is Path:
                if not isinstance(value, str) or not value.strip():
                    raise ValueError
                return Path(value)
        except ValueError:
            raise ConfigError(
                f"{self.name}: {place}'{value}' is not a valid {kind.__name__}"
            ) from None
        if not isinstance(value, str):
            raise ConfigError(f"{self.name}: {place}must be a string in quotes")
        choices = setting.choices
        if choices and value not in choices:
            raise ConfigError(
                f"{self.name}: {place}'{value}' is not one of {', '.join(sorted(choices))}"
            )
        reason = unsafe_reason(value)
        if reason:
            raise ConfigError(f"{self.name}: {place}{reason}")
        return value

    def meetings(self, tables: Any, templates_dir: Path) -> tuple[Meeting, ...]:
        if not isinstance(tables, list):
            raise self.fail("", "meetings are written as [[meeting]] tables")
        seen: set[str] = set()
        result = []
        for index, table in enumerate(tables, start=1):
            meeting = self.meeting(index, table, templates_dir)
            if meeting.slug in seen:
                raise self.fail(f"meeting '{meeting.slug}': ", "slug: is used twice")
            seen.add(meeting.slug)
            result.append(meeting)
        return tuple(result)

    def meeting(self, index: int, table: Any, templates_dir: Path) -> Meeting:
        if not isinstance(table, dict):
            raise self.fail(f"meeting #{index}: ", "must be a table")
        slug = table.get("slug")
        if not isinstance(slug, str) or not slug or not set(slug) <= SLUG_CHARS:
            raise self.fail(
                f"meeting #{index}: ",
                "slug: is required: lower-case letters a-z, digits and '-' only",
            )
        if len(slug) > SLUG_MAX:
            raise self.fail(
                f"meeting #{index}: ", f"slug: is {len(slug)} characters long; at most {SLUG_MAX}"
            )
        where = f"meeting '{slug}': "
        rows = section("meeting")
        self.unknown_keys(table, set(rows), where)
        for key in (k for k, row in rows.items() if row.required):
            if key not in table:
                raise self.fail(where, f"{key}: is required")
        title = self.text(where, "title", table["title"], required=True)
        template = self.text(where, "template", table["template"], required=True)
        if not (templates_dir / template).is_dir():
            known = sorted(
                p.name
                for p in (templates_dir.iterdir() if templates_dir.is_dir() else [])
                if p.is_dir() and not p.name.startswith(("_", "."))
            )
            raise self.fail(
                where,
                f"template: no template set '{template}' in {templates_dir} "
                f"(there: {', '.join(known) or 'none'})",
            )
        timezone = self.text(where, "timezone", table.get("timezone", "Europe/Oslo"))
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(
                where, f"timezone: '{timezone}' is not an IANA time zone (e.g. Europe/Oslo)"
            ) from None
        start = self.when(where, "start", table["start"], timezone)
        end = self.when(where, "end", table["end"], timezone)
        if end <= start:
            raise self.fail(where, "end: is not after start")
        online_url = self.text(where, "online_url", table.get("online_url", ""))
        if online_url and not online_url.startswith(("https://", "http://")):
            raise self.fail(where, "online_url: must start with https://")
        return Meeting(
            slug=slug,
            title=title,
            template=template,
            start=start,
            end=end,
            timezone=timezone,
            location=self.text(where, "location", table.get("location", "")),
            online_url=online_url,
            description=self.text(where, "description", table.get("description", "")),
            audience=self.audience(where, table.get("audience", {})),
        )

    def when(self, where: str, key: str, value: Any, timezone: str) -> datetime:
        if isinstance(value, datetime):
            moment: datetime = value
            if not YEARS[0] <= moment.year <= YEARS[1]:
                # Years 1 and 9999 overflow as soon as the time moves to UTC.
                raise self.fail(
                    where, f"{key}: the year {moment.year} is not between {YEARS[0]} and {YEARS[1]}"
                )
            if moment.tzinfo is not None:
                # An offset time is converted to the meeting's zone, where it is shown.
                moment = moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
            return moment.replace(microsecond=0)
        if isinstance(value, date):
            raise self.fail(where, f"{key}: give a time of day too, e.g. {value}T10:00:00")
        raise self.fail(
            where, f"{key}: must be a date and time without quotes, e.g. 2022-11-09T10:00:00"
        )

    def audience(self, where: str, table: Any) -> Audience:
        if not isinstance(table, dict):
            raise self.fail(where, 'audience: must be a table, e.g. { roles = ["biblioteksjef"] }')
        allowed = set(section("meeting.audience"))
        for key in table:
            if key not in allowed:
                raise self.fail(
                    where, f"audience: unknown key '{key}' (known: {', '.join(sorted(allowed))})"
                )
        values: dict[str, tuple[str, ...]] = {}
        for key in allowed:
            items = table.get(key, [])
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise self.fail(where, f"audience.{key}: must be a list of strings")
            if key in {"include", "exclude"}:
                try:
                    items = [normalize_email(i) for i in items]
                except ValueError as exc:
                    raise self.fail(where, f"audience.{key}: {exc}") from None
            values[key] = tuple(cast(list[str], items))
        return Audience(**values)


# The years a meeting may be in.
YEARS = (1900, 2999)

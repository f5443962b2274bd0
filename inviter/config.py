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
from inviter.toml_reasons import toml_reason
from inviter.translation import LANGUAGES, N_, _

SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
SLUG_MAX = 100  # models.MeetingState.slug is VARCHAR(100), which PostgreSQL enforces

Transport = Literal["outbox", "smtp"]
Security = Literal["starttls", "tls", "none"]
Auth = Literal["password", "xoauth2"]

# Environment variables under INVITER_ that are not settings keys: secrets, locations and the
# language of a run (inviter.translation reads INVITER_LANG).
_NOT_KEYS = frozenset(
    {
        "INVITER_CONFIG",
        "INVITER_DB",
        "INVITER_LANG",
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
        known = ", ".join(slugs) or _("none")
        name = self.config_path.name
        if close:
            message = _("{file}: no meeting '{slug}' (did you mean '{close}'? known: {known})")
            raise InputError(message.format(file=name, slug=slug, close=close[0], known=known))
        message = _("{file}: no meeting '{slug}' (known: {known})")
        raise InputError(message.format(file=name, slug=slug, known=known))

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
        message = _("{file}: tables or lists are nested too deeply")
        raise ConfigError(message.format(file=name)) from None
    except FileNotFoundError:
        message = _(
            "{path}: not found; run inviter in the folder holding {file}, "
            "or give --config PATH or INVITER_CONFIG"
        )
        raise ConfigError(message.format(path=config_path, file=CONFIG_NAME)) from None
    except UnicodeDecodeError as exc:
        message = _("{file}: not UTF-8 text ({reason}); save it as UTF-8")
        raise ConfigError(message.format(file=name, reason=exc.reason)) from None
    except tomllib.TOMLDecodeError as exc:
        message = _("{file}: not valid TOML: {reason}")
        raise ConfigError(message.format(file=name, reason=toml_reason(str(exc)))) from None
    except OSError as exc:
        message = _("{path}: cannot be read: {reason}")
        raise ConfigError(message.format(path=config_path, reason=exc.strerror)) from None
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
        part, _sep, key = var[len("INVITER_") :].lower().partition("_")
        if part not in ENV_SECTIONS or key not in section(part):
            message = _(
                "environment: {variable} names no setting; "
                "use INVITER_<SECTION>_<KEY> with a key of [send], [smtp] or [imap] in {file}"
            )
            raise ConfigError(message.format(variable=var, file=name))
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
                message = _("unknown key '{key}' (known: {known})")
                raise self.fail(where, message.format(key=key, known=hint))

    def text(self, where: str, key: str, value: Any, *, required: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(where, _("{key}: must be a string in quotes").format(key=key))
        if required and not value.strip():
            raise self.fail(where, _("{key}: must not be empty").format(key=key))
        reason = unsafe_reason(value) if key not in {"description"} else None
        if reason:
            raise self.fail(where, f"{key}: {reason}")
        return value.strip() if key != "description" else value

    def organizer(self, table: Any) -> Organizer:
        where = "[organizer]: "
        if not isinstance(table, dict):
            raise self.fail("", _("[organizer] with name and email is required"))
        self.unknown_keys(table, set(section("organizer")), where)
        if "email" not in table:
            raise self.fail(where, _("email: is required (replies come to this address)"))
        name = self.text(where, "name", table.get("name", ""))
        try:
            email = normalize_email(self.text(where, "email", table["email"], required=True))
        except ValueError as exc:
            raise self.fail(where, f"email: {exc}") from None
        language = self.text(where, "language", table.get("language", "nb"))
        if language not in LANGUAGES:
            message = _("language: must be one of {choices}, not '{value}'")
            raise self.fail(where, message.format(choices=", ".join(LANGUAGES), value=language))
        return Organizer(name=name.replace('"', "”"), email=email, language=language)

    def section(self, name: str, table: Any, env: Mapping[str, str]) -> dict[str, Any]:
        """Check one server section against its rows; return its values by key."""
        where = f"[{name}]: "
        if not isinstance(table, dict):
            raise self.fail("", _("[{section}] must be a table").format(section=name))
        rows = section(name)
        if "password" in table:
            var = f"INVITER_{name.upper()}_PASSWORD"
            message = _("password: passwords are never read from files; set {variable}")
            raise self.fail(where, message.format(variable=var))
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
                    message = _("'{value}' is out of range; give a number from {low} to {high}")
                    shown = message.format(value=value, low=f"{low:g}", high=f"{high:g}")
                    raise ConfigError(f"{self.name}: {place}{shown}")
                return number
            if kind is Path:
                if not isinstance(value, str) or not value.strip():
                    raise ValueError
                return Path(value)
        except ValueError:
            message = _(_NOT_VALID.get(kind, _NOT_VALID[str]))
            shown = message.format(value=value, kind=kind.__name__)
            raise ConfigError(f"{self.name}: {place}{shown}") from None
        if not isinstance(value, str):
            shown = _("must be a string in quotes")
            raise ConfigError(f"{self.name}: {place}{shown}")
        choices = setting.choices
        if choices and value not in choices:
            message = _("'{value}' is not one of {choices}")
            shown = message.format(value=value, choices=", ".join(sorted(choices)))
            raise ConfigError(f"{self.name}: {place}{shown}")
        reason = unsafe_reason(value)
        if reason:
            raise ConfigError(f"{self.name}: {place}{reason}")
        return value

    def meetings(self, tables: Any, templates_dir: Path) -> tuple[Meeting, ...]:
        if not isinstance(tables, list):
            raise self.fail("", _("meetings are written as [[meeting]] tables"))
        seen: set[str] = set()
        result = []
        for index, table in enumerate(tables, start=1):
            meeting = self.meeting(index, table, templates_dir)
            if meeting.slug in seen:
                raise self.fail(_meeting_where(meeting.slug), _("slug: is used twice"))
            seen.add(meeting.slug)
            result.append(meeting)
        return tuple(result)

    def meeting(self, index: int, table: Any, templates_dir: Path) -> Meeting:
        numbered = _("meeting #{number}").format(number=index) + ": "
        if not isinstance(table, dict):
            raise self.fail(numbered, _("must be a table"))
        slug = table.get("slug")
        if not isinstance(slug, str) or not slug or not set(slug) <= SLUG_CHARS:
            message = _("slug: is required: lower-case letters a-z, digits and '-' only")
            raise self.fail(numbered, message)
        if len(slug) > SLUG_MAX:
            message = _("slug: is {length} characters long; at most {most}")
            raise self.fail(numbered, message.format(length=len(slug), most=SLUG_MAX))
        where = _meeting_where(slug)
        rows = section("meeting")
        self.unknown_keys(table, set(rows), where)
        for key in (k for k, row in rows.items() if row.required):
            if key not in table:
                raise self.fail(where, _("{key}: is required").format(key=key))
        title = self.text(where, "title", table["title"], required=True)
        template = self.text(where, "template", table["template"], required=True)
        if not (templates_dir / template).is_dir():
            known = sorted(
                p.name
                for p in (templates_dir.iterdir() if templates_dir.is_dir() else [])
                if p.is_dir() and not p.name.startswith(("_", "."))
            )
            message = _("template: no template set '{name}' in {folder} (there: {known})")
            there = ", ".join(known) or _("none")
            raise self.fail(where, message.format(name=template, folder=templates_dir, known=there))
        timezone = self.text(where, "timezone", table.get("timezone", "Europe/Oslo"))
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            message = _("timezone: '{value}' is not an IANA time zone (e.g. Europe/Oslo)")
            raise self.fail(where, message.format(value=timezone)) from None
        start = self.when(where, "start", table["start"], timezone)
        end = self.when(where, "end", table["end"], timezone)
        if end <= start:
            raise self.fail(where, _("end: is not after start"))
        online_url = self.text(where, "online_url", table.get("online_url", ""))
        if online_url and not online_url.startswith(("https://", "http://")):
            raise self.fail(where, _("online_url: must start with https://"))
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
                message = _("{key}: the year {year} is not between {first} and {last}")
                raise self.fail(
                    where,
                    message.format(key=key, year=moment.year, first=YEARS[0], last=YEARS[1]),
                )
            if moment.tzinfo is not None:
                # An offset time is converted to the meeting's zone, where it is shown.
                moment = moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
            return moment.replace(microsecond=0)
        if isinstance(value, date):
            message = _("{key}: give a time of day too, e.g. {date}T10:00:00")
            raise self.fail(where, message.format(key=key, date=value))
        message = _("{key}: must be a date and time without quotes, e.g. 2022-11-09T10:00:00")
        raise self.fail(where, message.format(key=key))

    def audience(self, where: str, table: Any) -> Audience:
        if not isinstance(table, dict):
            # A literal brace in a msgid: no .format() here.
            raise self.fail(
                where, _('audience: must be a table, e.g. { roles = ["biblioteksjef"] }')
            )
        allowed = set(section("meeting.audience"))
        for key in table:
            if key not in allowed:
                message = _("audience: unknown key '{key}' (known: {known})")
                raise self.fail(where, message.format(key=key, known=", ".join(sorted(allowed))))
        values: dict[str, tuple[str, ...]] = {}
        for key in allowed:
            items = table.get(key, [])
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                message = _("audience.{key}: must be a list of strings")
                raise self.fail(where, message.format(key=key))
            if key in {"include", "exclude"}:
                try:
                    items = [normalize_email(i) for i in items]
                except ValueError as exc:
                    raise self.fail(where, f"audience.{key}: {exc}") from None
            values[key] = tuple(cast(list[str], items))
        return Audience(**values)


# The years a meeting may be in.
YEARS = (1900, 2999)

# A value of [send], [smtp] or [imap] that is not of its key's kind, by kind (the English says
# Python's name of the kind, as it always did).
_NOT_VALID: dict[type[Any], str] = {
    int: N_("'{value}' is not a valid int"),
    float: N_("'{value}' is not a valid float"),
    bool: N_("'{value}' is not a valid bool"),
    Path: N_("'{value}' is not a valid Path"),
    str: N_("'{value}' is not a valid {kind}"),
}


def _meeting_where(slug: str) -> str:
    """The place of a message about one meeting: ``meeting 'temamote-tromso': ``."""
    return _("meeting '{slug}'").format(slug=slug) + ": "

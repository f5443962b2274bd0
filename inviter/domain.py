"""The types every part of inviter shares: who invites, a meeting, its audience, a recipient.

They live here, below every part, so that no part imports another only for a type: the config
makes Meetings, the templates render for a Recipient and a Kind, the message builder uses both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Organizer:
    """Who invites: ORGANIZER of every event and From of every message."""

    name: str
    email: str
    language: str = "nb"  # the language inviter speaks to staff (SPEC, "Language")

    @property
    def domain(self) -> str:
        """The domain of the organizer's address (for UIDs and Message-IDs)."""
        return self.email.rpartition("@")[2]


@dataclass(frozen=True)
class Audience:
    """Who a meeting invites. An empty tuple means no filter on that (SPEC)."""

    roles: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    municipalities: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Meeting:
    """One meeting of the programme as the config describes it."""

    slug: str
    title: str
    template: str
    start: datetime  # naive, local time in ``timezone``
    end: datetime
    timezone: str = "Europe/Oslo"
    location: str = ""
    online_url: str = ""
    description: str = ""
    audience: Audience = field(default_factory=Audience)

    @property
    def tzinfo(self) -> ZoneInfo:
        """The meeting's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def start_at(self) -> datetime:
        """The start as an aware datetime."""
        return self.start.replace(tzinfo=self.tzinfo)

    @property
    def end_at(self) -> datetime:
        """The end as an aware datetime."""
        return self.end.replace(tzinfo=self.tzinfo)

    @property
    def is_online(self) -> bool:
        """True for a meeting held by video link."""
        return bool(self.online_url)


Kind = Literal["request", "cancel", "reminder"]


class StoredContact(Protocol):
    """What a recipient is made from: a Contact, or a row of those columns (plans.py)."""

    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def language(self) -> str | None: ...
    @property
    def role(self) -> str: ...
    @property
    def municipality(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def organization(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...


@dataclass(frozen=True)
class Recipient:
    """One person a message goes to, with what templates may say about them."""

    email: str
    name: str
    language: str = "nb"
    role: str = ""
    municipality: str = ""
    region: str = ""
    organization: str = ""
    title: str = ""

    @classmethod
    def from_contact(cls, contact: StoredContact) -> Recipient:
        """Return the recipient for a stored contact (a Contact, or a row of its columns)."""
        return cls(
            email=contact.email,
            name=contact.name,
            language=contact.language or "nb",
            role=contact.role,
            municipality=contact.municipality,
            region=contact.region,
            organization=contact.organization or "",
            title=contact.title or "",
        )

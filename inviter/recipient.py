"""What a message is and who it goes to: the types templates, messages and plans all share.

In a module of their own so that the templates (which render for a Recipient and a Kind) and the
message builder (which uses the templates) do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

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

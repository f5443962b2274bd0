"""Who a meeting invites: the contacts its audience filters select."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from inviter.config import Audience, Meeting
from inviter.models import Contact
from inviter.regions import canonical_region, official_municipality


def audience_query(audience: Audience) -> Select[Contact]:
    """Return the query for the audience's contacts, ordered by e-mail address.

    Contacts are stored normalised (role case-folded, region and municipality in their official
    spelling), so the filters compare exactly. An empty filter list means no filter (SPEC).
    """
    condition: ColumnElement[bool] = Contact.id.is_not(None)
    if audience.roles:
        condition = condition & Contact.role.in_([r.strip().casefold() for r in audience.roles])
    if audience.regions:
        regions = [canonical_region(r) or r.strip() for r in audience.regions]
        condition = condition & Contact.region.in_(regions)
    if audience.municipalities:
        names = [official_municipality(m) or m.strip() for m in audience.municipalities]
        condition = condition & Contact.municipality.in_(names)
    if not (audience.roles or audience.regions or audience.municipalities) and audience.include:
        # Only addresses named: no filter at all would otherwise select everyone.
        condition = false()
    if audience.include:
        condition = or_(condition, Contact.email.in_(audience.include))
    if audience.exclude:
        condition = condition & Contact.email.not_in(audience.exclude)
    return select(Contact).where(condition).order_by(Contact.email)


def select_audience(session: Session, meeting: Meeting) -> list[Contact]:
    """Return the contacts the meeting invites."""
    return list(session.scalars(audience_query(meeting.audience)))


def missing_includes(session: Session, meeting: Meeting) -> list[str]:
    """Return addresses the audience includes by name that are not in the contact list."""
    if not meeting.audience.include:
        return []
    found = set(
        session.scalars(select(Contact.email).where(Contact.email.in_(meeting.audience.include)))
    )
    return [email for email in meeting.audience.include if email not in found]

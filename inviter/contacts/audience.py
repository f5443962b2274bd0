"""Who a meeting invites: the contacts its audience filters select, checked before use.

SPEC, second edition: a role, region or municipality that nothing matches is an error naming
the meeting and the value, with a suggestion ("biblioteksjefer" gave an audience of 0 and a
send that said "nothing to send"); an empty audience is an error for send and remind.
"""

from __future__ import annotations

import difflib
import unicodedata

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from inviter.domain import Audience, Meeting
from inviter.errors import InputError
from inviter.locale.regions import MUNICIPALITIES, REGIONS, canonical_region, official_municipality
from inviter.store.models import Contact
from inviter.translation import _


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


# The roles of the county library's contact lists (README): known before any is imported.
ROLES = ("biblioteksjef", "kommunedirektør", "kommunalsjef", "ordfører", "partner")


def _folded(text: str) -> str:
    """Compare names as people mistype them: case, accents and spaces aside (Karlsoy)."""
    plain = unicodedata.normalize("NFKD", text.casefold().replace("ø", "o").replace("æ", "ae"))
    return "".join(c for c in plain if c.isalnum())


def _suggest(value: str, known: list[str]) -> str:
    """Return ' (did you mean 'x'?)' for the nearest known value, or ''."""
    by_key = {_folded(k): k for k in known}
    close = difflib.get_close_matches(_folded(value), list(by_key), n=1, cutoff=0.6)
    return " " + _("(did you mean '{value}'?)").format(value=by_key[close[0]]) if close else ""


def check_audience(session: Session, meeting: Meeting) -> None:
    """Refuse a role, region or municipality of the audience that names nothing known.

    Known: a Troms region or municipality in any official form, one of the roles the county
    library's lists use (``ROLES``), or a value present in the contact list.
    """
    audience = meeting.audience

    def values(column: InstrumentedAttribute[str]) -> list[str]:
        return [v for v in session.scalars(select(column).distinct()) if v]

    if audience.roles:
        roles = sorted({*ROLES, *values(Contact.role)})
        for role in audience.roles:
            if role.strip().casefold() not in roles:
                message = _("meeting '{meeting}': audience.roles: no contact has the role '{role}'")
                raise InputError(
                    message.format(meeting=meeting.slug, role=role) + _suggest(role, roles)
                )
    if audience.regions:
        regions = values(Contact.region)
        for region in audience.regions:
            if not canonical_region(region) and region.strip() not in regions:
                known = [*REGIONS, *regions]
                message = _(
                    "meeting '{meeting}': audience.regions: '{region}' is no region of Troms "
                    "nor of the contact list"
                )
                raise InputError(
                    message.format(meeting=meeting.slug, region=region) + _suggest(region, known)
                )
    if audience.municipalities:
        towns = values(Contact.municipality)
        names = [
            n for official, (_r, aliases) in MUNICIPALITIES.items() for n in (official, *aliases)
        ]
        for town in audience.municipalities:
            if not official_municipality(town) and town.strip() not in towns:
                message = _(
                    "meeting '{meeting}': audience.municipalities: '{municipality}' is no "
                    "municipality of Troms nor of the contact list"
                )
                raise InputError(
                    message.format(meeting=meeting.slug, municipality=town)
                    + _suggest(town, [*names, *towns])
                )


def require_audience(session: Session, meeting: Meeting) -> None:
    """Refuse to send to a meeting whose audience selects nobody (send, remind)."""
    count = session.scalar(
        select(func.count()).select_from(audience_query(meeting.audience).order_by(None).subquery())
    )
    if not count:
        a = meeting.audience
        filters = "; ".join(
            f"{name} = {list(value)}"
            for name, value in (
                ("roles", a.roles),
                ("regions", a.regions),
                ("municipalities", a.municipalities),
                ("include", a.include),
            )
            if value
        )
        message = _(
            "meeting '{meeting}': the audience is empty ({filters}): nobody to send to; "
            "check the audience in inviter.toml and the contact list"
        )
        raise InputError(message.format(meeting=meeting.slug, filters=filters or _("no filters")))

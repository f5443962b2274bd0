"""The fields of a contact: their names, limits, and the check that turns text into the stored form.

Every file reader (CSV, vCard) and ``contacts add`` hand a :class:`RawContact` to
:func:`validate_contact`, so one set of rules holds however a contact arrives (SPEC "Contacts CSV"):

- ``email`` is the identity, stored by :func:`inviter.addresses.normalize_email` (ASCII,
  lower case);
- ``role`` is stripped and case-folded ("Biblioteksjef" and "biblioteksjef" are one role);
- ``municipality`` is the official name of a Troms municipality when it names one, in any of
  its Norwegian, Sámi or Kven forms ("Gáivuotna – Kåfjord – Kaivuono" is stored as "Kåfjord");
  else as given;
- ``region`` is derived from a Troms municipality when missing, must agree with it when given,
  and is required for a municipality outside Troms;
- ``language`` is ``nb`` (the default) or ``en``, the template sets that ship;
- every value is Unicode NFC (Apple exports decomposed letters), has no control characters,
  line separators or RFC 2047 encoded words (each may reach a mail header; sending.md, header
  injection), and fits its database column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from inviter.addresses import normalize_email, unsafe_reason
from inviter.errors import ContactError
from inviter.locale.regions import canonical_region, official_municipality, region_of
from inviter.store.models import Contact
from inviter.translation import _, pgettext

# The CSV columns, in the order export writes them (SPEC "Contacts CSV", contacts list --json).
FIELDS: tuple[str, ...] = (
    "name",
    "email",
    "role",
    "municipality",
    "region",
    "organization",
    "title",
    "phone",
    "language",
)
REQUIRED: tuple[str, ...] = ("name", "email", "role", "municipality")

# The roles the shipped meetings invite; vCard CATEGORIES are matched against them.
KNOWN_ROLES: tuple[str, ...] = (
    "biblioteksjef",
    "kommunedirektør",
    "kommunalsjef",
    "ordfører",
    "partner",
)


def column_names() -> dict[str, str]:
    """The CSV column name of each field in the staff language, in FIELDS' order: the header
    ``contacts export`` and ``init`` write, the names errors give a field and the headings of
    ``contacts list``. Import reads these in either language (inviter.contacts.csv_files)."""
    return {
        "name": pgettext("csv column", "name"),
        "email": pgettext("csv column", "email"),
        "role": pgettext("csv column", "role"),
        "municipality": pgettext("csv column", "municipality"),
        "region": pgettext("csv column", "region"),
        "organization": pgettext("csv column", "organization"),
        "title": pgettext("csv column", "title"),
        "phone": pgettext("csv column", "phone"),
        "language": pgettext("csv column", "language"),
    }


def column_name(name: str) -> str:
    """The CSV column name of one field in the staff language (``e-post`` for email)."""
    return column_names()[name]


LANGUAGES: dict[str, str] = {
    **dict.fromkeys(("nb", "no", "nob", "nb-no", "no-nb", "norsk", "bokmål"), "nb"),
    **dict.fromkeys(("en", "eng", "english", "engelsk"), "en"),
}

# Column lengths come from the table itself, so the check and the schema cannot drift apart.
LIMITS: dict[str, int] = {
    name: int(getattr(Contact.__table__.c[name].type, "length", 0) or 0) for name in FIELDS
}

# Spreadsheets run a cell starting with one of these as a formula (sending.md, CSV injection).
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]*")


@dataclass(frozen=True)
class RawContact:
    """A contact as a file or a command gave it: text per field, and where each came from."""

    line: int
    values: Mapping[str, str]
    lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, name: str) -> int:
        """Return the line a field came from (vCard properties have their own lines)."""
        return self.lines.get(name, self.line)


@dataclass(frozen=True)
class ContactFields:
    """A checked contact in its stored form."""

    name: str
    email: str
    role: str
    municipality: str
    region: str
    organization: str = ""
    title: str = ""
    phone: str = ""
    language: str = "nb"

    def as_dict(self) -> dict[str, str]:
        """Return the fields keyed by the CSV column names, in their order."""
        return asdict(self)

    @classmethod
    def of(cls, contact: Contact) -> ContactFields:
        """Return the fields of a stored contact."""
        return cls(**{name: getattr(contact, name) for name in FIELDS})


def show(value: str, limit: int = 60) -> str:
    """Quote a value for a one-line message: control characters escaped, long text cut."""
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    escaped = "".join(
        repr(c)[1:-1] if c in "\r\n\t" else f"\\u{ord(c):04x}" if unsafe_reason(c) else c
        for c in text
    )
    return f"'{escaped}'"


def validate_contact(
    raw: RawContact,
    where: str,
    *,
    defaults: Mapping[str, str] | None = None,
    label: str | None = None,
) -> ContactFields:
    """Check one contact and return its stored form; raise ContactError naming line and field.

    ``where`` starts every message (``contacts/x.csv``); ``label`` names a field in it
    (``--{field}`` for ``contacts add``; by default its column name in the staff language);
    ``defaults`` fill role or municipality a file leaves empty.
    """

    def fail(name: str, message: str) -> ContactError:
        shown = label.format(field=name) if label else column_name(name)
        line = raw.line_of(name)
        if line:
            text = _("{file}: line {line}: {field}: {message}")
            return ContactError(text.format(file=where, line=line, field=shown, message=message))
        return ContactError(f"{where}: {shown}: {message}")

    values: dict[str, str] = {}
    for name in FIELDS:
        value = raw.values.get(name, "") or ""
        # Checked before stripping: a trailing CR/LF in a quoted cell is a broken row, not padding.
        reason = unsafe_reason(value)
        if reason:
            raise fail(name, f"{show(value)} {reason}")
        value = unicodedata.normalize("NFC", value.strip())
        if not value and defaults and defaults.get(name):
            value = unicodedata.normalize("NFC", defaults[name].strip())
        limit = LIMITS[name]
        if limit and len(value) > limit:
            message = _("{value} is {length} characters long; at most {limit}")
            raise fail(name, message.format(value=show(value), length=len(value), limit=limit))
        values[name] = value

    for name in REQUIRED:
        if not values[name]:
            raise fail(
                name, _("is empty; every contact needs a name, email, role and municipality")
            )
    try:
        email = normalize_email(values["email"])
    except ValueError as exc:
        raise fail("email", str(exc)) from None

    municipality = official_municipality(values["municipality"]) or values["municipality"]
    derived = region_of(municipality)
    given = values["region"]
    region = (canonical_region(given) or given) if given else ""
    if derived and region and region != derived:
        message = _("{value} does not match {municipality}, which is in {region}")
        raise fail(
            "region", message.format(value=show(given), municipality=municipality, region=derived)
        )
    region = region or derived or ""
    if not region:
        message = _("is empty and {municipality} is not a municipality of Troms; give the region")
        raise fail("region", message.format(municipality=show(values["municipality"])))

    language = values["language"].casefold() or "nb"
    if language.startswith("en-"):  # en-GB, en-US from vCard LANG
        language = "en"
    if language not in LANGUAGES:
        message = _("{value} is not supported; use nb or en")
        raise fail("language", message.format(value=show(values["language"])))

    phone = values["phone"]
    if phone and not _PHONE.fullmatch(phone):
        message = _("{value} is not a phone number (digits, spaces, + - ( ) . /)")
        raise fail("phone", message.format(value=show(phone)))

    return ContactFields(
        name=values["name"],
        email=email,
        role=values["role"].casefold(),
        municipality=municipality,
        region=region,
        organization=values["organization"],
        title=values["title"],
        phone=phone,
        language=LANGUAGES[language],
    )

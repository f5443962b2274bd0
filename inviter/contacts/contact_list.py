"""The contact list: import (CSV, vCard), list, add, remove, export.

The e-mail address (case-folded) is a contact's identity: importing again updates, never
duplicates (SPEC "Contacts CSV"). Decisions a user relies on:

- A file with one bad row imports nothing, and neither do the other files of the same command:
  every file is read and checked first, then all are written in one transaction. The error is one
  line: ``contacts/x.csv: line 7: email: 'kari@' is not a valid e-mail address…``.
- Two rows of one file with the same address (in any case) are an error naming both lines: which
  one is right is for the user to say. Across files, files are applied in the order given, so a
  later file updates what an earlier one set, as a second import would.
- ``contacts import --role R --municipality M`` fill those fields where a file leaves them empty
  (vCards rarely carry them); see :mod:`inviter.vcard` for how a card's fields are found.
- ``add_contact`` refuses an address already in the list unless asked to update it.
- ``remove_contact`` deletes the contact only: deliveries keep their address and lose the link
  (the foreign key is ON DELETE SET NULL), replies stay, so a meeting's history is intact.
- ``export_contacts`` writes the SPEC's columns; cells a spreadsheet would run as formulas get a
  leading apostrophe, which import removes again, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from inviter.addresses import normalize_email
from inviter.cells import neutralise
from inviter.contacts.csv_files import open_check, read_csv
from inviter.contacts.fields import (
    FIELDS,
    ContactFields,
    RawContact,
    column_name,
    column_names,
    show,
    validate_contact,
)
from inviter.contacts.vcard import read_vcards
from inviter.errors import ContactError, InputError
from inviter.locale.collation import person_key
from inviter.locale.regions import canonical_region, official_municipality
from inviter.store.database import Database
from inviter.store.models import BOUNCED, REQUEST, Contact, Delivery, utcnow
from inviter.translation import _, ngettext

VCARD_SUFFIXES = (".vcf", ".vcard")
_IN_CHUNK = 500  # addresses per IN (...) query: below every database's parameter limit


@dataclass(frozen=True)
class FileSummary:
    """What importing one file did."""

    path: str
    added: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class ImportSummary:
    """What an import did, per file in the order given."""

    files: tuple[FileSummary, ...]

    @property
    def added(self) -> int:
        """Contacts new to the list."""
        return sum(f.added for f in self.files)

    @property
    def updated(self) -> int:
        """Contacts whose stored fields changed."""
        return sum(f.updated for f in self.files)

    @property
    def unchanged(self) -> int:
        """Contacts already stored exactly so."""
        return sum(f.unchanged for f in self.files)


def _is_vcard(path: Path) -> bool:
    """Say whether to read the file as vCard: by its suffix, else by its first line."""
    if path.suffix.lower() in VCARD_SUFFIXES:
        return True
    if path.suffix.lower() == ".csv":
        return False
    try:
        with path.open("rb") as stream:
            return stream.read(64).lstrip(b"\xef\xbb\xbf \r\n").upper().startswith(b"BEGIN:VCARD")
    except OSError:
        return False


# A file with many bad rows (a wrong column, a whole export in another format) is reported row
# by row up to this many, so staff fix them in one go; past it the reading stops.
MAX_REPORTED = 50


def iter_contact_file(
    path: Path, *, defaults: Mapping[str, str] | None = None
) -> Iterator[ContactFields]:
    """Read and check the contacts of one file as they come; ContactError when any is bad.

    A bad row does not stop the reading: every bad row of the file, up to MAX_REPORTED, is
    named in the one ContactError raised at the end (one line each), and the caller's
    transaction, which holds the good rows written so far, is rolled back. A file that cannot
    be read as CSV or vCard at all stops at once.

    Only the addresses seen are kept (for the "same address twice" check), so memory does not
    grow with the rest of each row: a 1,000,000-row CSV took 2.9 GB when read whole.
    """
    where = str(path)
    reader = read_vcards if _is_vcard(path) else read_csv
    seen: dict[str, tuple[int, str]] = {}
    problems: list[str] = []
    rows = reader(path, where, defaults=defaults)
    while True:
        try:
            raw = next(rows)
        except StopIteration:
            break
        except ContactError:
            # The file's own check at its end (letters lost to '?'): the rows named already
            # come first; it is said again, if it still holds, once they are put right.
            if not problems:
                raise
            break
        try:
            contact = validate_contact(raw, where, defaults=defaults)
            earlier = seen.get(contact.email)
            if earlier is not None:
                message = _(
                    "{file}: line {line}: {field}: {value} is the same address as {other} on "
                    "line {other_line}; keep one of them"
                )
                raise ContactError(
                    message.format(
                        file=where,
                        line=raw.line_of("email"),
                        field=column_name("email"),
                        value=show(raw.values["email"].strip()),
                        other=show(earlier[1]),
                        other_line=earlier[0],
                    )
                )
        except ContactError as exc:
            problems.append(str(exc))
            if len(problems) >= MAX_REPORTED:
                break
            continue
        seen[contact.email] = (raw.line_of("email"), raw.values["email"].strip())
        yield contact
    if len(problems) == 1:
        raise ContactError(problems[0])
    if problems:
        if len(problems) >= MAX_REPORTED:
            message = _(
                "{file}: {count} rows cannot be imported (the first {count}; the reading "
                "stopped there); nothing was imported:"
            )
        else:
            message = ngettext(
                "{file}: {count} row cannot be imported; nothing was imported:",
                "{file}: {count} rows cannot be imported; nothing was imported:",
                len(problems),
            )
        raise ContactError(
            message.format(file=where, count=len(problems))
            + "\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )


def import_contacts(
    db: Database,
    paths: Sequence[Path],
    *,
    role: str | None = None,
    municipality: str | None = None,
) -> ImportSummary:
    """Import CSV and vCard files, all or nothing; ``role``/``municipality`` fill empty fields.

    Read and written in batches inside one transaction: a bad row anywhere rolls back every
    batch before it, so nothing is half-imported, and memory stays flat however long the file.
    """
    defaults = {k: v for k, v in (("role", role), ("municipality", municipality)) if v}
    for path in paths:
        # Refuse an unreadable file before anything is written or locked.
        open_check(path, str(path))
    summaries: list[FileSummary] = []
    now = utcnow()
    with db.session() as session:
        for path in paths:
            added = changed = same = 0
            contacts = iter_contact_file(path, defaults=defaults)
            while batch := list(itertools.islice(contacts, _IN_CHUNK)):
                counts = _write_batch(session, batch, now)
                added, changed, same = added + counts[0], changed + counts[1], same + counts[2]
            summaries.append(FileSummary(str(path), added, changed, same))
    return ImportSummary(tuple(summaries))


def _write_batch(
    session: Session, batch: list[ContactFields], now: datetime
) -> tuple[int, int, int]:
    """Insert the new contacts of a batch and update the changed ones; return the counts."""
    columns = [getattr(Contact, name) for name in FIELDS]
    stored = {
        row.email: (row.id, ContactFields(*row[1:]))
        for row in session.execute(
            select(Contact.id, *columns).where(Contact.email.in_([c.email for c in batch]))
        )
    }
    inserts = [c for c in batch if c.email not in stored]
    updates = [
        (stored[c.email][0], c) for c in batch if c.email in stored and stored[c.email][1] != c
    ]
    if inserts:
        session.execute(
            insert(Contact),
            [{**c.as_dict(), "created_at": now, "updated_at": now} for c in inserts],
        )
    if updates:
        session.execute(
            update(Contact),
            [{"id": key, **c.as_dict(), "updated_at": now} for key, c in updates],
        )
    return len(inserts), len(updates), len(batch) - len(inserts) - len(updates)


def list_contacts(
    db: Database,
    *,
    role: str | None = None,
    region: str | None = None,
    municipality: str | None = None,
    bounced: bool = False,
) -> list[ContactFields]:
    """Return the contacts matching every filter given, by region, municipality and name.

    ``bounced``: only those whose last invitation a delivery report said did not arrive.

    Filters are normalised as stored (inviter.audience does the same): role case-folded, region
    and municipality in their official spelling, any of a municipality's names accepted.
    """
    query = select(Contact)
    if role:
        query = query.where(Contact.role == role.strip().casefold())
    if region:
        query = query.where(Contact.region == (canonical_region(region) or region.strip()))
    if municipality:
        name = official_municipality(municipality) or municipality.strip()
        query = query.where(Contact.municipality == name)
    if bounced:
        last = (
            select(func.max(Delivery.id))
            .where(Delivery.kind == REQUEST)
            .group_by(Delivery.email)
            .scalar_subquery()
        )
        bounced_emails = select(Delivery.email).where(
            Delivery.id.in_(last), Delivery.status == BOUNCED
        )
        query = query.where(Contact.email.in_(bounced_emails))
    with db.reading() as session:
        found = [ContactFields.of(c) for c in session.scalars(query)]
    # The order of every list of people (inviter.collation): region north to south, then
    # municipality and name in Norwegian alphabetical order (æ, ø, å after z).
    found.sort(key=lambda c: person_key(c.region, c.municipality, c.name, c.email))
    return found


def add_contact(
    db: Database, fields: Mapping[str, str], *, update: bool = False, where: str = "contacts add"
) -> tuple[ContactFields, bool]:
    """Add one contact given by hand, checked like a CSV row; return it and whether it is new.

    An address already in the list is an error unless ``update`` is true; then the stored contact
    is replaced by the fields given (fields not given become empty).
    """
    contact = validate_contact(RawContact(0, fields), where, label="--{field}")
    with db.session() as session:
        existing = session.scalar(select(Contact).where(Contact.email == contact.email))
        if existing is None:
            session.add(Contact(**contact.as_dict()))
            return contact, True
        if not update:
            message = _(
                "{command}: {email} is already a contact ({name}, {municipality}); "
                "add --update to replace it"
            )
            raise ContactError(
                message.format(
                    command=where,
                    email=contact.email,
                    name=existing.name,
                    municipality=existing.municipality,
                )
            )
        for name, value in contact.as_dict().items():
            setattr(existing, name, value)
    return contact, False


def remove_contact(db: Database, email: str, *, where: str = "contacts remove") -> bool:
    """Delete the contact with this address (any case); return whether there was one.

    Their deliveries and replies are kept (the delivery's link to the contact becomes NULL).
    """
    try:
        address = normalize_email(email)
    except ValueError as exc:
        raise ContactError(f"{where}: {exc}") from None
    with db.session() as session:
        found = session.scalar(select(Contact.id).where(Contact.email == address))
        if found is None:
            return False
        session.execute(delete(Contact).where(Contact.id == found))
    return True


def export_contacts(db: Database, out: TextIO, *, excel: bool = False) -> int:
    """Write every contact as CSV with the SPEC's columns; return how many.

    The header row names the columns in the staff language (``navn,e-post,…`` in Bokmål, the
    English names with ``--lang en``), which import reads in either language; the values are
    the stored ones (a contact's language stays a code, nb or en). Plain: UTF-8, comma.
    ``excel``: a BOM and semicolons, which Norwegian Excel opens right by a double click. Either
    way formula cells are neutralised (sending.md) and import reads it back.
    """
    writer: Any = csv.writer(out, delimiter=";" if excel else ",", lineterminator="\r\n")
    if excel:
        out.write("\ufeff")
    writer.writerow(column_names().values())
    contacts = list_contacts(db)
    for contact in contacts:
        writer.writerow([neutralise(value) for value in contact.as_dict().values()])
    return len(contacts)


def export_contacts_file(db: Database, path: Path, *, excel: bool = False) -> int:
    """Write the contact list to a CSV file (see export_contacts); return how many contacts."""
    try:
        with path.open("w", encoding="utf-8", newline="") as out:
            return export_contacts(db, out, excel=excel)
    except OSError as exc:
        message = _("{file}: cannot be written: {reason}")
        raise InputError(message.format(file=path, reason=exc.strerror)) from None

"""Read contacts from vCard files (.vcf) as Outlook, Google and Apple export them.

vCard 2.1 (Outlook's "vCard" export), 3.0 (Google, Apple) and 4.0 (RFC 6350) are read; several
cards per file; folded lines (RFC 6350 §3.2), quoted-printable values with CHARSET (vCard 2.1),
``item1.`` groups (Apple), ``TYPE=pref`` and ``PREF=1`` (RFC 6350 §5.3), ``tel:`` URIs.

A card becomes a contact this way:

- name: FN, else the given, additional and family names of N;
- email: the preferred EMAIL (``TYPE=pref`` or the lowest ``PREF``), else the first;
- phone: the preferred TEL, else a work one, else the first that is not a fax;
- organization: the components of ORG joined by ", "; title: TITLE;
- role: ``X-INVITER-ROLE``, else ROLE or a CATEGORIES entry that is one of the known roles
  (biblioteksjef, kommunedirektør, kommunalsjef, ordfører, partner: Google exports its labels as
  CATEGORIES), else ``contacts import --role``;
- municipality: ``X-INVITER-MUNICIPALITY``, else a CATEGORIES entry or the locality of an ADR that
  names a Troms municipality, else ``--municipality``;
- region: ``X-INVITER-REGION``, else a CATEGORIES entry naming a region, else derived;
- language: ``X-INVITER-LANGUAGE``, else LANG (vCard 4), else nb.

Group cards (``KIND:group``, Apple's ``X-ADDRESSBOOKSERVER-KIND:group``) are skipped; every other
property (PHOTO, NOTE, BDAY…) is ignored. A card without a role or municipality is an
error naming the card, as is any value the contact rules refuse.
"""

from __future__ import annotations

import binascii
import codecs
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from inviter.contacts.csv_files import open_check
from inviter.contacts.fields import KNOWN_ROLES, RawContact, show
from inviter.errors import ContactError
from inviter.locale.regions import canonical_region, official_municipality
from inviter.translation import _

VERSIONS = ("2.1", "3.0", "4.0")
_BARE_ENCODINGS = ("QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT", "B")
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


@dataclass
class Property:
    """One unfolded content line: NAME;PARAMS:value, and the line it started on."""

    line: int
    name: str
    params: dict[str, list[str]]
    value: str

    def has_type(self, kind: str) -> bool:
        """Say whether TYPE lists ``kind`` (case-insensitive)."""
        return kind.casefold() in (t.casefold() for t in self.params.get("TYPE", []))

    def rank(self) -> tuple[int, int]:
        """Return a sort key: preferred first (TYPE=pref, then PREF=1 before PREF=2)."""
        pref = self.params.get("PREF", [""])[0]
        if pref.isdigit():
            return 0, int(pref)
        return (0, 0) if self.has_type("pref") else (1, 0)


@dataclass
class Card:
    """The properties of one card, by upper-case name."""

    line: int
    props: dict[str, list[Property]] = field(default_factory=dict)

    def all(self, name: str) -> list[Property]:
        """Return every property of that name, in file order."""
        return self.props.get(name, [])

    def first(self, name: str) -> Property | None:
        """Return the first property of that name, if any."""
        found = self.props.get(name)
        return found[0] if found else None


def _split_unquoted(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside double quotes (parameter values may be quoted)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    """Undo TEXT escaping: \\n is a newline, \\, \\; \\\\ the character (RFC 6350 §3.4)."""
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _components(value: str, sep: str) -> list[str]:
    """Split a structured or list value at unescaped ``sep`` and unescape each part."""
    return [_unescape(part) for part in re.split(rf"(?<!\\){re.escape(sep)}", value)]


def _parse(text: str, line: int, where: str) -> Property:
    """Split one content line into name, parameters and raw value."""
    head_and_value = _split_unquoted(text, ":")
    if len(head_and_value) < 2:
        message = _("{file}: line {line}: {text} is not a vCard property (no ':')")
        raise ContactError(message.format(file=where, line=line, text=show(text)))
    head, value = head_and_value[0], ":".join(head_and_value[1:])
    name, *raw_params = _split_unquoted(head, ";")
    params: dict[str, list[str]] = {}
    for raw in raw_params:
        key, eq, val = raw.partition("=")
        if not eq:  # vCard 2.1 bare parameters: TEL;WORK;VOICE, or ;QUOTED-PRINTABLE
            key, val = ("ENCODING" if raw.upper() in _BARE_ENCODINGS else "TYPE"), raw
        values = [v.strip('"') for v in _split_unquoted(val, ",")]
        params.setdefault(key.strip().upper(), []).extend(values)
    # Apple groups properties as item1.EMAIL / item1.X-ABLabel.
    return Property(line, name.rpartition(".")[2].strip().upper(), params, value)


def _decode(prop: Property, where: str) -> str:
    """Return the value as text: quoted-printable and CHARSET undone (vCard 2.1)."""
    encoding = [e.upper() for e in prop.params.get("ENCODING", [])]
    if "QUOTED-PRINTABLE" not in encoding:
        return prop.value
    data = binascii.a2b_qp(prop.value.encode("utf-8"))
    charset = prop.params.get("CHARSET", [""])[0]
    if charset:
        try:
            return data.decode(codecs.lookup(charset).name)
        except LookupError:
            message = _("{file}: line {line}: CHARSET={charset} is not a known character set")
            raise ContactError(
                message.format(file=where, line=prop.line, charset=charset)
            ) from None
        except UnicodeDecodeError:
            message = _("{file}: line {line}: the value is not {charset} as CHARSET says")
            raise ContactError(
                message.format(file=where, line=prop.line, charset=charset)
            ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# Properties holding pictures, sounds or keys: megabytes of base64 that no field is read from.
_BINARY = frozenset({b"PHOTO", b"LOGO", b"SOUND", b"KEY"})


def _content_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield unfolded content lines, as bytes, with the line each starts on.

    Unfolded before decoding: some exporters fold inside a UTF-8 sequence, which RFC 6350 §3.2
    says they should not do. Linear in the file's size: folds are collected and joined once (a
    4 MB PHOTO is 55,000 folds; joining them one by one took 43 s), and the binary properties
    no contact field comes from (PHOTO, LOGO, SOUND, KEY) are skipped as they are read.
    """
    start, pieces, skipping, quoted_printable = 0, [], False, False
    with path.open("rb") as stream:
        for number, physical in enumerate(stream, start=1):
            text = physical.rstrip(b"\r\n")
            if number == 1:
                text = text.removeprefix(b"\xef\xbb\xbf")
            if text[:1] in (b" ", b"\t") and start:
                if not skipping:
                    pieces.append(text[1:])  # a fold is CRLF plus one space or tab
                continue
            # vCard 2.1 quoted-printable soft line break: "=" at the end, next line continues.
            if quoted_printable and pieces and pieces[-1].endswith(b"="):
                pieces[-1] = pieces[-1][:-1]
                pieces.append(text)
                continue
            if pieces and not skipping:
                yield start, b"".join(pieces)
            start, pieces = number, [text]
            head = text.split(b":", 1)[0].upper()
            name = head.split(b";", 1)[0].rpartition(b".")[2]
            skipping = name in _BINARY
            quoted_printable = b"QUOTED-PRINTABLE" in head
            if not text.strip():
                start, pieces = 0, []  # blank lines (Outlook puts one after a photo)
    if pieces and not skipping:
        yield start, b"".join(pieces)


def _decoded(path: Path, where: str) -> Iterator[tuple[int, str]]:
    """Yield content lines as text: UTF-8, or Windows-1252 (Outlook's vCard 2.1) throughout.

    The rule of inviter.csvfile: a file that is UTF-8 in part and not in another is an error.
    """
    codec = "utf-8"
    seen_non_ascii = False
    for line, data in _content_lines(path):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            byte = data[exc.start]
            if codec == "utf-8" and not seen_non_ascii:
                codec = "cp1252"
                try:
                    text = data.decode(codec)
                except UnicodeDecodeError as again:
                    byte = data[again.start]
                else:
                    yield line, text
                    continue
            if codec == "utf-8":
                message = _(
                    "{file}: line {line}: byte 0x{byte} is not UTF-8, though the text before "
                    "it is; the file mixes encodings: export it again"
                )
            else:
                message = _(
                    "{file}: line {line}: byte 0x{byte} is neither UTF-8 nor Windows-1252; "
                    "export the file again as UTF-8"
                )
            raise ContactError(message.format(file=where, line=line, byte=f"{byte:02X}")) from None
        if codec == "cp1252" and not data.isascii() and _is_utf8(data):
            message = _(
                "{file}: line {line}: this line is UTF-8 and lines before it are not; the "
                "file mixes encodings: export it again"
            )
            raise ContactError(message.format(file=where, line=line))
        seen_non_ascii = seen_non_ascii or not data.isascii()
        yield line, text


def _is_utf8(data: bytes) -> bool:
    """Say whether bytes decode as UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _cards(path: Path, where: str) -> Iterator[Card]:
    """Yield the cards of a file; nested cards (vCard 2.1 AGENT) are skipped."""
    card: Card | None = None
    depth = 0
    for line, text in _decoded(path, where):
        prop = _parse(text, line, where)
        value = prop.value.strip().upper()
        if prop.name == "BEGIN" and value == "VCARD":
            depth += 1
            if depth == 1:
                card = Card(line)
            continue
        if prop.name == "END" and value == "VCARD":
            if depth == 0:
                message = _("{file}: line {line}: END:VCARD without BEGIN:VCARD")
                raise ContactError(message.format(file=where, line=line))
            depth -= 1
            if depth == 0 and card is not None:
                yield card
                card = None
            continue
        if card is None:
            message = _("{file}: line {line}: {text} is outside BEGIN:VCARD…END:VCARD")
            raise ContactError(message.format(file=where, line=line, text=show(text)))
        if depth == 1:
            card.props.setdefault(prop.name, []).append(prop)
    if card is not None:
        message = _("{file}: line {line}: BEGIN:VCARD without END:VCARD")
        raise ContactError(message.format(file=where, line=card.line))


def _text(card: Card, name: str, where: str) -> tuple[str, int]:
    """Return the first property's unescaped text and line, or ("", 0)."""
    prop = card.first(name)
    if prop is None:
        return "", 0
    return _unescape(_decode(prop, where)), prop.line


def _contact(card: Card, where: str, defaults: Mapping[str, str]) -> RawContact:
    """Turn one card into a raw contact, by the rules in the module docstring."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}

    def put(key: str, value: str, line: int) -> None:
        if value and not values.get(key):
            values[key], lines[key] = value, line

    version = card.first("VERSION")
    if version is not None and version.value.strip() not in VERSIONS:
        message = _("{file}: line {line}: vCard version {version} is not supported ({known} are)")
        raise ContactError(
            message.format(
                file=where,
                line=version.line,
                version=show(version.value.strip()),
                known=", ".join(VERSIONS),
            )
        )
    put("name", *_text(card, "FN", where))
    n = card.first("N")
    if n is not None:
        family, given, additional = [*_components(_decode(n, where), ";"), "", ""][:3]
        put("name", " ".join(p.strip() for p in (given, additional, family) if p.strip()), n.line)
    emails = sorted(card.all("EMAIL"), key=Property.rank)
    if emails:
        put("email", _decode(emails[0], where).strip(), emails[0].line)
    phones = [p for p in card.all("TEL") if not p.has_type("fax")] or card.all("TEL")
    phones.sort(key=lambda p: (p.rank(), not p.has_type("work")))
    if phones:
        number = _decode(phones[0], where).strip()
        put("phone", number[4:] if number.lower().startswith("tel:") else number, phones[0].line)
    org = card.first("ORG")
    if org is not None:
        units = [p.strip() for p in _components(_decode(org, where), ";") if p.strip()]
        put("organization", ", ".join(units), org.line)
    put("title", *_text(card, "TITLE", where))

    for key in ("role", "municipality", "region", "language"):
        put(key, *_text(card, f"X-INVITER-{key.upper()}", where))
    role, role_line = _text(card, "ROLE", where)
    if role.casefold() in KNOWN_ROLES:
        put("role", role, role_line)
    for prop in card.all("CATEGORIES"):
        for category in _components(_decode(prop, where), ","):
            if category.strip().casefold() in KNOWN_ROLES:
                put("role", category, prop.line)
            if official_municipality(category):
                put("municipality", category, prop.line)
            if canonical_region(category):
                put("region", category, prop.line)
    for adr in sorted(card.all("ADR"), key=lambda p: (not p.has_type("work"), p.rank())):
        locality = ([*_components(_decode(adr, where), ";"), "", "", ""])[3]
        if official_municipality(locality):
            put("municipality", locality, adr.line)
    langs = sorted(card.all("LANG"), key=Property.rank)
    if langs:
        put("language", langs[0].value.strip(), langs[0].line)

    name = unicodedata.normalize("NFC", values.get("name", ""))
    label = _("card {name}").format(name=show(name)) if name else _("a card")
    if not values.get("role") and not defaults.get("role"):
        message = _(
            "{file}: line {line}: {card} has no role: add X-INVITER-ROLE or a CATEGORIES "
            "entry ({roles}), or give --role"
        )
        raise ContactError(
            message.format(file=where, line=card.line, card=label, roles=", ".join(KNOWN_ROLES))
        )
    if not values.get("municipality") and not defaults.get("municipality"):
        message = _(
            "{file}: line {line}: {card} has no municipality: add X-INVITER-MUNICIPALITY, "
            "a CATEGORIES entry or an ADR locality naming it, or give --municipality"
        )
        raise ContactError(message.format(file=where, line=card.line, card=label))
    return RawContact(card.line, values, lines)


def read_vcards(
    path: Path, where: str, *, defaults: Mapping[str, str] | None = None
) -> Iterator[RawContact]:
    """Yield the contacts of a vCard file, each with the lines it came from."""
    open_check(path, where)
    count = 0
    for card in _cards(path, where):
        kind = card.first("KIND") or card.first("X-ADDRESSBOOKSERVER-KIND")
        if kind is not None and kind.value.strip().casefold() == "group":
            continue  # a contact group (RFC 6350 §6.1.4; Apple's own property) lists no address
        count += 1
        yield _contact(card, where, defaults or {})
    if count == 0:
        message = _("{file}: holds no contact card (no BEGIN:VCARD, or only groups)")
        raise ContactError(message.format(file=where))

"""Read contact files as people save them: encoding, size, and the CSV dialect.

SPEC "Contacts CSV": a header row; columns matched by name in any order, case-insensitively; UTF-8
with or without BOM, or Windows-1252 as Excel writes it; comma or semicolon. Decisions:

- The encoding is found by reading the file as strict UTF-8; if that fails and nothing before the
  failing byte was non-ASCII, as Windows-1252. A file that is UTF-8 in part and then not is an error
  (mixed encodings), as is a byte neither can decode; the error names the line.
- The delimiter is the one that splits the header line into known column names. Excel's ``sep=;``
  first line is honoured.
- Unknown columns are refused, naming them, so that a typo such as ``e-mail`` cannot silently drop
  the addresses. The header may be in English or in Bokmål, whatever the staff language, so an
  export in either language imports back: navn, e-post, epost, rolle, kommune, organisasjon,
  tittel, telefon, språk, and the names of :func:`inviter.contacts.fields.column_names` in the
  language of the run. Columns with an empty header must hold no values (Excel's trailing
  separators).
- A value ``'=…``, ``'+…``, ``'-…`` or ``'@…`` loses its apostrophe: export wrote it to keep
  spreadsheets from running the cell as a formula, and import gives back what was stored.
- Blank lines are skipped; a row with fewer cells than the header has empty values for the rest.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from inviter.cells import unneutralise
from inviter.contacts.fields import FIELDS, REQUIRED, RawContact, column_name, column_names, show
from inviter.errors import ContactError
from inviter.translation import _, current_language, ngettext

MAX_BYTES = 50 * 1024 * 1024
_CHUNK = 1 << 20

# The English names and the Bokmål ones (those ``contacts export`` writes in Bokmål, and a few
# more people type), accepted in every language of the run.
ALIASES: dict[str, str] = {
    **{name: name for name in FIELDS},
    "navn": "name",
    "e-post": "email",
    "epost": "email",
    "rolle": "role",
    "kommune": "municipality",
    "organisasjon": "organization",
    "tittel": "title",
    "telefon": "phone",
    "språk": "language",
}


def aliases() -> dict[str, str]:
    """Every header name import accepts, case-folded, with its field: ALIASES and the column
    names of the staff language (so a new translation of a column reads back at once)."""
    return {**ALIASES, **{column.casefold(): name for name, column in column_names().items()}}


def did_you_mean(value: str | None) -> str:
    """`` (did you mean 'x'?)`` for a close known value, or ``""``."""
    if not value:
        return ""
    return " " + _("(did you mean '{value}'?)").format(value=value)


_SEP_LINE = re.compile(r"sep=(.)\s*", re.IGNORECASE)
# Excel saving as "CSV (semikolonseparert)" writes Windows-1252, which has no č, đ, ŋ, š, ŧ, ž:
# each becomes a "?" (Elle Márjá ?ávvu). A "?" against a letter in a name is that, never a name.
_LOST_LETTER = re.compile(r"\w\?|\?\w")
_LOST_FIELDS = ("name", "organization", "title", "municipality")


def open_check(path: Path, where: str) -> None:
    """Refuse a path that is not a readable file of sane size."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        message = _("{file}: cannot be read: {reason}")
        raise ContactError(message.format(file=where, reason=exc.strerror)) from None
    if not path.is_file():
        raise ContactError(_("{file}: is not a file").format(file=where))
    if size > MAX_BYTES:
        message = _("{file}: is {size} MB; the limit is {limit} MB, split the file")
        raise ContactError(
            message.format(file=where, size=decimal(size / 1e6), limit=MAX_BYTES // (1024 * 1024))
        )
    if size == 0:
        raise ContactError(_("{file}: is empty").format(file=where))


def decimal(value: float) -> str:
    """``52.4`` in English, ``52,4`` in Bokmål (one decimal)."""
    text = f"{value:.1f}"
    return text.replace(".", ",") if current_language() == "nb" else text


def _line_at(path: Path, position: int) -> int:
    """Return the line holding byte ``position`` (CR, LF and CRLF each end a line)."""
    with path.open("rb") as stream:
        data = stream.read(position)
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + 1


def _first_bad_byte(path: Path, codec: str) -> tuple[int, bool] | None:
    """Return where ``codec`` first fails and whether non-ASCII text came before; None if never."""
    offset = 0  # file position of data[0]
    carry = b""
    seen_non_ascii = False
    with path.open("rb") as stream:
        while True:
            chunk = stream.read(_CHUNK)
            data = carry + chunk
            if not data:
                return None
            try:
                text = data.decode(codec)
                carry = b""
            except UnicodeDecodeError as exc:
                # A character cut by the chunk boundary: keep its bytes for the next round.
                if chunk and exc.reason == "unexpected end of data" and exc.end == len(data):
                    text = data[: exc.start].decode(codec)
                    carry = data[exc.start :]
                else:
                    before = data[: exc.start].decode(codec)
                    return offset + exc.start, seen_non_ascii or not before.isascii()
            seen_non_ascii = seen_non_ascii or not text.isascii()
            offset += len(data) - len(carry)
            if not chunk:
                return None


def detect_encoding(path: Path, where: str) -> str:
    """Return the codec to read the file with: "utf-8-sig" or "cp1252"; raise if neither fits."""
    with path.open("rb") as stream:
        head = stream.read(4)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        message = _("{file}: is UTF-16 (Excel's 'Unicode Text'); save it as 'CSV UTF-8' instead")
        raise ContactError(message.format(file=where))
    bad = _first_bad_byte(path, "utf-8")
    if bad is None:
        return "utf-8-sig"
    position, utf8_before = bad
    if not utf8_before:
        bad = _first_bad_byte(path, "cp1252")
        if bad is None:
            return "cp1252"
        position = bad[0]
    with path.open("rb") as stream:
        stream.seek(position)
        byte = stream.read(1)[0]
    line = _line_at(path, position)
    if utf8_before:
        message = _(
            "{file}: line {line}: byte 0x{byte} is not UTF-8, though the text before it is; "
            "the file mixes encodings: fix that line or save the file again as CSV UTF-8"
        )
    else:
        message = _(
            "{file}: line {line}: byte 0x{byte} is neither UTF-8 nor Windows-1252; "
            "save the file as CSV UTF-8"
        )
    raise ContactError(message.format(file=where, line=line, byte=f"{byte:02X}"))


def _known(cells: list[str]) -> int:
    """Count the cells that name a known column."""
    known = aliases()
    return sum(1 for cell in cells if cell.strip().lstrip("\ufeff").casefold() in known)


def _split(line: str, delimiter: str) -> list[str]:
    """Split one header line as the CSV reader would."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return [line]


def _columns(cells: list[str], where: str, line: int, required: tuple[str, ...]) -> list[str]:
    """Map header cells to field names ("" for an empty header); raise on unknown or repeated."""
    known = aliases()
    columns: list[str] = []
    for index, cell in enumerate(cells, start=1):
        key = cell.strip().lstrip("\ufeff").casefold()
        if not key:
            columns.append("")
            continue
        name = known.get(key)
        if name is None:
            close = difflib.get_close_matches(key, list(known), n=1)
            message = _(
                "{file}: line {line}: unknown column {column}{hint}; the columns are {names}"
            )
            raise ContactError(
                message.format(
                    file=where,
                    line=line,
                    column=show(cell.strip()),
                    hint=did_you_mean(close[0] if close else None),
                    names=", ".join(column_names().values()),
                )
            )
        if name in columns:
            message = _("{file}: line {line}: columns {first} and {second} are both {name}")
            raise ContactError(
                message.format(
                    file=where,
                    line=line,
                    first=columns.index(name) + 1,
                    second=index,
                    name=column_name(name),
                )
            )
        columns.append(name)
    missing = [name for name in required if name not in columns]
    if missing:
        message = ngettext(
            "{file}: line {line}: missing column {names} (required: {required})",
            "{file}: line {line}: missing columns {names} (required: {required})",
            len(missing),
        )
        raise ContactError(
            message.format(
                file=where,
                line=line,
                names=", ".join(column_name(name) for name in missing),
                required=", ".join(column_name(name) for name in REQUIRED),
            )
        )
    return columns


def read_csv(
    path: Path, where: str, *, defaults: Mapping[str, str] | None = None
) -> Iterator[RawContact]:
    """Yield the contacts of a CSV file with their line numbers; raise ContactError on bad form."""
    open_check(path, where)
    encoding = detect_encoding(path, where)
    required = tuple(name for name in REQUIRED if not (defaults and defaults.get(name)))
    # newline="" as the csv module asks: quoted values keep their line breaks, and CR, LF and
    # CRLF all end a line (old Excel for Mac wrote CR alone).
    with path.open(encoding=encoding, newline="") as stream:
        header_line = 1
        first = stream.readline()
        sep = _SEP_LINE.fullmatch(first.lstrip("\ufeff"))
        if sep:
            delimiter = sep.group(1)
            first = stream.readline()
            header_line = 2
        else:
            by_comma, by_semicolon = _split(first, ","), _split(first, ";")
            delimiter = ";" if _known(by_semicolon) > _known(by_comma) else ","
        columns = _columns(_split(first, delimiter), where, header_line, required)
        reader = csv.reader(stream, delimiter=delimiter, strict=True)
        line = header_line + 1
        count = 0
        lost: list[tuple[int, str]] = []
        try:
            for cells in reader:
                start, line = line, header_line + reader.line_num + 1
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
                    message = _(
                        "{file}: line {line}: {values} values where the header has {columns} "
                        "columns; quote a value that holds a '{delimiter}'"
                    )
                    raise ContactError(
                        message.format(
                            file=where,
                            line=start,
                            values=len(cells),
                            columns=len(columns),
                            delimiter=delimiter,
                        )
                    )
                values: dict[str, str] = {}
                for index, cell in enumerate(cells[: len(columns)]):
                    name = columns[index]
                    if name:
                        values[name] = unneutralise(cell)
                    elif cell.strip():
                        message = _(
                            "{file}: line {line}: a value in column {column}, which has no header"
                        )
                        raise ContactError(message.format(file=where, line=start, column=index + 1))
                for name in _LOST_FIELDS:
                    if _LOST_LETTER.search(values.get(name, "")):
                        lost.append((start, values[name]))
                        break
                count += 1
                yield RawContact(start, values)
        except csv.Error as exc:
            # The csv module's own words (English, never shown as they are).
            reason = str(exc)
            if "unexpected end of data" in reason:
                reason = _('a quoted value is not closed (a " is missing)')
            elif "field larger than field limit" in reason:
                reason = _("a value is longer than {limit} characters").format(
                    limit=csv.field_size_limit()
                )
            message = _("{file}: line {line}: {reason}")
            raise ContactError(message.format(file=where, line=line, reason=reason)) from None
    if count == 0:
        raise ContactError(_("{file}: holds no contacts, only a header row").format(file=where))
    if lost:
        # Raised at the end, naming every row: the import's transaction is rolled back.
        lines = ", ".join(str(number) for number, _value in lost[:20])
        if len(lost) > 20:
            lines = _("{lines} and {count} more").format(lines=lines, count=len(lost) - 20)
        message = ngettext(
            "{file}: line {lines}: letters replaced by '?' ({value}); Excel's 'CSV "
            "(semikolonseparert)' cannot hold Sámi letters: save the file as 'CSV UTF-8 "
            "(kommadelt)' and import it again",
            "{file}: lines {lines}: letters replaced by '?' ({value}); Excel's 'CSV "
            "(semikolonseparert)' cannot hold Sámi letters: save the file as 'CSV UTF-8 "
            "(kommadelt)' and import it again",
            len(lost),
        )
        raise ContactError(message.format(file=where, lines=lines, value=show(lost[0][1])))

"""The formats lists and pages are written in, how an output file's suffix names one, and the
writing of such a file.

Apart from the writers, so that the command line can offer the choices without loading them.
"""

from __future__ import annotations

from pathlib import Path

from inviter.errors import InputError
from inviter.translation import _

FORMATS = ("csv", "html", "md", "json", "xlsx")
SUFFIX_FORMATS = {
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".json": "json",
    ".xlsx": "xlsx",
}


def choose_format(fmt: str | None, output: Path | None) -> str | None:
    """Return the format asked for, else the one the output file's suffix names, else None
    (a table); a suffix no format has is an error: "liste.xls" must not get a text table."""
    if fmt:
        return fmt
    if output is None or not output.suffix:
        return None
    found = SUFFIX_FORMATS.get(output.suffix.lower())
    if found is None:
        known = ", ".join(SUFFIX_FORMATS)
        raise InputError(
            _(
                "{file}: no list is written as '{suffix}'; name the file {known}, or give --format"
            ).format(file=output, suffix=output.suffix, known=known)
        )
    return found


def write_document(path: Path, data: bytes) -> None:
    """Write a document to a file; an error names the file and what to do."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(
            _("{file}: cannot write: {reason}; choose another -o file").format(
                file=path, reason=exc.strerror or exc
            )
        ) from exc

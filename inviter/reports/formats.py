"""The formats lists and pages are written in, and how an output file's suffix names one.

Apart from the writers, so that the command line can offer the choices without loading them.
"""

from __future__ import annotations

from pathlib import Path

FORMATS = ("csv", "html", "md", "json")
SUFFIX_FORMATS = {".csv": "csv", ".html": "html", ".htm": "html", ".md": "md", ".json": "json"}


def choose_format(fmt: str | None, output: Path | None) -> str | None:
    """Return the format asked for, else the one the output file's suffix names, else None."""
    if fmt:
        return fmt
    return SUFFIX_FORMATS.get(output.suffix.lower()) if output else None

"""Helpers for the contacts tests: what the database holds, and failing imports checked whole."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import Result

from .conftest import Invoke

HEADER = "name,email,role,municipality,region,organization,title,phone,language"


def stored(project: Path) -> list[tuple[object, ...]]:
    """Return every contacts row, timestamps included, as SQLite holds it (no file: none)."""
    path = project / "inviter.db"
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "contacts" not in tables:
            return []
        return list(conn.execute("SELECT * FROM contacts ORDER BY email"))


def emails(project: Path) -> list[str]:
    """Return the stored addresses, sorted."""
    path = project / "inviter.db"
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT email FROM contacts ORDER BY email")]


def assert_refused(invoke: Invoke, project: Path, message: str, *args: str) -> Result:
    """Run the command; assert exit 2, exactly ``Error: message`` on stderr, nothing on stdout,
    and the contacts table unchanged."""
    before = stored(project)
    result = invoke(*args)
    # A plain module: pytest does not rewrite these asserts, so each says what it saw.
    assert result.stderr == f"Error: {message}\n", result.stderr
    assert result.exit_code == 2, result.exit_code
    assert result.stdout == "", result.stdout
    assert stored(project) == before, "the contacts table changed"
    return result


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write a CSV file byte for byte (newlines as written in ``text``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path

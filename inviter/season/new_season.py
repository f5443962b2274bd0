"""``inviter init [DIR]``: a folder ready for a new season, without touching a file already there.

It holds a commented ``inviter.toml``, its comments in the staff language of the run (the
organizer, ``[send]`` within Microsoft 365's limits, ``[smtp]`` and ``[imap]`` ready for Microsoft
365 with Gmail's block beside them, one meeting),
the template sets with their README, and ``contacts/kontakter.csv`` with the header row alone, its
column names in the staff language of the run (``navn,e-post,…`` in Bokmål).
What is there already is kept as it is and named: a second ``init`` never loses an edit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from inviter.contacts.fields import column_names
from inviter.errors import InputError
from inviter.settings import CONFIG_NAME
from inviter.translation import _, current_language

CONTACTS_FILE = Path("contacts") / "kontakter.csv"
CONFIG_FILE = Path(CONFIG_NAME)
CONFIG_BY_LANGUAGE = {"nb": "inviter.nb.toml", "en": "inviter.en.toml"}


@dataclass
class NewSeason:
    """What ``init`` did: the files it wrote and those it found and kept."""

    folder: Path
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def _skeleton() -> Traversable:
    return resources.files("inviter.season").joinpath("skeleton")


def _files(root: Traversable, prefix: Path = Path()) -> list[tuple[Path, bytes]]:
    """Every file under ``root`` with its path below it (the template sets are a tree)."""
    found: list[tuple[Path, bytes]] = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            found += _files(entry, prefix / entry.name)
        else:
            found.append((prefix / entry.name, entry.read_bytes()))
    return found


def create_season(folder: Path) -> NewSeason:
    """Write the season's files into ``folder`` (made if missing); never overwrite one."""
    if folder.exists() and not folder.is_dir():
        message = _("{folder}: is a file; give a folder for the new season")
        raise InputError(message.format(folder=folder))
    # The commented inviter.toml in the staff language of this run; it sets that language.
    skeleton = _skeleton()
    config = skeleton.joinpath(CONFIG_BY_LANGUAGE[current_language()]).read_bytes()
    contents = [(CONFIG_FILE, config)] + [
        (path, data)
        for path, data in _files(skeleton)
        if path.name not in CONFIG_BY_LANGUAGE.values()
    ]
    # The CSV's header names every column import reads (SPEC "Contacts CSV"), nothing else.
    # In the staff language of this run; import reads it in either language.
    header = ",".join(column_names().values())
    contents.append((CONTACTS_FILE, (header + "\r\n").encode()))
    result = NewSeason(folder=folder)
    for relative, data in contents:
        target = folder / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: created here or not at all, even if another program makes it meanwhile.
            handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            result.kept.append(relative)
            continue
        except OSError as exc:
            message = _("{file}: cannot be written: {reason}")
            raise InputError(message.format(file=target, reason=exc.strerror)) from None
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        result.written.append(relative)
    return result

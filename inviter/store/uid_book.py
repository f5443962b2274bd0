"""Each meeting's calendar UID, kept in a file beside inviter.toml as well as in the database.

imip.md 2: a meeting keeps one UID for every recipient and every update. The database holds it,
but a lost or zero-length inviter.db is made anew, and a new random UID would then put a second
copy of every meeting in every calendar. This file keeps the UIDs with the config they belong
to. A UID derived from the organizer and the slug would survive too, but next autumn's
``temamote-tromso`` in a new folder would then overwrite this autumn's entry in every calendar;
a new season's folder gets a new file and new UIDs.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

from inviter.errors import ConfigError
from inviter.toml_reasons import toml_reason
from inviter.translation import _

UID_FILE = "inviter-uids.toml"
_HEADER = (
    "# Written by inviter: the calendar UID of each meeting of inviter.toml beside it.\n"
    "# Keep this file with inviter.toml: if the database is ever lost, the same UIDs make\n"
    "# invitations update the same calendar entries instead of adding second copies.\n"
)


class UidBook:
    """The UIDs kept beside one config: read once, written whenever one is added or differs."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / UID_FILE
        self._uids = self._read()

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            message = _("{path}: cannot be read: {reason}")
            raise ConfigError(message.format(path=self.path, reason=exc)) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            message = _(
                "{path}: {reason}; restore it from a backup, or delete it to give meetings "
                "not yet sent new calendar UIDs"
            )
            raise ConfigError(
                message.format(path=self.path, reason=toml_reason(str(exc)))
            ) from None
        return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}

    def __bool__(self) -> bool:
        """True when some meeting of this folder was given a UID before."""
        return bool(self._uids)

    def get(self, slug: str) -> str | None:
        """Return the UID kept for ``slug``, or None."""
        return self._uids.get(slug)

    def keep(self, slug: str, uid: str) -> None:
        """Record ``uid`` for ``slug`` (the database's wins where they differ)."""
        if self._uids.get(slug) == uid:
            return
        self._uids[slug] = uid
        # TOML basic strings take JSON's escapes; slugs and UIDs are plain ASCII anyway.
        body = "".join(
            f"{json.dumps(s)} = {json.dumps(u)}\n" for s, u in sorted(self._uids.items())
        )
        temporary = self.path.with_name(f".{UID_FILE}.tmp")
        try:
            temporary.write_text(_HEADER + body, encoding="utf-8")
            os.replace(temporary, self.path)  # never a half-written file after a crash
        except OSError as exc:
            message = _(
                "{path}: cannot be written ({reason}); the folder of inviter.toml must be writable"
            )
            raise ConfigError(message.format(path=self.path, reason=exc.strerror)) from None

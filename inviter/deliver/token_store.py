"""Where a Microsoft 365 sign-in is kept between runs: never in inviter.toml or the database.

The system keyring (Windows Credential Manager, macOS Keychain, the Secret Service on a Linux
desktop) when ``keyring`` finds a real one; otherwise a file only this user can read, in
``$XDG_STATE_HOME/inviter`` (``~/.local/state/inviter``), written whole or not at all. The text
kept is MSAL's token cache: the refresh token and the latest access token.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import keyring
import keyring.errors
from keyring.backends import fail

from inviter.errors import ConfigError
from inviter.translation import _

SERVICE = "inviter"


def state_dir() -> Path:
    """The folder of the file store (XDG Base Directory Specification, state data)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "inviter"


def _has_real_keyring() -> bool:
    """True when keyring found a backend that keeps secrets (not its 'fail' stand-in)."""
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return False
    # The chainer holds every usable backend; with none, it keeps nothing.
    backends = getattr(backend, "backends", None)
    return backends is None or bool(backends)


class TokenStore:
    """One sign-in's token cache, under a key naming the authority, tenant, app and account."""

    def __init__(self, key: str) -> None:
        self.key = key
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.path = state_dir() / f"signin-{digest}.json"
        self.in_keyring = _has_real_keyring()

    @property
    def where(self) -> str:
        """Where the sign-in is kept, for people."""
        if self.in_keyring:
            return _("the system keyring")
        return _("{file} (only you can read it)").format(file=self.path)

    def load(self) -> str | None:
        """Return the kept cache, or None when there is none."""
        if self.in_keyring:
            try:
                return keyring.get_password(SERVICE, self.key)
            except keyring.errors.KeyringError as exc:
                raise ConfigError(
                    _("the system keyring cannot be read: {reason}").format(reason=exc)
                ) from None
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(
                _("{file}: cannot be read: {reason}").format(file=self.path, reason=exc.strerror)
            ) from None

    def save(self, text: str) -> None:
        """Keep ``text``; in the file store, readable by this user alone from the first byte."""
        if self.in_keyring:
            try:
                keyring.set_password(SERVICE, self.key, text)
            except keyring.errors.KeyringError as exc:
                raise ConfigError(
                    _("the system keyring cannot be written: {reason}").format(reason=exc)
                ) from None
            return
        folder = self.path.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkstemp creates the file with mode 0600: no moment where another user could
            # open it. Renamed over the old one, so a crash leaves the old sign-in whole.
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".signin-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            raise ConfigError(
                _("{folder}: cannot keep the sign-in: {reason}").format(
                    folder=folder, reason=exc.strerror
                )
            ) from None

    def delete(self) -> bool:
        """Forget the sign-in; return whether there was one."""
        if self.in_keyring:
            try:
                keyring.delete_password(SERVICE, self.key)
            except keyring.errors.PasswordDeleteError:
                return False
            except keyring.errors.KeyringError as exc:
                raise ConfigError(
                    _("the system keyring cannot be written: {reason}").format(reason=exc)
                ) from None
            return True
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise ConfigError(
                _("{file}: cannot be removed: {reason}").format(file=self.path, reason=exc.strerror)
            ) from None
        return True

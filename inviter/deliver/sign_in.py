"""Microsoft 365 sign-in: OAuth 2's device code flow through MSAL, and fresh tokens from it.

Microsoft 365 is ending password logins for SMTP (sending.md); a county's IT registers inviter
once in Entra ID as a public client with the delegated permissions SMTP.Send and
IMAP.AccessAsUser.All, and gives staff the tenant and the application (client) ID. ``inviter
login`` shows an address and a code; the person signs in there, in any browser; MSAL receives
an access token and a refresh token, which token_store.py keeps outside inviter.toml and the
database. Each later run takes an access token from that cache, which MSAL renews with the
refresh token when it is old, without asking anyone, until Microsoft refuses the renewal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import msal
import requests

from inviter.config import MailServerSettings
from inviter.deliver.token_store import TokenStore
from inviter.errors import ConfigError, ConnectionFailure
from inviter.translation import _

# One sign-in serves both servers: both permissions belong to Exchange Online's resource, so one
# refresh token renews tokens for either (Microsoft: "Authenticate an IMAP, POP or SMTP
# connection using OAuth").
SCOPES = (
    "https://outlook.office.com/SMTP.Send",
    "https://outlook.office.com/IMAP.AccessAsUser.All",
)

# MSAL logs its HTTP exchanges at DEBUG and oddities at WARNING; Python prints WARNING to
# stderr when no handler is set. The outcome is reported by inviter, in one line.
logging.getLogger("msal").setLevel(logging.ERROR)


def _check(server: MailServerSettings, section: str) -> None:
    """Raise ConfigError when the section does not say which sign-in to use."""
    for key in ("tenant", "client_id"):
        if not getattr(server, key):
            raise ConfigError(
                _(
                    "[{section}] {key}: is required for a Microsoft 365 sign-in (ask the "
                    "county's IT for the tenant and the application (client) ID of inviter's "
                    "app registration)"
                ).format(section=section, key=key)
            )
    parts = urlsplit(server.authority)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(
            _("[{section}] authority: '{value}' must be an https:// address").format(
                section=section, value=server.authority
            )
        )


class SignIn:
    """The sign-in for one tenant and app registration, kept between runs."""

    def __init__(self, server: MailServerSettings, *, section: str = "smtp") -> None:
        _check(server, section)
        self.section = section
        self.authority = f"{server.authority.rstrip('/')}/{server.tenant}"
        self.store = TokenStore(f"{self.authority}|{server.client_id}")
        self.cache = msal.SerializableTokenCache()
        kept = self.store.load()
        if kept:
            try:
                self.cache.deserialize(kept)
            except ValueError:
                kept = None  # a damaged cache is no sign-in: login writes a new one
        self._client_id = server.client_id
        self._app: msal.PublicClientApplication | None = None

    @property
    def app(self) -> msal.PublicClientApplication:
        """MSAL's application; made on first use, as making it asks the authority already."""
        if self._app is None:
            self._app = self._call(
                lambda: msal.PublicClientApplication(
                    self._client_id,
                    authority=self.authority,
                    token_cache=self.cache,
                    # Known Microsoft hosts need no discovery; another cloud's or a test
                    # provider's address is the county's own choice.
                    instance_discovery=False,
                )
            )
        return self._app

    def _call(self, work: Callable[[], Any]) -> Any:
        """Run one MSAL call; an unreachable or refusing authority is ConnectionFailure."""
        try:
            return work()
        except requests.exceptions.SSLError as exc:
            raise ConnectionFailure(
                _("{address}: the certificate is not trusted ({reason})").format(
                    address=self.authority, reason=_reason(exc)
                )
            ) from None
        except requests.exceptions.RequestException as exc:
            raise ConnectionFailure(
                _("{address}: cannot be reached ({reason})").format(
                    address=self.authority, reason=_reason(exc)
                )
            ) from None
        except ValueError as exc:  # MSAL: "Unable to get authority configuration for ..."
            raise ConnectionFailure(f"{self.authority}: {exc}".splitlines()[0]) from None

    def start(self) -> dict[str, Any]:
        """Ask for a device code; return MSAL's flow (user_code, verification_uri, ...)."""
        flow: dict[str, Any] = self._call(
            lambda: self.app.initiate_device_flow(scopes=list(SCOPES))
        )
        if "user_code" not in flow:
            raise ConnectionFailure(
                _("Microsoft 365 refused to start a sign-in: {answer}").format(answer=_error(flow))
            )
        return flow

    def finish(self, flow: dict[str, Any]) -> str:
        """Wait until the person has signed in; keep the tokens; return the account's name."""
        result = self._call(lambda: self.app.acquire_token_by_device_flow(flow))
        if "access_token" not in result:
            raise ConnectionFailure(
                _("the sign-in did not complete: {answer}").format(answer=_error(result))
            )
        self._keep()
        claims = result.get("id_token_claims") or {}
        return str(claims.get("preferred_username") or claims.get("email") or "")

    def account(self, username: str = "") -> dict[str, Any] | None:
        """The signed-in account (the one named ``username`` where several are kept)."""
        accounts: list[dict[str, Any]] = self.app.get_accounts() if self.store.load() else []
        for account in accounts:
            if not username or str(account.get("username", "")).lower() == username.lower():
                return account
        return None

    def token(self, username: str = "") -> str:
        """Return a fresh access token, renewed silently; ConnectionFailure when refused."""
        account = self.account(username)
        if account is None:
            if username:
                text = _("not signed in to Microsoft 365 as {username}: run 'inviter login' first")
            else:
                text = _("not signed in to Microsoft 365: run 'inviter login' first")
            raise ConfigError(text.format(username=username))
        result = self._call(lambda: self.app.acquire_token_silent_with_error(list(SCOPES), account))
        if not result or "access_token" not in result:
            why = _error(result) if result else _("no token could be renewed")
            raise ConnectionFailure(
                _(
                    "Microsoft 365 refused to renew the sign-in of {username} ({answer}); "
                    "run 'inviter login' again"
                ).format(username=account.get("username"), answer=why)
            )
        self._keep()
        return str(result["access_token"])

    def sign_out(self) -> bool:
        """Forget the sign-in; return whether there was one."""
        return self.store.delete()

    def _keep(self) -> None:
        if self.cache.has_state_changed:
            self.store.save(self.cache.serialize())
            self.cache.has_state_changed = False


def _error(result: dict[str, Any]) -> str:
    """One line of an OAuth error answer: its code and the first line of its description."""
    code = str(result.get("error") or "error")
    described = str(result.get("error_description") or "").strip().splitlines()
    return f"{code}: {described[0]}" if described else code


def _reason(exc: Exception) -> str:
    """The innermost reason of a requests error, without the URL's query (never a secret)."""
    reason: BaseException = exc
    while reason.__context__ is not None and reason.__context__ is not reason:
        reason = reason.__context__
    return str(reason).splitlines()[0][:200]

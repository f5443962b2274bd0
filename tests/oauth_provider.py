"""An OAuth 2 / OpenID Connect provider on loopback over HTTPS, shaped like Microsoft Entra ID.

It serves what MSAL and Dovecot ask of login.microsoftonline.com, at the same paths under
``https://127.0.0.1:PORT/TENANT``: the discovery document (``/v2.0/.well-known/openid-
configuration``), the device authorization grant (RFC 8628: ``/oauth2/v2.0/devicecode``, then
``authorization_pending`` at ``/oauth2/v2.0/token`` until someone approves the code), the refresh
grant, and token introspection (RFC 7662) for Dovecot's oauth2 passdb. Its certificate comes
from a throw-away CA (trustme), which the clients are told to trust as a county's own would be.

A test plays the person at the browser with ``approve(user_code)``, makes the refresh token
stop working with ``revoke()``, and asks ``active(token)`` (the SMTP server does) whether an
access token is one this provider issued and still honours.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import trustme

TENANT = "troms-test-tenant"
CLIENT_ID = "4b0b7c1e-1111-4c4c-9a9a-1234567890ab"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Grant:
    """One device code, and what became of it."""

    device_code: str
    user_code: str
    approved: bool = False
    redeemed: bool = False


@dataclass
class Provider:
    """The provider's state: codes, tokens, and who signs in."""

    user: str  # the account that approves, e.g. bibliotek@example.org
    access_lifetime: int = 3600
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # path, form
    introspected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def approve(self, user_code: str) -> None:
        """The person opens the page, types the code and signs in."""
        with self.lock:
            for grant in self.grants.values():
                if grant.user_code == user_code:
                    grant.approved = True
                    return
        raise KeyError(user_code)

    def revoke(self) -> None:
        """Every refresh token stops working (a password change, an admin's revocation)."""
        with self.lock:
            self.refresh_tokens.clear()

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is refused from now on."""
        with self.lock:
            self.access_tokens.clear()

    def active(self, token: str) -> bool:
        """True for an access token this provider issued and still honours."""
        with self.lock:
            return token in self.access_tokens

    def grant_types(self) -> list[str]:
        """The grant types of every token request, in order."""
        return [
            form.get("grant_type", "") for path, form in self.requests if path.endswith("/token")
        ]

    # ------------------------------------------------------------ answers

    def discovery(self, base: str) -> dict[str, Any]:
        return {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "introspection_endpoint": f"{base}/oauth2/v2.0/introspect",
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def device_code(self, base: str) -> dict[str, Any]:
        grant = Grant(device_code=secrets.token_urlsafe(24), user_code=secrets.token_hex(4).upper())
        with self.lock:
            self.grants[grant.device_code] = grant
        return {
            "device_code": grant.device_code,
            "user_code": grant.user_code,
            "verification_uri": f"{base}/devicelogin",
            "expires_in": 900,
            "interval": 1,
            "message": f"To sign in, open {base}/devicelogin and enter {grant.user_code}.",
        }

    def token(self, base: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant_type = form.get("grant_type", "")
        if form.get("client_id") != CLIENT_ID:
            return 400, {"error": "unauthorized_client", "error_description": "AADSTS700016"}
        with self.lock:
            if grant_type == DEVICE_GRANT:
                grant = self.grants.get(form.get("device_code", ""))
                if grant is None or grant.redeemed:
                    return 400, {"error": "expired_token", "error_description": "AADSTS70020"}
                if not grant.approved:
                    # RFC 8628 §3.5: the client keeps polling.
                    return 400, {
                        "error": "authorization_pending",
                        "error_description": "AADSTS70016: pending",
                    }
                grant.redeemed = True
            elif grant_type == "refresh_token":
                if form.get("refresh_token") not in self.refresh_tokens:
                    return 400, {
                        "error": "invalid_grant",
                        "error_description": "AADSTS50173: The provided grant has expired due "
                        "to it being revoked.",
                    }
                self.refresh_tokens.discard(form["refresh_token"])  # rotated, as Entra does
            else:
                return 400, {"error": "unsupported_grant_type"}
            access = "eyA." + secrets.token_urlsafe(32)
            refresh = "0.R." + secrets.token_urlsafe(40)
            self.access_tokens.add(access)
            self.refresh_tokens.add(refresh)
        return 200, {
            "token_type": "Bearer",
            "scope": form.get("scope", ""),
            "expires_in": self.access_lifetime,
            "ext_expires_in": self.access_lifetime,
            "access_token": access,
            "refresh_token": refresh,
            "id_token": self._id_token(base),
            "client_info": _b64url(json.dumps({"uid": "oid-1", "utid": TENANT}).encode()),
        }

    def _id_token(self, base: str) -> str:
        now = int(time.time())
        claims = {
            "iss": f"{base}/v2.0",
            "aud": CLIENT_ID,
            "sub": "sub-1",
            "oid": "oid-1",
            "tid": TENANT,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "preferred_username": self.user,
            "name": "Fylkesbiblioteket",
        }
        # MSAL reads the claims of an ID token it got straight from the token endpoint over
        # TLS without checking a signature (OpenID Connect Core §3.1.3.7, item 6).
        header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        return f"{header}.{_b64url(json.dumps(claims).encode())}.{_b64url(b'signature')}"

    def introspect(self, form: dict[str, str]) -> dict[str, Any]:
        token = form.get("token", "")
        with self.lock:
            self.introspected.append(token)
        # RFC 7662 §2.2: an unknown or expired token is {"active": false}, still 200.
        if self.active(token):
            return {"active": True, "username": self.user, "scope": "IMAP.AccessAsUser.All"}
        return {"active": False}


class OAuthServer:
    """``with OAuthServer(folder, user=...) as oauth:`` runs the provider on loopback, HTTPS."""

    def __init__(self, folder: Path, *, user: str, access_lifetime: int = 3600) -> None:
        self.provider = Provider(user=user, access_lifetime=access_lifetime)
        ca = trustme.CA()
        self.ca_file = folder / "oauth-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        provider = self.provider
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(handler, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                handler.send_response(status)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data)

            def _base(handler) -> str:
                return f"{outer.authority}/{TENANT}"

            def do_GET(handler) -> None:
                path = handler.path.split("?")[0]
                provider.requests.append((path, {}))
                if path == f"/{TENANT}/v2.0/.well-known/openid-configuration":
                    handler._answer(200, provider.discovery(handler._base()))
                else:
                    handler._answer(404, {"error": "not_found"})

            def do_POST(handler) -> None:
                path = handler.path.split("?")[0]
                length = int(handler.headers.get("Content-Length", 0))
                raw = parse_qs(handler.rfile.read(length).decode())
                form = {key: values[0] for key, values in raw.items()}
                provider.requests.append((path, form))
                base = handler._base()
                if path == f"/{TENANT}/oauth2/v2.0/devicecode":
                    if form.get("client_id") != CLIENT_ID:  # Entra: no such app in the tenant
                        handler._answer(
                            400,
                            {"error": "unauthorized_client", "error_description": "AADSTS700016"},
                        )
                    else:
                        handler._answer(200, provider.device_code(base))
                elif path == f"/{TENANT}/oauth2/v2.0/token":
                    handler._answer(*provider.token(base, form))
                elif path == f"/{TENANT}/oauth2/v2.0/introspect":
                    handler._answer(200, provider.introspect(form))
                else:
                    handler._answer(404, {"error": "not_found"})

            def log_message(handler, *args: object) -> None:
                """Keep the test output quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.authority = f"https://127.0.0.1:{self.port}"
        self.introspection_url = f"{self.authority}/{TENANT}/oauth2/v2.0/introspect"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OAuthServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

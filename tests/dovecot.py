"""A real Dovecot IMAP server on loopback for the `rsvp fetch` tests (one per test).

It runs as a subprocess with its own config in a temporary folder: passwd-file users, Maildir
storage, plain IMAP with STARTTLS and IMAPS with a certificate from a throw-away CA (trustme).
``Dovecot(binary, oauth_token=...)`` also offers XOAUTH2 and OAUTHBEARER, as Microsoft 365 and
Gmail do: Dovecot's oauth2 passdb asks a token introspection endpoint (RFC 7662) served by this
process, which knows that one token for USER and no other.
"""

from __future__ import annotations

import getpass
import imaplib
import json
import mailbox
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import trustme

USER = "replies"
PASSWORD = "s3cret-pass-Ø"


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mail_owner() -> tuple[int, int, str]:
    """Dovecot refuses UID 0 for mail: as root, mail belongs to the 'dovecot' user."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid(), getpass.getuser()
    for name in ("dovecot", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid, name
    raise RuntimeError("no unprivileged user to own the test mailbox")


class Introspection:
    """An RFC 7662 token introspection endpoint on loopback that knows one token for USER."""

    def __init__(self, token: str) -> None:
        self.asked: list[str] = []  # tokens Dovecot asked about

        # The handler's own first argument is named ``handler``: ``self`` is this endpoint.
        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler) -> None:
                length = int(handler.headers.get("Content-Length", 0))
                form = parse_qs(handler.rfile.read(length).decode())
                given = form.get("token", [""])[0]
                self.asked.append(given)
                # RFC 7662 §2.2: an unknown or expired token is {"active": false}, still 200.
                answer = {"active": True, "username": USER} if given == token else {"active": False}
                body = json.dumps(answer).encode()
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args: object) -> None:
                """Keep the test output quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/introspect"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Dovecot:
    """One running Dovecot and the Maildir of its single user."""

    def __init__(
        self,
        binary: str,
        *,
        oauth_token: str | None = None,
        introspection: tuple[str, Path] | None = None,
    ) -> None:
        """``oauth_token``: the one token a local endpoint accepts; ``introspection``: the
        (URL, CA file) of an OAuth provider's endpoint over HTTPS to ask instead."""
        # Not under pytest's tmp_path: that is mode 0700, and as root Dovecot's auth and mail
        # processes run as an unprivileged user who must reach the passwd file and Maildir.
        folder = Path(tempfile.mkdtemp(prefix="inviter-dovecot-"))
        folder.chmod(0o755)
        self.folder = folder
        self.port = free_port()
        self.tls_port = free_port()
        self.uid, self.gid, owner = _mail_owner()
        self.home = folder / "mail" / USER
        self.maildir = self.home / "Maildir"
        (folder / "run").mkdir()
        (folder / "state").mkdir()
        self.home.mkdir(parents=True)
        ca = trustme.CA()
        cert = ca.issue_cert("localhost", "127.0.0.1")
        self.ca_path = folder / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        cert.private_key_pem.write_to_path(str(folder / "key.pem"))
        cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
        (folder / "passwd").write_text(
            f"{USER}:{{PLAIN}}{PASSWORD}:{self.uid}:{self.gid}::{self.home}\n", encoding="utf-8"
        )
        me = getpass.getuser()
        unprivileged = (
            "" if os.getuid() == 0 else f"default_internal_user = {me}\ndefault_login_user = {me}\n"
        )
        self.introspection = Introspection(oauth_token) if oauth_token else None
        mechanisms, oauth = "plain login", ""
        url, trust = (self.introspection.url, "") if self.introspection else ("", "")
        if introspection is not None:
            url, ca_file = introspection
            # Readable by Dovecot's unprivileged auth process, unlike pytest's tmp_path.
            shutil.copy(ca_file, folder / "oauth-ca.pem")
            (folder / "oauth-ca.pem").chmod(0o644)
            trust = f"tls_ca_cert_file = {folder}/oauth-ca.pem\n"
        if url:
            mechanisms += " xoauth2 oauthbearer"
            # Dovecot 2.3's oauth2 passdb (doc.dovecot.org, authentication/oauth2): the token
            # is POSTed as token=... and the answer's "active" must be true.
            (folder / "oauth2.conf.ext").write_text(
                f"introspection_mode = post\nintrospection_url = {url}\n{trust}"
                "username_attribute = username\nactive_attribute = active\n"
                "active_value = true\nforce_introspection = yes\n",
                encoding="utf-8",
            )
            oauth = (
                "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                f"  args = {folder}/oauth2.conf.ext\n}}\n"
            )
        (folder / "dovecot.conf").write_text(
            f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
{unprivileged}protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:~/Maildir
first_valid_uid = 1
{oauth}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {folder}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
""",
            encoding="utf-8",
        )
        self._own(folder / "mail")
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(folder / "dovecot.conf")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._wait(owner)

    def _own(self, path: Path) -> None:
        if os.getuid() == 0:
            for root, dirs, files in os.walk(path):
                for name in [*dirs, *files]:
                    os.chown(os.path.join(root, name), self.uid, self.gid)
            os.chown(path, self.uid, self.gid)

    def _wait(self, owner: str) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode() if self.process.stdout else ""
                raise RuntimeError(f"dovecot exited: {output}{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not listen (mail owner {owner}): {self.log()}")

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def deliver(self, messages: list[bytes], *, folder: str | None = None) -> None:
        """Put messages into the user's Maildir as an MDA would (new/, unseen)."""
        box = mailbox.Maildir(str(self.maildir), create=True)
        target = box if folder is None else box.add_folder(folder)
        for raw in messages:
            target.add(raw)
        self._own(self.folder / "mail")

    def client(self) -> imaplib.IMAP4:
        """Log in with imaplib, to look at the mailbox independently of inviter."""
        client = imaplib.IMAP4("127.0.0.1", self.port)
        plain = b"\0" + USER.encode() + b"\0" + PASSWORD.encode()
        client.authenticate("PLAIN", lambda _challenge: plain)
        return client

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        if self.introspection is not None:
            self.introspection.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def find_dovecot() -> str | None:
    """Return the dovecot binary if installed (Debian puts it in /usr/sbin)."""
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None

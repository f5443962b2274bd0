"""A real Dovecot IMAP server on loopback for the `rsvp fetch` tests (one per test).

It runs as a subprocess with its own config in a temporary folder: passwd-file users, Maildir
storage, plain IMAP with STARTTLS and IMAPS with a certificate from a throw-away CA (trustme).
"""

from __future__ import annotations

import getpass
import imaplib
import mailbox
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

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


class Dovecot:
    """One running Dovecot and the Maildir of its single user."""

    def __init__(self, binary: str) -> None:
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
auth_mechanisms = plain login
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {{
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
        shutil.rmtree(self.folder, ignore_errors=True)


def find_dovecot() -> str | None:
    """Return the dovecot binary if installed (Debian puts it in /usr/sbin)."""
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None

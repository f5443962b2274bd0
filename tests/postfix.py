"""A throw-away Debian Postfix on loopback that bounces mail for unknown local users for real.

Its own configuration directory, queue and data directory in a temporary folder; smtpd on a
free loopback port; ``local_recipient_maps`` empty, so a message to an unknown local user is
accepted, then its delivery fails and Postfix writes the non-delivery report (RFC 3464) it
sends everyone; the organizer's address is an alias writing to a file, where the report lands.
Started in the foreground (``postfix start-fg``, logging to its standard output): a second of
start-up, and what went wrong is there to read.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.dovecot import free_port

DOMAIN = "postfix.example.net"  # example.* passes the address check; .test does not
ORGANIZER = f"bibliotek@{DOMAIN}"
UNKNOWN = f"nobody-here@{DOMAIN}"


def find_postfix() -> str | None:
    """Return the postfix command, or None (Debian's package: .ci/setup-tests installs it)."""
    return shutil.which("postfix") or (
        "/usr/sbin/postfix" if Path("/usr/sbin/postfix").exists() else None
    )


class Postfix:
    """One running Postfix; ``reports()`` reads the mailbox the bounces are delivered to."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.folder = Path(tempfile.mkdtemp(prefix="inviter-postfix-"))
        self.folder.chmod(0o755)  # the delivery agents run as other users
        self.port = free_port()
        conf, queue, data = (self.folder / n for n in ("conf", "queue", "data"))
        for path in (conf, queue, data):
            path.mkdir()
        shutil.chown(data, "postfix")
        self.mailbox = self.folder / "bounces.mbox"
        self.mailbox.touch()
        self.mailbox.chmod(0o666)  # written by the local agent as its unprivileged user
        (conf / "main.cf").write_text(
            "compatibility_level = 3.6\n"
            f"queue_directory = {queue}\ndata_directory = {data}\n"
            "mail_owner = postfix\nsetgid_group = postdrop\n"
            f"myhostname = mail.{DOMAIN}\nmydomain = {DOMAIN}\nmyorigin = {DOMAIN}\n"
            f"mydestination = {DOMAIN}, mail.{DOMAIN}\n"
            "inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\nmynetworks = 127.0.0.0/8\n"
            # Accept any local recipient, so an unknown one bounces after acceptance, as
            # Microsoft 365 and Gmail relays do (the case of SPEC's "Bounces").
            "local_recipient_maps =\n"
            f"alias_maps = hash:{conf}/aliases\nalias_database = hash:{conf}/aliases\n"
            "maillog_file = /dev/stdout\n",
            encoding="utf-8",
        )
        master = Path("/etc/postfix/master.cf").read_text(encoding="utf-8")
        master, found = re.subn(
            r"(?m)^smtp\s+inet\s.*$",
            f"127.0.0.1:{self.port} inet n - n - - smtpd",
            master,
        )
        assert found == 1, "Debian's master.cf has no smtp inet line to replace"
        (conf / "master.cf").write_text(master, encoding="utf-8")
        (conf / "aliases").write_text(f"bibliotek: {self.mailbox}\n", encoding="utf-8")
        subprocess.run(["postalias", str(conf / "aliases")], check=True)
        self.conf = conf
        self.log = self.folder / "postfix.log"
        self._log_handle = self.log.open("wb")
        self.process = subprocess.Popen(
            [binary, "-c", str(conf), "start-fg"],
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MAIL_CONFIG": str(conf)},
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postfix exited: {self.log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"postfix did not listen: {self.log.read_text(errors='replace')}")

    def wait_for_report(self, timeout: float = 20) -> bytes:
        """Return the mbox once a non-delivery report has been delivered to it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.mailbox.read_bytes()
            if b"report-type=delivery-status" in data and data.rstrip().endswith(b"--"):
                return data
            time.sleep(0.1)
        raise AssertionError(f"no report arrived: {self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        subprocess.run([self.binary, "-c", str(self.conf), "stop"], check=False)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log_handle.close()
        shutil.rmtree(self.folder, ignore_errors=True)

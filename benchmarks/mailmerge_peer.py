"""mailmerge itself (PyPI, awdeorio/mailmerge) as the sequential peer of benchmark 1.

``send_throughput.py``'s baseline reproduces mailmerge's SMTP loop with pre-built messages; this
runs the real program, as its users run it (``mailmerge --no-dry-run --no-limit``), in this
process and on the same clock as inviter (from the call to its return, imports done before).
Per message mailmerge renders its Jinja2 template, parses the result with ``email``, sets each
part's charset, opens a new ``smtplib`` connection (EHLO, STARTTLS and login with ``--tls``,
MAIL, RCPT, DATA, QUIT) and prints the message (here into /dev/null, the cheapest terminal).

The template is the invitation inviter sends, written the way a mailmerge user would write it:
the same headers, the same text, HTML and calendar parts in the same MIME tree, with the
recipient's name and address as ``{{name}}`` and ``{{email}}``.
"""

from __future__ import annotations

import contextlib
import csv
import email
import email.policy
import getpass
import os
import time
from pathlib import Path
from typing import Any
from unittest import mock

try:
    from mailmerge.__main__ import main as mailmerge_main  # type: ignore[import-untyped]
except ImportError:  # the benchmark still runs without it, one row short
    mailmerge_main = None

USERNAME, PASSWORD = "bibliotek@example.org", "benchmark-passord"  # smtp_sink.py's user

_TEMPLATE = """\
TO: {{{{name}}}} <{{{{email}}}}>
FROM: {sender}
SUBJECT: {subject}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed-boundary"

--mixed-boundary
Content-Type: multipart/alternative; boundary="alternative-boundary"

--alternative-boundary
Content-Type: text/plain

{text}
--alternative-boundary
Content-Type: text/html

{html}
--alternative-boundary
Content-Type: text/calendar; method=REQUEST

{calendar}
--alternative-boundary--

--mixed-boundary
Content-Type: application/ics; name="invitation.ics"
Content-Disposition: attachment; filename="invitation.ics"

{calendar}
--mixed-boundary--
"""


def available() -> bool:
    """True if mailmerge is installed (it is in the project's test extra)."""
    return mailmerge_main is not None


def write_project(
    folder: Path,
    sample: bytes,
    sample_recipient: dict[str, Any],
    recipients: list[dict[str, Any]],
    port: int,
    *,
    tls: bool,
) -> None:
    """Write mailmerge's three files: the template made from ``sample`` (the message inviter
    built for ``sample_recipient``), the database of ``recipients`` and the server config."""
    folder.mkdir(parents=True, exist_ok=True)
    name, address = sample_recipient["name"], sample_recipient["email"]
    message = email.message_from_bytes(sample, policy=email.policy.default)

    def personal(text: str) -> str:
        # Only the recipient's own name and address vary from message to message.
        if "{" in text:
            raise SystemExit("a part holds a brace, which Jinja2 would read as a placeholder")
        return text.replace(name, "{{name}}").replace(address, "{{email}}")

    parts: dict[str, str] = {}
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html", "text/calendar"):
            content = part.get_content()
            # The calendar unfolded (RFC 5545 3.1) so that a name is never split by a fold.
            parts[kind] = content.replace("\r\n ", "").replace("\r\n", "\n").rstrip("\n")
    (folder / "template.txt").write_text(
        _TEMPLATE.format(
            sender=message["From"],
            subject=message["Subject"],
            text=personal(parts["text/plain"]),
            html=personal(parts["text/html"]),
            calendar=personal(parts["text/calendar"]),
        ),
        encoding="utf-8",
    )
    with (folder / "database.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name"])
        writer.writerows([r["email"], r["name"]] for r in recipients)
    security = f"security = STARTTLS\nusername = {USERNAME}\n" if tls else ""
    (folder / "server.conf").write_text(
        f"[smtp_server]\nhost = 127.0.0.1\nport = {port}\n{security}", encoding="utf-8"
    )


def run(folder: Path) -> float:
    """Run ``mailmerge --no-dry-run --no-limit`` on ``folder``'s files; return its seconds."""
    if mailmerge_main is None:
        raise RuntimeError("mailmerge is not installed: pip install mailmerge")
    arguments = [
        "--no-dry-run",
        "--no-limit",
        "--template", str(folder / "template.txt"),
        "--database", str(folder / "database.csv"),
        "--config", str(folder / "server.conf"),
        "--output-format", "text",
    ]  # fmt: skip
    with (
        open(os.devnull, "w", encoding="utf-8") as devnull,
        contextlib.redirect_stdout(devnull),
        # mailmerge asks for the password at its first message; the answer, not the question,
        # is what is replaced here.
        mock.patch.object(getpass, "getpass", return_value=PASSWORD),
    ):
        start = time.perf_counter()
        mailmerge_main.main(args=arguments, standalone_mode=False)
        return time.perf_counter() - start

"""What the benchmarks share: the path to the project, the SMTP sink process, a table printer,
and the standard library's way of assembling an invitation (the baseline for message building)."""

from __future__ import annotations

import email.policy
import json
import platform
import subprocess
import sys
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from inviter.config import Organizer
from inviter.messages import Recipient
from inviter.templates import Rendered

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class Sink:
    """``with Sink(delay=0.05) as sink:`` runs benchmarks/smtp_sink.py in its own process."""

    def __init__(self, *, delay: float, tls: bool = False) -> None:
        command = [sys.executable, str(ROOT / "benchmarks" / "smtp_sink.py"), "--delay", str(delay)]
        if tls:
            command.append("--tls")
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        self.port = int(self._line().removeprefix("PORT "))
        self.ca_file = self._line().removeprefix("CA ") if tls else ""

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the SMTP sink stopped; see its error output above")
        return line.strip()

    def _ask(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._line()

    def stats(self) -> dict[str, Any]:
        """Return what the server received since the last reset."""
        stats: dict[str, Any] = json.loads(self._ask("stats"))
        return stats

    def reset(self) -> None:
        """Forget what was received."""
        self._ask("reset")

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """Return rows as a Markdown table (readable in a terminal, pasteable into RESULTS.md)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.rjust(w) for v, w in zip(values, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in cells)])


def peak_rss() -> int:
    """Return this process's peak resident memory in bytes, since it started its program.

    /proc/self/status VmHWM belongs to the program's own address space; ru_maxrss (the
    fallback) also counts the parent's pages when the child was forked from a big parent.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for text in status.read_text().splitlines():
            if text.startswith("VmHWM:"):
                return int(text.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def machine() -> str:
    """Describe this machine in one line: CPU model, cores, Python."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for text in cpuinfo.read_text().splitlines():
            if text.startswith("model name"):
                model = text.split(":", 1)[1].strip()
                break
    import os

    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def email_message_bytes(
    organizer: Organizer, recipient: Recipient, rendered: Rendered, calendar: bytes
) -> bytes:
    """Assemble imip.md 12's tree with ``EmailMessage(policy=SMTP)``, the standard library's way."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = Address(organizer.name, addr_spec=organizer.email)
    message["To"] = Address(recipient.name, addr_spec=recipient.email)
    message["Subject"] = rendered.subject
    message["Message-ID"] = "<abc@example.org>"
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    message.add_alternative(
        calendar, maintype="text", subtype="calendar", params={"method": "REQUEST"}
    )
    message.add_attachment(
        calendar, maintype="application", subtype="ics", filename="invitation.ics"
    )
    return message.as_bytes()

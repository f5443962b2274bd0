"""What the benchmarks share: the path to the project, the SMTP sink process, a table printer,
the ways to build one invitation (inviter's, and the standard library's as the baseline for
message building), and a line on how fast this host runs the latter, to compare hosts by."""

from __future__ import annotations

import email.policy
import json
import os
import platform
import subprocess
import sys
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from inviter.compose.calendar import build_request, serialize
from inviter.compose.message import build_message
from inviter.compose.templates import Rendered, Templates
from inviter.config import Settings, load_settings
from inviter.domain import Organizer, Recipient

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.sending_support import MEETING  # noqa: E402 - the project root is on the path now

NOW = datetime(2022, 8, 20, 9, 30, tzinfo=UTC)
# sending.md, "The numbers to beat (2 cores, loopback, measured)": one EmailMessage(policy.SMTP).
REFERENCE_EMAIL_MESSAGE_MS = 1.9


class Sink:
    """``with Sink(delay=0.05) as sink:`` runs benchmarks/smtp_sink.py in its own process.

    ``own_core=True`` (where the machine has two cores or more and allows it) runs the server on
    the last core and this process on the others, as a relay runs on a machine of its own: left
    to the scheduler, the sender and the server were moved between the two cores and every
    wake-up paid for it (benchmarks/RESULTS.md §1: inviter's efficiency 0.88 -> 0.91 at c=10).
    """

    def __init__(self, *, delay: float, tls: bool = False, own_core: bool = False) -> None:
        command = [sys.executable, str(ROOT / "benchmarks" / "smtp_sink.py"), "--delay", str(delay)]
        if tls:
            command.append("--tls")
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        self.port = int(self._line().removeprefix("PORT "))
        self.ca_file = self._line().removeprefix("CA ") if tls else ""
        self.pinned = own_core and _pin(self.process.pid)

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


def _pin(server: int) -> bool:
    """Put process ``server`` on the last allowed core and this one on the rest; True if done."""
    if not hasattr(os, "sched_setaffinity"):
        return False  # not Linux
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return False
    os.sched_setaffinity(server, {cores[-1]})
    os.sched_setaffinity(0, set(cores[:-1]))
    return True


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


SAMPLE = Recipient(email="aile.somby@example.org", name="Áile Čuđđi Somby 17")


@dataclass(frozen=True)
class Builders:
    """One invitation built three ways, each a call that returns the message's bytes."""

    ours: Callable[[], bytes]  # inviter.compose.message.build_message: templates, calendar, MIME
    assembly: Callable[[], bytes]  # EmailMessage assembly alone, the parts rendered before
    rendering: Callable[[], bytes]  # the templates, the calendar, then EmailMessage assembly


def builders(settings: Settings, slug: str, recipient: Recipient = SAMPLE) -> Builders:
    """Return the ways to build meeting ``slug``'s invitation to ``recipient``."""
    meeting = settings.meeting(slug)
    organizer = settings.organizer
    templates = Templates(settings.templates_dir)

    def ours() -> bytes:
        return build_message(
            meeting,
            organizer,
            recipient,
            kind="request",
            uid="uid@example.org",
            sequence=0,
            now=NOW,
            message_id="<abc@example.org>",
            templates=templates,
        )

    def parts() -> tuple[Rendered, bytes]:
        rendered = templates.render(meeting, organizer, recipient, kind="request")
        calendar = serialize(
            build_request(
                meeting,
                organizer,
                recipient.email,
                recipient.name,
                uid="uid@example.org",
                sequence=0,
                now=NOW,
            )
        )
        return rendered, calendar

    ready = parts()

    def assembly() -> bytes:
        # The same tree as build_message writes (imip.md 12), by the standard library's API.
        return email_message_bytes(organizer, recipient, *ready)

    def rendering() -> bytes:
        return email_message_bytes(organizer, recipient, *parts())

    return Builders(ours, assembly, rendering)


def per_call(build: Callable[[], bytes], runs: int) -> float:
    """Return the seconds one call of ``build`` takes (the best of three rounds of ``runs``)."""
    build()  # the first call compiles templates and fills caches
    return min(timeit.repeat(build, number=runs, repeat=3)) / runs


def per_message(folder: Path, runs: int) -> tuple[float, float]:
    """Return seconds a message for build_message and for bare EmailMessage assembly."""
    ways = builders(load_settings(folder / "inviter.toml", env={}), MEETING)
    return per_call(ways.ours, runs), per_call(ways.assembly, runs)


def host_speed(folder: Path, runs: int = 100) -> str:
    """Return a line saying how fast this host assembles the invitation with ``EmailMessage``.

    Benchmark 1's targets are absolute (efficiency against connections ÷ latency), but every
    message costs the sender and the server CPU, so a slower core leaves less of each cycle:
    the same pure-Python work timed on every host lets a reader compare the hosts of the runs
    in RESULTS.md (render_rate.py's bottom row is the same figure).
    """
    bare = per_call(
        builders(load_settings(folder / "inviter.toml", env={}), MEETING).assembly, runs
    )
    return (
        f"host speed: the invitation assembled by EmailMessage(policy=SMTP) in "
        f"{bare * 1000:.2f} ms (sending.md quotes {REFERENCE_EMAIL_MESSAGE_MS} ms for one "
        f"EmailMessage on its machine)"
    )


def run_child(script: str, *args: str) -> dict[str, float]:
    """Run ``script`` as a child process with ``args``; return the JSON its last line printed.

    A child per measurement: peak RSS is per process, so each figure has a process of its own.
    """
    done = subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def installed_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for timing a whole ``inviter`` process as an installed program runs.

    ``pip install`` compiles a package's bytecode, and an editable install writes it on first
    import; a sandbox that sets ``PYTHONDONTWRITEBYTECODE`` would have every timed run compile
    inviter's modules afresh, a cost no installed copy pays.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | (extra or {})

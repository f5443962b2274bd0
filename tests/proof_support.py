"""Set-up shared by the proof suites and the benchmarks: big projects, misbehaving servers, runs.

``make_project`` writes the test meeting of ``sending_support`` into a folder with N generated
contacts in a real SQLite file. The handlers add to ``tests/smtpd.py`` the two answers it lacks:
a server that stalls after the data for one address (past the client's timeout), and one that
answers STARTTLS with 454. ``most_in_window`` is the rate check of the benchmarks and tests.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP
from sqlalchemy import insert

from inviter.locale.regions import MUNICIPALITIES
from inviter.store.database import Database
from inviter.store.models import Contact, utcnow

from .sending_support import write_config
from .smtpd import Certificates, CountingSMTP, Plan, RecordingHandler, SmtpServer, _Controller

ROOT = Path(__file__).resolve().parent.parent

# Names as the county's lists hold them: Sámi and Norwegian letters, a hyphen, an apostrophe.
_FIRST = ("Áile", "Máret", "Nils-Ánte", "Ørjan", "Siv", "Biret", "Ánde", "Åse", "Ŋuolja", "Per")
_LAST = ("Čuđđi", "Somby", "Æsøy", "Kåsa", "Žiiná", "Ŋávvu", "O'Neill", "Bjørnevik", "Hætta")


def contact_rows(count: int) -> list[dict[str, Any]]:
    """Return ``count`` library heads across the 21 municipalities, as insert rows."""
    towns = list(MUNICIPALITIES.items())
    now = utcnow()
    rows = []
    for n in range(count):
        municipality, (region, _aliases) = towns[n % len(towns)]
        rows.append(
            {
                "email": f"leder{n:06d}@example.org",
                "name": f"{_FIRST[n % len(_FIRST)]} {_LAST[n // 7 % len(_LAST)]} {n}",
                "role": "biblioteksjef",
                "municipality": municipality,
                "region": region,
                "organization": f"{municipality} folkebibliotek",
                "title": "Biblioteksjef",
                "phone": "",
                "language": "en" if n % 10 == 0 else "nb",
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def make_project(folder: Path, count: int) -> Path:
    """Write config, templates and ``count`` contacts (all in the audience) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "templates").exists():
        shutil.copytree(ROOT / "templates", folder / "templates")
    write_config(folder)
    db = Database(f"sqlite:///{folder / 'inviter.db'}")
    try:
        rows = contact_rows(count)
        with db.session() as session:
            for start in range(0, len(rows), 5000):
                session.execute(insert(Contact), rows[start : start + 5000])
    finally:
        db.close()
    return folder


def most_in_window(times: Sequence[float], window: float) -> int:
    """Return the largest number of ``times`` inside any half-open window of ``window`` seconds."""
    ordered = sorted(times)
    best = 0
    end = 0
    for start_index, start in enumerate(ordered):
        while end < len(ordered) and ordered[end] < start + window:
            end += 1
        best = max(best, end - start_index)
    return best


def window_counts(times: Sequence[float], window: float) -> list[int]:
    """Return the count in every window starting at a send that ends before the last send."""
    ordered = sorted(times)
    counts = []
    end = 0
    for start_index, start in enumerate(ordered):
        if start + window > ordered[-1]:
            break
        while end < len(ordered) and ordered[end] < start + window:
            end += 1
        counts.append(end - start_index)
    return counts


# ---------------------------------------------------------------- servers that misbehave more


@dataclass
class StallingHandler(RecordingHandler):
    """A RecordingHandler that can hold the answer to DATA for one address past any timeout.

    aiosmtpd cancels the handler when the client hangs up, so a stalled message is not stored:
    the client cannot tell this from a message that was (sending.md: "outcome unknown").
    """

    stall_seconds: float = 2.0
    _stall: dict[str, Plan] = field(default_factory=dict)

    def stall_after_data(self, address: str, *, times: int | None = 1) -> None:
        """Hold the answer to DATA for ``address`` for ``stall_seconds``."""
        self._stall[address] = Plan("stall", times)

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        with self.lock:
            stalls = any(
                (plan := self._stall.get(address)) is not None and plan.take()
                for address in envelope.rcpt_tos
            )
        if stalls:
            await asyncio.sleep(self.stall_seconds)
        return await super().handle_DATA(server, session, envelope)


class NoTlsNowSMTP(CountingSMTP):
    """Offers STARTTLS, then answers it 454 (RFC 3207 §4: TLS not available for now)."""

    async def smtp_STARTTLS(self, arg: str) -> None:
        await self.push("454 4.7.0 TLS not available due to temporary reason")


@dataclass
class QueueFirstHandler(RecordingHandler):
    """A relay that queues the message at once and answers 250 only ``answer_delay`` later.

    The worst case for a sender killed mid-send: every message in flight has arrived, but
    its 250 was never read, so the sender never recorded it (sending.md: "outcome unknown").
    """

    answer_delay: float = 0.05

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.answer_delay)
        return answer


class _NoTlsNowController(_Controller):
    def factory(self) -> SMTP:
        return NoTlsNowSMTP(self.handler, **self.SMTP_kwargs)


class NoTlsNowServer(SmtpServer):
    """A STARTTLS server whose STARTTLS always fails with 454."""

    def __init__(self, handler: RecordingHandler, certificates: Certificates) -> None:
        super().__init__(handler, tls="starttls", certificates=certificates)
        # Same controller, other protocol class; MAIL must not be refused for want of TLS.
        self.controller.__class__ = _NoTlsNowController
        self.controller.SMTP_kwargs["require_starttls"] = False

"""Memory that must not grow with the audience: a message's bytes are freed once it is done.

benchmarks/render_rate.py measured peak RSS growing by about 11 KiB a contact (50,000 contacts:
+526 MiB): every Job kept its rendered message after its final outcome, for as long as the run
held the list of jobs. The bytes are needed for retries (the same bytes every attempt), not after.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from pathlib import Path

from inviter.deliver.jobs import Job
from inviter.deliver.mailer import Mailer
from inviter.deliver.outbox import OutboxTransport

COUNT, SIZE = 200, 100_000


def test_rendered_messages_are_freed_after_their_final_outcome(tmp_path: Path) -> None:
    def render(n: int) -> bytes:
        head = f"Message-ID: <m{n}@example.org>\r\n\r\n".encode()
        return head + bytes([65 + n % 26]) * SIZE

    jobs = [
        Job(n, f"p{n}@example.org", f"<m{n}@example.org>", (lambda n=n: render(n)))  # type: ignore[misc]
        for n in range(COUNT)
    ]
    finals: list[int] = []

    async def run() -> None:
        async with Mailer(
            OutboxTransport(tmp_path / "outbox"),
            sender="bibliotek@example.org",
            concurrency=1,
            rate_per_minute=0,
            retries=0,
            retry_delay=0,
            on_outcome=lambda outcome: finals.append(outcome.job.key) if outcome.final else None,
        ) as mailer:
            await mailer.deliver(jobs)

    tracemalloc.start()
    try:
        asyncio.run(run())
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sorted(finals) == list(range(COUNT))
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == COUNT
    # The jobs are still referenced here, as send_invitations references them during a run.
    assert held < COUNT * SIZE / 10, f"{held:,} bytes still held for {COUNT} sent messages"

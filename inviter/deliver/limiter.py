"""The rate limit: at most so many messages in any 60-second window."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

WINDOW = 60.0  # seconds: rate_per_minute holds in every window this long


class RateLimiter:
    """At most ``rate`` messages in any 60-second window; 0 means no limit.

    A message occupies the window from the moment its transaction starts until 60 seconds after
    its answer came back. Counting the whole transaction, not only its start, keeps the limit
    true wherever the server measures between start and answer (Microsoft 365: 30 a minute).
    ``clock`` and ``sleep`` are injectable so tests can check it on a fake clock.
    """

    def __init__(
        self,
        rate: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        poll: float = 0.05,
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._poll = poll
        self._held: list[Ticket] = []
        self._lock = asyncio.Lock()

    async def acquire(self) -> Ticket:
        """Wait for room in the window, take it and return its ticket."""
        ticket = Ticket()
        if self.rate <= 0:
            return ticket
        async with self._lock:
            while True:
                now = self._clock()
                self._held = [t for t in self._held if t.end is None or t.end > now - WINDOW]
                if len(self._held) < self.rate:
                    ticket.start = now
                    self._held.append(ticket)
                    return ticket
                ends = [t.end for t in self._held if t.end is not None]
                # All places taken by messages still in flight: look again shortly.
                wait = min(ends) + WINDOW - now if ends else self._poll
                await self._sleep(max(wait, 0.0))

    def release(self, ticket: Ticket) -> None:
        """Mark the ticket's transaction finished now."""
        ticket.end = self._clock()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Ticket]:
        """Hold a place in the window for one transaction."""
        ticket = await self.acquire()
        try:
            yield ticket
        finally:
            self.release(ticket)


@dataclass
class Ticket:
    """One transaction's place in the window."""

    start: float | None = None
    end: float | None = None

"""The messages a run sends, and the queue the connections take them from."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field


@dataclass
class Job:
    """One message to one recipient. ``render`` is called once, before the first attempt."""

    key: int
    recipient: str
    message_id: str
    render: Callable[[], bytes]
    attempts: int = 0
    possible_duplicate: bool = False
    # The attempt whose answer was lost after the data (0: none yet). One more attempt is made
    # after it, and no other: a server that drops after every DATA gave each person six copies.
    uncertain_at: int = 0
    _data: bytes | None = field(default=None, repr=False)
    _rendering: Future[bytes] | None = field(default=None, repr=False)

    def data(self) -> bytes:
        """Return the message bytes, the same on every attempt."""
        if self._data is None:
            self._data = self.render()
        return self._data

    async def ready(self) -> bytes:
        """Return the message bytes, waiting for a look-ahead rendering if one is under way."""
        if self._rendering is not None:
            rendering, self._rendering = self._rendering, None
            # Its exception (a name no header can carry) is the message's own. A rendering
            # done already is read here without the loop being woken for it (see deliver).
            if rendering.done():
                rendering.result()
            else:
                await asyncio.wrap_future(rendering)
        return self.data()


Sink = Callable[["Outcome"], Awaitable[None] | None]


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to. ``final`` is False while a retry is still planned."""

    job: Job
    status: str  # SENT, FAILED, UNCERTAIN, or PENDING (a retry is planned)
    code: int | None
    response: str
    final: bool


class JobQueue:
    """Messages ready now and messages waiting for their retry time.

    Jobs are taken from ``source`` only ``lookahead`` at a time, so a run holds a bounded number
    of them whatever the audience size; each one taken is handed to ``prepare`` (the rendering
    thread), so its bytes are ready before a connection asks for it. A task of its own takes
    them (``start``): a connection that finds a job ready never waits while the source reads
    its next rows from the database (before, every connection stood still for that read, a
    few milliseconds every 200 messages, and for the writing of the first rows at the start).
    """

    def __init__(
        self,
        source: Iterable[Job] | AsyncIterator[Job],
        lookahead: int,
        prepare: Callable[[Job], None],
    ) -> None:
        self.ready: deque[Job] = deque()
        self.delayed: list[tuple[float, int, Job]] = []
        self.unfinished = 0  # taken from the source and not finished
        self.closed = False
        self._lookahead = max(1, lookahead)
        self._prepare = prepare
        self._sync = iter(source) if isinstance(source, Iterable) else None
        self._async = source if not isinstance(source, Iterable) else None
        self._exhausted = False
        self._error: Exception | None = None  # the source's, raised to every connection
        self._order = itertools.count()
        self._changed = asyncio.Condition()
        self._filler: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start taking jobs from the source (in the running loop)."""
        if self._filler is None:
            self._filler = asyncio.create_task(self._fill(), name="inviter-queue")

    def stop(self) -> None:
        """Stop taking jobs (the run is over or interrupted)."""
        if self._filler is not None and not self._filler.done():
            self._filler.cancel()

    async def _take(self) -> Job | None:
        """Return the source's next job, or None when it has no more."""
        try:
            if self._sync is not None:
                return next(self._sync)
            assert self._async is not None
            return await anext(self._async)
        except (StopIteration, StopAsyncIteration):
            return None

    async def _fill(self) -> None:
        """Keep ``lookahead`` jobs ready until the source runs dry."""
        try:
            while True:
                async with self._changed:
                    while len(self.ready) >= self._lookahead:
                        await self._changed.wait()
                job = await self._take()  # outside the lock: connections take jobs meanwhile
                async with self._changed:
                    if job is None:
                        self._exhausted = True
                        self._changed.notify_all()
                        return
                    self.unfinished += 1
                    self.ready.append(job)
                    self._prepare(job)
                    self._changed.notify_all()
        except Exception as exc:  # the source failed (the database): the connections raise it
            async with self._changed:
                self._error = exc
                self._exhausted = True
                self._changed.notify_all()

    async def get(self) -> Job | None:
        """Return the next message due, or None when there is nothing more to do."""
        self.start()
        loop = asyncio.get_running_loop()
        async with self._changed:
            while True:
                if self.closed:
                    return None
                if self._error is not None:
                    raise self._error
                now = loop.time()
                while self.delayed and self.delayed[0][0] <= now:
                    self.ready.append(heapq.heappop(self.delayed)[2])
                if self.ready:
                    job = self.ready.popleft()
                    self._changed.notify_all()  # room for the filler's next one
                    return job
                if self._exhausted and self.unfinished == 0:
                    return None
                timeout = self.delayed[0][0] - now if self.delayed else None
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)

    async def retry(self, job: Job, delay: float) -> None:
        """Put a message back, due after ``delay`` seconds."""
        async with self._changed:
            due = asyncio.get_running_loop().time() + delay
            heapq.heappush(self.delayed, (due, next(self._order), job))
            self._changed.notify_all()

    async def done(self) -> None:
        """Count one message as finished."""
        async with self._changed:
            self.unfinished -= 1
            self._changed.notify_all()

    async def close(self) -> list[Job]:
        """Stop handing out messages; return the ones never finished (the source's included)."""
        async with self._changed:
            self.closed = True
            self._lookahead = 1 << 62  # the filler now drains the source, preparing nothing
            self._prepare = _nothing
            self._changed.notify_all()
        self.start()
        assert self._filler is not None
        await self._filler
        async with self._changed:
            if self._error is not None:
                raise self._error
            left = list(self.ready) + [item[2] for item in self.delayed]
            self.ready.clear()
            self.delayed.clear()
            self._changed.notify_all()
            return left


def _nothing(job: Job) -> None:
    """Prepare nothing (the jobs left when a run stops are never sent)."""

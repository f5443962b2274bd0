"""The sending engine: persistent connections, a rate limit, retries, one outcome per message.

Up to ``concurrency`` connections, each a worker taking messages from one queue and sending many
over a single login (sending.md: a login per message gets Gmail's "454 Too many login
attempts"). Every attempt is reported through ``on_outcome`` as it happens, so the caller can
record "sent" right after the server's 250 and nothing is ever marked sent before it.

What each answer does (RFC 5321 §4.2, sending.md):
- 250: sent.
- 5xx: failed, never retried; the server's answer is kept.
- 4xx (450/451/452 …), a connection dropped before the data: retried with backoff and jitter,
  at most ``retries`` times. 421/432/454 also close this connection and lower the number of
  connections by one.
- a connection lost (or stalled past the timeout) after the data: the message may have been
  delivered. It is retried once with the SAME bytes and Message-ID, so the worst case is a
  flagged duplicate that updates the same calendar entry; losing an invitation is worse than a
  duplicate that changes nothing (sending.md: "no losses and a small, bounded, flagged number
  of duplicates"). If that one retry fails too, whatever the reason, it ends "uncertain" and
  is reported, never sent a third time (a server dropping after every DATA got six copies to
  each person with retries = 5).
"""

from __future__ import annotations

import asyncio
import inspect
import random
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

from inviter.deliver.jobs import Job, JobQueue, Outcome, Sink
from inviter.deliver.limiter import RateLimiter
from inviter.deliver.transport import (
    Connection,
    ConnectionDropped,
    DeliveryError,
    LoginRefused,
    Transport,
)
from inviter.errors import ConnectionFailure, InviterError
from inviter.store.models import FAILED, PENDING, SENT, UNCERTAIN
from inviter.translation import N_, _, ngettext

MAX_DELAY = 900.0  # no single wait longer than 15 minutes
# After Ctrl-C or SIGTERM, how long the messages already on the wire may take to be answered
# (a relay answers in well under a second; Microsoft 365 in one or two).
STOP_GRACE = 5.0
STOPPED_ON_THE_WIRE = N_(
    "stopped (Ctrl-C or SIGTERM) while the message was on the wire: it may have arrived"
)


class StopRequest:
    """Ctrl-C or SIGTERM during a run, as the command line hears of it (SPEC, second edition:
    "Interrupted runs"). The first request stops taking messages and gives those on the wire
    ``grace`` seconds; a second one stops them at once."""

    def __init__(self, grace: float = STOP_GRACE) -> None:
        self.grace = grace
        self.requests = 0
        self._listeners: list[Callable[[float], None]] = []

    @property
    def requested(self) -> bool:
        """True once a stop was asked for."""
        return self.requests > 0

    def request(self) -> None:
        """Ask the run to stop (a signal handler calls this, in the event loop)."""
        self.requests += 1
        for listener in self._listeners:
            listener(self.grace if self.requests == 1 else 0.0)

    def listen(self, listener: Callable[[float], None]) -> None:
        """Call ``listener(grace)`` on every request, now too if one came already."""
        self._listeners.append(listener)
        if self.requested:
            listener(self.grace)


class Mailer:
    """Send many messages over a few persistent connections of one transport.

    ``async with Mailer(...) as mailer`` opens and logs in the first connection, so a wrong
    password or an unreachable server is a ConnectionFailure before anything is sent.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        sender: str,
        concurrency: int,
        rate_per_minute: int,
        retries: int,
        retry_delay: float,
        on_outcome: Sink,
        limiter: RateLimiter | None = None,
        rng: random.Random | None = None,
        stop: StopRequest | None = None,
    ) -> None:
        self.transport = transport
        self.sender = sender
        cap = transport.max_connections
        self.concurrency = max(1, min(concurrency, cap) if cap else concurrency)
        self.retries = retries
        self.retry_delay = retry_delay
        self.on_outcome = on_outcome
        self.limiter = limiter or RateLimiter(rate_per_minute)
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self.allowed = self.concurrency  # lowered on 421/432/454
        self.connections_opened = 0
        self._first: Connection | None = None
        self._fatal: str | None = None
        self._alive = 0
        self._fresh: set[int] = set()  # ids of connections that have carried no message yet
        # Recipients whose message may have left and whose outcome is not recorded yet: on the
        # wire, or answered but not yet written down. If the run dies, these are the ones that
        # may hold a message the database does not know of.
        self.in_doubt: set[str] = set()
        self.stopping = False  # asked to stop: no new message is taken
        self.unsent = 0  # taken from the plan but never sent, when stopped
        self._workers: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[Any]] = set()  # workers with a message on the wire
        if stop is not None:
            stop.listen(self._stop)

    def _stop(self, grace: float) -> None:
        """Take no new message; cancel idle workers now and busy ones after ``grace`` s."""
        self.stopping = True
        for task in self._workers:
            if task not in self._busy:
                task.cancel()
        if self._busy:
            loop = asyncio.get_running_loop()
            loop.call_later(grace, lambda: [task.cancel() for task in list(self._busy)])

    async def __aenter__(self) -> Mailer:
        self._first = await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._first is not None:
            await self._first.close()
            self._first = None

    def backoff(self, attempt: int) -> float:
        """Return the wait before retry ``attempt`` (1, 2, …): doubling, with jitter."""
        base = min(self.retry_delay * 2 ** (attempt - 1), MAX_DELAY)
        # "Equal jitter": half fixed, half random, so retries from many workers spread out.
        return float(base / 2 + self.rng.uniform(0, base / 2))

    async def _open(self) -> Connection:
        connection = self.transport.connection()
        await connection.open()
        self.connections_opened += 1
        self._fresh.add(id(connection))
        return connection

    async def deliver(
        self, jobs: Iterable[Job] | AsyncIterator[Job], total: int | None = None
    ) -> None:
        """Send every job; each ends with a final Outcome through ``on_outcome``.

        ``jobs`` may be a list or a (possibly asynchronous) iterator, taken from a few at a
        time; ``total`` (how many it yields, when it is not a list) caps the connections.
        """
        if total is None:
            total = len(jobs) if isinstance(jobs, list | tuple) else self.concurrency
        if total <= 0:
            return
        # One thread renders ahead of the connections (about two messages a connection), so a
        # connection never waits for its next message and the loop is free to read the other
        # connections' answers meanwhile (benchmarks/RESULTS.md: rendering on the connection's
        # own path cost ~1 ms of every 50 ms cycle, for every connection at once). Its futures
        # are plain concurrent ones, looked at when the message is due: run_in_executor woke
        # the loop once a message to hand each result over, ~0.4 ms of every cycle at c=10.
        renderer = ThreadPoolExecutor(1, thread_name_prefix="inviter-render")

        def prepare(job: Job) -> None:
            if job._data is None and job._rendering is None:
                job._rendering = renderer.submit(job.data)

        count = min(self.concurrency, total)
        queue = JobQueue(jobs, 2 * count, prepare)
        queue.start()
        self.allowed = min(self.allowed, count)
        first, self._first = self._first, None
        self._alive = count
        workers = self._workers = [
            asyncio.create_task(self._work(index, first if index == 0 else None, queue))
            for index in range(count)
        ]
        if self.stopping:  # asked before the first message: nothing is taken
            self._stop(0.0)
        try:
            # A worker cancelled by a stop ends with CancelledError: the others go on.
            await asyncio.gather(*workers, return_exceptions=True)
            for task in workers:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            left = await queue.close()
            if self.stopping:
                # Stopped: what was never sent stays pending, for the next run (nothing lost).
                self.unsent = len(left)
                return
            # Every worker gone with messages left (the server became unreachable): say why.
            reason = self._fatal or _("not sent: no connection to the server could be kept")
            for job in left:
                await self._final(job, FAILED, None, reason)
        finally:
            for task in workers:
                task.cancel()
            queue.stop()
            renderer.shutdown(wait=False, cancel_futures=True)

    async def _work(self, index: int, connection: Connection | None, queue: JobQueue) -> None:
        try:
            while (index < self.allowed or index == 0) and not self.stopping:
                if connection is None:
                    # Connected before taking a message: the connections log in while the
                    # first messages are still being read and rendered.
                    connection = await self._reconnect(index)
                    if connection is None:
                        return
                job = await queue.get()
                if job is None or self.stopping:
                    return
                task = asyncio.current_task()
                assert task is not None
                self._busy.add(task)
                try:
                    connection = await self._attempt(job, connection, queue)
                finally:
                    self._busy.discard(task)
        finally:
            self._alive -= 1
            if connection is not None:
                await connection.close()

    async def _reconnect(self, index: int) -> Connection | None:
        """Open a connection for a worker; None when this worker should stop."""
        attempt = 0
        while self._fatal is None:
            try:
                return await self._open()
            except LoginRefused as exc:
                self._fatal = _("not sent: {reason}").format(reason=exc)
                return None
            except ConnectionFailure as exc:
                # Another connection still works: this one was one too many (432), so the
                # pool shrinks. The last one keeps trying, with backoff.
                if self._alive > 1:
                    self.allowed = max(1, min(self.allowed, self._alive - 1))
                    return None
                attempt += 1
                if attempt > self.retries:
                    self._fatal = _("not sent: {reason}").format(reason=exc)
                    return None
                await asyncio.sleep(self.backoff(attempt))
        return None

    async def _attempt(
        self, job: Job, connection: Connection, queue: JobQueue
    ) -> Connection | None:
        """Send one job once; return the connection if it can carry the next one."""
        try:
            data = await job.ready()
        except InviterError as exc:
            # This one message cannot be built (a name no header can carry): it fails alone.
            await self._final(job, FAILED, None, str(exc))
            await queue.done()
            return connection
        job.attempts += 1
        on_the_wire = False
        try:
            async with self.limiter.slot():
                self.in_doubt.add(job.recipient)
                on_the_wire = True
                accepted = await connection.send(self.sender, job.recipient, data)
        except asyncio.CancelledError:
            # Stopped past the grace time: whether the server has it is unknown. Recorded as
            # uncertain, so the next run names it before it sends it again.
            connection.abort()  # no QUIT: the server may hold the data for a while yet
            if on_the_wire:
                stopped = _(STOPPED_ON_THE_WIRE)
                await self._report(Outcome(job, UNCERTAIN, None, stopped, final=True))
            raise
        except DeliveryError as exc:
            if exc.permanent:
                await self._final(job, FAILED, exc.code, exc.response)
                await queue.done()
            else:
                await self._retry_or_fail(job, queue, exc.code, exc.response)
            if exc.throttles:
                # Too many connections, or the server wants a pause: one connection fewer,
                # and this one reconnects after a while (or stops, if it is now one too many).
                self.allowed = max(1, self.allowed - 1)
                await connection.close()
                await asyncio.sleep(self.backoff(1))
                return None
            if exc.closes:
                await connection.close()
                return None
            return connection
        except ConnectionDropped as exc:
            await connection.close()
            if id(connection) in self._fresh and self._alive > 1:
                # A new connection lost before its first message while another one works was
                # one too many: the server answers 432 and closes (Microsoft 365 past three),
                # and the close can arrive before the 432 is read. The pool shrinks, as on 432.
                self.allowed = max(1, min(self.allowed, self._alive - 1))
            self._fresh.discard(id(connection))
            if exc.uncertain and not job.possible_duplicate:
                job.possible_duplicate = True
                job.uncertain_at = job.attempts
            await self._retry_or_fail(job, queue, None, exc.reason)
            return None
        self._fresh.discard(id(connection))
        # Recorded (committed) before this connection takes its next message: after a kill, at
        # most one message a connection can have arrived unrecorded.
        await self._final(job, SENT, accepted.code, accepted.response)
        await queue.done()
        return connection

    async def _retry_or_fail(self, job: Job, queue: JobQueue, code: int | None, why: str) -> None:
        if self.stopping:
            # No retry after a stop. Not delivered: it stays pending for the next run; maybe
            # delivered (lost after the data): uncertain, named by the next run.
            if job.possible_duplicate:
                why = _("{reason}; stopped before a retry").format(reason=why)
                await self._final(job, FAILED, code, why)
            else:
                await self._report(Outcome(job, PENDING, code, why, final=False))
                self.unsent += 1
            await queue.done()
            return
        once_more = not job.possible_duplicate or job.attempts == job.uncertain_at
        if job.attempts <= self.retries and self._fatal is None and once_more:
            await self._report(Outcome(job, PENDING, code, why, final=False))
            await queue.retry(job, self.backoff(job.attempts))
            return
        why = ngettext(
            "{reason} (after {count} attempt)", "{reason} (after {count} attempts)", job.attempts
        ).format(reason=why, count=job.attempts)
        await self._final(job, FAILED, code, why)
        await queue.done()

    async def _final(self, job: Job, status: str, code: int | None, response: str) -> None:
        if status == FAILED and job.possible_duplicate:
            # An earlier attempt's answer was lost after the data: it may have arrived.
            status = UNCERTAIN
            response = _("{reason}; may have been delivered, not sent again").format(
                reason=response
            )
        await self._report(Outcome(job, status, code, response, final=True))
        job._data = None  # the bytes served the retries; kept, they grow with the audience
        job._rendering = None

    async def _report(self, outcome: Outcome) -> None:
        """Hand an outcome to ``on_outcome`` and wait until it is recorded."""
        result = self.on_outcome(outcome)
        if inspect.isawaitable(result):
            await result
        self.in_doubt.discard(outcome.job.recipient)  # recorded: the database knows

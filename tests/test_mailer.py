"""The sending engine against a real aiosmtpd server: connections, retries, answers, the rate."""

from __future__ import annotations

import asyncio
import heapq
import random
from collections.abc import AsyncIterator, Callable

import pytest

from inviter.config import SmtpSettings
from inviter.deliver.credentials import Credentials
from inviter.deliver.jobs import Job, Outcome
from inviter.deliver.limiter import WINDOW, RateLimiter
from inviter.deliver.mailer import Mailer
from inviter.deliver.smtp import SmtpTransport
from inviter.errors import ConnectionFailure
from inviter.store.models import FAILED, PENDING, SENT, UNCERTAIN

from .smtpd import RecordingHandler, SmtpServer

SENDER = "bibliotek@example.org"


def message(n: int) -> bytes:
    return (
        f"From: {SENDER}\r\nTo: p{n}@example.org\r\nSubject: Invitasjon {n}\r\n"
        f"Message-ID: <m{n}@example.org>\r\n\r\nHei {n}\r\n"
    ).encode()


def jobs(count: int) -> list[Job]:
    return [
        Job(n, f"p{n}@example.org", f"<m{n}@example.org>", (lambda n=n: message(n)))  # type: ignore[misc]
        for n in range(count)
    ]


class Run:
    """One mailer run: its outcomes (final and not) by job key."""

    def __init__(self) -> None:
        self.final: dict[int, Outcome] = {}
        self.interim: list[Outcome] = []

    def __call__(self, outcome: Outcome) -> None:
        if outcome.final:
            assert outcome.job.key not in self.final, "two final outcomes for one job"
            self.final[outcome.job.key] = outcome
        else:
            self.interim.append(outcome)

    def statuses(self) -> dict[int, str]:
        return {key: o.status for key, o in sorted(self.final.items())}


def deliver(
    server: SmtpServer,
    work: list[Job],
    *,
    concurrency: int = 3,
    retries: int = 3,
    rate: int = 0,
    credentials: Credentials | None = None,
    limiter: RateLimiter | None = None,
    timeout: float = 5.0,
    during: Callable[[Outcome], None] | None = None,
) -> tuple[Run, Mailer]:
    run = Run()

    def record(outcome: Outcome) -> None:
        run(outcome)
        if during:
            during(outcome)

    settings = SmtpSettings(host="127.0.0.1", port=server.port, security="none", timeout=timeout)
    transport = SmtpTransport(settings, credentials or Credentials())
    mailer = Mailer(
        transport,
        sender=SENDER,
        concurrency=concurrency,
        rate_per_minute=rate,
        retries=retries,
        retry_delay=0.01,
        on_outcome=record,
        limiter=limiter,
        rng=random.Random(7),
    )

    async def go() -> None:
        async with mailer:
            await mailer.deliver(work)

    asyncio.run(go())
    return run, mailer


def test_few_connections_many_messages_one_login_each() -> None:
    handler = RecordingHandler(users={"ola": "pw"}, delay=0.005)
    with SmtpServer(handler, auth=True) as server:
        run, mailer = deliver(server, jobs(40), concurrency=3, credentials=Credentials("ola", "pw"))
    assert set(run.statuses().values()) == {SENT}
    assert len(handler.messages) == 40
    assert sorted(m.recipients[0] for m in handler.messages) == sorted(
        f"p{n}@example.org" for n in range(40)
    )
    assert handler.connections_seen == 3 == mailer.connections_opened
    assert handler.peak_connections <= 3
    # One login per connection, never one per message (sending.md: Gmail's 454).
    assert sorted(c for c, _, _ in handler.logins) == [1, 2, 3]
    assert all(o.code == 250 for o in run.final.values())


def test_every_message_is_exactly_what_was_rendered() -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        deliver(server, jobs(5))
    assert {m.data for m in handler.messages} == {message(n) for n in range(5)}


def test_permanent_refusal_fails_at_once_and_keeps_the_answer() -> None:
    handler = RecordingHandler()
    handler.refuse("p2@example.org", "550 5.1.1 <p2@example.org>: Recipient address rejected")
    with SmtpServer(handler) as server:
        run, _ = deliver(server, jobs(5))
    assert run.statuses() == {0: SENT, 1: SENT, 2: FAILED, 3: SENT, 4: SENT}
    failed = run.final[2]
    assert (failed.code, failed.response) == (
        550,
        "5.1.1 <p2@example.org>: Recipient address rejected",
    )
    assert failed.job.attempts == 1
    assert handler.commands.count("RCPT p2@example.org") == 1  # never retried
    assert run.interim == []


def test_temporary_refusals_are_retried_until_accepted() -> None:
    handler = RecordingHandler()
    handler.refuse("p1@example.org", "451 4.7.1 Greylisted", times=2)
    handler.refuse("p3@example.org", "452 4.5.3 Too many recipients", times=1)
    with SmtpServer(handler) as server:
        run, _ = deliver(server, jobs(5))
    assert set(run.statuses().values()) == {SENT}
    assert run.final[1].job.attempts == 3
    assert run.final[3].job.attempts == 2
    assert sorted((o.job.key, o.status, o.code) for o in run.interim) == [
        (1, PENDING, 451),
        (1, PENDING, 451),
        (3, PENDING, 452),
    ]
    assert len(handler.to("p1@example.org")) == 1


def test_temporary_refusal_gives_up_after_the_retries() -> None:
    handler = RecordingHandler()
    handler.refuse("p0@example.org", "450 4.2.1 Mailbox busy")
    with SmtpServer(handler) as server:
        run, _ = deliver(server, jobs(2), retries=2)
    assert run.statuses() == {0: FAILED, 1: SENT}
    assert run.final[0].code == 450
    assert run.final[0].response == "4.2.1 Mailbox busy (after 3 attempts)"
    assert handler.commands.count("RCPT p0@example.org") == 3


def test_data_refusal_5xx_and_4xx() -> None:
    handler = RecordingHandler()
    handler.refuse_data("p0@example.org", "554 5.7.1 Message rejected as spam")
    handler.refuse_data("p1@example.org", "451 4.3.0 Local error in processing", times=1)
    with SmtpServer(handler) as server:
        run, _ = deliver(server, jobs(3))
    assert run.statuses() == {0: FAILED, 1: SENT, 2: SENT}
    assert run.final[0].response == "5.7.1 Message rejected as spam"
    assert len(handler.to("p0@example.org")) == 0
    assert len(handler.to("p1@example.org")) == 1


def test_421_after_n_messages_reconnects_and_uses_fewer_connections() -> None:
    handler = RecordingHandler(per_connection=4)
    with SmtpServer(handler) as server:
        run, mailer = deliver(server, jobs(30), concurrency=3, retries=10)
    assert set(run.statuses().values()) == {SENT}
    assert len(handler.messages) == 30
    assert mailer.allowed < 3
    assert mailer.connections_opened >= 30 // 4
    per_connection: dict[int, int] = {}
    for received in handler.messages:
        per_connection[received.connection] = per_connection.get(received.connection, 0) + 1
    assert max(per_connection.values()) <= 4


def test_too_many_connections_432_shrinks_the_pool() -> None:
    handler = RecordingHandler(max_connections=2, delay=0.01)
    with SmtpServer(handler) as server:
        run, mailer = deliver(server, jobs(20), concurrency=5)
    assert set(run.statuses().values()) == {SENT}
    assert len(handler.messages) == 20
    # Five connections tried at once: the three past the limit were refused (432 at the EHLO
    # aiosmtplib sends before the first MAIL, or the close that follows it), each message retried.
    refused = [o for o in run.interim if o.code == 432 or "closed the connection" in o.response]
    assert len(refused) >= 3, [o.response for o in run.interim]
    assert handler.peak_connections > 2
    assert mailer.allowed <= 2  # the pool shrank
    # Never more than two served at once. Over the run a connection that was given up may be
    # replaced by a new one, so more than two distinct connections may carry messages.
    assert handler.peak_served <= 2, handler.peak_served


def test_drop_after_data_is_retried_with_the_same_message_id() -> None:
    handler = RecordingHandler()
    handler.drop_after_data("p1@example.org", times=1)
    with SmtpServer(handler) as server:
        run, _ = deliver(server, jobs(3))
    assert run.statuses() == {0: SENT, 1: SENT, 2: SENT}
    assert run.final[1].job.possible_duplicate is True
    assert not run.final[0].job.possible_duplicate
    copies = handler.to("p1@example.org")
    assert len(copies) == 2  # the flagged duplicate: same Message-ID, same bytes
    assert copies[0].message_id == copies[1].message_id == "<m1@example.org>"
    assert copies[0].data == copies[1].data


def test_drop_after_data_every_time_ends_uncertain() -> None:
    handler = RecordingHandler()
    handler.drop_after_data("p0@example.org", times=None)
    with SmtpServer(handler) as server:
        run, _ = deliver(server, jobs(2), retries=1)
    assert run.statuses() == {0: UNCERTAIN, 1: SENT}
    assert run.final[0].response == (
        "the server closed the connection during DATA (after 2 attempts); "
        "may have been delivered, not sent again"
    )
    assert len(handler.to("p0@example.org")) == 2


def test_stall_after_data_is_uncertain_then_retried() -> None:
    handler = RecordingHandler(delay=0.6)
    with SmtpServer(handler) as server:
        run, _ = deliver(server, jobs(1), timeout=0.3, retries=1)
    assert run.statuses() == {0: UNCERTAIN}
    assert run.final[0].response.startswith("the server stalled the connection during DATA")


def test_wrong_password_fails_before_anything_is_sent() -> None:
    handler = RecordingHandler(users={"ola": "riktig"})
    with SmtpServer(handler, auth=True) as server, pytest.raises(ConnectionFailure) as caught:
        deliver(server, jobs(3), credentials=Credentials("ola", "feil"))
    assert caught.value.exit_code == 3
    assert handler.messages == []
    assert not any(c.startswith("MAIL") for c in handler.commands)


def test_server_gone_midway_fails_the_rest_with_the_reason() -> None:
    handler = RecordingHandler(delay=0.01)
    server = SmtpServer(handler)
    stopped: list[bool] = []

    def stop_after_first(outcome: Outcome) -> None:
        if outcome.final and not stopped:
            stopped.append(True)
            server.controller.stop()

    server.__enter__()
    try:
        run, _ = deliver(server, jobs(6), concurrency=1, retries=2, during=stop_after_first)
    finally:
        if not stopped:
            server.__exit__()
    statuses = run.statuses()
    assert statuses[0] == SENT
    assert set(list(statuses.values())[1:]) == {FAILED}
    assert len(run.final) == 6
    reasons = {o.response for o in run.final.values() if o.status == FAILED}
    assert all("not sent: " in r or "closed the connection" in r for r in reasons), reasons


def _mailer(server: SmtpServer, on_outcome: Callable[[Outcome], None], concurrency: int) -> Mailer:
    settings = SmtpSettings(host="127.0.0.1", port=server.port, security="none", timeout=5.0)
    return Mailer(
        SmtpTransport(settings, Credentials()),
        sender=SENDER,
        concurrency=concurrency,
        rate_per_minute=0,
        retries=1,
        retry_delay=0.01,
        on_outcome=on_outcome,
    )


def test_jobs_already_taken_go_out_while_the_source_is_still_reading() -> None:
    # The source stands for sending.py's: after its first rows it reads (or writes) the next
    # ones in the database thread. The jobs it gave meanwhile must not wait for that read.
    run = Run()
    first = jobs(6)
    four_done = asyncio.Event()

    def record(outcome: Outcome) -> None:
        run(outcome)
        if sum(1 for key in run.final if key < 4) == 4:
            four_done.set()

    async def source() -> AsyncIterator[Job]:
        for job in first[:4]:
            yield job
        await four_done.wait()  # gives nothing more until the four it gave are out
        for job in first[4:]:
            yield job

    handler = RecordingHandler()
    with SmtpServer(handler) as server:

        async def go() -> None:
            async with _mailer(server, record, concurrency=2) as mailer:
                await asyncio.wait_for(mailer.deliver(source(), total=6), timeout=10)

        asyncio.run(go())
    assert run.statuses() == dict.fromkeys(range(6), SENT)
    assert len(handler.messages) == 6


def test_a_failing_source_stops_the_run_with_its_error() -> None:
    run = Run()

    async def source() -> AsyncIterator[Job]:
        for job in jobs(2):
            yield job
        raise RuntimeError("the database went away")

    handler = RecordingHandler()
    with SmtpServer(handler) as server:

        async def go() -> None:
            async with _mailer(server, run, concurrency=2) as mailer:
                await mailer.deliver(source(), total=5)

        with pytest.raises(RuntimeError, match="went away"):
            asyncio.run(go())
    assert len(handler.messages) <= 2


def test_backoff_doubles_with_jitter() -> None:
    mailer = Mailer(
        SmtpTransport(SmtpSettings(), Credentials()),
        sender=SENDER,
        concurrency=1,
        rate_per_minute=0,
        retries=5,
        retry_delay=30,
        on_outcome=lambda o: None,
        rng=random.Random(1),
    )
    for attempt, base in [(1, 30), (2, 60), (3, 120), (4, 240)]:
        delays = [mailer.backoff(attempt) for _ in range(50)]
        assert all(base / 2 <= d <= base for d in delays)
        assert len(set(delays)) > 40  # jittered, not all the same
    assert mailer.backoff(20) <= 900


# ---------------------------------------------------------------- the rate limit, on a fake clock


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class VirtualClock(FakeClock):
    """Simulated time for concurrent sleepers: it jumps to the next wake-up once all wait."""

    def __init__(self) -> None:
        super().__init__()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = 0

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._order += 1
        heapq.heappush(self._sleepers, (self.now + seconds, self._order, future))
        await future

    async def drive(self, until: asyncio.Future[None]) -> None:
        """Advance time whenever every task is asleep, until ``until`` is done."""
        while not until.done():
            for _ in range(20):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if self._sleepers:
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)


def most_in_any_window(times: list[float]) -> int:
    """Return the largest number of ``times`` inside any half-open 60-second window."""
    times = sorted(times)
    best = 0
    for i, start in enumerate(times):
        best = max(best, sum(1 for t in times[i:] if t < start + WINDOW))
    return best


@pytest.mark.parametrize(("rate", "count", "concurrency"), [(5, 40, 3), (30, 100, 3), (7, 50, 10)])
def test_limiter_never_over_in_any_window(rate: int, count: int, concurrency: int) -> None:
    clock = VirtualClock()
    limiter = RateLimiter(rate, clock=clock, sleep=clock.sleep)
    spans: list[tuple[float, float]] = []
    queue: list[int] = list(range(count))

    async def worker() -> None:
        while queue:
            queue.pop()
            async with limiter.slot() as ticket:
                await clock.sleep(0.2)  # the transaction takes time
            assert ticket.start is not None
            assert ticket.end is not None
            spans.append((ticket.start, ticket.end))

    async def go() -> None:
        async def everyone() -> None:
            await asyncio.gather(*(worker() for _ in range(concurrency)))

        work = asyncio.create_task(everyone())
        await clock.drive(work)
        await work

    asyncio.run(go())
    assert len(spans) == count
    starts = [s for s, _ in spans]
    assert most_in_any_window(starts) <= rate
    # Stronger: wherever between start and answer the server counts, no window is over.
    assert most_in_any_window([e for _, e in spans]) <= rate
    # And not needlessly slow: the limit is reached, and each minute's batch follows the last
    # as soon as the window allows (give or take the transactions' own time).
    assert most_in_any_window(starts) == rate
    batches = (count - 1) // rate
    spread = -(-rate // concurrency) * 0.2  # how long one batch takes to start
    assert max(starts) - min(starts) <= batches * (WINDOW + 0.2) + spread + 1e-6


def test_limiter_zero_means_no_limit() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0, clock=clock, sleep=clock.sleep)

    async def go() -> None:
        for _ in range(1000):
            async with limiter.slot():
                pass

    asyncio.run(go())
    assert clock.slept == []


def test_mailer_keeps_the_rate_as_the_server_sees_it() -> None:
    clock = FakeClock()
    handler = RecordingHandler(clock=clock)
    limiter = RateLimiter(6, clock=clock, sleep=clock.sleep)
    with SmtpServer(handler) as server:
        run, _ = deliver(server, jobs(20), concurrency=3, rate=6, limiter=limiter)
    assert set(run.statuses().values()) == {SENT}
    arrivals = [m.at for m in handler.messages]
    assert most_in_any_window(arrivals) <= 6
    assert max(arrivals) - min(arrivals) >= 3 * WINDOW  # 20 messages at 6 a minute

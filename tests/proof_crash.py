"""Kill the sender with SIGKILL at a random moment, resume it, count what the server received.

Shared by tests/test_crash_suite.py (a few runs) and benchmarks/crash_suite.py (many). Each run:
a fresh project of generated contacts; aiosmtpd in this process, which queues every message at
once and answers 250 only a while later (several are in flight at any moment, and each has
arrived: the worst case for duplicates); ``python -m inviter send`` in a subprocess, SIGKILL
after a random delay, then ``send`` again until it finishes. The promise checked (sending.md):
nobody in the audience lost; at most ``concurrency`` duplicates per kill (the messages in
flight), each with the Message-ID of the first copy; every delivery row ``sent`` with the
Message-ID the server received.

``command="remind"`` and ``"cancel"`` do the same to a reminder round or a cancellation:
everyone is sent the invitation first (no kill), nobody answers, then the command is killed and
run again. Only its own messages are counted. A ``remind`` killed after its round has finished
leaves nothing to resume (a further ``remind`` would be a new round, by design): that run is
counted as finished first.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from inviter.store.models import CANCEL, REMINDER, REQUEST, SENT, Delivery

from .proof_support import QueueFirstHandler, make_project
from .sending_support import MEETING, deliveries, meeting_state, open_db, smtp_env
from .smtpd import SmtpServer

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CrashRun:
    """What one kill and resume came to."""

    number: int
    concurrency: int
    kill_after: float  # seconds after the sender started
    killed: bool  # False: the sender had finished before the kill came
    received_before: int  # messages the server had when the killed sender was gone
    lost: int  # audience members who received nothing
    duplicates: int  # copies beyond the first, over everyone
    # Those the server had at the kill whose row was not yet "sent": the resume cannot know they
    # arrived, so it sends them again; exactly these, and no one else, may get a second copy.
    unrecorded_before: int
    same_message_id: bool  # every duplicate carries its first copy's Message-ID
    rows_ok: bool  # one row per person, all sent, with the Message-ID received
    resume_exit: int

    @property
    def ok(self) -> bool:
        """True when the run kept the promise."""
        return (
            self.lost == 0
            and self.duplicates <= self.concurrency
            and self.duplicates == self.unrecorded_before
            and self.same_message_id
            and self.rows_ok
            and self.resume_exit == 0
        )


# What each command sends: the kind of its delivery rows.
KINDS = {"send": REQUEST, "remind": REMINDER, "cancel": CANCEL}
COMMANDS = tuple(KINDS)


def _sender(folder: Path, env: dict[str, str], command: str = "send") -> subprocess.Popen[bytes]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("INVITER_")}
    full.update(env, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        # --yes: no terminal here, and cancel and remind ask for one (issue 16).
        [sys.executable, "-m", "inviter", command, "--meeting", MEETING, "--yes"],
        cwd=folder,
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _run_to_the_end(folder: Path, env: dict[str, str], command: str) -> None:
    sender = _sender(folder, env, command)
    _out, err = sender.communicate(timeout=300)
    if sender.returncode != 0:
        raise RuntimeError(f"an uninterrupted {command} failed: {err.decode()}")


def calibrate(
    folder: Path, *, audience: int, concurrency: int, delay: float, command: str = "send"
) -> float:
    """Return how long an uninterrupted run takes, start to exit (kills are drawn within)."""
    make_project(folder, audience)
    with SmtpServer(QueueFirstHandler(answer_delay=delay)) as server:
        env = smtp_env(server, INVITER_SEND_CONCURRENCY=str(concurrency))
        if command != "send":
            _run_to_the_end(folder, env, "send")
        start = time.monotonic()
        _run_to_the_end(folder, env, command)
        return time.monotonic() - start


def _round(rows: list[Delivery], command: str) -> list[Delivery]:
    """Return the rows of the messages the killed command sends."""
    return [r for r in rows if r.kind == KINDS[command]]


def crash_run(
    folder: Path,
    number: int,
    *,
    audience: int,
    concurrency: int,
    delay: float,
    kill_after: float,
    command: str = "send",
    kill_at_message: int | None = None,
) -> CrashRun:
    """Run ``command``, SIGKILL it after ``kill_after`` seconds, run it again to the end; count.

    ``kill_at_message``: kill it instead as soon as the server has that many of its messages
    (at most ``kill_after`` seconds in): a kill certain to land in the middle of sending,
    whatever the start-up takes on this machine.
    """
    make_project(folder, audience)
    emails = [f"leder{n:06d}@example.org" for n in range(audience)]
    handler = QueueFirstHandler(answer_delay=delay)
    with SmtpServer(handler) as server:
        env = smtp_env(server, INVITER_SEND_CONCURRENCY=str(concurrency))
        if command != "send":
            _run_to_the_end(folder, env, "send")  # everyone invited; nobody answers
        earlier = len(handler.messages)  # the invitations, when reminders are counted
        started = time.monotonic()
        first = _sender(folder, env, command)
        if kill_at_message is not None:
            while (
                len(handler.messages) - earlier < kill_at_message
                and first.poll() is None
                and time.monotonic() - started < kill_after
            ):
                time.sleep(0.002)
            kill_after = time.monotonic() - started
        try:
            first.wait(timeout=0 if kill_at_message is not None else kill_after)
            killed = False
        except subprocess.TimeoutExpired:
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            killed = True
        if first.stderr is not None:
            first.stderr.close()
        time.sleep(delay + 0.2)  # messages in flight at the kill may still land
        before = len(handler.messages) - earlier
        rows = _round(deliveries(open_db(folder)), command)
        had = {m.recipients[0] for m in handler.messages[earlier:]}
        unrecorded = sum(1 for r in rows if r.email in had and r.status != SENT)
        if command == "remind" and len(rows) == audience and all(r.status == SENT for r in rows):
            killed, resume_exit = False, 0  # the round had finished: nothing to resume
        else:
            second = _sender(folder, env, command)
            _out, _err = second.communicate(timeout=300)
            resume_exit = second.returncode
    messages = handler.messages[earlier:]
    received = Counter(m.recipients[0] for m in messages)
    ids: dict[str, set[str]] = {}
    for message in messages:
        ids.setdefault(message.recipients[0], set()).add(message.message_id)
    rows = _round(deliveries(open_db(folder)), command)
    rows_ok = (
        sorted(r.email for r in rows) == emails
        and all(r.status == SENT for r in rows)
        and all(ids.get(r.email) == {r.message_id} for r in rows)
        and len({r.batch for r in rows}) == 1
    )
    if command == "cancel":  # and the meeting is marked cancelled, as one run leaves it
        state = meeting_state(open_db(folder))
        rows_ok = rows_ok and state is not None and state.cancelled
    return CrashRun(
        number=number,
        concurrency=concurrency,
        kill_after=kill_after,
        killed=killed,
        received_before=before,
        lost=sum(1 for e in emails if received[e] == 0),
        duplicates=sum(count - 1 for count in received.values()),
        unrecorded_before=unrecorded,
        same_message_id=all(len(found) == 1 for found in ids.values()),
        rows_ok=rows_ok,
        resume_exit=resume_exit,
    )


def crash_suite(
    root: Path,
    *,
    runs: int,
    audience: int,
    delay: float,
    seed: int,
    concurrency: tuple[int, int] = (3, 5),
    command: str = "send",
) -> tuple[float, list[CrashRun]]:
    """Calibrate, then make ``runs`` kills at random moments; return the calibration and runs."""
    rng = random.Random(seed)
    took = calibrate(
        root / "calibration",
        audience=audience,
        concurrency=concurrency[0],
        delay=delay,
        command=command,
    )
    results = []
    for number in range(1, runs + 1):
        results.append(
            crash_run(
                root / f"run{number}",
                number,
                audience=audience,
                concurrency=rng.randint(*concurrency),
                delay=delay,
                # From start-up (no rows yet) to the last messages (almost all sent).
                kill_after=rng.uniform(0.2, took),
                command=command,
            )
        )
    return took, results

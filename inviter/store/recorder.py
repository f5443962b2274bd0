"""The database work of a send run, done in one thread beside the event loop.

Recording an outcome (an UPDATE and a commit) in the event loop stops every connection while it
runs (benchmarks/RESULTS.md: ≈ 0.8 ms a message with the ORM, during which the other
connections' answers wait). Here one thread does it, on one connection held for the run (a
Session per commit spent ~100 µs of Python holding the GIL the loop needs; a held connection
~35 µs): outcomes that arrive while a commit is under way are written together in the next
transaction (group commit), and each caller waits for the commit that holds its outcome, so
"sent" is still on disk before that connection's next message is counted as done (sending.md).
Reads of the next jobs go through the same thread, so on SQLite (where every transaction takes
the write lock, db.py) they take turns with the commits instead of waiting on them in the loop.
"""

from __future__ import annotations

import asyncio
import os
import queue
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, update
from sqlalchemy.orm import Session

from inviter.store.database import Database
from inviter.store.models import Delivery

T = TypeVar("T")

_TABLE = Delivery.__table__
assert isinstance(_TABLE, Table)
# One statement for every outcome: Core executemany, no ORM identity map or flush.
_RECORD = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(
        status=bindparam("status"),
        attempts=bindparam("attempts"),
        code=bindparam("code"),
        response=bindparam("response"),
    )
)


# How much nicer than the event loop this thread runs (Linux nice values, per thread).
NICENESS = 10


def _yield_to_the_loop() -> None:
    """Lower this thread's priority below the event loop's, on Linux.

    A commit spends most of its time in SQLite's writes with the GIL released, on the CPU the
    loop also needs; a connection's answer arriving then waited for the commit's time slice.
    Nicer, the thread is preempted as soon as the loop wakes, and it still runs whenever the
    loop waits, which is most of a 50 ms cycle (benchmarks/RESULTS.md §1: c=10 efficiency
    0.905 -> 0.925, median of five runs). Elsewhere a thread has no nice value of its own
    (os.nice would slow the whole process), so nothing is changed.
    """
    if sys.platform == "linux":
        with suppress(OSError):  # a sandbox may refuse; the run is slower, not wrong
            os.nice(NICENESS)


@dataclass(frozen=True)
class Record:
    """What one attempt came to, for its Delivery row."""

    row_id: int
    status: str
    attempts: int
    code: int | None
    response: str


@dataclass
class _Task:
    future: asyncio.Future[Any]
    record: Record | None = None
    call: Callable[[Session], Any] | None = None


class Recorder:
    """``async with Recorder(db) as recorder:`` runs the thread for the length of a send."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="inviter-recorder", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection: Connection | None = None  # the thread's own, opened at first use

    async def __aenter__(self) -> Recorder:
        self._loop = asyncio.get_running_loop()
        self._thread.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._tasks.put(None)
        await asyncio.to_thread(self._thread.join)

    async def record(self, record: Record) -> None:
        """Write one outcome; return when it is committed (raise DatabaseError if it fails)."""
        await self._submit(_Task(self._future(), record=record))

    async def call(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in the thread in a transaction of its own, committed when it returns
        (``work`` may commit part of it earlier: a session of ``Database.session(stepwise)``);
        return its result."""
        result: T = await self._submit(_Task(self._future(), call=work))
        return result

    def _future(self) -> asyncio.Future[Any]:
        assert self._loop is not None, "use the recorder inside async with"
        return self._loop.create_future()

    async def _submit(self, task: _Task) -> Any:
        self._tasks.put(task)
        return await task.future

    # -- in the thread

    def _run(self) -> None:
        _yield_to_the_loop()
        try:
            self._serve()
        finally:
            if self._connection is not None:
                with suppress(Exception):  # closing a broken connection: nothing to save
                    self._connection.close()

    def _serve(self) -> None:
        stop = False
        while not stop:
            first = self._tasks.get()
            if first is None:
                return
            batch = [first]
            while True:  # everything queued meanwhile goes into the same commit
                try:
                    more = self._tasks.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            records = [t for t in batch if t.record is not None]
            if records:
                self._commit(records)
            for task in batch:
                if task.call is not None:
                    self._call(task)

    def _commit(self, tasks: list[_Task]) -> None:
        rows = [
            {
                "row_id": r.row_id,
                "status": r.status,
                "attempts": r.attempts,
                "code": r.code,
                "response": r.response,
            }
            for r in (t.record for t in tasks)
            if r is not None
        ]
        try:
            with self.db.translated():
                if self._connection is None:
                    self._connection = self.db.engine.connect()
                with self._connection.begin():
                    self._connection.execute(_RECORD, rows)
        except Exception as exc:  # handed to every waiting caller
            for task in tasks:
                self._settle(task.future, None, exc)
            return
        for task in tasks:
            self._settle(task.future, None, None)

    def _call(self, task: _Task) -> None:
        assert task.call is not None
        try:
            with self.db.session(stepwise=True) as session:
                result = task.call(session)
        except Exception as exc:  # handed to the caller
            self._settle(task.future, None, exc)
            return
        self._settle(task.future, result, None)

    def _settle(self, future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
        assert self._loop is not None

        def settle() -> None:
            if future.done():
                return  # the caller was cancelled (Ctrl-C): the commit stands regardless
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(result)

        with suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(settle)

"""The recorder thread: every outcome committed before its caller goes on, errors handed back."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from inviter.errors import DatabaseError
from inviter.store.database import Database
from inviter.store.models import FAILED, PENDING, SENT, Delivery, MeetingState
from inviter.store.recorder import NICENESS, Record, Recorder


def _database(tmp_path: Path, rows: int) -> tuple[Database, list[int]]:
    db = Database(f"sqlite:///{tmp_path / 'inviter.db'}")
    with db.session() as s:
        state = MeetingState(slug="m", uid="u@example.org", sequence=0, fingerprint="")
        s.add(state)
        s.flush()
        deliveries = [
            Delivery(
                meeting_id=state.id,
                email=f"p{i}@example.org",
                sequence=0,
                transport="smtp",
                message_id=f"<{i}@example.org>",
                status=PENDING,
            )
            for i in range(rows)
        ]
        s.add_all(deliveries)
        s.flush()
        ids = [d.id for d in deliveries]
    return db, ids


def test_many_callers_at_once_are_all_committed_when_they_return(tmp_path: Path) -> None:
    db, ids = _database(tmp_path, 200)
    seen_committed: list[bool] = []

    async def run() -> None:
        async with Recorder(db) as recorder:

            async def one(row_id: int) -> None:
                status = SENT if row_id % 7 else FAILED
                await recorder.record(Record(row_id, status, 1, 250, f"ok {row_id}"))
                # Another connection reads it back at once: it is on disk already.
                other = Database(db.url)
                try:
                    with other.session() as s:
                        stored = s.get(Delivery, row_id)
                        seen_committed.append(stored is not None and stored.status == status)
                finally:
                    other.close()

            await asyncio.gather(*(one(i) for i in ids))

    asyncio.run(run())
    assert seen_committed == [True] * 200
    with db.session() as s:
        rows = s.scalars(select(Delivery).order_by(Delivery.id)).all()
    assert [r.response for r in rows] == [f"ok {i}" for i in ids]
    assert sum(r.status == FAILED for r in rows) == sum(1 for i in ids if i % 7 == 0)


def test_a_failing_commit_reaches_the_caller_as_a_database_error(tmp_path: Path) -> None:
    db, ids = _database(tmp_path, 1)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE UPDATE ON deliveries BEGIN "
            "SELECT RAISE(ABORT, 'disk says no'); END"
        )

    async def run() -> None:
        async with Recorder(db) as recorder:
            await recorder.record(Record(ids[0], SENT, 1, 250, "ok"))

    with pytest.raises(DatabaseError, match="disk says no"):
        asyncio.run(run())
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM deliveries")).scalar_one() == PENDING


def test_a_failed_commit_leaves_no_transaction_open_behind_it(tmp_path: Path) -> None:
    # The recorder holds one connection for the run: after a refusal its transaction must be
    # rolled back, or the next outcome would wait on its own lock (and every other writer on it).
    db, ids = _database(tmp_path, 2)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TRIGGER refuse BEFORE UPDATE ON deliveries WHEN old.id = {ids[0]} BEGIN "
            "SELECT RAISE(ABORT, 'disk says no'); END"
        )
    errors: list[str] = []

    async def run() -> None:
        async with Recorder(db) as recorder:
            try:
                await recorder.record(Record(ids[0], SENT, 1, 250, "ok"))
            except DatabaseError as exc:
                errors.append(str(exc))
            await recorder.record(Record(ids[1], SENT, 1, 250, "ok too"))

    asyncio.run(run())
    assert errors == [f"{db.describe()}: disk says no"]
    with db.session() as s:
        rows = s.scalars(select(Delivery).order_by(Delivery.id)).all()
        assert [(r.status, r.response) for r in rows] == [(PENDING, ""), (SENT, "ok too")]


def test_an_outcome_is_stored_as_the_orm_stores_it(tmp_path: Path) -> None:
    # Written with a Core statement, not through the ORM: the time stamp is still set, reads
    # back aware and in UTC, and is stored in the same form as a row the ORM wrote.
    db, ids = _database(tmp_path, 2)
    before = datetime.now(UTC)

    async def run() -> None:
        async with Recorder(db) as recorder:
            await recorder.record(Record(ids[0], FAILED, 3, 550, "no such user"))

    asyncio.run(run())
    with db.session() as s:
        ours, theirs = s.scalars(select(Delivery).order_by(Delivery.id)).all()
        theirs.status = SENT  # updated through the ORM: its onupdate stamps it
        s.flush()
        assert (ours.status, ours.attempts, ours.code, ours.response) == (
            FAILED,
            3,
            550,
            "no such user",
        )
        assert ours.updated_at.tzinfo is not None
        assert before - timedelta(seconds=1) <= ours.updated_at <= datetime.now(UTC)
    with db.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT updated_at FROM deliveries ORDER BY id").all()
    ours_text, theirs_text = (str(row[0]) for row in stored)
    assert len(ours_text) == len(theirs_text)
    assert ours_text[:10] == theirs_text[:10] == datetime.now(UTC).strftime("%Y-%m-%d")


def test_call_runs_work_in_its_own_transaction(tmp_path: Path) -> None:
    db, _ids = _database(tmp_path, 3)

    async def run() -> list[str]:
        async with Recorder(db) as recorder:
            return await recorder.call(
                lambda s: [d.email for d in s.scalars(select(Delivery).order_by(Delivery.id))]
            )

    assert asyncio.run(run()) == ["p0@example.org", "p1@example.org", "p2@example.org"]


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
def test_the_thread_runs_nicer_than_the_event_loop(tmp_path: Path) -> None:
    # Preempted as soon as the loop wakes for a connection's answer (RESULTS.md §1).
    db, _ = _database(tmp_path, 0)

    def nice_here(_session: object) -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    async def run() -> int:
        async with Recorder(db) as recorder:
            return await recorder.call(nice_here)

    loop_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert asyncio.run(run()) == min(19, loop_nice + NICENESS)
    # The caller's own priority is untouched.
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == loop_nice
    db.close()

"""The crash suite, small: SIGKILL ``inviter send`` (``remind``, ``cancel``) at three moments.

benchmarks/crash_suite.py runs the same logic (tests/proof_crash.py) over many random kills;
here one kill falls early and two when the server has a given number of messages, so that they
land in the middle of sending. The server queues each message before it answers, so every
message in flight at the kill has arrived unrecorded: duplicates are expected, at most one per
connection, each with its first copy's Message-ID; losses never.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .proof_crash import CrashRun, calibrate, crash_run

AUDIENCE = 40
DELAY = 0.05


def _three_kills(tmp_path: Path, command: str) -> list[CrashRun]:
    """Kill ``command`` three times and resume each; check the promise.

    The first kill comes at a third of an uninterrupted run (often still starting up); the
    other two when the server has a quarter and two thirds of the messages, so that they land
    in the middle of sending whatever the start-up takes on this machine.
    """
    took = calibrate(
        tmp_path / "calibration", audience=AUDIENCE, concurrency=3, delay=DELAY, command=command
    )
    moments = [(3, None), (4, AUDIENCE // 4), (5, 2 * AUDIENCE // 3)]
    runs = [
        crash_run(
            tmp_path / f"run{number}",
            number,
            audience=AUDIENCE,
            concurrency=concurrency,
            delay=DELAY,
            kill_after=took / 3 if at is None else 5 * took,
            command=command,
            kill_at_message=at,
        )
        for number, (concurrency, at) in enumerate(moments, 1)
    ]
    for run in runs:
        print(run)
        assert run.lost == 0
        assert run.duplicates <= run.concurrency
        # Whatever the timing: a second copy goes exactly to those whose first copy arrived
        # but was not yet recorded when the sender died.
        assert run.duplicates == run.unrecorded_before
        assert run.same_message_id
        assert run.rows_ok  # one sent row per person (one round), with the Message-ID received
        assert run.resume_exit == 0
    middle = [r for r in runs if r.killed and 0 < r.received_before < AUDIENCE]
    assert len(middle) >= 2, f"the kills did not land in the middle of sending: {runs}"
    return runs


@pytest.mark.slow
def test_kill_9_at_three_moments_loses_nothing_and_bounds_duplicates(tmp_path: Path) -> None:
    _three_kills(tmp_path, "send")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["remind", "cancel"])
def test_kill_9_of_a_reminder_round_or_a_cancellation_bounds_duplicates(
    tmp_path: Path, command: str
) -> None:
    # As above, after everyone had the invitation: the resumed run reaches everyone the killed
    # one did not, with the Message-IDs of its own records (and a cancelled meeting at the end).
    _three_kills(tmp_path, command)

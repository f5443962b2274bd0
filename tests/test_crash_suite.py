"""The crash suite, small: SIGKILL ``inviter send`` (and ``remind``) at three moments, resume.

benchmarks/crash_suite.py runs the same logic (tests/proof_crash.py) over many random kills;
here the kills fall at fixed fractions of an uninterrupted send, so that at least one lands in
the middle of sending. The server queues each message before it answers, so every message in
flight at the kill has arrived unrecorded: duplicates are expected, at most one per connection,
each with its first copy's Message-ID; losses never.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .proof_crash import CrashRun, calibrate, crash_run

AUDIENCE = 40
DELAY = 0.05


def _three_kills(tmp_path: Path, command: str) -> list[CrashRun]:
    """Kill ``command`` at three moments (3, 4, 5 connections), resume each; check the promise."""
    took = calibrate(
        tmp_path / "calibration", audience=AUDIENCE, concurrency=3, delay=DELAY, command=command
    )
    runs = [
        crash_run(
            tmp_path / f"run{number}",
            number,
            audience=AUDIENCE,
            concurrency=concurrency,
            delay=DELAY,
            kill_after=took * fraction,
            command=command,
        )
        for number, (concurrency, fraction) in enumerate([(3, 0.35), (4, 0.5), (5, 0.6)], 1)
    ]
    for run in runs:
        print(run)
        assert run.lost == 0
        assert run.duplicates <= run.concurrency
        assert run.same_message_id
        assert run.rows_ok  # one sent row per person (one round), with the Message-ID received
        assert run.resume_exit == 0
    return runs


@pytest.mark.slow
def test_kill_9_at_three_moments_loses_nothing_and_bounds_duplicates(tmp_path: Path) -> None:
    runs = _three_kills(tmp_path, "send")
    middle = [r for r in runs if r.killed and 0 < r.received_before < AUDIENCE]
    assert middle, f"no kill landed in the middle of sending: {runs}"
    # A kill with messages in flight leaves their copies unrecorded: the resume repeats them.
    assert any(r.duplicates > 0 for r in middle)


@pytest.mark.slow
def test_kill_9_of_a_reminder_round_reminds_everyone_and_bounds_duplicates(
    tmp_path: Path,
) -> None:
    # As above, for a reminder round after everyone had the invitation: the resumed round
    # reaches everyone the killed one did not, with the Message-IDs of its own records.
    runs = _three_kills(tmp_path, "remind")
    assert any(r.killed and 0 < r.received_before < AUDIENCE for r in runs), runs

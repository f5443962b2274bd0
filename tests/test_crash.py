"""A real kill -9 in the middle of a send, then a resume: lost 0, duplicates at most concurrency.

``python -m inviter send`` runs in a subprocess against aiosmtpd in this process, which holds
each message a while (like a remote relay), so several are in flight when the sender is
SIGKILLed. Those may have arrived without being recorded; the resumed send repeats them with
the same Message-ID. Nothing else may be repeated, and nobody may be left out.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from inviter.store.models import SENT

from .sending_support import MEETING, add_contacts, deliveries, open_db, smtp_env, write_config
from .smtpd import RecordingHandler, SmtpServer

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 3
TROMSO = ("biblioteksjef", "Tromsø", "Tromsø og omegn", "nb")
PEOPLE = [(f"leder{n:02d}@example.org", f"Leder {n} Ås", *TROMSO) for n in range(40)]


def _sender(folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "inviter", "send", "--meeting", MEETING],
        cwd=folder,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [4, 17, 33])
def test_kill_9_mid_send_then_resume(tmp_path: Path, kill_after: int) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copytree(ROOT / "templates", folder / "templates")
    write_config(folder)
    db = open_db(folder)
    add_contacts(db, PEOPLE)
    db.close()
    audience = sorted(p[0] for p in PEOPLE)

    handler = RecordingHandler(delay=0.08)
    with SmtpServer(handler) as server:
        env = smtp_env(server, INVITER_SEND_CONCURRENCY=str(CONCURRENCY))
        first = _sender(folder, env)
        deadline = time.monotonic() + 60
        while len(handler.messages) < kill_after:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the sender made no progress"
            time.sleep(0.005)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert first.returncode == -signal.SIGKILL
        time.sleep(0.3)  # messages in flight at the kill may still land
        before = len(handler.messages)
        assert before < len(audience), "killed too late to test anything"

        second = _sender(folder, env)
        out, err = second.communicate(timeout=120)
    assert second.returncode == 0, (out.decode(), err.decode())

    received = Counter(m.recipients[0] for m in handler.messages)
    lost = [address for address in audience if received[address] == 0]
    duplicates = sum(count - 1 for count in received.values())
    print(f"kill after {kill_after}: received {before} before the kill, lost {len(lost)}, "
          f"duplicates {duplicates}")  # fmt: skip
    assert lost == []
    assert duplicates <= CONCURRENCY
    for address, count in received.items():
        if count > 1:
            ids = {m.message_id for m in handler.messages if m.recipients[0] == address}
            assert len(ids) == 1, f"{address} got different Message-IDs: {ids}"
    rows = deliveries(open_db(folder))
    assert sorted(r.email for r in rows) == audience  # one row per recipient, reused on resume
    assert {r.status for r in rows} == {SENT}
    assert {r.message_id for r in rows} == {m.message_id for m in handler.messages}

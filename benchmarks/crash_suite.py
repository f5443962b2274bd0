"""Crash suite: SIGKILL the sender at random moments, resume, count lost and duplicated mail.

Run: .venv/bin/python benchmarks/crash_suite.py [--runs 20] [--audience 60] [--delay 0.05]
         [--seed 7] [--command send|remind|cancel]

Each run (tests/proof_crash.py): a fresh project, aiosmtpd holding each message ``--delay``
seconds, ``python -m inviter send`` with 3 to 5 connections, SIGKILL after a random delay drawn
between start-up and the time an uninterrupted send takes (measured first), then ``send``
again to the end. Reported per run and in total: lost (audience members who received nothing),
duplicates (copies beyond the first), the bound (duplicates <= concurrency per kill), whether
every duplicate carries the Message-ID of its first copy, and whether the database ends with
one ``sent`` row per person holding the Message-ID the server received. ``--command remind`` or
``cancel`` kills a reminder round or a cancellation instead (everyone invited first, nobody
answering) and counts those messages. Exit status 1 if any run broke the promise (this is a
correctness check, not a timing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from common import machine, table

from tests.proof_crash import COMMANDS, crash_suite


def main() -> None:
    """Run the suite and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--audience", type=int, default=60)
    parser.add_argument("--delay", type=float, default=0.05, help="server seconds a message")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--command", choices=COMMANDS, default="send", help="what is killed")
    args = parser.parse_args()
    print(f"# crash suite: inviter {args.command}, {args.runs} kills, audience {args.audience}, "
          f"server latency {args.delay * 1000:.0f} ms, seed {args.seed}")  # fmt: skip
    print(f"# {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        took, runs = crash_suite(
            Path(folder),
            runs=args.runs,
            audience=args.audience,
            delay=args.delay,
            seed=args.seed,
            command=args.command,
        )
    print(f"an uninterrupted {args.command} takes {took:.2f} s (start-up included); "
          f"kills drawn in 0.2-{took:.2f} s")  # fmt: skip
    rows = [
        [
            run.number,
            run.concurrency,
            f"{run.kill_after:.2f}",
            "yes" if run.killed else "finished first",
            run.received_before,
            run.lost,
            run.duplicates,
            "yes" if run.duplicates <= run.concurrency else "NO",
            "yes" if run.same_message_id else "NO",
            "yes" if run.rows_ok else "NO",
            run.resume_exit,
        ]
        for run in runs
    ]
    print(
        table(
            [
                "run",
                "concurrency",
                "kill at s",
                "killed",
                "received before",
                "lost",
                "duplicates",
                "<= concurrency",
                "same Message-ID",
                "rows all sent",
                "resume exit",
            ],
            rows,
        )
    )
    killed = [r for r in runs if r.killed]
    mid = [r for r in killed if 0 < r.received_before < args.audience]
    print(
        f"total: {len(runs)} runs, {len(killed)} killed ({len(mid)} in the middle of sending), "
        f"lost {sum(r.lost for r in runs)}, duplicates {sum(r.duplicates for r in runs)} "
        f"(at most {max((r.duplicates for r in runs), default=0)} in one run), "
        f"promise kept in {sum(r.ok for r in runs)} of {len(runs)}"
    )
    if not all(r.ok for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()

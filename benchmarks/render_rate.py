"""Render rate into the outbox, and peak memory as the audience grows.

Run: .venv/bin/python benchmarks/render_rate.py [--size 10000] [--memory 1000 10000 50000]

1. Complete messages a second written into the outbox (templates, calendar, MIME, the Maildir
   file, the delivery rows): the real send path, ``inviter send`` with transport = "outbox", on
   a real SQLite file of ``--size`` generated contacts, in a child process, the clock running
   from the call of ``send_invitations`` to its return.
2. In the same run, the cost of bare ``EmailMessage(policy=SMTP)`` assembly of the same
   message (the same subject, texts and calendar, rendered before its clock starts), and of
   ``inviter.compose.message.build_message`` rendering everything: messages a second of each.
3. Peak memory: the same send in a child process per audience size in ``--memory``; the child
   reads its own peak RSS (VmHWM) when it ends. An audience of 1 is the
   baseline (the interpreter and the libraries); "growth" is what the audience adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine, peak_rss, per_message, table

from inviter.config import load_settings
from inviter.deliver.sending import send_invitations
from inviter.store.database import Database
from inviter.store.models import SENT
from tests.proof_support import make_project
from tests.sending_support import MEETING


def child(folder: Path) -> None:
    """Send to the project's audience through the outbox; print JSON figures (in a child)."""
    settings = load_settings(folder / "inviter.toml", env={})
    db = Database(settings.database_url)
    start = time.perf_counter()
    report = asyncio.run(send_invitations(settings, db, MEETING, env={}))
    seconds = time.perf_counter() - start
    db.close()
    files = sum(1 for _ in (folder / "outbox" / "new").iterdir())
    peak = peak_rss()
    figures = {"sent": report.count(SENT), "files": files, "seconds": seconds, "peak": peak}
    print(json.dumps(figures))


def measure(size: int, tmp: Path) -> dict[str, float]:
    """Make a project of ``size`` contacts, send it in a child process, return its figures."""
    folder = make_project(tmp / f"audience-{size}", size)
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(folder)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"the send of {size} failed:\n{done.stderr}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    if not figures["sent"] == figures["files"] == size:
        raise SystemExit(f"{size} contacts: {figures}")
    return figures


def main() -> None:
    """Measure and print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="audience for the rate")
    parser.add_argument("--memory", type=int, nargs="*", default=[1_000, 10_000, 50_000])
    parser.add_argument("--runs", type=int, default=500, help="builds per timing of one message")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    print(f"# render rate into the outbox, {args.size} recipients; peak memory per audience size")
    print(f"# {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        mine, bare = per_message(make_project(tmp / "one", 0), args.runs)
        run = measure(args.size, tmp)
        rate = args.size / run["seconds"]
        print(
            table(
                ["what", "ms a message", "messages/s", "x bare EmailMessage"],
                [
                    [
                        f"inviter send to the outbox, {args.size} recipients (end to end)",
                        f"{1000 / rate:.3f}",
                        f"{rate:,.0f}",
                        f"{rate * bare:.2f}",
                    ],
                    [
                        "inviter.compose.message.build_message (render + calendar + MIME)",
                        f"{mine * 1000:.3f}",
                        f"{1 / mine:,.0f}",
                        f"{bare / mine:.2f}",
                    ],
                    [
                        "bare EmailMessage(policy=SMTP) assembly, parts rendered before",
                        f"{bare * 1000:.3f}",
                        f"{1 / bare:,.0f}",
                        "1.00",
                    ],
                ],
            )
        )
        print()
        sizes = sorted({1, *args.memory})
        rows = []
        base = 0.0
        for size in sizes:
            got = run if size == args.size else measure(size, tmp)
            if size == 1:
                base = got["peak"]
            growth = got["peak"] - base
            rows.append(
                [
                    f"{size:,}",
                    f"{size / got['seconds']:,.0f}" if size > 1 else "",
                    f"{got['peak'] / 2**20:.1f}",
                    f"{growth / 2**20:.1f}",
                    f"{growth / size / 1024:.2f}" if size > 1 else "",
                ]
            )
        print(
            table(["contacts", "messages/s", "peak RSS MiB", "growth MiB", "KiB per contact"], rows)
        )


if __name__ == "__main__":
    main()

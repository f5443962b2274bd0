"""The rate limit as an SMTP server sees it: never over in any window, and not needlessly slow.

Run: .venv/bin/python benchmarks/rate_limit.py [--rate 120] [--minutes 2.5] [--concurrency 3]
Smoke: .venv/bin/python benchmarks/rate_limit.py --rate 30 --window 3 --seconds 7.5

``inviter send`` (the real send path: settings, SQLite, the mailer, the SMTP transport) sends
``rate × duration ÷ window`` messages with ``rate_per_minute = --rate`` to aiosmtpd with no delay;
the server stamps every message when it has it. Figures:

- the largest number of messages the server received in any window of ``--window`` seconds
  (target: never more than ``--rate``);
- the achieved rate: ``--rate`` × (the time the fastest sender keeping the limit needs) ÷ (the
  time inviter took). The fastest sender that keeps "at most R in any window W" sends message
  k (from 0) at floor(k ÷ R) × W, no earlier; so this is 100 % at best (target: >= 95 %).
  A plain "messages ÷ elapsed time" would overstate it: R go out at once, then the next R a
  window later, so the first and last message are less than N ÷ R windows apart.

``--window`` (default 60, inviter's WINDOW) shortens the window for a quick check: the smoke
run proves the limiter's logic through the real send path and a real server on a scaled time
base (never over, as fast as allowed, with three connections racing for places); it does not
prove anything about 60 seconds that the full run does not.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from pathlib import Path

from common import machine, table

import inviter.deliver.limiter
from inviter.config import load_settings
from inviter.deliver.sending import send_invitations
from inviter.store.database import Database
from inviter.store.models import SENT
from tests.proof_support import make_project, most_in_window
from tests.sending_support import MEETING, smtp_env
from tests.smtpd import RecordingHandler, SmtpServer


def main() -> None:
    """Send at the limit for a while and print what the server saw."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=120, help="rate_per_minute (per window)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds (inviter: 60)")
    parser.add_argument("--minutes", type=float, default=2.5)
    parser.add_argument("--seconds", type=float, help="duration in seconds (instead of minutes)")
    parser.add_argument("--concurrency", type=int, default=3)
    args = parser.parse_args()
    duration = args.seconds if args.seconds is not None else args.minutes * 60
    count = int(args.rate * duration / args.window)
    inviter.deliver.limiter.WINDOW = args.window  # the limiter reads it at every acquire

    print(f"# rate limit: {args.rate} per {args.window:g} s, {count} messages, "
          f"concurrency {args.concurrency}")  # fmt: skip
    print(f"# {machine()}")
    handler = RecordingHandler(clock=time.monotonic)
    with tempfile.TemporaryDirectory() as folder, SmtpServer(handler) as server:
        project = make_project(Path(folder) / "project", count)
        env = smtp_env(
            server,
            INVITER_SEND_CONCURRENCY=str(args.concurrency),
            INVITER_SEND_RATE_PER_MINUTE=str(args.rate),
        )
        settings = load_settings(project / "inviter.toml", env=env)
        db = Database(settings.database_url)
        report = asyncio.run(send_invitations(settings, db, MEETING, env=env))
        db.close()
    arrivals = sorted(m.at for m in handler.messages)
    if report.count(SENT) != count or len(arrivals) != count:
        raise SystemExit(f"sent {report.count(SENT)}, received {len(arrivals)} of {count}")
    most = most_in_window(arrivals, args.window)
    took = arrivals[-1] - arrivals[0]
    fastest = math.floor((count - 1) / args.rate) * args.window
    achieved = args.rate * fastest / took if took else float(args.rate)
    print(
        table(
            [
                "messages",
                f"most in any {args.window:g} s",
                "limit",
                "first to last s",
                "fastest allowed s",
                f"achieved per {args.window:g} s",
                "of the limit",
            ],
            [
                [
                    count,
                    most,
                    args.rate,
                    f"{took:.2f}",
                    f"{fastest:.2f}",
                    f"{achieved:.1f}",
                    f"{achieved / args.rate:.1%}",
                ]
            ],
        )
    )
    print(f"never over: {'yes' if most <= args.rate else 'NO'}; "
          f"within 5 % under: {'yes' if achieved >= 0.95 * args.rate else 'NO'}")  # fmt: skip


if __name__ == "__main__":
    main()

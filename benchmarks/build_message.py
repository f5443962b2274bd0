"""Time building one complete invitation message, and compare with EmailMessage(policy=SMTP).

Run: .venv/bin/python benchmarks/build_message.py
sending.md's figures: EmailMessage(policy.SMTP) about 1.9 ms a message, the legacy API 0.5 ms.
"""

from __future__ import annotations

from common import ROOT, builders, per_call

from inviter.config import load_settings
from inviter.domain import Recipient


def main() -> None:
    """Print the time per message of both ways."""
    settings = load_settings(ROOT / "inviter.toml", env={})
    recipient = Recipient(email="ailu.somby@example.org", name="Áilu Čađŋšŧž Somby")
    ways = builders(settings, "regionmote-nord-troms", recipient)
    for name, build in (
        ("inviter.compose.message.build_message", ways.ours),
        ("EmailMessage", ways.rendering),
    ):
        seconds = per_call(build, 2000)
        print(f"{name:34} {seconds * 1000:.3f} ms a message ({1 / seconds:,.0f} a second)")


if __name__ == "__main__":
    main()

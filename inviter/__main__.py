"""Run ``python -m inviter``."""

from inviter.cli import main

main()

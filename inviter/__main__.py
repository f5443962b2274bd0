"""Run ``python -m inviter``."""

from inviter.cli.main import main

main()

"""Invite the right people to a series of meetings and know who is coming."""

__version__ = "0.1.0"

"""Whom a calendar reply speaks for: one attendee, checked against who sent the message.

The organizer's address is the From of every invitation, so anyone who got one can write to
it. A REPLY therefore answers for one attendee only (RFC 5546 §3.2.3: "the ATTENDEE property
... of the Attendee replying"), plus the delegation pair of §3.2.2.3, and it counts only when
that attendee is who sent the message: From, Sender (Outlook's "on behalf of") or Reply-To (a
CalDAV server such as Nextcloud sends From itself and Reply-To the attendee). Anything else is
kept as unverified for staff to confirm, never counted by itself (SPEC, second edition).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from inviter.replies.calendar_reply import Answer

NEEDS_ACTION = "NEEDS-ACTION"


@dataclass(frozen=True)
class Attribution:
    """The answers of one reply that are recorded, whether they count, and what was ignored."""

    uid: str
    answers: tuple[Answer, ...]
    verified: bool
    ignored: tuple[str, ...] = ()  # addresses of the other ATTENDEE lines, reported


def _principal(group: Sequence[Answer], senders: Collection[str]) -> tuple[Answer, bool]:
    """Pick the attendee who is replying: the sender if listed, else the first explicit one."""
    matching = [a for a in group if a.email in senders]
    pool = matching or list(group)
    # An echoed NEEDS-ACTION line (imip.md 18: some clients echo every attendee) is not the
    # answer when the same reply holds an explicit one.
    explicit = [a for a in pool if a.partstat != NEEDS_ACTION]
    return (explicit or pool)[0], bool(matching)


def _pairs(principal: Answer, other: Answer) -> bool:
    """True when ``other`` is the delegator of the principal, confirming the delegation."""
    return (
        other.email == principal.delegated_from
        and other.partstat == "DELEGATED"
        and other.delegated_to == principal.email
    )


def attribute(answers: Sequence[Answer], senders: Collection[str]) -> list[Attribution]:
    """Group a message's answers by UID and decide, for each, whom the reply speaks for."""
    groups: dict[str, list[Answer]] = {}
    for answer in answers:
        groups.setdefault(answer.uid, []).append(answer)
    result = []
    for uid, group in groups.items():
        principal, verified = _principal(group, senders)
        kept, ignored = [principal], []
        for other in group:
            if other is principal:
                continue
            if _pairs(principal, other):
                # The delegate's reply repeats the delegator's DELEGATED line: that is the
                # delegation the delegate accepts, so it goes with the delegate's answer.
                kept.append(other)
            elif principal.partstat == "DELEGATED" and other.email == principal.delegated_to:
                # The delegator's reply names the delegate, who answers for themselves later.
                continue
            else:
                ignored.append(other.email)
        result.append(Attribution(uid, tuple(kept), verified, tuple(ignored)))
    return result

"""Mark the invitations a delivery report speaks of: bounced, delayed, or delivered after all.

The report names the message it is about (its Message-ID, in the returned headers): that row is
marked. A report without one is matched to the newest invitation sent to the failed address.
A later report that the message was delivered, or a later successful send, clears the mark.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from inviter.replies.bounces import DeliveryReport
from inviter.store.models import (
    BOUNCED,
    BOUNCED_NOTE,
    DELAYED,
    DELAYED_NOTE,
    NO_REASON,
    REQUEST,
    SENT,
    Delivery,
)


@dataclass
class Marked:
    """What one report changed."""

    bounced: list[str] = field(default_factory=list)
    delayed: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # addresses no invitation went to


def _row(session: Session, message_id: str, email: str) -> Delivery | None:
    if message_id:
        row = session.scalar(
            select(Delivery).where(Delivery.message_id == message_id, Delivery.email == email)
        )
        if row is not None:
            return row
    return session.scalar(
        select(Delivery)
        .where(Delivery.email == email, Delivery.kind == REQUEST)
        .where(Delivery.status.in_((SENT, DELAYED, BOUNCED)))
        .order_by(Delivery.id.desc())
        .limit(1)
    )


def apply_report(session: Session, report: DeliveryReport) -> Marked:
    """Mark each failed recipient's invitation; say what was marked and what matched nothing."""
    marked = Marked()
    for failure in report.failures:
        row = _row(session, report.original_message_id, failure.recipient)
        if row is None:
            marked.unmatched.append(failure.recipient)
            continue
        why = " ".join(p for p in (failure.status, failure.reason) if p) or NO_REASON
        if failure.permanent:
            row.status = BOUNCED
            row.response = f"{BOUNCED_NOTE}{why}"[:2000]
            marked.bounced.append(failure.recipient)
        elif row.status == SENT:
            # Still on its way: shown, not a failure; a bounce or a delivery may follow.
            row.status = DELAYED
            row.response = f"{DELAYED_NOTE}{why}"[:2000]
            marked.delayed.append(failure.recipient)
    return marked

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
from inviter.store.models import BOUNCED, DELAYED, REQUEST, SENT, Delivery
from inviter.translation import N_, _

# What a report writes into Delivery.response, in English whatever the language of the run (the
# database keeps what it always kept); ``shown_response`` says it in the language staff read.
_BOUNCED = "bounced: "
_DELAYED = "delayed: "
NO_REASON = N_("no reason given")


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
            row.response = f"{_BOUNCED}{why}"[:2000]
            marked.bounced.append(failure.recipient)
        elif row.status == SENT:
            # Still on its way: shown, not a failure; a bounce or a delivery may follow.
            row.status = DELAYED
            row.response = f"{_DELAYED}{why}"[:2000]
            marked.delayed.append(failure.recipient)
    return marked


def shown_response(response: str) -> str:
    """A Delivery.response as staff read it: what a delivery report wrote there ("bounced:
    5.1.1 unknown user", "delayed: no reason given") in their language, anything else (the
    server's own words) as it is."""
    if response.startswith(_BOUNCED):
        text = _("bounced: {reason}")
    elif response.startswith(_DELAYED):
        text = _("delayed: {reason}")
    else:
        return response
    reason = response.partition(": ")[2]
    return text.format(reason=_(NO_REASON) if reason == NO_REASON else reason)

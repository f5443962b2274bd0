"""The rows a plan writes: each target counted, kept, or written as a ``pending`` Delivery.

Written rows are flushed a few hundred at a time and only their ids kept (``Plan.pending``);
given ``early``, the first few are committed on their own and handed over, so that they go out
while the rest is written (plans.py decides who the targets are).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import insert
from sqlalchemy.orm import Session

from inviter.compose.message import new_message_id
from inviter.config import Settings
from inviter.domain import Kind, Recipient
from inviter.store.models import PENDING, Delivery, MeetingState

# check: read-only, count the targets; list: read-only, keep them (a dry run renders each);
# write: write a pending row for each, keep only the rows' ids.
Mode = Literal["check", "list", "write"]


@dataclass(frozen=True)
class RecipientResult:
    """What became of one recipient in this run."""

    email: str
    name: str
    status: str
    code: int | None = None
    response: str = ""
    possible_duplicate: bool = False


@dataclass
class Plan:
    """Who gets a message in this run, and who does not and why."""

    kind: Kind
    uid: str
    sequence: int
    batch: str = ""
    targets: list[tuple[Recipient, Delivery | None]] = field(default_factory=list)  # list mode
    total: int = 0  # how many targets, in every mode
    pending: list[int] = field(default_factory=list)  # the written rows' ids (writing planner)
    skipped: list[str] = field(default_factory=list)
    failed_before: list[RecipientResult] = field(default_factory=list)
    left_audience: list[str] = field(default_factory=list)
    uninvited: list[str] = field(default_factory=list)
    # Sent again although they may have it: an earlier run lost the server's answer after the
    # data (uncertain), or was stopped while their message was on the wire (still pending).
    resending: list[str] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)  # of those, not sent again (asked: no)
    # A cancel to some attendees only (cancel --to): the invitation is withdrawn for them and
    # the meeting goes ahead, so their message says so (RFC 5546 §3.2.5 keeps the calendar).
    withdrawn: bool = False


@dataclass(frozen=True)
class Pending:
    """A written row, with all the sender needs to build and record its message."""

    row_id: int
    message_id: str
    attempts: int
    recipient: Recipient
    sequence: int  # the plan's, or a person's own when invited again (plans.plan_request)


@dataclass(frozen=True)
class FirstRows:
    """The first rows a writing planner committed, handed over before it writes the rest."""

    kind: Kind
    uid: str
    sequence: int
    rows: list[Pending]


# Called in the planner's thread, right after the first rows' commit.
Early = Callable[[FirstRows], None]


class Targets:
    """Take the plan's targets one at a time: count them, keep them, or write their rows.

    Written rows are flushed a few hundred at a time and only their ids kept (``plan.pending``):
    holding every row object and its recipient for the whole run made memory grow with the
    audience (benchmarks/RESULTS.md). The sender reads them back in batches.
    """

    def __init__(
        self,
        session: Session,
        settings: Settings,
        state: MeetingState | None,
        plan: Plan,
        mode: Mode,
        early: Early | None = None,
    ) -> None:
        self.session, self.settings, self.state, self.plan, self.mode = (
            session,
            settings,
            state,
            plan,
            mode,
        )
        self.chunk: list[Delivery | dict[str, Any]] = []
        self.early = early if mode == "write" else None
        self.size = _FIRST if self.early else _CHUNK
        self.recipients: list[Recipient] = []  # the chunk's, while the first rows are taken

    def add(
        self,
        recipient: Recipient,
        row: Delivery | None,
        contact_id: int | None,
        sequence: int | None = None,
    ) -> None:
        """Take one target: its recipient, its earlier row if any, its contact's id if any,
        and its own SEQUENCE where it is not the plan's."""
        plan = self.plan
        plan.total += 1
        if self.mode == "list":
            plan.targets.append((recipient, row))
        if self.mode != "write":
            return
        assert self.state is not None  # the writing planners make or require the state
        if row is None:
            # A new row goes in with the chunk's one INSERT … RETURNING id (below).
            self.chunk.append(
                {
                    "meeting_id": self.state.id,
                    "contact_id": contact_id,
                    "email": recipient.email,
                    "name": recipient.name,
                    "kind": plan.kind,
                    "sequence": plan.sequence if sequence is None else sequence,
                    "transport": self.settings.send.transport,
                    "batch": plan.batch,
                    "message_id": new_message_id(self.settings.organizer),
                    "status": PENDING,
                    "attempts": 0,
                }
            )
        else:
            row.contact_id = contact_id if contact_id is not None else row.contact_id
            row.name = recipient.name
            row.status = PENDING
            self.chunk.append(row)
        if self.early:
            self.recipients.append(recipient)
        if len(self.chunk) >= self.size:
            self.flush()

    def flush(self) -> None:
        """Write the rows taken so far, keep their ids, and let the session forget them.

        New rows go in as one ORM bulk INSERT … RETURNING id, in the order given: the unit of
        work's object per row cost ~50 µs a recipient, most of a 1,000-recipient run's start
        (benchmarks/RESULTS.md).
        """
        if not self.chunk:
            return
        self.session.flush()  # the earlier rows taken again
        new = [item for item in self.chunk if isinstance(item, dict)]
        # Matched by address, not by order: asking SQLAlchemy to keep the order of RETURNING
        # made it send SQLite one INSERT a row. An address is in a plan once (the unique key).
        returning = insert(Delivery).returning(Delivery.id, Delivery.email)
        ids: dict[str, int] = {}
        if new:
            ids = {email: id_ for id_, email in self.session.execute(returning, new)}
        first = []
        for index, item in enumerate(self.chunk):
            if isinstance(item, dict):
                row_id, message_id, attempts = ids[item["email"]], item["message_id"], 0
                sequence = int(item["sequence"])
            else:
                row_id, message_id, attempts = item.id, item.message_id, item.attempts
                sequence = item.sequence
                self.session.expunge(item)
            self.plan.pending.append(row_id)
            if self.early:
                recipient = self.recipients[index]
                first.append(Pending(row_id, message_id, attempts, recipient, sequence))
        self.chunk.clear()
        self.recipients.clear()
        if self.early:
            # Committed now, so these go out while the rest is written: at c=10 the writing of
            # 1,000 rows kept every connection waiting ~40 ms (benchmarks/RESULTS.md §1). A
            # crash after this commit leaves the later targets without a row, as before the
            # run: the next run finds them as it finds anyone new.
            self.session.commit()
            early, self.early, self.size = self.early, None, _CHUNK
            plan = self.plan
            early(FirstRows(plan.kind, plan.uid, plan.sequence, first))


_CHUNK = 500
_FIRST = 50  # rows committed and handed over first: a message for every connection, and more

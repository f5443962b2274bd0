"""The database tables: contacts, each meeting's calendar identity, deliveries and replies.

Meetings themselves live in inviter.toml; the database keeps what the config cannot: the
meeting's calendar UID, its SEQUENCE and the fingerprint of the version last sent.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from inviter.translation import N_

# Raised with a step in inviter.migrations, which brings an older database up to date.
SCHEMA_VERSION = 3

# Delivery states (SPEC status --json "delivery").
PENDING = "pending"
SENT = "sent"
FAILED = "failed"
UNCERTAIN = "uncertain"  # the server's answer was lost after the message went out
BOUNCED = "bounced"  # accepted, then reported undeliverable for good (a delivery report)
DELAYED = "delayed"  # accepted; a delivery report says the next server is still trying

# Written on the untried rows of a run stopped by Ctrl-C or SIGTERM: that run recorded every
# message it took, so these were never on the wire (unlike the untried rows a SIGKILL leaves).
# Recorded in English whatever the language, as the next run looks for this very text; marked
# for the catalog so that what shows a row's response can translate it (``_(response)``).
STOPPED_BEFORE_TURN = N_("not sent: the run was stopped (Ctrl-C or SIGTERM) before its turn")

# What a delivery report writes into Delivery.response, in English whatever the language of the
# run (the database keeps what it always kept); reports/terminal.response_text says it in the
# language staff read.
BOUNCED_NOTE = "bounced: "
DELAYED_NOTE = "delayed: "
NO_REASON = N_("no reason given")

# Kinds of message.
REQUEST = "request"
CANCEL = "cancel"
REMINDER = "reminder"


def utcnow() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC and give them back aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of inviter's tables."""


class SchemaInfo(Base):
    """One row: the schema version this database was made with."""

    __tablename__ = "schema_info"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class Contact(Base):
    """A person who may be invited; the e-mail address (lower case) is the identity."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100), index=True)
    municipality: Mapped[str] = mapped_column(String(100), index=True)
    region: Mapped[str] = mapped_column(String(100), index=True)
    organization: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    language: Mapped[str] = mapped_column(String(10), default="nb")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class MeetingState(Base):
    """A meeting's calendar identity: UID for good, SEQUENCE and what was last sent."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Hash of everything the invitation says, to tell a new version; see inviter.versions.
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Answers to versions before this SEQUENCE do not count (a reinstated meeting asks anew).
    answers_from: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="meeting")
    replies: Mapped[list[Reply]] = relationship(back_populates="meeting")


class MeetingVersion(Base):
    """What one version (SEQUENCE) of a meeting's invitation said: the details, as JSON.

    Kept so that answers to an earlier version stop counting after a material change, and so
    that an update can say what changed (inviter.versions).
    """

    __tablename__ = "meeting_versions"
    __table_args__ = (UniqueConstraint("meeting_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    details: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Delivery(Base):
    """One message to one recipient for one version of a meeting, and what became of it.

    Written as ``pending`` before the attempt and updated after it, so that a crash leaves a
    record of every message that may have gone out (sending.md: record "sent" only after 250).
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("meeting_id", "email", "kind", "sequence", "transport", "batch"),
        Index("ix_deliveries_meeting_email", "meeting_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20), default=REQUEST)
    sequence: Mapped[int] = mapped_column(Integer)
    transport: Mapped[str] = mapped_column(String(20))
    # "" for invitations and cancellations; a reminder round's id for reminders.
    batch: Mapped[str] = mapped_column(String(40), default="")
    message_id: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    meeting: Mapped[MeetingState] = relationship(back_populates="deliveries")


class RawMessage(Base):
    """The raw bytes of every imported reply, kept as evidence (imip.md 19)."""

    __tablename__ = "raw_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Reply(Base):
    """One answer from one attendee. The newest verified (SEQUENCE, then DTSTAMP) one counts.

    SEQUENCE and DTSTAMP are stored capped at the highest version sent and at when the message
    arrived, so that no reply can stamp itself beyond every later answer (SPEC, second edition).
    """

    __tablename__ = "replies"
    __table_args__ = (
        UniqueConstraint("meeting_id", "email", "method", "sequence", "dtstamp"),
        Index("ix_replies_meeting_email", "meeting_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    # REPLY, COUNTER (a proposed new time, for staff to look at) or MANUAL (rsvp set).
    method: Mapped[str] = mapped_column(String(20), default="REPLY")
    # ACCEPTED, DECLINED, TENTATIVE, DELEGATED or NEEDS-ACTION (RFC 5545 §3.2.12).
    partstat: Mapped[str] = mapped_column(String(20))
    delegated_to: Mapped[str] = mapped_column(String(320), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    guests: Mapped[int] = mapped_column(Integer, default=0)
    proposed_start: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    proposed_end: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    dtstamp: Mapped[datetime] = mapped_column(UtcDateTime)
    # True for a guest who answered an invitation forwarded to them (never invited).
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    # False when the answering ATTENDEE is none of the message's From, Sender or Reply-To: kept
    # for staff to see, counted only once they confirm it with ``rsvp set``.
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    # Who sent the answer: the From address of the message ("" for one recorded by hand).
    sender: Mapped[str] = mapped_column(String(320), default="")
    # For a forwarded guest: the invitee whose invitation their reply refers to (In-Reply-To
    # or References naming a Message-ID we sent), i.e. who forwarded it; "" when unknown.
    via: Mapped[str] = mapped_column(String(320), default="")
    raw_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("raw_messages.id", ondelete="SET NULL"), nullable=True
    )
    source: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    meeting: Mapped[MeetingState] = relationship(back_populates="replies")


class ImapMark(Base):
    """How far ``rsvp fetch`` has read one IMAP folder (RFC 3501 §2.3.1.1: UIDs only grow).

    A new UIDVALIDITY means the server renumbered the folder: reading starts again from the
    beginning, and the raw-message dedup (sha256) keeps that from recording anything twice.
    """

    __tablename__ = "imap_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(500), unique=True)  # user@host:port/folder
    # Both are unsigned 32-bit numbers (RFC 3501 §9 nz-number): beyond a signed INTEGER.
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

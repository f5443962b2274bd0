"""The versions of a meeting's invitation: what each said, and which changes ask people again.

imip.md 10: a changed event goes out as an update with a higher SEQUENCE. SPEC, second edition:
a change of start, end, place or online link is *material* (RFC 5546 §2.1.4: the organizer
asks the attendees again; Google Calendar and Outlook reset answers when the time moves), so
answers to earlier versions stop counting; a change of title or description alone is sent too,
but keeps the answers. Each version's details are kept, so an update can say what changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from inviter.domain import Meeting
from inviter.store.models import MeetingState, MeetingVersion

MATERIAL = ("start", "end", "timezone", "location", "online_url")
# Release 1 hashed these (no description); its fingerprints carry no prefix.
_RELEASE_1 = ("start", "end", "timezone", "location", "online_url", "title")
_PREFIX = "2:"


def details_of(meeting: Meeting) -> dict[str, str]:
    """Return what a version of the invitation says, as stored with it."""
    return {
        "start": meeting.start.isoformat(),
        "end": meeting.end.isoformat(),
        "timezone": meeting.timezone,
        "location": meeting.location,
        "online_url": meeting.online_url,
        "title": meeting.title,
        "description": meeting.description,
    }


def _digest(details: dict[str, str], keys: tuple[str, ...]) -> str:
    data = {key: details[key] for key in keys}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def meeting_fingerprint(meeting: Meeting) -> str:
    """Hash everything an invitation says: any change of it is sent as an update."""
    details = details_of(meeting)
    # VARCHAR(64) holds the prefix and 62 hex digits: 248 bits, as unique as the whole.
    return _PREFIX + _digest(details, tuple(sorted(details)))[: 64 - len(_PREFIX)]


def is_current(fingerprint: str, meeting: Meeting) -> bool:
    """True when a stored fingerprint is that of the meeting as the config has it now.

    A fingerprint stored by release 1 covered no description: compared as it was made, so an
    upgrade alone sends no update to anyone.
    """
    if fingerprint.startswith(_PREFIX):
        return fingerprint == meeting_fingerprint(meeting)
    return fingerprint == _digest(details_of(meeting), _RELEASE_1)


def record_version(session: Session, state: MeetingState, meeting: Meeting) -> None:
    """Store the details of the version at ``state.sequence`` (a version not yet sent may
    still be replaced by the config's newer details)."""
    row = session.scalar(
        select(MeetingVersion).where(
            MeetingVersion.meeting_id == state.id, MeetingVersion.sequence == state.sequence
        )
    )
    details = json.dumps(details_of(meeting), sort_keys=True)
    if row is None:
        session.add(MeetingVersion(meeting_id=state.id, sequence=state.sequence, details=details))
    else:
        row.details = details


def stored_versions(session: Session, state: MeetingState) -> dict[int, dict[str, str]]:
    """Return the details of every stored version by SEQUENCE."""
    rows = session.execute(
        select(MeetingVersion.sequence, MeetingVersion.details).where(
            MeetingVersion.meeting_id == state.id
        )
    )
    return {sequence: json.loads(details) for sequence, details in rows}


def material_sequence(versions: dict[int, dict[str, str]], current: int) -> int:
    """Return the first SEQUENCE whose answers count: that of the last material change.

    A version whose predecessor's details are unknown (sent by release 1, which kept none)
    counts as material: asking people again is the safe side of not knowing.
    """
    material = 0
    for sequence in range(1, current + 1):
        before, after = versions.get(sequence - 1), versions.get(sequence)
        if after is None:
            continue
        if before is None or any(before[k] != after[k] for k in MATERIAL):
            material = sequence
    return material


def changed_fields(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Name what changed from one version to the next: "time" for start, end or zone, then
    "location", "online_url", "title" and "description" as the config calls them."""
    found = []
    if any(old[k] != new[k] for k in ("start", "end", "timezone")):
        found.append("time")
    found += [k for k in ("location", "online_url", "title", "description") if old[k] != new[k]]
    return found


def as_of(meeting: Meeting, details: dict[str, str]) -> Meeting:
    """Return the meeting as one stored version of its invitation described it."""
    return dataclasses.replace(
        meeting,
        start=datetime.fromisoformat(details["start"]),
        end=datetime.fromisoformat(details["end"]),
        timezone=details["timezone"],
        location=details["location"],
        online_url=details["online_url"],
        title=details["title"],
        description=details["description"],
    )


def previous_version(session: Session, state: MeetingState, meeting: Meeting) -> Meeting | None:
    """Return the version sent before the config's one, for an update to say what changed.

    None when nothing was sent before, or when that version's details were not kept (sent
    by release 1): the update then says only that the invitation changed.
    """
    versions = stored_versions(session, state)
    current = details_of(meeting)
    for sequence in sorted(versions, reverse=True):
        if versions[sequence] != current:
            return as_of(meeting, versions[sequence])
    return None

"""Planning a run a page of the audience at a time: the same plan as reading it at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from inviter.compose.message import new_message_id
from inviter.config import load_settings
from inviter.deliver import plans, targets
from inviter.domain import Organizer
from inviter.store.models import PENDING, REMINDER, REQUEST, SENT

from .conftest import Invoke
from .sending_support import (
    AUDIENCE,
    MEETING,
    add_contacts,
    deliveries,
    open_db,
    write_config,
)


@pytest.fixture
def folder(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Six contacts (five in the audience), read two at a time and written two at a time (the
    first two committed and handed over on their own when the planner is given ``early``)."""
    monkeypatch.setattr(plans, "_PAGE", 2)
    monkeypatch.setattr(targets, "_CHUNK", 2)
    monkeypatch.setattr(targets, "_FIRST", 2)
    write_config(project)
    db = open_db(project)
    add_contacts(db)
    db.close()
    return project


def test_paged_audience_is_sent_whole_in_order_once(folder: Path, invoke: Invoke) -> None:
    dry = invoke("send", "--meeting", MEETING, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert all(email in dry.stdout for email in AUDIENCE)
    assert "ola@example.org" not in dry.stdout
    assert deliveries(open_db(folder)) == []

    result = invoke("send", "--meeting", MEETING)
    outbox = folder / "outbox" / "new"
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "".join(f"sent: {e}\n" for e in AUDIENCE)
        + f"{MEETING}: invitation, version 1, through the outbox\n"
        "  sent: 5\n"
        f"Nothing left this machine: the messages are files in {outbox} "
        '(transport = "outbox"); set transport = "smtp" in [send] to send them for real.\n'
    )
    rows = deliveries(open_db(folder))
    assert sorted((r.email, r.status, r.kind) for r in rows) == [
        (e, SENT, REQUEST) for e in AUDIENCE
    ]
    assert len(list(outbox.iterdir())) == 5


def test_paged_audience_lists_who_left_and_who_had_it(folder: Path, invoke: Invoke) -> None:
    assert invoke("send", "--meeting", MEETING).exit_code == 0
    write_config(folder, exclude=("aile@example.org", "per@example.org"))
    listed = invoke("send", "--meeting", MEETING)
    assert listed.exit_code == 0, listed.output
    assert listed.stdout == (
        f"{MEETING}: invitation, version 1, through the outbox\n"
        "  nothing to send: everyone in the audience has the current version\n"
        "  already had it: 3\n"
        f"  left the audience since invited, not sent: 2 (inviter cancel --meeting {MEETING} "
        "--to EMAIL uninvites them)\n"
        "    aile@example.org\n"
        "    per@example.org\n"
    )


def test_paged_writing_planner_keeps_every_row_id_in_audience_order(folder: Path) -> None:
    settings = load_settings(folder / "inviter.toml", env={})
    db = open_db(folder)
    meeting = settings.meeting(MEETING)
    with db.session() as session:
        plan = plans.plan_request(session, settings, meeting, [], "write")
    with db.session() as session:
        check = plans.plan_request(session, settings, meeting, [], "check")
    rows = {r.id: r for r in deliveries(db)}
    assert [rows[i].email for i in plan.pending] == AUDIENCE
    assert {r.status for r in rows.values()} == {PENDING}
    assert plan.total == check.total == 5
    assert check.targets == []
    assert check.pending == []


def test_writing_planner_hands_over_its_first_rows_once_committed(folder: Path) -> None:
    settings = load_settings(folder / "inviter.toml", env={})
    db = open_db(folder)
    meeting = settings.meeting(MEETING)
    handed: list[targets.FirstRows] = []
    seen_then: list[list[tuple[str, str]]] = []

    def early(first: targets.FirstRows) -> None:
        handed.append(first)
        # Another connection sees them: committed, not merely flushed.
        seen_then.append([(r.email, r.status) for r in deliveries(db)])

    with db.session(stepwise=True) as session:
        plan = plans.plan_request(session, settings, meeting, [], "write", early)
    assert len(handed) == 1
    first = handed[0]
    assert seen_then == [[(email, PENDING) for email in AUDIENCE[:2]]]
    assert [r.recipient.email for r in first.rows] == AUDIENCE[:2]
    assert [r.row_id for r in first.rows] == plan.pending[:2]
    assert (first.kind, first.uid, first.sequence) == (plan.kind, plan.uid, plan.sequence)
    rows = {r.id: r for r in deliveries(db)}
    assert [rows[r.row_id].message_id for r in first.rows] == [r.message_id for r in first.rows]
    assert all(r.attempts == 0 for r in first.rows)
    assert [rows[i].email for i in plan.pending] == AUDIENCE


def _disk_full_after(count: int) -> Callable[[Organizer], str]:
    """Return a new_message_id that makes ``count`` IDs, then fails as a full disk would."""
    made = 0

    def failing(organizer: Organizer) -> str:
        nonlocal made
        made += 1
        if made > count:
            raise OSError("disk full")
        return new_message_id(organizer)

    return failing


def test_a_write_that_fails_after_the_first_rows_keeps_only_them(
    folder: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first two rows are committed and may have gone out; the failure rolls back the rest,
    # which the next run writes as it writes anyone new. Nobody is lost, nobody sent twice.
    failing = _disk_full_after(2)
    settings = load_settings(folder / "inviter.toml", env={})
    db = open_db(folder)
    handed: list[targets.FirstRows] = []
    monkeypatch.setattr(targets, "new_message_id", failing)
    with pytest.raises(OSError, match="disk full"), db.session(stepwise=True) as session:
        plans.plan_request(session, settings, settings.meeting(MEETING), [], "write", handed.append)
    assert [[r.recipient.email for r in first.rows] for first in handed] == [AUDIENCE[:2]]
    assert [(r.email, r.status) for r in deliveries(db)] == [(e, PENDING) for e in AUDIENCE[:2]]
    first_ids = [r.message_id for r in deliveries(db)]

    monkeypatch.setattr(targets, "new_message_id", new_message_id)
    result = invoke("send", "--meeting", MEETING)
    assert result.exit_code == 0, result.output
    rows = deliveries(open_db(folder))
    assert sorted((r.email, r.status) for r in rows) == [(e, SENT) for e in AUDIENCE]
    assert [r.message_id for r in rows[:2]] == first_ids  # the same Message-IDs, sent once
    assert len(list((folder / "outbox" / "new").iterdir())) == 5


def test_a_reminder_round_cut_short_while_written_reminds_everyone_once(
    folder: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reminder round is finished by the next run only for the rows it has (plans.py), so its
    # rows are written in one transaction: a failure part-way leaves none, and nothing goes
    # out; the next run is a whole new round. With the first rows committed early, the next
    # run would have finished the round for those two alone and never reminded the other three.
    assert invoke("send", "--meeting", MEETING).exit_code == 0
    monkeypatch.setattr(targets, "new_message_id", _disk_full_after(3))
    with pytest.raises(OSError, match="disk full"):
        invoke("remind", "--meeting", MEETING)
    assert [r for r in deliveries(open_db(folder)) if r.kind == REMINDER] == []
    assert len(list((folder / "outbox" / "new").iterdir())) == 5  # the invitations only

    monkeypatch.setattr(targets, "new_message_id", new_message_id)
    again = invoke("remind", "--meeting", MEETING)
    assert again.exit_code == 0, again.output
    rows = [r for r in deliveries(open_db(folder)) if r.kind == REMINDER]
    assert sorted((r.email, r.status) for r in rows) == [(e, SENT) for e in AUDIENCE]
    assert len({r.batch for r in rows}) == 1
    assert len(list((folder / "outbox" / "new").iterdir())) == 10

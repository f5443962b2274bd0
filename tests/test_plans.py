"""Planning a run a page of the audience at a time: the same plan as reading it at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from inviter import plans
from inviter.config import load_settings
from inviter.models import PENDING, REQUEST, SENT

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
    """Six contacts (five in the audience), read two at a time and written two at a time."""
    monkeypatch.setattr(plans, "_PAGE", 2)
    monkeypatch.setattr(plans, "_CHUNK", 2)
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
        + f"{MEETING}: invitation, SEQUENCE 0, through the outbox\n"
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
        f"{MEETING}: invitation, SEQUENCE 0, through the outbox\n"
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

"""send, cancel, remind and reinstate: whom each command reaches, and with what.

Each binds its arguments into a planner (plans.py) and hands it to run.py, which checks, asks,
writes the pending rows, mails and records in the order that makes a run safe to repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from inviter.config import Settings
from inviter.deliver.credentials import PasswordPrompt
from inviter.deliver.mailer import StopRequest
from inviter.deliver.plans import addresses, plan_cancel, plan_reminder, plan_request
from inviter.deliver.run import Confirm, Progress, Run, carry_out
from inviter.deliver.run_summary import SendReport
from inviter.deliver.targets import Early, Mode, Plan
from inviter.store.database import Database
from inviter.store.models import utcnow


async def send_invitations(
    settings: Settings,
    db: Database,
    slug: str,
    *,
    to: Collection[str] | None = None,
    dry_run: bool = False,
    password_prompt: PasswordPrompt | None = None,
    progress: Callable[[Progress], None] | None = None,
    now: datetime | None = None,
    env: Mapping[str, str] | None = None,
    resend: Callable[[list[str]], bool] | None = None,
    confirm: Confirm | None = None,
    force: bool = False,
    stop: StopRequest | None = None,
) -> SendReport:
    """Invite everyone in the audience who lacks the current version (or the ``to`` ones).

    ``resend`` is shown who may have the invitation already (an earlier run lost the answer
    or was stopped with their message on the wire) before anything is sent, and says whether
    to send it to them again; without it they are sent again. ``confirm`` is shown the plan
    before anything is written or sent and may stop the run (see ``Confirm``).
    """
    meeting = settings.meeting(slug)
    wanted = addresses(to)
    held: set[str] = set()

    def plan(session: Session, mode: Mode, early: Early | None = None) -> Plan:
        return plan_request(session, settings, meeting, wanted, mode, early, hold=held)

    def review(draft: Plan) -> bool:
        if resend is None or not draft.resending or resend(draft.resending):
            return False
        held.update(draft.resending)
        return True  # planned again without them

    run = Run(dry_run, password_prompt, progress, now, env, review, confirm, force, stop)
    return await carry_out(settings, db, meeting, plan, run)


async def reinstate_meeting(
    settings: Settings,
    db: Database,
    slug: str,
    *,
    dry_run: bool = False,
    password_prompt: PasswordPrompt | None = None,
    progress: Callable[[Progress], None] | None = None,
    now: datetime | None = None,
    env: Mapping[str, str] | None = None,
    confirm: Confirm | None = None,
    force: bool = False,
    stop: StopRequest | None = None,
) -> SendReport:
    """Take a cancellation back: a new REQUEST (same UID, a SEQUENCE above the cancellation's,
    STATUS:CONFIRMED) to the audience the cancellation reached; their answers start afresh.
    Those uninvited one by one stay uninvited. An interrupted reinstatement is finished by
    ``send``: once written, the meeting is no longer cancelled."""
    meeting = settings.meeting(slug)

    def plan(session: Session, mode: Mode, early: Early | None = None) -> Plan:
        return plan_request(session, settings, meeting, [], mode, early, reinstating=True)

    run = Run(dry_run, password_prompt, progress, now, env, None, confirm, force, stop)
    return await carry_out(settings, db, meeting, plan, run)


async def cancel_meeting(
    settings: Settings,
    db: Database,
    slug: str,
    *,
    to: Collection[str] | None = None,
    dry_run: bool = False,
    password_prompt: PasswordPrompt | None = None,
    progress: Callable[[Progress], None] | None = None,
    now: datetime | None = None,
    env: Mapping[str, str] | None = None,
    confirm: Confirm | None = None,
    stop: StopRequest | None = None,
) -> SendReport:
    """Send METHOD:CANCEL to everyone invited (or uninvite the ``to`` ones)."""
    meeting = settings.meeting(slug)
    wanted = addresses(to)

    def plan(session: Session, mode: Mode, early: Early | None = None) -> Plan:
        return plan_cancel(session, settings, meeting, wanted, mode, early)

    run = Run(dry_run, password_prompt, progress, now, env, None, confirm, True, stop)
    return await carry_out(settings, db, meeting, plan, run)


async def remind_meeting(
    settings: Settings,
    db: Database,
    slug: str,
    *,
    to: Collection[str] | None = None,
    dry_run: bool = False,
    force: bool = False,
    password_prompt: PasswordPrompt | None = None,
    progress: Callable[[Progress], None] | None = None,
    now: datetime | None = None,
    env: Mapping[str, str] | None = None,
    confirm: Confirm | None = None,
    stop: StopRequest | None = None,
) -> SendReport:
    """Send the current invitation again, with reminder text, to those who have not answered
    (or the ``to`` ones); a second round within 24 hours, or after the start, needs ``force``."""
    meeting = settings.meeting(slug)
    wanted = addresses(to)

    def plan(session: Session, mode: Mode, early: Early | None = None) -> Plan:
        # Never early (plans.plan_reminder says why).
        return plan_reminder(
            session, settings, meeting, mode, now or utcnow(), to=wanted, force=force
        )

    run = Run(dry_run, password_prompt, progress, now, env, None, confirm, force, stop)
    return await carry_out(settings, db, meeting, plan, run)

"""What a send, cancel or remind run did: the counts, the recipients worth telling about, and
the summary people read afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field

from inviter.deliver.targets import RecipientResult
from inviter.domain import Kind
from inviter.store.models import FAILED, SENT, UNCERTAIN
from inviter.translation import N_, _, ngettext


@dataclass
class SendReport:
    """The outcome of send, cancel or remind, for the summary and the exit status."""

    meeting: str
    kind: Kind
    sequence: int
    transport: str
    destination: str
    dry_run: bool = False
    # Per recipient only the addresses reached and the ones to tell about (failed, uncertain,
    # flagged duplicates): a full result a recipient made memory grow with the audience.
    sent: list[str] = field(default_factory=list)
    noted: list[RecipientResult] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # already had this version
    failed_before: list[RecipientResult] = field(default_factory=list)  # 5xx earlier
    left_audience: list[str] = field(default_factory=list)
    uninvited: list[str] = field(default_factory=list)
    rendered: int = 0
    planned: list[str] = field(default_factory=list)  # a dry run's recipients
    resending: list[str] = field(default_factory=list)  # may have it already; sent again
    held_back: list[str] = field(default_factory=list)  # may have it already; not sent again
    declined: bool = False  # asked at a terminal, and told not to
    stopped: bool = False  # by Ctrl-C or SIGTERM
    unsent: int = 0  # when stopped: not sent, left for the next run
    notes: list[str] = field(default_factory=list)  # warnings to show first

    def add(self, result: RecipientResult) -> None:
        """Count one recipient's final outcome; keep it whole if it is worth telling about."""
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        if result.status == SENT and not result.possible_duplicate:
            self.sent.append(result.email)
        else:
            self.noted.append(result)

    @property
    def results(self) -> list[RecipientResult]:
        """Every recipient's outcome in this run (those simply sent without their names)."""
        return [RecipientResult(email, "", SENT) for email in self.sent] + self.noted

    @property
    def finished(self) -> int:
        """How many recipients had a final outcome in this run."""
        return sum(self.counts.values())

    def count(self, status: str) -> int:
        """Return how many recipients ended with ``status`` in this run."""
        return self.counts.get(status, 0)

    @property
    def problems(self) -> list[RecipientResult]:
        """The recipients who failed or whose outcome is unknown."""
        return [r for r in self.noted if r.status in (FAILED, UNCERTAIN)]

    @property
    def duplicates(self) -> list[RecipientResult]:
        """Sent, but maybe twice (flagged; same Message-ID and calendar UID)."""
        return [r for r in self.noted if r.possible_duplicate and r.status == SENT]


# What the run sent, in the summary's first line.
_WHAT = {"request": N_("invitation"), "cancel": N_("cancellation"), "reminder": N_("reminder")}
_COMMAND = {"request": "send", "cancel": "cancel", "reminder": "remind"}


def describe_report(report: SendReport) -> str:
    """Return the summary people read after a run: counts, and every problem with its reason."""
    what = _(_WHAT[report.kind])
    how = _("the outbox") if report.transport == "outbox" else f"SMTP {report.destination}"
    # People count versions from 1; the calendar's SEQUENCE counts from 0 (person.py alike).
    head = _("{meeting}: {what}, version {version}, through {how}").format(
        meeting=report.meeting, what=what, version=report.sequence + 1, how=how
    )
    lines = [*report.notes, head]
    if report.declined:
        lines.append(_("  not confirmed: nothing sent, nothing recorded"))
    elif report.dry_run:
        lines.append(
            ngettext(
                "  dry run: {count} message rendered; nothing sent, nothing recorded, "
                "no connection made",
                "  dry run: {count} messages rendered; nothing sent, nothing recorded, "
                "no connection made",
                report.rendered,
            ).format(count=report.rendered)
        )
        lines += [f"    {email}" for email in report.planned]
    elif not report.finished:
        lines.append(_("  nothing to send: {reason}").format(reason=_nobody(report)))
    else:
        lines.append(_("  sent: {count}").format(count=report.count(SENT)))
    if report.stopped:
        lines.append(
            ngettext(
                "  stopped by Ctrl-C or SIGTERM: {count} not sent; the next "
                "inviter {command} --meeting {meeting} sends them (nothing is lost)",
                "  stopped by Ctrl-C or SIGTERM: {count} not sent; the next "
                "inviter {command} --meeting {meeting} sends them (nothing is lost)",
                report.unsent,
            ).format(count=report.unsent, command=_COMMAND[report.kind], meeting=report.meeting)
        )
    if report.skipped:
        if report.kind == "reminder":
            label = _("  already answered: {count}")
        else:
            label = _("  already had it: {count}")
        lines.append(label.format(count=len(report.skipped)))
    failed = [r for r in report.noted if r.status == FAILED]
    if failed:
        lines.append(_("  failed: {count}").format(count=len(failed)))
        lines += [f"    {r.email}: {_answer(r)}" for r in failed]
    uncertain = [r for r in report.noted if r.status == UNCERTAIN]
    if uncertain:
        lines.append(
            ngettext(
                "  uncertain: {count} (the answer was lost after the message went out, so it may "
                "have been delivered; not sent again: the next send names them and, at a "
                "terminal, asks before sending again, with the same Message-ID)",
                "  uncertain: {count} (the answer was lost after the message went out, so it may "
                "have been delivered; not sent again: the next send names them and, at a "
                "terminal, asks before sending again, with the same Message-ID)",
                len(uncertain),
            ).format(count=len(uncertain))
        )
        lines += [f"    {r.email}: {r.response}" for r in uncertain]
    if report.duplicates:
        lines.append(
            _(
                "  possible duplicates: {count} (same Message-ID and calendar UID: the calendar "
                "entry is updated, not doubled)"
            ).format(count=len(report.duplicates))
        )
        lines += [f"    {r.email}" for r in report.duplicates]
    if report.failed_before:
        lines.append(
            _(
                "  refused earlier, not tried again: {count} "
                "(inviter send --meeting {meeting} --to EMAIL tries again)"
            ).format(count=len(report.failed_before), meeting=report.meeting)
        )
        lines += [f"    {r.email}: {_answer(r)}" for r in report.failed_before]
    if report.left_audience:
        count = len(report.left_audience)
        lines.append(
            ngettext(
                "  left the audience since invited, not sent: {count} "
                "(inviter cancel --meeting {meeting} --to EMAIL uninvites them)",
                "  left the audience since invited, not sent: {count} "
                "(inviter cancel --meeting {meeting} --to EMAIL uninvites them)",
                count,
            ).format(count=count, meeting=report.meeting)
        )
        lines += [f"    {email}" for email in report.left_audience]
    if report.uninvited:
        lines.append(
            _("  uninvited earlier, not sent: {count}").format(count=len(report.uninvited))
        )
        lines += [f"    {email}" for email in report.uninvited]
    if report.held_back:
        count = len(report.held_back)
        lines.append(
            ngettext(
                "  may have it already, not sent again: {count} "
                "(inviter send --meeting {meeting} --yes sends it to them)",
                "  may have it already, not sent again: {count} "
                "(inviter send --meeting {meeting} --yes sends it to them)",
                count,
            ).format(count=count, meeting=report.meeting)
        )
        lines += [f"    {email}" for email in report.held_back]
    if report.transport == "outbox" and report.finished:
        lines.append(
            ngettext(
                "Nothing left this machine: the message is a file in {folder} "
                '(transport = "outbox"); set transport = "smtp" in [send] to send it for real.',
                "Nothing left this machine: the messages are files in {folder} "
                '(transport = "outbox"); set transport = "smtp" in [send] to send them for real.',
                report.finished,
            ).format(folder=report.destination)
        )
    return "\n".join(lines)


def _answer(result: RecipientResult) -> str:
    return f"{result.code} {result.response}" if result.code else result.response


def _nobody(report: SendReport) -> str:
    if report.kind == "request":
        return _("everyone in the audience has the current version")
    if report.kind == "cancel":
        return _("nobody holds the invitation")
    return _("everyone invited has answered")

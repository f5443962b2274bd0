"""What a send, cancel or remind run did: the counts, the recipients worth telling about, and
the summary people read afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field

from inviter.deliver.targets import RecipientResult
from inviter.domain import Kind
from inviter.store.models import FAILED, SENT, UNCERTAIN


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


_WHAT = {"request": "invitation", "cancel": "cancellation", "reminder": "reminder"}


def describe_report(report: SendReport) -> str:
    """Return the summary people read after a run: counts, and every problem with its reason."""
    what = _WHAT[report.kind]
    how = "the outbox" if report.transport == "outbox" else f"SMTP {report.destination}"
    lines = [*report.notes, f"{report.meeting}: {what}, SEQUENCE {report.sequence}, through {how}"]
    if report.declined:
        lines.append("  not confirmed: nothing sent, nothing recorded")
    elif report.dry_run:
        lines.append(
            f"  dry run: {report.rendered} message{_s(report.rendered)} rendered; nothing sent, "
            "nothing recorded, no connection made"
        )
        lines += [f"    {email}" for email in report.planned]
    elif not report.finished:
        lines.append(f"  nothing to send: {_nobody(report)}")
    else:
        lines.append(f"  sent: {report.count(SENT)}")
    if report.stopped:
        command = {"request": "send", "cancel": "cancel", "reminder": "remind"}[report.kind]
        lines.append(
            f"  stopped by Ctrl-C or SIGTERM: {report.unsent} not sent; the next "
            f"inviter {command} --meeting {report.meeting} sends them (nothing is lost)"
        )
    if report.skipped:
        label = "already answered" if report.kind == "reminder" else "already had it"
        lines.append(f"  {label}: {len(report.skipped)}")
    failed = [r for r in report.noted if r.status == FAILED]
    if failed:
        lines.append(f"  failed: {len(failed)}")
        lines += [f"    {r.email}: {_answer(r)}" for r in failed]
    uncertain = [r for r in report.noted if r.status == UNCERTAIN]
    if uncertain:
        lines.append(
            f"  uncertain: {len(uncertain)} (the answer was lost after the message went out, "
            "so it may have been delivered; not sent again: the next send names them and, at "
            "a terminal, asks before sending again, with the same Message-ID)"
        )
        lines += [f"    {r.email}: {r.response}" for r in uncertain]
    if report.duplicates:
        lines.append(
            f"  possible duplicates: {len(report.duplicates)} (same Message-ID and calendar UID: "
            "the calendar entry is updated, not doubled)"
        )
        lines += [f"    {r.email}" for r in report.duplicates]
    if report.failed_before:
        lines.append(
            f"  refused earlier, not tried again: {len(report.failed_before)} "
            f"(inviter send --meeting {report.meeting} --to EMAIL tries again)"
        )
        lines += [f"    {r.email}: {_answer(r)}" for r in report.failed_before]
    if report.left_audience:
        lines.append(
            f"  left the audience since invited, not sent: {len(report.left_audience)} "
            f"(inviter cancel --meeting {report.meeting} --to EMAIL uninvites them)"
        )
        lines += [f"    {email}" for email in report.left_audience]
    if report.uninvited:
        lines.append(f"  uninvited earlier, not sent: {len(report.uninvited)}")
        lines += [f"    {email}" for email in report.uninvited]
    if report.held_back:
        lines.append(
            f"  may have it already, not sent again: {len(report.held_back)} "
            f"(inviter send --meeting {report.meeting} --yes sends it to them)"
        )
        lines += [f"    {email}" for email in report.held_back]
    if report.transport == "outbox" and report.finished:
        lines.append(
            f"Nothing left this machine: the messages are files in {report.destination} "
            '(transport = "outbox"); set transport = "smtp" in [send] to send them for real.'
        )
    return "\n".join(lines)


def _answer(result: RecipientResult) -> str:
    return f"{result.code} {result.response}" if result.code else result.response


def _nobody(report: SendReport) -> str:
    if report.kind == "request":
        return "everyone in the audience has the current version"
    if report.kind == "cancel":
        return "nobody holds the invitation"
    return "everyone invited has answered"


def _s(count: int) -> str:
    return "" if count == 1 else "s"

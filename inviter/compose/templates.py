"""Render an invitation's subject, plain text and HTML from a template set.

Layout (templates/README.md): ``templates/<set>/<language>/{subject.txt,body.txt,body.html}``;
a file a set does not have is taken from ``templates/_base/<language>/``; a language a set does not
have falls back to ``nb``. One set serves invitations, reminders and cancellations: the variable
``kind`` tells them apart.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from inviter.addresses import unsafe_reason
from inviter.domain import Kind, Meeting, Organizer, Recipient
from inviter.errors import TemplateError
from inviter.locale.dates import (
    format_date,
    format_dates,
    format_time,
    format_when,
    number_word,
)
from inviter.store.versions import changed_fields, details_of
from inviter.text import with_lines
from inviter.translation import _

KINDS: tuple[Kind, ...] = ("request", "reminder", "cancel")
DEFAULT_LANGUAGE = "nb"
BASE_SET = "_base"
FILES = ("subject.txt", "body.txt", "body.html")

SAMPLE_RECIPIENT = Recipient(
    email="ola.nordmann@example.org",
    name="Ola Nordmann",
    role="biblioteksjef",
    municipality="Tromsø",
    region="Tromsø og omegn",
    organization="Tromsø bibliotek og byarkiv",
    title="Biblioteksjef",
)

_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class MeetingView:
    """What templates see as ``meeting``: the config's meeting and its time written out."""

    label: ClassVar[str] = "meeting"

    slug: str
    title: str
    location: str
    online_url: str
    is_online: bool
    description: str
    timezone: str
    start: datetime
    end: datetime
    when: str
    dates: str
    date: str
    start_time: str
    end_time: str
    days: int
    days_word: str  # the days in letters, as running text writes them: "to" (dager)

    @classmethod
    def of(cls, meeting: Meeting, language: str) -> MeetingView:
        """Return the view of ``meeting`` in ``language``."""
        start, end = meeting.start_at, meeting.end_at
        return cls(
            slug=meeting.slug,
            title=meeting.title,
            location=meeting.location,
            online_url=meeting.online_url,
            is_online=meeting.is_online,
            description=meeting.description.strip(),
            timezone=meeting.timezone,
            start=start,
            end=end,
            when=format_when(start, end, language),
            dates=format_dates(start.date(), end.date(), language),
            date=format_date(start.date(), language),
            start_time=format_time(start, language),
            end_time=format_time(end, language),
            days=(end.date() - start.date()).days + 1,
            days_word=number_word((end.date() - start.date()).days + 1, language),
        )


_LABELS: dict[type, str] = {MeetingView: "meeting", Recipient: "recipient", Organizer: "organizer"}


class _Undefined(jinja2.StrictUndefined):
    """StrictUndefined naming the variable: ``'meeting' has no attribute 'titel'``."""

    @property
    def _undefined_message(self) -> str:
        label = _LABELS.get(type(self._undefined_obj))
        if label and isinstance(self._undefined_name, str):
            message = _("'{variable}' has no attribute '{attribute}'")
            return message.format(variable=label, attribute=self._undefined_name)
        return str(super()._undefined_message)


def paragraphs(text: str) -> Markup:
    """Turn plain text into HTML paragraphs: a blank line parts them, a line break is <br>."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if b.strip()]
    return Markup("\n").join(
        Markup('<p style="margin:0 0 16px 0;">{}</p>').format(
            Markup("<br>\n").join(escape(line) for line in block.split("\n"))
        )
        for block in blocks
    )


@dataclass(frozen=True)
class Rendered:
    """One message's texts: subject (one line), plain text and HTML."""

    subject: str
    text: str
    html: str


class Templates:
    """The template sets under one folder, compiled once and rendered many times."""

    def __init__(self, templates_dir: Path) -> None:
        self.templates_dir = templates_dir.resolve()
        # Sandboxed: a template is a file anyone with access to the folder can edit, and in a
        # plain Environment "{{ cycler.__init__.__globals__.os.popen('id').read() }}" runs a
        # command. The immutable sandbox also refuses list.append and the like.
        self._env = ImmutableSandboxedEnvironment(
            loader=jinja2.FileSystemLoader(self.templates_dir),
            undefined=_Undefined,
            # HTML escaping for the HTML part only: subjects and plain text show names as
            # they are (sending.md), and are checked for line breaks instead.
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html",), default_for_string=False, default=False
            ),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self._env.filters["paragraphs"] = paragraphs
        self._compiled: dict[str, jinja2.Template] = {}
        self._views: dict[tuple[Meeting, str], MeetingView] = {}
        self._names: dict[tuple[str, str, str], str] = {}

    # ------------------------------------------------------------ lookup

    def languages(self, template_set: str) -> list[str]:
        """Return the languages a set has, ``nb`` first; raise TemplateError without ``nb``."""
        folder = self.templates_dir / template_set
        if not (folder / DEFAULT_LANGUAGE).is_dir():
            message = _(
                "{folder}: missing; every template set needs its Norwegian Bokmål folder "
                "(see templates/README.md)"
            )
            raise TemplateError(message.format(folder=self._show(folder / DEFAULT_LANGUAGE)))
        found = sorted(
            p.name
            for p in folder.iterdir()
            if p.is_dir() and p.name != DEFAULT_LANGUAGE and not p.name.startswith(("_", "."))
        )
        return [DEFAULT_LANGUAGE, *found]

    def template_name(self, template_set: str, language: str, filename: str) -> str:
        """Return the loader name of the file used: the set's own, else ``_base``'s."""
        key = (template_set, language, filename)
        if key not in self._names:
            self._names[key] = self._find(template_set, language, filename)
        return self._names[key]

    def language_of(self, template_set: str, language: str) -> str:
        """Return the language a set writes to a recipient in: theirs if it has it, else nb."""
        key = (template_set, language, "")
        if key not in self._names:
            folder = self.templates_dir / template_set / language
            usable = language.isalnum() and folder.is_dir()  # no "../" from a contact's field
            self._names[key] = language if usable else DEFAULT_LANGUAGE
        return self._names[key]

    def _find(self, template_set: str, language: str, filename: str) -> str:
        language = self.language_of(template_set, language)
        own = f"{template_set}/{language}/{filename}"
        if (self.templates_dir / own).is_file():
            return own
        base = f"{BASE_SET}/{language}/{filename}"
        if (self.templates_dir / base).is_file():
            return base
        message = _("{file}: not found (nor {base})")
        raise TemplateError(
            message.format(
                file=self._show(self.templates_dir / own),
                base=self._show(self.templates_dir / base),
            )
        )

    # ------------------------------------------------------------ rendering

    def render(
        self,
        meeting: Meeting,
        organizer: Organizer,
        recipient: Recipient,
        *,
        kind: Kind,
        sequence: int = 0,
        previous: Meeting | None = None,
        withdrawn: bool = False,
    ) -> Rendered:
        """Render subject, plain text and HTML for one recipient; raise TemplateError.

        ``previous``: the version this update replaces, so the text can say what changed,
        old and new (SPEC, second edition), and ask again when the change is material.
        """
        language = self.language_of(meeting.template, recipient.language)
        view = self._view(meeting, language)
        update = kind == "request" and sequence > 0
        changes = (
            changed_fields(details_of(previous), details_of(meeting)) if previous and update else []
        )
        context = {
            "meeting": view,
            "recipient": recipient,
            "organizer": organizer,
            "kind": kind,
            "sequence": sequence,
            # imip.md 10: a request with a higher SEQUENCE is an update of an earlier one.
            "update": update,
            "previous": self._view(previous, language) if previous and update else None,
            "changes": changes,
            # RFC 5546 §2.1.4: a new time, place or link asks every attendee again.
            "ask_again": bool({"time", "location", "online_url"} & set(changes)),
            "language": language,
            # A cancel to some attendees only (cancel --to): the meeting itself goes ahead.
            "withdrawn": withdrawn and kind == "cancel",
        }
        subject_name = self.template_name(meeting.template, language, "subject.txt")
        subject = self._render(subject_name, context).strip()
        reason = unsafe_reason(subject)
        if reason:
            # sending.md: a line break in a subject is a header injection.
            message = _("{file}: the subject must be one line of text, but it {reason}")
            raise TemplateError(
                message.format(file=self._show(self.templates_dir / subject_name), reason=reason)
            )
        if not subject:
            message = _("{file}: the subject is empty")
            raise TemplateError(message.format(file=self._show(self.templates_dir / subject_name)))
        text = self._render(self.template_name(meeting.template, language, "body.txt"), context)
        html = self._render(self.template_name(meeting.template, language, "body.html"), context)
        return Rendered(subject=subject, text=tidy_text(text), html=html.strip() + "\n")

    def _view(self, meeting: Meeting, language: str) -> MeetingView:
        view = self._views.get((meeting, language))
        if view is None:
            view = self._views[(meeting, language)] = MeetingView.of(meeting, language)
        return view

    def check(self, meeting: Meeting, organizer: Organizer) -> None:
        """Render every template the meeting may use (each language, each kind) with a sample recipient; raise TemplateError naming template file, line and variable."""  # noqa: E501
        for language in self.languages(meeting.template):
            sample = Recipient(**{**SAMPLE_RECIPIENT.__dict__, "language": language})
            for kind in KINDS:
                self.render(meeting, organizer, sample, kind=kind, sequence=0)
            self.render(meeting, organizer, sample, kind="cancel", sequence=1, withdrawn=True)
            self.render(meeting, organizer, sample, kind="request", sequence=1)
            # An update that changed everything: every "what changed" line is rendered once.
            earlier = dataclasses.replace(
                meeting,
                start=meeting.start - timedelta(days=1),
                end=meeting.end - timedelta(days=1),
                location=f"{meeting.location} (før)",
                online_url=meeting.online_url and f"{meeting.online_url}-old",
                title=f"{meeting.title} (før)",
                description=f"{meeting.description} (før)",
            )
            self.render(meeting, organizer, sample, kind="request", sequence=1, previous=earlier)

    def _render(self, name: str, context: dict[str, Any]) -> str:
        try:
            template = self._compiled.get(name)
            if template is None:
                template = self._compiled[name] = self._env.get_template(name)
            return template.render(context)
        except jinja2.TemplateSyntaxError as exc:
            where = self._show(Path(exc.filename)) if exc.filename else name
            # Jinja's own words (English) follow "line N:".
            message = _("{file}: line {line}: {message}")
            raise TemplateError(
                message.format(file=where, line=exc.lineno, message=exc.message)
            ) from None
        except jinja2.TemplateNotFound as exc:
            file, line = self._template_frame(exc.__traceback__, name)
            message = _("{file}: line {line}: no template '{name}' in {folder}")
            raise TemplateError(
                message.format(
                    file=file, line=line, name=exc.name, folder=self._show(self.templates_dir)
                )
            ) from None
        except Exception as exc:  # any error inside a template: name its file and line
            file, line = self._template_frame(exc.__traceback__, name)
            text = exc.message if isinstance(exc, jinja2.TemplateError) else str(exc)
            message = _("{file}: line {line}: {message}")
            raise TemplateError(message.format(file=file, line=line, message=text)) from None

    def _template_frame(self, tb: TracebackType | None, name: str) -> tuple[str, int | str]:
        """Return the innermost template file and line of a traceback (Jinja rewrites them)."""
        found: tuple[str, int | str] = (self._show(self.templates_dir / name), "?")
        while tb is not None:
            filename = Path(tb.tb_frame.f_code.co_filename)
            if filename.is_relative_to(self.templates_dir):
                found = (self._show(filename), tb.tb_lineno)
            tb = tb.tb_next
        return found

    def _show(self, path: Path) -> str:
        """Show a path as the user knows it: ``templates/temamote/nb/body.txt``."""
        try:
            return path.relative_to(self.templates_dir.parent).as_posix()
        except ValueError:
            return str(path)


def tidy_text(text: str) -> str:
    """Normalise a plain-text body: line ends, no trailing blanks, at most one empty line."""
    text = with_lines(text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n"

"""One rule for control characters, in every text inviter takes in or writes out.

A name, a title or a note may reach a mail header, a calendar property, a terminal, a CSV row or
a Markdown table. Python 3.11.7's ``email`` package is exposed to CVE-2024-6923 (a newline in an
encoded word injects a header); a terminal obeys escape sequences; ``str.splitlines()`` and some
mail parsers end a line at U+0085, U+2028 and U+2029. So one set of characters is refused or
removed everywhere, and the only question a caller answers is whether its text has lines.
"""

from __future__ import annotations

import re

# C0 controls (tab, CR and LF included), DEL, C1 controls (U+0085 NEL among them), and Unicode's
# line and paragraph separators.
CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
_CONTROL = re.compile(f"[{CONTROLS}]")
_CONTROL_RUN = re.compile(f"[{CONTROLS}]+")
# Every way a line may end in text from Windows, old Macs, Unix or Unicode.
_LINE_END = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
# What a text with lines keeps of CONTROLS once its line ends are LF: LF itself, and tab.
_CONTROL_IN_LINES = re.compile(f"(?![\t\n])[{CONTROLS}]")


def first_control(text: str) -> str | None:
    """Return the first control character in ``text``, or None if it has none."""
    match = _CONTROL.search(text)
    return match.group() if match else None


def one_line(text: str) -> str:
    """Return ``text`` on one line: each run of control characters becomes one space, and the
    ends are stripped (a header, a parameter, a table cell, a reason quoted from a bounce)."""
    return _CONTROL_RUN.sub(" ", text).strip()


def with_lines(text: str) -> str:
    """Return ``text`` with every line end as LF and no control character but LF and tab
    (a description, a plain-text body, a note)."""
    return _CONTROL_IN_LINES.sub("", _LINE_END.sub("\n", text))

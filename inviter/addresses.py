"""E-mail addresses and values that end up in mail headers and calendar properties.

Every name, title and address a user gives may reach a header. Python 3.11.7's ``email`` package
is exposed to CVE-2024-6923 (an encoded word holding a newline can inject a header), so values are
checked here, once, before they are stored: no control character (text.py's one rule).
"""

from __future__ import annotations

import re

import email_validator

from inviter.text import first_control

# Unicode's bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder how text
# shows: "‮gpj.exe" reads as "exe.jpg", a name can show as another's. Nobody's name needs them.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# An encoded word in user text could be decoded into a newline by a later reader.
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def unsafe_reason(value: str) -> str | None:
    """Say why ``value`` cannot go into a header or calendar property, or None if it can."""
    char = first_control(value)  # tab included: it has no place in a name
    if char:
        names = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", "\t": "a tab"}
        return f"contains {names.get(char, f'the control character U+{ord(char):04X}')}"
    bidi = _BIDI.search(value)
    if bidi:
        return (
            f"contains the bidirectional control U+{ord(bidi.group()):04X}, which changes how "
            "the text around it shows; type the text without it"
        )
    if _ENCODED_WORD.search(value):
        return "contains an RFC 2047 encoded word (=?…?=); write the text itself"
    return None


def normalize_email(value: str) -> str:
    """Return the address in its identity form (ASCII, lower case); raise ValueError why not.

    The identity is case-folded (SPEC: importing again updates, never duplicates). No DNS
    lookups: the county's lists are checked offline.
    """
    text = value.strip()
    if not text:
        raise ValueError("the e-mail address is empty")
    reason = unsafe_reason(text)
    if reason:
        raise ValueError(f"the e-mail address {reason}")
    if "," in text or ";" in text or "<" in text or " " in text:
        # A comma in an address field is a second recipient (sending.md, header injection).
        raise ValueError(f"'{text}' is not one plain address (no name, comma or spaces)")
    try:
        checked = email_validator.validate_email(
            text, check_deliverability=False, allow_smtputf8=False
        )
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f"'{text}' is not a valid e-mail address: {exc}") from exc
    return str(checked.ascii_email or checked.normalized).lower()


def domain_of(address: str) -> str:
    """Return the domain part of an address."""
    return address.rpartition("@")[2]

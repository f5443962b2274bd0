"""E-mail addresses and values that end up in mail headers and calendar properties.

Every name, title and address a user gives may reach a header. Python 3.11.7's ``email`` package
is exposed to CVE-2024-6923 (an encoded word holding a newline can inject a header), so values are
checked here, once, before they are stored: no control character (text.py's one rule).
"""

from __future__ import annotations

import re

import email_validator

from inviter.text import first_control
from inviter.translation import N_, _

# Unicode's bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder how text
# shows: "‮gpj.exe" reads as "exe.jpg", a name can show as another's. Nobody's name needs them.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# An encoded word in user text could be decoded into a newline by a later reader.
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")

# The control characters people type by accident, by name.
_CONTROLS = {
    "\r": N_("contains a carriage return (CR)"),
    "\n": N_("contains a line feed (LF)"),
    "\t": N_("contains a tab"),
}

# What email_validator 2 says of the addresses staff mistype most; its other reasons (rare:
# IP literals, IDNA, lengths) are shown as it writes them, in English.
_VALIDATOR_MESSAGES = frozenset(
    {
        N_("There must be something after the @-sign."),
        N_("There must be something before the @-sign."),
        N_("An email address must have an @-sign."),
        N_("The part after the @-sign is not valid. It should have a period."),
        N_("The part after the @-sign is not valid. It is not within a valid top-level domain."),
        N_("An email address cannot have two periods in a row."),
        N_("An email address cannot start with a period."),
        N_("An email address cannot end with a period."),
        N_("An email address cannot have a period immediately before the @-sign."),
        N_("An email address cannot have a period immediately after the @-sign."),
        N_("An email address cannot start with a hyphen."),
        N_("An email address cannot end with a hyphen."),
        N_("An email address cannot have a hyphen immediately before the @-sign."),
        N_("An email address cannot have a hyphen immediately after the @-sign."),
        N_("An email address cannot have a period and a hyphen next to each other."),
        N_("The email address contains invalid characters before the @-sign."),
        N_("Internationalized characters before the @-sign are not supported."),
    }
)
# Its reasons that end in a list of the characters at fault (``: 'å'.``), by their beginning.
_VALIDATOR_LISTS = {
    "The part after the @-sign contains invalid characters: ": N_(
        "The part after the @-sign contains invalid characters: {characters}"
    ),
    "The email address contains invalid characters before the @-sign: ": N_(
        "The email address contains invalid characters before the @-sign: {characters}"
    ),
    "Internationalized characters before the @-sign are not supported: ": N_(
        "Internationalized characters before the @-sign are not supported: {characters}"
    ),
}


def unsafe_reason(value: str) -> str | None:
    """Say why ``value`` cannot go into a header or calendar property, or None if it can."""
    char = first_control(value)  # tab included: it has no place in a name
    if char:
        named = _CONTROLS.get(char)
        if named:
            return _(named)
        return _("contains the control character U+{code}").format(code=f"{ord(char):04X}")
    bidi = _BIDI.search(value)
    if bidi:
        message = _(
            "contains the bidirectional control U+{code}, which changes how "
            "the text around it shows; type the text without it"
        )
        return message.format(code=f"{ord(bidi.group()):04X}")
    if _ENCODED_WORD.search(value):
        return _("contains an RFC 2047 encoded word (=?…?=); write the text itself")
    return None


def normalize_email(value: str) -> str:
    """Return the address in its identity form (ASCII, lower case); raise ValueError why not.

    The identity is case-folded (SPEC: importing again updates, never duplicates). No DNS
    lookups: the county's lists are checked offline.
    """
    text = value.strip()
    if not text:
        raise ValueError(_("the e-mail address is empty"))
    reason = unsafe_reason(text)
    if reason:
        raise ValueError(_("the e-mail address {reason}").format(reason=reason))
    if "," in text or ";" in text or "<" in text or " " in text:
        # A comma in an address field is a second recipient (sending.md, header injection).
        message = _("'{address}' is not one plain address (no name, comma or spaces)")
        raise ValueError(message.format(address=text))
    try:
        checked = email_validator.validate_email(
            text, check_deliverability=False, allow_smtputf8=False
        )
    except email_validator.EmailNotValidError as exc:
        message = _("'{address}' is not a valid e-mail address: {reason}")
        raise ValueError(message.format(address=text, reason=_validator_reason(str(exc)))) from exc
    return str(checked.ascii_email or checked.normalized).lower()


def _validator_reason(text: str) -> str:
    """email_validator's reason in the chosen language, where the catalog has it; else as the
    library wrote it (English)."""
    if text in _VALIDATOR_MESSAGES:
        return _(text)
    for prefix, message in _VALIDATOR_LISTS.items():
        if text.startswith(prefix):
            return _(message).format(characters=text.removeprefix(prefix))
    return text


def domain_of(address: str) -> str:
    """Return the domain part of an address."""
    return address.rpartition("@")[2]

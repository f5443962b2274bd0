"""Why tomllib refused a file, in the language staff read: inviter.toml and inviter-uids.toml
are written by hand, and the reason ("Invalid value (at line 3, column 8)") is what tells a
person what to mend. Reasons tomllib may add later are shown as it writes them."""

from __future__ import annotations

import re

from inviter.translation import N_, _

# tomllib's messages (Python 3.11-3.13: "<reason> (at line L, column C)" or "(at end of
# document)"). Those that name a key or a character are matched by their pattern.
_TOML_PLACE = re.compile(
    r"(?P<reason>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)",
    re.DOTALL,
)
_TOML_REASONS = frozenset(
    {
        N_("Cannot overwrite a value"),
        N_("Escaped character is not a Unicode scalar value"),
        N_("Expected '=' after a key in a key/value pair"),
        N_("Expected ']' at the end of a table declaration"),
        N_("Expected ']]' at the end of an array declaration"),
        N_("Expected newline or end of document after a statement"),
        N_("Invalid date or datetime"),
        N_("Invalid hex value"),
        N_("Invalid initial character for a key part"),
        N_("Invalid statement"),
        N_("Invalid value"),
        N_("Unclosed array"),
        N_("Unclosed inline table"),
        N_("Unescaped '\\' in a string"),
        N_("Unterminated string"),
    }
)
_TOML_PATTERNS = (
    (re.compile(r"Cannot declare (?P<key>.+) twice"), N_("Cannot declare {key} twice")),
    (
        re.compile(r"Cannot mutate immutable namespace (?P<key>.+)"),
        N_("Cannot mutate immutable namespace {key}"),
    ),
    (re.compile(r"Cannot redefine namespace (?P<key>.+)"), N_("Cannot redefine namespace {key}")),
    (
        re.compile(r"Duplicate inline table key (?P<key>.+)"),
        N_("Duplicate inline table key {key}"),
    ),
    (re.compile(r"Expected (?P<expected>'.+')"), N_("Expected {expected}")),
    (
        re.compile(r"Found invalid character (?P<character>.+)"),
        N_("Found invalid character {character}"),
    ),
    (re.compile(r"Illegal character (?P<character>.+)"), N_("Illegal character {character}")),
)


def toml_reason(text: str) -> str:
    """tomllib's reason for refusing a file, in the chosen language where the catalog has it:
    ``Invalid value (at line 3, column 8)``. Anything unforeseen is shown as tomllib wrote it."""
    found = _TOML_PLACE.match(text)
    if not found:
        return text
    reason = found["reason"]
    if reason in _TOML_REASONS:
        reason = _(reason)
    else:
        for pattern, message in _TOML_PATTERNS:
            matched = pattern.fullmatch(reason)
            if matched:
                reason = _(message).format(**matched.groupdict())
                break
    if found["line"]:
        where = _("{reason} (at line {line}, column {column})")
        return where.format(reason=reason, line=found["line"], column=found["column"])
    return _("{reason} (at end of document)").format(reason=reason)

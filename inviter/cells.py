"""One guard for every spreadsheet cell the tool writes: no cell can become a formula.

OWASP "CSV Injection": a cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or line break
before one) is run by Excel and LibreOffice as a formula; Excel also reads the full-width forms
(＝ ＋ － ＠) as the ASCII ones. Such a cell gets a leading apostrophe, which spreadsheets hide
and ``contacts import`` takes off again, so an exported list reads back as it was.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value: str) -> str:
    """Return the cell with a leading ``'`` when a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unneutralise(value: str) -> str:
    """Undo ``neutralise`` on a cell read back (an apostrophe before a formula start)."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value

"""Dates and times written the way a Norwegian (or English) letter writes them.

Written out by hand rather than through the C locale, which may not have nb_NO installed and
would make the text depend on the machine it runs on.
"""

from __future__ import annotations

from datetime import date, datetime

_WEEKDAYS = {
    "nb": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "nb": (
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def _language(language: str) -> str:
    # Any language without its own names (a user's own template language) reads Bokmål dates.
    return language if language in _WEEKDAYS else "nb"


def month_name(month: int, language: str = "nb") -> str:
    """Return the month's name (1 = January): ``november`` (nb) or ``November`` (en)."""
    return _MONTHS[_language(language)][month - 1]


def format_date(day: date, language: str = "nb", *, weekday: bool = True, year: bool = True) -> str:
    """Return ``onsdag 9. november 2022`` (nb) or ``Wednesday 9 November 2022`` (en)."""
    lang = _language(language)
    month = _MONTHS[lang][day.month - 1]
    text = f"{day.day}. {month}" if lang == "nb" else f"{day.day} {month}"
    if year:
        text += f" {day.year}"
    return f"{_WEEKDAYS[lang][day.weekday()]} {text}" if weekday else text


def format_time(moment: datetime, language: str = "nb") -> str:
    """Return ``10.00`` (nb: Språkrådet writes a point) or ``10:00`` (en)."""
    separator = "." if _language(language) == "nb" else ":"
    return f"{moment.hour:02d}{separator}{moment.minute:02d}"


def format_when(start: datetime, end: datetime, language: str = "nb") -> str:
    """Return the meeting's time, one day or several.

    nb: ``onsdag 9. november 2022 kl. 10.00–15.00`` and
    ``tirsdag 11. oktober kl. 10.00 – onsdag 12. oktober 2022 kl. 15.00``.
    en: ``Wednesday 9 November 2022, 10:00–15:00`` and
    ``Tuesday 11 October, 10:00 – Wednesday 12 October 2022, 15:00``.
    """
    lang = _language(language)
    at = "kl. " if lang == "nb" else ""
    joint = " " if lang == "nb" else ", "
    if start.date() == end.date():
        return (
            f"{format_date(start.date(), lang)}{joint}{at}"
            f"{format_time(start, lang)}–{format_time(end, lang)}"
        )
    first = format_date(start.date(), lang, year=start.year != end.year)
    last = format_date(end.date(), lang)
    return (
        f"{first}{joint}{at}{format_time(start, lang)} – {last}{joint}{at}{format_time(end, lang)}"
    )


def format_dates(start: date, end: date, language: str = "nb") -> str:
    """Return the days alone, compactly: ``9. november 2022``, ``11.–12. oktober 2022``."""
    lang = _language(language)
    if start == end:
        return format_date(start, lang, weekday=False)
    if (start.year, start.month) == (end.year, end.month):
        day = f"{start.day}." if lang == "nb" else f"{start.day}"
        return f"{day}–{format_date(end, lang, weekday=False)}"
    first = format_date(start, lang, weekday=False, year=start.year != end.year)
    return f"{first} – {format_date(end, lang, weekday=False)}"


# Språkrådet: whole numbers up to twelve are written in letters in running text ("to dager").
_NUMBER_WORDS = {
    "nb": ("null", "én", "to", "tre", "fire", "fem", "seks", "sju", "åtte", "ni", "ti", "elleve",
           "tolv"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
           "eleven", "twelve"),
}  # fmt: skip


def number_word(number: int, language: str = "nb") -> str:
    """Return a count as running text writes it: in letters up to twelve, else in digits."""
    words = _NUMBER_WORDS[_language(language)]
    return words[number] if 0 <= number < len(words) else str(number)

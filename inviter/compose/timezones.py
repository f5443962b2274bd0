"""VTIMEZONE for a meeting's zone, derived from the zone's own rules (imip.md 8).

Each standard/daylight change is written as one yearly RRULE when one rule predicts every year
of the meeting's span, else as the observed changes: icalendar's add_missing_timezones writes
RDATE lists, which Outlook mishandles. Written as icalendar components, as khal does
(khal/khalendar/event.py).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

from inviter.text import one_line

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# ---------------------------------------------------------------- rule-based VTIMEZONE


@dataclass(frozen=True)
class YearlyRule:
    """One yearly change of offset: the nth (or last, -1) weekday of a month at a wall time."""

    month: int
    weekday: int  # Monday = 0
    nth: int
    at: time  # wall-clock time before the change (RFC 5545 §3.6.5: DTSTART is local time)
    offset_from: timedelta
    offset_to: timedelta
    name: str

    def day_in(self, year: int) -> date:
        """Return the date the rule falls on in ``year``."""
        if self.nth < 0:
            last = calendar.monthrange(year, self.month)[1]
            back = (date(year, self.month, last).weekday() - self.weekday) % 7
            return date(year, self.month, last - back)
        first = (self.weekday - date(year, self.month, 1).weekday()) % 7
        return date(year, self.month, 1 + first + 7 * (self.nth - 1))

    def component(self) -> TimezoneStandard | TimezoneDaylight:
        """Return the STANDARD or DAYLIGHT sub-component, its change as a yearly RRULE."""
        part = TimezoneDaylight() if self.offset_to > self.offset_from else TimezoneStandard()
        part.add("dtstart", datetime.combine(self.day_in(1970), self.at))
        part.add("tzoffsetfrom", self.offset_from)
        part.add("tzoffsetto", self.offset_to)
        part.add("tzname", one_line(self.name))
        byday = f"{self.nth}{_WEEKDAYS[self.weekday]}"
        part.add("rrule", {"FREQ": "YEARLY", "BYMONTH": self.month, "BYDAY": byday})
        return part


@dataclass(frozen=True)
class ZoneRules:
    """A time zone as a VTIMEZONE: a fixed offset, or two yearly rules."""

    tzid: str
    fixed: timedelta | None
    fixed_name: str
    rules: tuple[YearlyRule, ...]

    def component(self) -> Timezone:
        """Return the VTIMEZONE component."""
        zone = Timezone()
        zone.add("tzid", self.tzid)
        if self.fixed is not None:
            standard = TimezoneStandard()
            standard.add("dtstart", datetime(1970, 1, 1))
            standard.add("tzoffsetfrom", self.fixed)
            standard.add("tzoffsetto", self.fixed)
            standard.add("tzname", one_line(self.fixed_name))
            zone.add_component(standard)
        for rule in sorted(self.rules, key=lambda r: r.offset_to <= r.offset_from):
            zone.add_component(rule.component())
        return zone


@lru_cache(maxsize=64)
def timezone_rules(key: str, first_year: int, last_year: int) -> ZoneRules | None:
    """Return the zone's rules valid from ``first_year``-1 to ``last_year``+1, or None.

    imip.md 8: Outlook shifts events by an hour when the VTIMEZONE is a long RDATE list, so the
    zone is written from its yearly rules (RRULE). A zone whose changes follow no such rule in
    those years (or UTC itself) gets None: the caller writes UTC times instead.
    """
    zone = ZoneInfo(key)
    years = range(first_year - 1, last_year + 2)
    changes = {year: _changes(zone, year) for year in years}
    if all(not found for found in changes.values()):
        offset = datetime(first_year, 1, 1, tzinfo=zone).utcoffset() or timedelta(0)
        if offset == timedelta(0):
            return None
        name = datetime(first_year, 1, 1, tzinfo=zone).tzname() or key
        return ZoneRules(tzid=key, fixed=offset, fixed_name=name, rules=())
    sample = changes[first_year]
    if any(len(found) != 2 for found in changes.values()):
        return None
    rules = []
    for moment, before, after, name in sample:
        rule = _rule_for(moment, before, after, name, changes)
        if rule is None:
            return None
        rules.append(rule)
    return ZoneRules(tzid=key, fixed=None, fixed_name="", rules=tuple(rules))


_Change = tuple[datetime, timedelta, timedelta, str]


def _rule_for(
    moment: datetime,
    before: timedelta,
    after: timedelta,
    name: str,
    changes: dict[int, list[_Change]],
) -> YearlyRule | None:
    """Return the yearly rule that predicts this change in every year checked, or None."""
    local = (moment + before).replace(tzinfo=None)
    last = calendar.monthrange(local.year, local.month)[1]
    candidates = [-1] if local.day + 7 > last else []
    candidates.append((local.day - 1) // 7 + 1)
    for nth in candidates:
        rule = YearlyRule(
            month=local.month,
            weekday=local.weekday(),
            nth=nth,
            at=local.time(),
            offset_from=before,
            offset_to=after,
            name=name,
        )
        if all(_predicts(rule, found) for found in changes.values()):
            return rule
    return None


def _predicts(rule: YearlyRule, found: list[_Change]) -> bool:
    for moment, before, after, _name in found:
        if (before, after) == (rule.offset_from, rule.offset_to):
            local = (moment + before).replace(tzinfo=None)
            return local.date() == rule.day_in(local.year) and local.time() == rule.at
    return False


@lru_cache(maxsize=256)
def _changes_cached(key: str, year: int) -> tuple[_Change, ...]:
    return tuple(_scan(ZoneInfo(key), year))


def _changes(zone: ZoneInfo, year: int) -> list[_Change]:
    return list(_changes_cached(zone.key, year))


def _scan(zone: ZoneInfo, year: int) -> list[_Change]:
    """Find every change of UTC offset in a year: a daily scan, then bisection to the second."""
    found: list[_Change] = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    while moment < end:
        following = moment + timedelta(days=1)
        offset = following.astimezone(zone).utcoffset()
        if offset != previous:
            # Bisect on whole seconds: tz changes fall on whole seconds.
            low, high = int(moment.timestamp()), int(following.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if datetime.fromtimestamp(middle, zone).utcoffset() == previous:
                    low = middle
                else:
                    high = middle
            changed = datetime.fromtimestamp(high, UTC)
            if changed < end:
                after = changed.astimezone(zone)
                found.append(
                    (
                        changed,
                        previous or timedelta(0),
                        after.utcoffset() or timedelta(0),
                        after.tzname() or zone.key,
                    )
                )
            previous = offset
        moment = following
    return found

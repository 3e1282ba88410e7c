"""Reporting periods: "YYYY-MM", "YYYY-Qn" or "YYYY", as calendar days and as UTC bounds [start, end).

A period is made of whole calendar days in the programme's time zone (the app's BABEL_DEFAULT_TIMEZONE,
Africa/Casablanca): it starts at local midnight of its first day and ends at local midnight of the day after its
last day. Morocco is at UTC+1 except during Ramadan (UTC+0), so the same local midnight is 23:00 or 00:00 UTC
depending on the date; stored timestamps are UTC, so every query compares them with these UTC bounds.
"""
import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Africa/Casablanca"
MIN_YEAR, MAX_YEAR = 2000, 2999
PERIOD_FORMATS = "YYYY-MM (e.g. 2026-03), YYYY-Qn (e.g. 2026-Q1) or YYYY (e.g. 2026)"

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
_QUARTER = re.compile(r"([0-9]{4})-Q([0-9])", re.ASCII)
_YEAR = re.compile(r"([0-9]{4})", re.ASCII)


@dataclass(frozen=True)
class Period:
    """A reporting period: its label, kind (month/quarter/year), first and last day, and UTC bounds [start, end)."""

    label: str
    kind: str
    first_day: date
    last_day: date
    start: datetime  # local midnight at the beginning of first_day, in UTC (aware)
    end: datetime  # local midnight at the end of last_day, in UTC (aware); excluded
    timezone: str


def local_midnight_utc(day: date, zone: str) -> datetime:
    """The instant (UTC, aware) the local day `day` begins in `zone`.

    fold=0 takes the first occurrence of an ambiguous midnight, and a midnight that falls in a skipped hour maps to
    the transition instant, i.e. the first instant of that day in both cases.
    """
    local = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).replace(fold=0)
    return local.astimezone(timezone.utc)


def _default_zone() -> str:
    try:
        from flask import current_app

        return current_app.config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_TIMEZONE
    except RuntimeError:  # outside an application context
        return DEFAULT_TIMEZONE


def _year(text: str, raw: str) -> int:
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"Period {raw!r}: the year must be between {MIN_YEAR} and {MAX_YEAR}.")
    return year


def parse_period(text: str, zone: str | None = None) -> Period:
    """Parse "YYYY-MM", "YYYY-Qn" (n = 1..4) or "YYYY" into a Period; anything else raises ValueError.

    Only ASCII digits, an upper-case Q and no surrounding spaces are accepted. `zone` defaults to the app's
    BABEL_DEFAULT_TIMEZONE (Africa/Casablanca outside an application context).
    """
    if not isinstance(text, str):
        raise ValueError(f"A period is text in one of the forms {PERIOD_FORMATS}.")
    if match := _MONTH.fullmatch(text):
        year, month = _year(match[1], text), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"Period {text!r}: the month must be between 01 and 12.")
        kind, first = "month", date(year, month, 1)
        last = date(year, month, calendar.monthrange(year, month)[1])
    elif match := _QUARTER.fullmatch(text):
        year, quarter = _year(match[1], text), int(match[2])
        if not 1 <= quarter <= 4:
            raise ValueError(f"Period {text!r}: the quarter must be Q1, Q2, Q3 or Q4.")
        kind, first = "quarter", date(year, 3 * quarter - 2, 1)
        last_month = 3 * quarter
        last = date(year, last_month, calendar.monthrange(year, last_month)[1])
    elif match := _YEAR.fullmatch(text):
        year = _year(match[1], text)
        kind, first, last = "year", date(year, 1, 1), date(year, 12, 31)
    else:
        raise ValueError(f"Unknown period {text!r}: use {PERIOD_FORMATS}.")
    zone = zone or _default_zone()
    return Period(label=text, kind=kind, first_day=first, last_day=last, start=local_midnight_utc(first, zone),
                  end=local_midnight_utc(last + timedelta(days=1), zone), timezone=zone)

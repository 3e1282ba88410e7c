"""Reporting periods: parsing, calendar days, UTC bounds at local midnight in Casablanca (UTC+1, UTC+0 in Ramadan)."""
from datetime import date, datetime, timezone

import pytest

from caseapp.reports.periods import local_midnight_utc, parse_period


def utc(*fields) -> datetime:
    return datetime(*fields, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, kind, first, last", [
    ("2026-03", "month", date(2026, 3, 1), date(2026, 3, 31)),
    ("2026-02", "month", date(2026, 2, 1), date(2026, 2, 28)),
    ("2028-02", "month", date(2028, 2, 1), date(2028, 2, 29)),
    ("2026-12", "month", date(2026, 12, 1), date(2026, 12, 31)),
    ("2026-Q1", "quarter", date(2026, 1, 1), date(2026, 3, 31)),
    ("2026-Q2", "quarter", date(2026, 4, 1), date(2026, 6, 30)),
    ("2026-Q3", "quarter", date(2026, 7, 1), date(2026, 9, 30)),
    ("2026-Q4", "quarter", date(2026, 10, 1), date(2026, 12, 31)),
    ("2026", "year", date(2026, 1, 1), date(2026, 12, 31)),
])
def test_each_form_gives_its_calendar_days(text, kind, first, last):
    period = parse_period(text)
    assert (period.label, period.kind, period.first_day, period.last_day) == (text, kind, first, last)
    assert period.timezone == "Africa/Casablanca"


@pytest.mark.parametrize("text, start, end", [
    # January: UTC+1 on both sides.
    ("2026-01", utc(2025, 12, 31, 23), utc(2026, 1, 31, 23)),
    # February 2026 starts at UTC+1 and ends in Ramadan time (UTC+0 from 15 February 03:00 local).
    ("2026-02", utc(2026, 1, 31, 23), utc(2026, 3, 1, 0)),
    # March 2026 starts at UTC+0 and ends at UTC+1 (back on 22 March): 31 days minus one hour long.
    ("2026-03", utc(2026, 3, 1, 0), utc(2026, 3, 31, 23)),
    ("2026-Q1", utc(2025, 12, 31, 23), utc(2026, 3, 31, 23)),
    ("2026", utc(2025, 12, 31, 23), utc(2026, 12, 31, 23)),
    # 2027: Ramadan time from 7 February to 14 March.
    ("2027-03", utc(2027, 3, 1, 0), utc(2027, 3, 31, 23)),
])
def test_bounds_are_local_midnights_in_utc(text, start, end):
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)
    assert period.start.tzinfo is timezone.utc and period.end.tzinfo is timezone.utc


def test_an_instant_belongs_to_the_local_day_it_falls_on():
    march, april = parse_period("2026-03"), parse_period("2026-04")
    late_march = utc(2026, 3, 31, 22, 30)  # 23:30 in Casablanca on 31 March
    first_april = utc(2026, 3, 31, 23, 0)  # 00:00 in Casablanca on 1 April
    assert march.start <= late_march < march.end
    assert not march.start <= first_april < march.end and april.start <= first_april < april.end
    feb = parse_period("2026-02")
    last_feb_evening = utc(2026, 2, 28, 23, 30)  # UTC+0 then: still 28 February locally
    assert feb.start <= last_feb_evening < feb.end
    assert feb.start <= utc(2026, 1, 31, 23, 30) < feb.end  # 00:30 on 1 February locally (UTC+1)
    assert utc(2026, 1, 31, 22, 59) < feb.start  # 23:59 on 31 January locally
    assert utc(2026, 3, 1, 0, 0) == feb.end  # Ramadan time: local midnight is midnight UTC


def test_consecutive_periods_tile_time_without_gap_or_overlap():
    months = [parse_period(f"2026-{month:02d}") for month in range(1, 13)]
    for before, after in zip(months, months[1:]):
        assert before.end == after.start
    year = parse_period("2026")
    assert (months[0].start, months[-1].end) == (year.start, year.end)
    quarters = [parse_period(f"2026-Q{n}") for n in range(1, 5)]
    assert [(q.start, q.end) for q in quarters] == [(months[3 * i].start, months[3 * i + 2].end) for i in range(4)]


def test_the_zone_can_be_given_and_defaults_to_the_apps(app):
    assert parse_period("2026-07", zone="UTC").start == utc(2026, 7, 1)
    assert parse_period("2026-07", zone="Europe/Paris").start == utc(2026, 6, 30, 22)
    with app.app_context():
        assert parse_period("2026-07").timezone == app.config["BABEL_DEFAULT_TIMEZONE"]


def test_a_midnight_in_a_skipped_or_repeated_hour_is_the_first_instant_of_the_day():
    # Santiago skips 00:00-01:00 on 2026-09-06: the day starts at 01:00 local (UTC-3) = 04:00 UTC.
    assert local_midnight_utc(date(2026, 9, 6), "America/Santiago") == utc(2026, 9, 6, 4)
    # Havana repeats 00:00-01:00 on 2026-11-01: the day starts at the first 00:00 (still UTC-4) = 04:00 UTC.
    assert local_midnight_utc(date(2026, 11, 1), "America/Havana") == utc(2026, 11, 1, 4)


@pytest.mark.parametrize("text", [
    "", "2026-3", "2026-13", "2026-00", "2026-Q0", "2026-Q5", "2026-q1", "2026Q1", "26-03", "2026-03-01",
    " 2026-03", "2026-03 ", "2026-H1", "٢٠٢٦-٠٣", "２０２６", "1999", "3000-01", "2026-W10", "2026-3Q",
])
def test_anything_else_is_refused_with_a_clear_message(text):
    with pytest.raises(ValueError) as refused:
        parse_period(text)
    message = str(refused.value)
    assert "YYYY" in message or "between" in message or "quarter" in message


def test_not_text_is_refused():
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_period(202603)

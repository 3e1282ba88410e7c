"""Template filters: numbers in the interface language, the same as Babel writes them, whatever was written before."""
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from flask_babel import force_locale


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_numbers_are_written_as_babel_writes_them_in_each_language(app, language):
    number = app.jinja_env.filters["number"]
    values = [0, 7, 1234, 1234567, -4321, 12.5, 0.125, Decimal("98765.4"), -0.0, 0.0]
    with app.test_request_context():
        for other in ("fr", "ar", "en"):  # remembered values of another language never leak into this one
            with force_locale(other):
                [number(value) for value in values]
        with force_locale(language):
            written = [number(value) for value in values]
    assert written == [format_decimal(value, locale=language) for value in values]
    assert (written[3] == "1\u202f234\u202f567") == (language == "fr")  # French groups with a narrow no-break space


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_dates_and_moments_are_written_as_babel_writes_them_in_each_language(app, language):
    """Dates as Flask-Babel's format_date writes them; moments as Babel's format_datetime writes them in the
    programme's time zone read from the system's time-zone database (not Flask-Babel's pytz zone, see below)."""
    from datetime import date, datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime
    from flask_babel import format_date

    written_date = app.jinja_env.filters["date"]
    days = [date(2026, 1, 1), date(1990, 2, 28), date(2024, 2, 29), date(2026, 12, 31)]
    # Naive moments are UTC (as SQLite hands them back); others are in UTC or another zone, around midnight, the
    # new year and Morocco's clock changes of 2026 (15 February, 22 March).
    moments = [datetime(2026, 12, 31, 23, 30, 5), datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc),
               datetime(2026, 6, 15, 12, 0, 59, tzinfo=timezone(timedelta(hours=-5))),
               datetime(2026, 2, 15, 1, 59, 59, tzinfo=timezone.utc), datetime(2026, 3, 22, 2, 0, 0)]
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    with app.test_request_context():
        for other in ("fr", "ar", "en"):  # remembered dates of another language never leak into this one
            with force_locale(other):
                [written_date(day) for day in days + moments]
        with force_locale(language):
            assert [written_date(day) for day in days] == [format_date(day, "medium") for day in days]
            assert [written_date(moment) for moment in moments] == [
                format_datetime(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc), "medium",
                                tzinfo=zone, locale=language) for moment in moments]
            assert written_date(None) == ""


def test_moments_are_shown_in_morocco_s_actual_time_after_september_2026(app):
    """Morocco keeps UTC+1 but for Ramadan. pytz 2026.6 (Flask-Babel's zones) has it at UTC+0 from 20 September 2026:
    pages showed every time an hour early, and a moment before 01:00 on the day before."""
    from datetime import datetime, timezone

    written_date = app.jinja_env.filters["date"]
    with app.test_request_context(), force_locale("fr"):
        assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Africa/Casablanca"
        assert written_date(datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)).endswith("13:00:00")
        assert written_date(datetime(2026, 12, 31, 23, 30)).startswith("1 janv. 2027")
        assert written_date(datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)).endswith("12:00:00")  # Ramadan: UTC+0

"""Jinja filters: locale-aware dates and numbers, and labels for stored codes; fingerprinted static URLs."""
from datetime import date, datetime, time, timezone
from functools import lru_cache

from flask import Flask
from babel import dates as babel_dates
from babel.lists import format_list
from babel.numbers import format_decimal as babel_format_decimal
from flask_babel import format_decimal

from caseapp import labels
from caseapp.assets import init_assets
from caseapp.i18n import current_language, current_locale_name, programme_timezone
from caseapp.places.countries import country_name
from caseapp.routing import IdUrls


def date_text(value: date | datetime | None) -> str:
    """A date, or a moment in the programme's time zone (i18n.programme_timezone), written as Flask-Babel's
    "medium" format writes it. The date and time parts are remembered per day, time of day and language: Babel
    takes ~150 µs for a date (month names), ~20 µs for a time, and a list shows 50."""
    if value is None:
        return ""
    name = current_locale_name()
    if not isinstance(value, datetime):
        return _formatted_date(value, name)
    local = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(programme_timezone())
    return (_datetime_layout(name).replace("{0}", _formatted_time(local.time(), name))
            .replace("{1}", _formatted_date(local.date(), name)))


@lru_cache(maxsize=8192)
def _formatted_date(value: date, locale: str) -> str:
    return babel_dates.format_date(value, "medium", locale=locale)


@lru_cache(maxsize=8192)
def _formatted_time(value: time, locale: str) -> str:
    """A time of day (no zone: the caller converted it) in the language's "medium" format."""
    return babel_dates.format_time(value, "medium", locale=locale)


@lru_cache(maxsize=16)
def _datetime_layout(locale: str) -> str:
    """How the language joins a date ({1}) and a time ({0}), as babel.dates.format_datetime reads it."""
    return babel_dates.get_datetime_format("medium", locale=locale).replace("'", "")


def number_text(value) -> str:
    """A number written the way the interface language writes it. Remembered per value and language: a report page
    writes about 1,000 whole numbers, mostly the same small counts, and Babel takes ~50 µs for each."""
    if type(value) is not int:  # only whole numbers: -0.0 == 0 would share a remembered "-0"
        return format_decimal(value)
    return _formatted_number(value, current_locale_name())


@lru_cache(maxsize=8192)
def _formatted_number(value: int, locale: str) -> str:
    return babel_format_decimal(value, locale=locale)


def closure_reason_name(code: str | None) -> str:
    from caseapp.cases.workflow import closure_reasons

    row = closure_reasons().get(code or "")
    return (row.get(f"name_{current_language()}") or row["name_fr"]) if row else (code or "")


def _list(items) -> str:
    """A list joined the way the interface language joins lists."""
    items = [str(item) for item in items]
    return format_list(items, locale=current_language()) if items else ""


def _age(born: date | None) -> str:
    """Age in completed years today."""
    if born is None:
        return ""
    today = date.today()
    return str(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))


def _label(mapping: labels.Labels):
    return lambda code: labels.label_of(mapping.in_language(), code)


def init_templating(app: Flask) -> None:
    """Register the filters used by templates, and `asset(...)` with the static files it links."""
    init_assets(app)
    app.jinja_env.filters.update(
        date=date_text,
        number=number_text,
        country=country_name,
        sex_label=_label(labels.SEX_LABELS),
        profile_label=_label(labels.PROFILE_LABELS),
        status_label=_label(labels.CASE_STATUS_LABELS),
        role_label=_label(labels.ROLE_LABELS),
        document_label=_label(labels.DOCUMENT_TYPE_LABELS),
        consent_kind_label=_label(labels.CONSENT_KIND_LABELS),
        consent_method_label=_label(labels.CONSENT_METHOD_LABELS),
        spoken_language_label=_label(labels.SPOKEN_LANGUAGE_LABELS),
        risk_label=_label(labels.RISK_LABELS),
        area_label=_label(labels.SERVICE_AREA_LABELS),
        action_status_label=_label(labels.ACTION_STATUS_LABELS),
        note_kind_label=_label(labels.NOTE_KIND_LABELS),
        record_label=_label(labels.RECORD_LABELS),
        change_label=_label(labels.CHANGE_LABELS),
        field_label=_label(labels.FIELD_LABELS),
        closure_reason_label=closure_reason_name,
        referral_status_label=_label(labels.REFERRAL_STATUS_LABELS),
        referral_action_label=_label(labels.REFERRAL_ACTION_LABELS),
        priority_label=_label(labels.PRIORITY_LABELS),
        outcome_label=_label(labels.OUTCOME_LABELS),
        shareable_label=_label(labels.SHAREABLE_FIELD_LABELS),
        age=_age,
        join_list=_list,
    )
    app.jinja_env.globals["id_urls"] = IdUrls
    from caseapp.cases.table import case_table_rows  # it writes its dates with date_text, above

    app.jinja_env.globals["case_table_rows"] = case_table_rows

"""Locale selection (user preference → session → browser → French), text direction, localized names, time zone."""
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

LANGUAGES = {"fr": "Français", "ar": "العربية", "en": "English"}
RTL_LANGUAGES = {"ar"}
DEFAULT_LANGUAGE = "fr"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def programme_timezone() -> ZoneInfo:
    """The programme's time zone (BABEL_DEFAULT_TIMEZONE), from the system's time-zone database, for every local
    date and time the app shows or computes. Not Flask-Babel's `get_timezone` (pytz): pytz 2026.6 puts Morocco at
    UTC+0 from 20 September 2026, an hour behind its UTC+1 (UTC+0 only during Ramadan)."""
    return _zone(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def select_locale() -> str:
    """Pick the interface language for this request."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.preferred_language in LANGUAGES:
        return current_user.preferred_language
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return request.accept_languages.best_match(list(LANGUAGES)) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    """Language code of the current request ('fr', 'ar' or 'en')."""
    return str(get_locale() or DEFAULT_LANGUAGE).split("_")[0]


def text_direction() -> str:
    """'rtl' for Arabic, 'ltr' otherwise."""
    return "rtl" if current_language() in RTL_LANGUAGES else "ltr"


def localized_name(obj) -> str:
    """The row's name in the interface language, falling back to French."""
    language = current_language()
    return getattr(obj, f"name_{language}", None) or obj.name_fr

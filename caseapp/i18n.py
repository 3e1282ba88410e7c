"""Locale selection (user preference → session → browser → French), text direction, localized names, time zone,
and the request's catalogue looked up once per request."""
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from flask import current_app, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Babel, Domain, get_locale
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

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


def _babel_state() -> dict | None:
    """Flask-Babel's per-request namespace (`g._flask_babel`) as a dict, or None before Flask-Babel made it."""
    context = _cv_app.get(None)
    state = context.g.__dict__.get("_flask_babel") if context is not None else None
    return state.__dict__ if state is not None else None


def current_locale() -> Locale | None:
    """`flask_babel.get_locale()`, read straight from where Flask-Babel keeps it once chosen: a page asks hundreds
    of times (dates, numbers, labels), and each `get_locale` goes through `g` three times (~5 µs)."""
    state = _babel_state()
    locale = state.get("babel_locale") if state is not None else None
    return locale if locale is not None else get_locale()


def _kept_for_locale(key: str, make):
    """`make()`, kept in Flask-Babel's request state beside the locale it was made for, and made again when the
    locale is another object (`flask_babel.refresh`, `force_locale`) or not chosen yet."""
    state = _babel_state()
    if state is not None:
        kept = state.get(key)
        if kept is not None and kept[0] is state.get("babel_locale"):
            return kept[1]
    value = make()
    state = _babel_state()  # making it may have chosen the locale, and created the state
    if state is not None and state.get("babel_locale") is not None:  # None: no request, nothing to keep it for
        state[key] = (state["babel_locale"], value)
    return value


def _locale_name() -> str:
    locale = current_locale()
    return str(locale) if locale is not None else DEFAULT_LANGUAGE


def current_locale_name() -> str:
    """str(current_locale()), e.g. "fr" or "ar", kept beside the locale: Babel builds the name anew at each call."""
    return _kept_for_locale("caseapp_locale_name", _locale_name)


class RequestDomain(Domain):
    """Flask-Babel's message domain, keeping the request's catalogue beside its locale: each `gettext` otherwise
    looks up the context, the locale and the catalogue cache again (~20 µs, a hundred or more per page).
    A changed locale (`flask_babel.refresh`, `force_locale`) is another object, so it is looked up afresh."""

    def get_translations(self):
        return _kept_for_locale("caseapp_translations", super().get_translations)


class RequestBabel(Babel):
    """Flask-Babel whose default domain is a RequestDomain."""

    @cached_property
    def domain_instance(self):
        return RequestDomain(domain=self.domain)


def translations():
    """The catalogue of the request's language (for the templates' gettext)."""
    from caseapp.extensions import babel

    return babel.domain_instance.get_translations()


@pass_context
def _template_gettext(context, string: str, **variables) -> str:
    """Jinja's new-style `gettext` (Markup under autoescape, always a format string) in one call instead of four:
    a page translates a hundred strings. A text without "%" comes out of `% variables` unchanged, so it skips it."""
    text = translations().ugettext(string)
    if context.eval_ctx.autoescape:
        # the catalogue's own text, as Jinja's gettext marks it; the values put into it are escaped by Markup's %
        text = Markup(text)  # nosec B704
    return text % variables if variables or "%" in text else text


def install_template_gettext(app) -> None:
    """The templates' `_`, `gettext`, `ngettext`, `pgettext` and `npgettext` (Flask-Babel's, through `translations`)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: translations().ugettext(string),
        ngettext=lambda singular, plural, n: translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: translations().unpgettext(context, singular, plural, n),
        newstyle=True)
    app.jinja_env.globals.update(gettext=_template_gettext, _=_template_gettext)


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
    return current_locale_name().split("_")[0]


def text_direction() -> str:
    """'rtl' for Arabic, 'ltr' otherwise."""
    return "rtl" if current_language() in RTL_LANGUAGES else "ltr"


def localized_name(obj) -> str:
    """The row's name in the interface language, falling back to French."""
    language = current_language()
    return getattr(obj, f"name_{language}", None) or obj.name_fr

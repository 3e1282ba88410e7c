"""The request's catalogue is looked up once per request (i18n.RequestDomain), yet follows every change of
language within it: force_locale (notifications in the recipient's language) and flask_babel.refresh."""
from flask import render_template_string, session
from flask_babel import force_locale, gettext, lazy_gettext, refresh

from caseapp.i18n import current_language, current_locale_name
from caseapp.templating import number_text


def _shown() -> tuple:
    return (gettext("Home"), str(lazy_gettext("Home")), render_template_string("{{ _('Home') }}"),
            current_language(), current_locale_name(), number_text(1234567))


def test_the_kept_catalogue_follows_force_locale_and_refresh(app):
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        french = _shown()
        assert french[:5] == ("Accueil", "Accueil", "Accueil", "fr", "fr")
        with force_locale("ar"):
            arabic = _shown()
            assert arabic[:5] == ("الرئيسية", "الرئيسية", "الرئيسية", "ar", "ar")
            assert arabic[5] != french[5]  # Arabic digits and separators
            with force_locale("en"):
                assert _shown()[:5] == ("Home", "Home", "Home", "en", "en")
            assert _shown() == arabic
        assert _shown() == french  # back to the request's own language

        session["lang"] = "en"
        assert _shown() == french  # chosen once per request, as Flask-Babel does...
        refresh()
        assert _shown()[:5] == ("Home", "Home", "Home", "en", "en")  # ...until refreshed


def test_each_request_starts_from_its_own_language(app):
    for language, home in (("ar", "الرئيسية"), ("fr", "Accueil"), ("en", "Home"), ("ar", "الرئيسية")):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            assert _shown()[:4] == (home, home, home, language)


def test_labels_kept_per_language_follow_the_request_s_language(app):
    from caseapp.labels import SEX_LABELS

    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert SEX_LABELS.in_language()["F"] == "Féminin"
        with force_locale("ar"):
            assert SEX_LABELS.in_language()["F"] == gettext("Female") != "Féminin"
        with force_locale("en"):
            assert SEX_LABELS.in_language()["F"] == "Female"
        assert SEX_LABELS.in_language()["F"] == "Féminin"
    kept = dict(SEX_LABELS.translated)
    assert SEX_LABELS.in_language()["F"] == "Female"  # no app at all: the source text, never kept as French
    assert SEX_LABELS.translated == kept and kept["fr"]["F"] == "Féminin"


def test_template_gettext_writes_what_jinja_s_own_writes(app):
    """The templates' one-call `_` (i18n._template_gettext) against Jinja's new-style gettext it stands for:
    escaping of values and of text, "%%" with and without values, Markup out, no escaping without autoescape."""
    from jinja2 import Environment

    reference = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    reference.install_gettext_callables(gettext=lambda text: {"Home": "Accueil"}.get(text, text),
                                        ngettext=lambda s, p, n: s, newstyle=True)
    sources = ["{{ _('Home') }}", "{{ _('Select case %(number)s', number=value) }}", "{{ _('100%%') }}",
               "{{ _('%(n)s%% of <b>cases</b>', n=value) }}", "{{ gettext('Home') }}",
               "{% autoescape false %}{{ _('%(n)s <b>', n=value) }}{% endautoescape %}"]
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        for source in sources:
            mine = render_template_string(source, value="<i>&")
            if "Select case" in source:  # translated by the catalogue; compare the value's escaping only
                assert "&lt;i&gt;&amp;" in mine and "<i>" not in mine
                continue
            assert mine == reference.from_string(source).render(value="<i>&"), source


def test_wtforms_messages_follow_the_request_s_language_from_a_catalogue_read_once(app):
    """WTForms' own messages (forms_common.wtforms_translations) come in each request's language, the locale's
    catalogue read once per process rather than at each request that builds a form."""
    from unittest.mock import patch

    from babel.support import Translations
    from wtforms import StringField
    from wtforms.validators import InputRequired

    from caseapp.forms_common import AppForm, wtforms_translations

    class Named(AppForm):
        name = StringField(validators=[InputRequired()])

    def refused(language: str) -> str:
        with app.test_request_context("/", method="POST", data={}, headers={"Accept-Language": language}):
            form = Named(meta={"csrf": False})
            assert not form.validate()
            return form.name.errors[0]

    wtforms_translations.cache_clear()
    assert refused("fr") == "Ce champ est requis."
    assert refused("en") == "This field is required."
    assert refused("ar") not in ("Ce champ est requis.", "This field is required.")
    with patch.object(Translations, "load", side_effect=AssertionError("read again")):
        assert refused("fr") == "Ce champ est requis."  # kept: no file read in a later request
        assert refused("en") == "This field is required."

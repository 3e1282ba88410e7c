"""The case page's empty forms: built only when the page needs them, their fields a kept fragment per reader."""
from collections.abc import Callable, Hashable

from flask import render_template
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from caseapp.forms_common import CreateForm
from caseapp.fragments import fragment
from caseapp.security.form_tokens import new_form_token


def _hidden_input(name: str, value: str) -> str:
    return f'<input id="{name}" name="{name}" type="hidden" value="{escape(value)}">'


class LazyForm:
    """An empty form of the case page, built when the page first reads one of its fields. The page offers nine
    forms and, for a case's stage and the reader's rights, shows a few (each costs ~0.2 ms to build, the follow-up
    and transfer forms a query too), and their visible fields come from a kept fragment (`form_fields`): the
    hidden fields are written here without building it, as WTForms writes them. Unbuilt, it has no errors: an
    empty form is never validated. `fields_key`: what its fields depend on beyond the reader and the language (the
    day, the case's organisation...); None when they are never kept."""

    def __init__(self, build: Callable, form_class: type | None = None, fields_key: Hashable | None = None):
        self._build, self._form, self.form_class, self.fields_key = build, None, form_class, fields_key

    @property
    def built(self) -> bool:
        return self._form is not None

    @property
    def errors(self) -> dict:
        return self._form.errors if self._form is not None else {}

    @property
    def csrf_token(self) -> Markup:
        if self._form is not None or self.form_class is None:
            return self.__getattr__("csrf_token")
        # a token of the session, escaped; the rest constant
        return Markup(_hidden_input("csrf_token", generate_csrf()))  # nosec B704

    def hidden_tag(self) -> Markup:
        """The hidden fields, as FlaskForm.hidden_tag writes them: a fresh one-time token first for a form that
        creates a record, then the CSRF token."""
        if self._form is not None or self.form_class is None:
            return self.__getattr__("hidden_tag")()
        once = [_hidden_input("form_token", new_form_token())] if issubclass(self.form_class, CreateForm) else []
        # a random token and the session's CSRF token, escaped; the rest constant
        return Markup("\n".join([*once, str(self.csrf_token)]))  # nosec B704

    def __getattr__(self, name: str):
        if self._form is None:
            self._form = self._build()
        return getattr(self._form, name)


def form_fields(form, template: str) -> Markup:
    """The visible fields of `form` written by `template` (given `form`): for an unbuilt LazyForm, the fragment kept
    for the reader, language and the form's `fields_key`; for any other form (one re-shown with its values and
    errors), written now."""
    if isinstance(form, LazyForm) and not form.built and form.fields_key is not None:
        return fragment(template, (form.form_class.__name__, form.fields_key),
                        lambda: render_template(template, form=form))
    # an autoescaped template's output, as Jinja marks its own
    return Markup(render_template(template, form=form))  # nosec B704

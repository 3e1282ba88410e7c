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
    day, the case's organisation...); None when they are never kept. `name_prefix`: what starts each of its fields'
    names and ids, as WTForms writes a form's prefix ("goal12-" for the prefix "goal12")."""

    def __init__(self, build: Callable, form_class: type | None = None, fields_key: Hashable | None = None,
                 name_prefix: str = ""):
        self._build, self._form, self.form_class, self.fields_key = build, None, form_class, fields_key
        self.name_prefix = name_prefix

    @property
    def built(self) -> bool:
        return self._form is not None

    @property
    def errors(self) -> dict:
        return self._form.errors if self._form is not None else {}

    @property
    def csrf_token(self) -> Markup:
        if self._form is not None or self.form_class is None:
            return self._built().csrf_token
        # a token of the session, escaped; the rest constant
        return Markup(_hidden_input(f"{self.name_prefix}csrf_token", generate_csrf()))  # nosec B704

    def hidden_tag(self) -> Markup:
        """The hidden fields, as FlaskForm.hidden_tag writes them: a fresh one-time token first for a form that
        creates a record, then the CSRF token."""
        if self._form is not None or self.form_class is None:
            return self._built().hidden_tag()
        once = [_hidden_input(f"{self.name_prefix}form_token", new_form_token())] \
            if issubclass(self.form_class, CreateForm) else []
        # a random token and the session's CSRF token, escaped; the rest constant
        return Markup("\n".join([*once, str(self.csrf_token)]))  # nosec B704

    def _built(self):
        if self._form is None:
            self._form = self._build()
        return self._form

    def __getattr__(self, name: str):
        return getattr(self._built(), name)


def form_fields(form, template: str) -> Markup:
    """The visible fields of `form` written by `template` (given `form`): for an unbuilt LazyForm, the fragment kept
    for the reader, language and the form's `fields_key`; for any other form (one re-shown with its values and
    errors), written now. A prefixed form's fragment is kept once for every prefix: each attribute value that starts
    with the prefix (its fields' names, ids and labels' targets) is kept starting with PREFIX_MARK instead."""
    if not isinstance(form, LazyForm) or form.built or form.fields_key is None:
        # an autoescaped template's output, as Jinja marks its own
        return Markup(render_template(template, form=form))  # nosec B704
    key = (form.form_class.__name__, form.fields_key, bool(form.name_prefix))
    if not form.name_prefix:
        return fragment(template, key, lambda: render_template(template, form=form))
    written, kept = f'="{form.name_prefix}', f'="{PREFIX_MARK}'
    fields = fragment(template, key, lambda: render_template(template, form=form).replace(written, kept))
    # the kept fragment (escaped) with a prefix made of the form's name and a record id
    return Markup(str(fields).replace(kept, written))  # nosec B704


PREFIX_MARK = "{prefix}"  # never the start of an attribute value the templates write: "{" starts no name or id

"""Form pieces shared by the features: options, checkbox lists, record ids, the form bases."""
from functools import cache

from babel.support import Translations
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import HiddenField, IntegerField, SelectChoice, SelectMultipleField
from wtforms import SelectField as WTFormsSelectField
from wtforms.i18n import messages_path
from wtforms.validators import Optional
from wtforms.widgets import Button, CheckboxInput, HiddenInput, Input, ListWidget, Select
from wtforms.widgets.core import clean_key

from caseapp.i18n import current_locale_name
from caseapp.security.form_tokens import new_form_token


def choices(labels: dict, blank: bool = False) -> list[SelectChoice]:
    """Options from a value → label table (labels may be lazy), optionally after an empty one."""
    return ([SelectChoice("", "—")] if blank else []) + [SelectChoice(value, label) for value, label in labels.items()]


class PlainOptionsSelect(Select):
    """WTForms' select, written byte for byte as WTForms writes it, with plain strings: its attribute writer
    (Markup.format per attribute) and Markup's % per option made a drop-down cost ~130 µs, and the case list shows
    nine. Options with extra attributes, and option groups, go through WTForms itself."""

    def __call__(self, field, **kwargs):
        if field.has_groups():
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        flags = vars(field.flags)
        for name in self.validation_attrs:
            if name in flags and name not in kwargs:
                kwargs[name] = flags[name]
        html = [f"<select {attributes(name=field.name, **kwargs)}>"]
        html.extend(self._option(choice) for choice in field._iter_choices_normalized())
        html.append("</select>")
        # every name, value and label in it went through escape()
        return Markup("".join(html))  # nosec B704

    @classmethod
    def _option(cls, choice) -> str:
        if choice.render_kw:
            return super().render_option(choice)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        return f'<option {selected}value="{_quoted(value)}">{escape(choice.label or choice.value)}</option>'

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs:
            return super().render_option(choice, **kwargs)
        # its value and label went through escape()
        return Markup(cls._option(choice))  # nosec B704

    @classmethod
    def _dispatch_render_option(cls):
        """`render_option` itself: WTForms reads its signature at every drop-down (~40 µs) to adapt older ones."""
        return cls.render_option


def attributes(**kwargs) -> str:
    """WTForms' `html_params` as a plain string: sorted, `class_` → class, `data_x`/`aria_x` → data-x/aria-x,
    True → the bare name, False → left out, other values escaped."""
    written = []
    for key, value in sorted(kwargs.items()):
        key = clean_key(key)
        if value is True:
            written.append(key)
        elif value is not False:
            written.append(f'{escape(key)}="{_quoted(value)}"')
    return " ".join(written)


def _quoted(value) -> str:
    """A value escaped to sit between double quotes, as WTForms writes it: escape() hands back Markup (and anything
    with __html__, such as a lazy translation) as it is, quotes included, so those are written &quot; here."""
    return str(escape(value)).replace('"', "&quot;")


# WTForms' inputs and buttons write their attributes through their class's `html_params`, a static method it keeps
# on the class to be replaced. Its own (Markup.format per attribute) takes ~120 µs for a date input; `attributes`
# writes the same bytes (tested against it) in ~16 µs, and the case page writes ~26 inputs and buttons.
Input.html_params = staticmethod(attributes)
Button.html_params = staticmethod(attributes)


class SelectField(WTFormsSelectField):
    """A drop-down list (WTForms' SelectField with PlainOptionsSelect)."""

    widget = PlainOptionsSelect()


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# Ids posted by a form must fit an INTEGER column: a larger number is refused before it reaches SQL (SQLite
# cannot even bind one above 2**63 - 1).
MAX_RECORD_ID = 2**31 - 1


def record_id(value) -> int:
    """`coerce=` of fields that post a record id: an int an INTEGER column can hold, else ValueError."""
    number = int(value)
    if not -MAX_RECORD_ID <= number <= MAX_RECORD_ID:
        raise ValueError("record id out of range")
    return number


def _without_nul(value):
    """Drop NUL characters: no one types them, and PostgreSQL refuses them in text columns and parameters."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


class IdSelectField(SelectField):
    """A list of records, posted as their ids."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, coerce=record_id, invalid_value_message=_("Choose an item from the list."), **kwargs)


class IdCheckboxField(MultiCheckboxField):
    """Checkboxes of records, posted as their ids."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, coerce=record_id, invalid_value_message=_("Choose an item from the list."), **kwargs)


class AppForm(FlaskForm):
    """Base of every form of the app: NUL characters are dropped from every posted value."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            options["filters"] = (*unbound_field.kwargs.get("filters", ()), _without_nul)
            return unbound_field.bind(form=form, **options)

        def get_translations(self, form):
            return wtforms_translations(current_locale_name())


@cache
def wtforms_translations(locale_name: str) -> Translations:
    """WTForms' own messages (field labels, validators) in `locale_name`, read once per process: Flask-WTF reads
    and parses the catalogue file again in every request that builds a form (~0.4 ms)."""
    return Translations.load(messages_path(), [locale_name], domain="wtforms")


class CreateForm(AppForm):
    """A form that creates a record: carries a one-time token so a double post creates one record."""

    form_token = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.form_token.data:
            self.form_token.data = new_form_token()


class EditForm(AppForm):
    """A form that changes a record: carries the version it was loaded at, to detect a concurrent save."""

    version = IntegerField(widget=HiddenInput(), validators=[Optional()])

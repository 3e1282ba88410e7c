"""Form pieces shared by the features: options, checkbox lists, record ids, the form bases."""
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, IntegerField, SelectChoice, SelectMultipleField
from wtforms import SelectField as WTFormsSelectField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget, Select

from caseapp.security.form_tokens import new_form_token


def choices(labels: dict, blank: bool = False) -> list[SelectChoice]:
    """Options from a value → label table (labels may be lazy), optionally after an empty one."""
    return ([SelectChoice("", "—")] if blank else []) + [SelectChoice(value, label) for value, label in labels.items()]


_OPTION = Markup('<option value="%s">%s</option>')
_SELECTED_OPTION = Markup('<option selected value="%s">%s</option>')


class PlainOptionsSelect(Select):
    """WTForms' select, writing each plain option (no extra attributes) directly, byte for byte as WTForms does:
    its generic attribute writer took ~40 µs an option, and the case list's filters have ~60."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        template = _SELECTED_OPTION if choice.selected else _OPTION
        return template % (value, choice.label or choice.value)  # Markup's % escapes both

    @classmethod
    def _dispatch_render_option(cls):
        """`render_option` itself: WTForms reads its signature at every drop-down (~40 µs) to adapt older ones."""
        return cls.render_option


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

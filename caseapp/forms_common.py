"""Form pieces shared by the features: options, checkbox lists, create and edit form bases."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectChoice, SelectMultipleField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from caseapp.security.form_tokens import new_form_token


def choices(labels: dict, blank: bool = False) -> list[SelectChoice]:
    """Options from a value → label table (labels may be lazy), optionally after an empty one."""
    return ([SelectChoice("", "—")] if blank else []) + [SelectChoice(value, label) for value, label in labels.items()]


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CreateForm(FlaskForm):
    """A form that creates a record: carries a one-time token so a double post creates one record."""

    form_token = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.form_token.data:
            self.form_token.data = new_form_token()


class EditForm(FlaskForm):
    """A form that changes a record: carries the version it was loaded at, to detect a concurrent save."""

    version = IntegerField(widget=HiddenInput(), validators=[Optional()])

"""The app's drop-down lists write exactly what WTForms' own select writes, only faster."""
from wtforms import Form, SelectChoice
from wtforms import SelectField as WTFormsSelectField

from caseapp.forms_common import IdSelectField, SelectField

CHOICES = [
    SelectChoice("", "—"),
    SelectChoice("a&b", 'Quote " and <tag>'),
    SelectChoice("plain", "Plain"),
    SelectChoice(7, "Seven"),
    SelectChoice(True, "Yes"),
    SelectChoice("attrs", "With attributes", render_kw={"data-x": "1", "disabled": True}),
    SelectChoice("no-label", ""),
]


class Ours(Form):
    field = SelectField("Field", choices=CHOICES, validate_choice=False)
    ids = IdSelectField("Ids", choices=[SelectChoice(1, "One"), SelectChoice(2, "Two <b>")], validate_choice=False)


class Theirs(Form):
    field = WTFormsSelectField("Field", choices=CHOICES, validate_choice=False)
    ids = WTFormsSelectField("Ids", choices=[SelectChoice(1, "One"), SelectChoice(2, "Two <b>")], validate_choice=False, coerce=int)


def test_the_same_html_as_wtforms_for_every_kind_of_option():
    for data in ({}, {"field": "a&b", "ids": 2}, {"field": "attrs", "ids": 1}, {"field": 7}):
        ours, theirs = Ours(data=data), Theirs(data=data)
        assert str(ours.field(class_="form-select")) == str(theirs.field(class_="form-select"))
        assert str(ours.ids()) == str(theirs.ids())
    rendered = str(Ours(data={"field": "a&b"}).field())
    assert '<option selected value="a&amp;b">Quote &#34; and &lt;tag&gt;</option>' in rendered
    assert '<option data-x="1" disabled value="attrs">With attributes</option>' in rendered


def test_the_same_attributes_as_wtforms_html_params():
    from wtforms.widgets.core import html_params

    from caseapp.forms_common import attributes

    for given in ({}, {"name": "a", "id": "b", "class_": "form-select is-invalid"},
                  {"aria_describedby": "x-errors x-help", "aria_invalid": "true", "data_row_id": 7},
                  {"required": True, "disabled": False, "multiple": True, "title": 'say "<hi>" & bye'},
                  {"value": None, "for_": "id", "zero": 0}):
        assert attributes(**given) == str(html_params(**given))


def test_a_required_or_multiple_drop_down_is_written_as_wtforms_writes_it():
    from wtforms import SelectMultipleField
    from wtforms.validators import DataRequired

    from caseapp.forms_common import PlainOptionsSelect

    class OursRequired(Form):
        field = SelectField("Field", choices=CHOICES, validators=[DataRequired()], validate_choice=False)
        many = SelectMultipleField("Many", choices=CHOICES[1:4], widget=PlainOptionsSelect(multiple=True))

    class TheirsRequired(Form):
        field = WTFormsSelectField("Field", choices=CHOICES, validators=[DataRequired()], validate_choice=False)
        many = SelectMultipleField("Many", choices=CHOICES[1:4])

    for data in ({}, {"field": "plain", "many": ["a&b", "plain"]}):
        ours, theirs = OursRequired(data=data), TheirsRequired(data=data)
        assert 'required' in str(ours.field())
        assert str(ours.field(aria_describedby="field-errors")) == str(theirs.field(aria_describedby="field-errors"))
        assert str(ours.many(size=3)) == str(theirs.many(size=3))


def test_a_value_already_marked_safe_cannot_leave_its_quotes():
    """escape() hands back Markup unchanged: its quotes are written &quot;, as WTForms does, in attributes and
    option values."""
    from markupsafe import Markup
    from wtforms.widgets.core import html_params

    from caseapp.forms_common import attributes

    breaking_out = Markup('x" autofocus onfocus="alert(1)')
    assert attributes(title=breaking_out) == str(html_params(title=breaking_out))
    assert 'onfocus="' not in attributes(title=breaking_out)

    class Ours(Form):
        field = SelectField(choices=[SelectChoice(breaking_out, "label")], validate_choice=False)

    class Theirs(Form):
        field = WTFormsSelectField(choices=[SelectChoice(breaking_out, "label")], validate_choice=False)

    assert str(Ours().field()) == str(Theirs().field())
    assert 'onfocus="' not in str(Ours().field())


def test_inputs_and_buttons_are_written_as_wtforms_own_attribute_writer_writes_them(monkeypatch):
    """Every kind of input and the button, through `attributes` (forms_common sets it on WTForms' Input and
    Button) and through WTForms' own html_params: the same bytes, escaping included."""
    from markupsafe import Markup
    from wtforms import (BooleanField, DateField, EmailField, FileField, HiddenField, IntegerField, PasswordField,
                         RadioField, StringField, SubmitField)
    from wtforms.validators import DataRequired, Length
    from wtforms.widgets import Button, Input
    from wtforms.widgets.core import html_params

    import caseapp.forms_common  # noqa: F401  (sets the writer)

    class Every(Form):
        text = StringField("Text", validators=[DataRequired(), Length(max=20)])
        secret = PasswordField("Secret")
        hidden = HiddenField()
        day = DateField("Day")
        mail = EmailField("Mail")
        number = IntegerField("Number")
        tick = BooleanField("Tick")
        pick = RadioField("Pick", choices=[SelectChoice("a", "A <b>"), SelectChoice("b", 'B "q"')])
        upload = FileField("File")
        send = SubmitField("Send")

    def rendered() -> list[str]:
        form = Every(data={"text": 'say "<hi>" & bye', "hidden": "x\"y", "number": 7, "tick": True, "pick": "b"})
        extra = {"class_": "form-control is-invalid", "aria_describedby": "e h", "data_row": 3, "disabled": False,
                 "title": Markup('x" onfocus="alert(1)')}
        return [str(field(**extra)) for field in form] + [str(option()) for option in form.pick]

    ours = rendered()
    assert Input.html_params is Button.html_params
    monkeypatch.setattr(Input, "html_params", staticmethod(html_params))
    monkeypatch.setattr(Button, "html_params", staticmethod(html_params))
    assert rendered() == ours
    assert not any('onfocus="' in html for html in ours)

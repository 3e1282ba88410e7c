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

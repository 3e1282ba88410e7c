"""macros/forms.html writes each field's label as WTForms' own Label writes it, linked to its control."""
from markupsafe import Markup
from wtforms import BooleanField, Form, RadioField, SelectChoice, StringField


class Every(Form):
    name = StringField('Name <with> "quotes" & more')
    agreed = BooleanField("Agreed & understood")
    pick = RadioField("Pick", choices=[SelectChoice("a", "A <b>"), SelectChoice("b", Markup("B <em>safe</em>"))])


def test_labels_are_the_ones_wtforms_writes(app):
    form = Every(data={"pick": "a"})
    with app.test_request_context("/"):
        macro = app.jinja_env.get_template("macros/forms.html").module.field
        html = {name: str(macro(form[name])) for name in ("name", "agreed", "pick")}
    assert str(form.name.label(class_="form-label")) in html["name"]
    assert 'for="name">Name &lt;with&gt; &#34;quotes&#34; &amp; more</label>' in html["name"]
    assert str(form.agreed.label(class_="form-check-label")) in html["agreed"]
    for option in form.pick:
        assert str(option.label(class_="form-check-label")) in html["pick"]
        assert f'id="{option.id}"' in html["pick"]
    assert "B <em>safe</em>" in html["pick"] and "A &lt;b&gt;" in html["pick"]

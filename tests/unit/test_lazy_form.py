"""The case page's empty forms are built when the page first uses them, once, and have no errors before; unbuilt,
they write their hidden fields exactly as the built form would."""
import re

from caseapp.cases import forms
from caseapp.cases.empty_forms import LazyForm


class _Form:
    errors = {"reason": ["required"]}
    csrf_token = "token"


def test_a_lazy_form_is_built_at_its_first_use_and_only_once():
    built = []
    form = LazyForm(lambda: built.append(1) or _Form())
    assert form.errors == {} and built == []  # the error summary of an unbuilt form builds nothing
    assert form.csrf_token == "token" and form.csrf_token == "token"
    assert built == [1]
    assert form.errors == {"reason": ["required"]}  # once built, the form's own errors


def _tokens_masked(html: str) -> str:
    return re.sub(r'value="[^"]*"', 'value="…"', str(html))


def test_unbuilt_it_writes_the_hidden_fields_as_wtforms_does(app):
    with app.test_request_context("/"):
        for form_class, prefix in ((forms.NewNoteForm, ""), (forms.NewFollowUpForm, ""), (forms.StageForm, ""),
                                   (forms.ClosureRequestForm, ""), (forms.TransferForm, ""),
                                   (forms.NewActionForm, "goal12")):
            built = []
            lazy = LazyForm(lambda form_class=form_class: built.append(1) or form_class(formdata=None), form_class,
                            name_prefix=f"{prefix}-" if prefix else "")
            hidden, csrf = lazy.hidden_tag(), lazy.csrf_token
            assert built == []
            real = form_class(formdata=None, prefix=prefix)
            assert _tokens_masked(hidden) == _tokens_masked(real.hidden_tag()), form_class
            assert str(csrf) == str(real.csrf_token)  # the session's token, the same within a request
            one_time = re.findall(r'name="[^"]*form_token"[^>]*value="([^"]+)"', str(hidden))
            assert len(one_time) == (1 if form_class.__name__.startswith("New") else 0)
            if one_time:  # a new one-time token at each writing
                assert one_time != re.findall(r'name="[^"]*form_token"[^>]*value="([^"]+)"', str(lazy.hidden_tag()))

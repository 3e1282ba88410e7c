"""The case page's empty forms are built when the page first uses them, once, and have no errors before."""
from caseapp.cases.page_context import LazyForm


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

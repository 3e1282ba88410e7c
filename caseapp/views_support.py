"""Helpers shared by views: putting a service's refusal next to the right field, and the conflict page."""
from flask import flash, render_template, request

from caseapp.errors import DomainError, EditConflict, ValidationFailed


def show_refusal(form, failure: DomainError) -> None:
    """Attach the service's messages to the form's fields (or flash those that belong to no field)."""
    errors = failure.errors if isinstance(failure, ValidationFailed) else {failure.field: [failure.message]}
    for name, messages in errors.items():
        if name and name in form:
            form[name].errors = list(form[name].errors) + list(messages)
        else:
            for message in messages:
                flash(message, "danger")


def conflict_page(conflict: EditConflict, back_url: str):
    """409 page with the saved and the submitted version side by side, and a way to save the submitted one."""
    values = [(name, value) for name, value in request.form.items(multi=True) if name not in ("csrf_token", "version")]
    return render_template("errors/conflict.html", conflict=conflict, values=values, action=request.path,
                           back_url=back_url), 409

"""Helpers shared by the administration services: collected messages, text fields, changes, form tokens."""
from flask_babel import gettext as _

from caseapp.extensions import db
from caseapp.security.form_tokens import FormSubmission

Errors = dict[str, list[str]]


def add_error(errors: Errors, name: str, message: str) -> None:
    """Collect one message for field `name`."""
    errors.setdefault(name, []).append(message)


def clean_text(errors: Errors, name: str, value: str | None, max_length: int, required: bool = True) -> str:
    """Strip `value` and check it is present (when required) and not too long."""
    text = (value or "").strip()
    if required and not text:
        add_error(errors, name, _("This field is required."))
    elif len(text) > max_length:
        add_error(errors, name, _("At most %(count)d characters.", count=max_length))
    return text


def apply_changes(obj, values: dict) -> list[str]:
    """Set on `obj` the values that differ; return the names of the changed fields (none: nothing to audit)."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def earlier_record(form_token: str | None, model: type):
    """The record an earlier post of the same create form made, if any (looked up without claiming the token).

    Checked before validating, so the second post of a form is not refused as a duplicate of the first.
    """
    if not form_token:
        return None
    submission = db.session.get(FormSubmission, form_token)
    if submission is None or submission.object_type != model.__tablename__ or submission.object_id is None:
        return None
    return db.session.get(model, submission.object_id)

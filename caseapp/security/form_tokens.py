"""One-time form tokens: a create form posted twice creates one record (the second post finds the first)."""
import secrets
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.extensions import db
from caseapp.models_base import utcnow


class FormSubmission(db.Model):
    """A create form that was accepted: its token and the record it created."""

    __tablename__ = "form_submission"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)


def new_form_token() -> str:
    """A fresh token to put in a create form."""
    return secrets.token_urlsafe(32)


def claim_form_token(token: str | None, object_type: str) -> int | None:
    """Claim `token` for a new record; return the id of the record an earlier post created, else None.

    The claim is a primary-key insert, so two concurrent posts of one form cannot both create.
    """
    if not token:
        return None
    earlier = db.session.get(FormSubmission, token)
    if earlier is None:
        try:
            with db.session.begin_nested():
                db.session.add(FormSubmission(token=token, object_type=object_type))
            return None
        except IntegrityError:
            earlier = db.session.get(FormSubmission, token, populate_existing=True)
    if earlier.object_type != object_type or earlier.object_id is None:
        raise LookupError("form token used for another record")
    return earlier.object_id


def token_was_used(token: str | None) -> bool:
    """Whether a record was already created with `token` (read only: nothing is claimed)."""
    return bool(token) and db.session.get(FormSubmission, token) is not None


def bind_form_token(token: str | None, obj) -> None:
    """Record which record the claimed `token` created."""
    if token:
        db.session.get(FormSubmission, token).object_id = obj.id

"""Domain errors and the generic error pages (403/404/409/500) with an error id, never a trace."""
import logging
import secrets

from flask import Flask, render_template
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from caseapp.extensions import db

log = logging.getLogger("caseapp")


class DomainError(Exception):
    """A business rule refused the action; `message` is already translated for the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    """The actor may not do this to this record (views answer 404 before a service ever sees it)."""


class ValidationFailed(DomainError):
    """Input refused field by field: `errors` maps a field name to its translated messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for messages in errors.values() for m in messages))
        self.errors = errors


class EditConflict(DomainError):
    """Someone saved the record since the user opened it: both versions go to the conflict page."""

    def __init__(self, record_label: str, fields: list[tuple[str, str, str]], current_version: int):
        super().__init__(record_label)
        self.record_label = record_label
        self.fields = fields  # (label, saved value, submitted value) for every submitted field
        self.current_version = current_version  # posting the user's values again with it overwrites


def _render_http_error(error: HTTPException):
    db.session.rollback()
    code = error.code or 500
    template = f"errors/{code}.html" if code in (400, 403, 404, 405, 409, 413, 429) else "errors/generic.html"
    # Keep the headers the status needs (Retry-After of a 429 or 503); the body is ours.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() == "retry-after"]
    return render_template(template, code=code), code, headers


def _render_conflict(error: StaleDataError):
    """Someone saved the same record first (optimistic version check): 409, nothing of ours is saved."""
    db.session.rollback()
    return render_template("errors/409.html", code=409), 409


def _render_server_error(error: Exception):
    db.session.rollback()
    error_id = secrets.token_hex(6)
    log.exception("unhandled error %s", error_id)
    return render_template("errors/500.html", error_id=error_id, code=500), 500


def init_errors(app: Flask) -> None:
    """Register error handlers; every error rolls back the session so nothing is half-saved."""
    app.register_error_handler(HTTPException, _render_http_error)
    app.register_error_handler(StaleDataError, _render_conflict)
    app.register_error_handler(Exception, _render_server_error)

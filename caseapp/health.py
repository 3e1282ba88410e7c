"""Health checks for load balancers and monitoring: /health/live (the process answers) and /health/ready.

Both are public and cheap: no login, no CSRF (GET only), no audit event, and no session — a request to them
never loads the user nor sends a cookie, even when the caller has a session (so a probe never extends one).
/health/live touches no database: it is also the "bare route" the load benchmarks compare pages with.
/health/ready answers 200 when the database answers and its schema is at the code's Alembic head, else 503
with a one-word reason; what failed is logged, never shown.
"""
import logging

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from caseapp.access.policy import PUBLIC, requires
from caseapp.config import ROOT
from caseapp.extensions import csrf, db

PREFIX = "/health"
MIGRATIONS = ROOT / "migrations"
_HEADS = "caseapp.schema_heads"
log = logging.getLogger("caseapp.health")

bp = Blueprint("health", __name__, url_prefix=PREFIX)
csrf.exempt(bp)


def _reply(code: int, **body):
    response = jsonify(body)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/live")
@requires(PUBLIC)
def live():
    return _reply(200, status="ok")


def code_heads(app: Flask) -> frozenset[str]:
    """The Alembic head revision(s) of the migrations shipped with this code (read once per app)."""
    if _HEADS not in app.extensions:
        app.extensions[_HEADS] = frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())
    return app.extensions[_HEADS]


def readiness() -> str | None:
    """None when the database answers and is at the code's head; else the reason: "database" or "schema"."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revisions = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError:
        log.warning("readiness: the database does not answer", exc_info=True)
        return "database"
    if revisions != code_heads(current_app):
        log.warning("readiness: database schema at %s, code at %s", sorted(revisions), sorted(code_heads(current_app)))
        return "schema"
    return None


@bp.route("/ready")
@requires(PUBLIC)
def ready():
    reason = readiness()
    if reason:
        return _reply(503, status="unavailable", reason=reason)
    return _reply(200, status="ready")

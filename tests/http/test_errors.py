"""Error pages: generic, with an error id for 500, no stack trace; a lost update race answers 409."""
import pytest
from flask import Blueprint
from sqlalchemy.orm.exc import StaleDataError

from caseapp import create_app
from caseapp.access.policy import PUBLIC, requires


@pytest.fixture
def failing_app(app):
    """A separate app with two routes that fail on purpose."""
    other = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    blueprint = Blueprint("boom", __name__)

    @blueprint.route("/boom")
    @requires(PUBLIC)
    def boom():
        raise RuntimeError("secret detail /srv/caseapp/caseapp/cases/services.py")

    @blueprint.route("/stale")
    @requires(PUBLIC)
    def stale():
        raise StaleDataError("UPDATE statement on table 'beneficiary' expected to update 1 row(s)")

    other.register_blueprint(blueprint)
    yield other
    with other.app_context():
        from caseapp.extensions import db

        db.engine.dispose()


def test_unhandled_error_shows_an_error_id_and_no_trace(failing_app, caplog):
    response = failing_app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret detail" not in body and "Traceback" not in body and "services.py" not in body
    assert any("unhandled error" in record.getMessage() for record in caplog.records)
    error_id = caplog.records[-1].getMessage().split()[-1]
    assert error_id in body


def test_concurrent_update_answers_conflict(failing_app):
    response = failing_app.test_client().get("/stale")
    assert response.status_code == 409
    assert "expected to update" not in response.get_data(as_text=True)


def test_unknown_page_is_404_with_the_generic_page(app):
    response = app.test_client().get("/no/such/page")
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)

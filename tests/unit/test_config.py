"""Configuration: no production start without a secret key; safe cookie and size defaults."""
import pytest

from caseapp import create_app


def test_production_refuses_to_start_without_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_safe_defaults(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 30 * 60
    assert 0 < app.config["MAX_CONTENT_LENGTH"] <= 10 * 1024 * 1024


def test_health_is_public_and_checks_the_database(app):
    response = app.test_client().get("/health/ready")
    assert response.status_code == 200 and response.get_json()["status"] == "ready"

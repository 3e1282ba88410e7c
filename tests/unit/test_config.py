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


def test_postgresql_sessions_run_without_jit_compilation(app):
    from sqlalchemy import text

    from caseapp.extensions import db
    from caseapp.security.database import engine_options

    url = "postgresql+psycopg://caseapp:secret@db.example/caseapp"
    assert engine_options(url, {"pool_pre_ping": True}) == {"pool_pre_ping": True,
                                                            "connect_args": {"options": "-c jit=off"}}
    kept = engine_options(url, {"connect_args": {"options": "-c statement_timeout=5s", "connect_timeout": 3}})
    assert kept["connect_args"] == {"options": "-c statement_timeout=5s -c jit=off", "connect_timeout": 3}
    from_url = engine_options(f"{url}?options=-c%20search_path%3Dcaseapp", {})
    assert from_url["connect_args"] == {"options": "-c search_path=caseapp -c jit=off"}  # the URL's are kept
    sqlite_options = {"pool_pre_ping": True}
    assert engine_options("sqlite:///instance/caseapp.sqlite3", sqlite_options) is sqlite_options
    with app.app_context():  # the suite's own database, on its PostgreSQL run: every session has JIT off
        if db.engine.dialect.name == "postgresql":
            assert db.session.execute(text("SHOW jit")).scalar() == "off"
        db.session.rollback()

"""Deployment: the health endpoints (public, sessionless, no database for liveness) and trusted proxies."""
import pytest
from flask import Blueprint, request
from sqlalchemy import create_engine, text

from caseapp import create_app
from caseapp.access.policy import PUBLIC, declared_permission, requires
from caseapp.extensions import db
from caseapp.health import code_heads

HEALTH_ENDPOINTS = {"health.live": "/health/live", "health.ready": "/health/ready"}


def _app_on(url: str, **settings):
    return create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url, **settings})


@pytest.fixture
def other_app():
    """other_app(url) → an app on another database (disposed afterwards)."""
    made = []

    def _make(url: str, **settings):
        made.append(_app_on(url, **settings))
        return made[-1]

    yield _make
    for application in made:
        with application.app_context():
            db.engine.dispose()


def test_health_endpoints_are_public_get_only_routes(app):
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("health.")}
    assert {endpoint: rule.rule for endpoint, rule in rules.items()} == HEALTH_ENDPOINTS
    with app.test_request_context():
        assert {declared_permission(endpoint) for endpoint in rules} == {PUBLIC}
    assert all(rule.methods == {"GET", "HEAD", "OPTIONS"} for rule in rules.values())
    client = app.test_client()
    for response in (client.post("/health/live"), client.get("/health/unknown")):  # error pages there too
        assert response.status_code in (404, 405) and "Set-Cookie" not in response.headers


def test_liveness_answers_without_database_or_session(app, count_queries):
    client = app.test_client()
    with count_queries() as queries:
        response = client.get("/health/live")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert queries.count == 0
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert len(response.get_data()) < 40


def test_a_logged_in_probe_loads_no_user_and_refreshes_no_session(app, world, login_as, count_queries):
    client = login_as("caseworker_a")
    with count_queries() as live_queries:
        live = client.get("/health/live")
    with count_queries() as ready_queries:
        ready = client.get("/health/ready")
    assert [live.status_code, ready.status_code] == [200, 200]
    assert "Set-Cookie" not in live.headers and "Set-Cookie" not in ready.headers
    assert live_queries.count == 0
    assert ready_queries.count and not any("user_account" in sql for sql in ready_queries.statements)
    home = client.get("/")  # the session itself is untouched and still works
    assert home.status_code == 200 and "Set-Cookie" in home.headers  # pages do refresh it


def test_readiness_checks_the_database_and_the_schema_revision(app):
    response = app.test_client().get("/health/ready")
    assert response.status_code == 200 and response.get_json() == {"status": "ready"}
    assert "Set-Cookie" not in response.headers
    with app.app_context():
        assert len(code_heads(app)) == 1


def test_not_ready_without_the_schema(other_app, tmp_path):
    empty = other_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    response = empty.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "reason": "schema"}


def test_not_ready_on_an_older_schema_revision(other_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('0123456789ab')"))
    engine.dispose()
    body = other_app(url).test_client().get("/health/ready").get_json()
    assert body == {"status": "unavailable", "reason": "schema"}


def test_not_ready_when_the_database_does_not_answer_but_still_live(other_app, tmp_path):
    unreachable = other_app(f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}")
    client = unreachable.test_client()
    ready = client.get("/health/ready")
    assert ready.status_code == 503 and ready.get_json() == {"status": "unavailable", "reason": "database"}
    assert "no-such-folder" not in ready.get_data(as_text=True)
    assert client.get("/health/live").status_code == 200


def _probe(application):
    probe = Blueprint("probe", __name__)

    @probe.route("/probe/client")
    @requires(PUBLIC)
    def client():
        return f"{request.remote_addr} {request.scheme}"

    application.register_blueprint(probe)
    return application.test_client()


FORWARDED = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9", "X-Forwarded-Proto": "https, https"}


@pytest.mark.parametrize("proxies, seen", [
    (0, "127.0.0.1 http"),  # no proxy configured: the headers are a client's word and ignored
    (1, "203.0.113.9 https"),  # one proxy (nginx): the address it saw, not what the client claimed before it
    (2, "198.51.100.7 https"),
])
def test_trusted_proxies_set_the_client_address(other_app, database_url, proxies, seen):
    client = _probe(other_app(database_url, PROXIES=proxies))
    assert client.get("/probe/client", headers=FORWARDED).get_data(as_text=True) == seen

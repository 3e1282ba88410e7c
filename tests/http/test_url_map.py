"""Every route declares a permission; only a known few are public; anonymous visitors are sent to login.

Walks the real URL map, so a route added later without `@requires` fails here.
"""
from urllib.parse import urlsplit

import pytest
from flask import Blueprint
from werkzeug.routing import IntegerConverter

from caseapp import create_app
from caseapp.access.policy import PERMISSIONS, PUBLIC, declared_permission, requires
from caseapp.extensions import db
from tests.conftest import csrf_token, login

PUBLIC_ENDPOINTS = {"auth.login", "auth.second_factor", "home.set_language", "health.live", "health.ready", "static"}


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


def _url(app, rule) -> str:
    """A URL for `rule`, with 1 for integer arguments and 'x' for the others."""
    values = {name: 1 if isinstance(rule._converters[name], IntegerConverter) else "x" for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def _permissions(app) -> dict[str, str | None]:
    with app.test_request_context():
        return {rule.endpoint: declared_permission(rule.endpoint) for rule in _rules(app)}


def test_every_endpoint_declares_a_known_permission(app):
    permissions = _permissions(app)
    undeclared = sorted(endpoint for endpoint, permission in permissions.items() if permission is None)
    assert undeclared == []
    unknown = {endpoint: p for endpoint, p in permissions.items() if p != PUBLIC and p not in PERMISSIONS}
    assert unknown == {}


def test_the_declared_permission_is_the_view_functions_attribute(app):
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        with app.test_request_context():
            assert declared_permission(endpoint) == getattr(view, "required_permission"), endpoint


def test_exactly_the_known_endpoints_are_public(app):
    public = {endpoint for endpoint, permission in _permissions(app).items() if permission == PUBLIC}
    assert public == PUBLIC_ENDPOINTS


def test_the_map_has_the_expected_core_routes(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {"auth.login", "auth.logout", "home.index", "beneficiaries.register", "beneficiaries.show",
            "cases.index"} <= endpoints


def _non_public_rules(app, method: str):
    permissions = _permissions(app)
    return [rule for rule in _rules(app) if permissions[rule.endpoint] != PUBLIC and method in rule.methods]


def test_anonymous_get_of_every_non_public_route_is_sent_to_login(app, world):
    rules = _non_public_rules(app, "GET")
    assert rules
    client = app.test_client()
    for rule in rules:
        url = _url(app, rule)
        response = client.get(url)
        assert response.status_code == 302, url
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login", url
        assert "next=" in location.query, url


def test_anonymous_post_to_every_non_public_route_is_sent_to_login(app, world):
    client = app.test_client()
    token = csrf_token(client, "/login")
    for rule in _non_public_rules(app, "POST"):
        url = _url(app, rule)
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 302, url
        assert urlsplit(response.headers["Location"]).path == "/login", url


def test_public_get_routes_are_served_to_anonymous_visitors(app, world):
    client = app.test_client()
    assert client.get("/login").status_code == 200
    assert client.get("/health/live").status_code == client.get("/health/ready").status_code == 200
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    static.close()


@pytest.fixture
def app_with_an_undeclared_route(database_url, world):
    """A second app on the same database, with one route that forgot `@requires` and one that declares it."""
    extra = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": database_url})
    blueprint = Blueprint("probe", __name__)

    @blueprint.route("/probe/forgotten")
    def forgotten():
        return "served"

    @blueprint.route("/probe/declared")
    @requires("case.list")
    def declared():
        return "served"

    extra.register_blueprint(blueprint)
    yield extra
    with extra.app_context():
        db.engine.dispose()


def test_a_route_without_a_declared_permission_is_denied_to_everyone(app_with_an_undeclared_route):
    extra = app_with_an_undeclared_route
    anonymous = extra.test_client().get("/probe/forgotten")
    assert anonymous.status_code == 302 and urlsplit(anonymous.headers["Location"]).path == "/login"
    for username in ("supervisor.a", "admin"):
        client = extra.test_client()
        assert login(client, username).status_code == 302
        response = client.get("/probe/forgotten")
        assert response.status_code == 403
        assert "served" not in response.get_data(as_text=True)
    # The same probe with a declaration is served to a role that holds it, so the 403 above is the missing one.
    client = extra.test_client()
    login(client, "caseworker.a")
    assert client.get("/probe/declared").get_data(as_text=True) == "served"


@pytest.mark.parametrize("digits", ["99999999999999999999", "9223372036854775808", "2147483648", "١", "１"])
def test_out_of_range_or_non_ascii_ids_are_404_before_any_query(app, world, register, login_as, digits):
    """Ids too large for an INTEGER column (PostgreSQL would refuse the parameter, SQLite cannot bind the first)
    and digits of other scripts (which int() would read as 1) do not match any route."""
    person_id, _ = register("caseworker_a")
    client = login_as("caseworker_a")
    assert client.get(f"/beneficiaries/{person_id}").status_code == 200 and person_id == 1
    assert client.get(f"/beneficiaries/{digits}").status_code == 404
    assert client.get(f"/cases/{digits}").status_code == 404

"""Data isolation through HTTP: who gets 200 / 404 / 403 on whose records, lists and searches never cross scope,
404 pages tell nothing; and the security headers on every response."""
import html
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from caseapp.audit.models import AuditEvent
from caseapp.extensions import db
from tests.conftest import EXPECTED_SCOPE, NON_CASE_USERS, csrf_token

# Persons registered at each service point; the given names are unique words in every page.
PERSONS = {
    "A-OUJ": dict(user="caseworker_a", given_name="Zineb", family_name="Tahiri", phone="0611 11 11 11",
                  commune_code="OUJ"),
    "A-NAD": dict(user="caseworker_a2", given_name="Karim", family_name="Nadori", phone="0622 22 22 22",
                  commune_code="NAD"),
    "B-BEM": dict(user="caseworker_b", given_name="Brahim", family_name="Bemlali", phone="0633 33 33 33",
                  commune_code="BEM"),
}
CASE_USERS_SCOPE = {key: points for key, points in EXPECTED_SCOPE.items() if points}
ALL_USERS = tuple(EXPECTED_SCOPE)

# Routes that show one record; "{person}" is the beneficiary id.
OBJECT_ROUTES = ("/beneficiaries/{person}",)


@pytest.fixture
def persons(register):
    """{service point: dict(id, number, given_name, family_name, phone)}"""
    result = {}
    for point, values in PERSONS.items():
        values = dict(values)
        user = values.pop("user")
        person_id, number = register(user, point, given_name_alt="", family_name_alt="", **values)
        result[point] = dict(values, id=person_id, number=number, user=user)
    return result


def _body(response) -> str:
    return response.get_data(as_text=True)


def _expected_status(user_key: str, point: str) -> int:
    if user_key in NON_CASE_USERS:
        return 403
    return 200 if point in CASE_USERS_SCOPE[user_key] else 404


# --- one record --------------------------------------------------------------------------------------------------


def test_record_pages_by_role_route_and_scope(app, world, persons, login_as):
    """Every user × record route × person (own point, other point of the partner, other partner)."""
    statuses, expected = {}, {}
    for user_key in ALL_USERS:
        client = login_as(user_key)
        for route in OBJECT_ROUTES:
            for point, person in persons.items():
                response = client.get(route.format(person=person["id"]))
                statuses[user_key, route, point] = response.status_code
                expected[user_key, route, point] = _expected_status(user_key, point)
                body = _body(response)
                if response.status_code == 200:
                    assert f"{person['given_name']} {person['family_name']}" in body
                    assert person["number"] in body
                for other_point, other in persons.items():
                    if response.status_code != 200 or other_point != point:
                        for secret in (other["given_name"], other["family_name"], other["number"]):
                            assert secret not in body, (user_key, route, point, secret)
    assert statuses == expected


def test_the_person_registered_at_a_ouj_is_seen_exactly_as_the_brief_says(app, world, persons, login_as):
    url = f"/beneficiaries/{persons['A-OUJ']['id']}"
    statuses = {key: login_as(key).get(url).status_code for key in ALL_USERS}
    assert statuses == {
        "caseworker_a": 200, "caseworker_restricted": 200, "caseworker_a2": 404, "caseworker_b": 404,
        "supervisor_a": 200, "supervisor_b": 404, "receiver": 403, "me_officer": 403, "dpo": 403, "admin": 403,
    }


def test_restricted_flags_are_shown_only_to_users_with_restricted_access(app, world, register, login_as):
    from caseapp.beneficiaries.models import VulnerabilityFlag

    person_id, _ = register("caseworker_restricted", flags=["gbv_survivor", "homeless"])
    with app.app_context():
        names = {code: {n for n in (flag.name_fr, flag.name_en, flag.name_ar) if n}
                 for code in ("gbv_survivor", "homeless")
                 for flag in [db.session.get(VulnerabilityFlag, code)]}
    seen = {}
    for user_key in ("caseworker_restricted", "supervisor_a", "caseworker_a"):
        body = html.unescape(_body(login_as(user_key).get(f"/beneficiaries/{person_id}")))
        seen[user_key] = {code for code, variants in names.items() if any(v in body for v in variants)}
    assert seen == {"caseworker_restricted": {"gbv_survivor", "homeless"}, "supervisor_a": {"gbv_survivor", "homeless"},
                    "caseworker_a": {"homeless"}}


def test_a_refused_record_is_not_audited_as_viewed(app, world, persons, login_as):
    url = f"/beneficiaries/{persons['A-OUJ']['id']}"
    for key in ("caseworker_a2", "caseworker_b", "supervisor_b", "dpo"):
        login_as(key).get(url)
    login_as("caseworker_a").get(url)
    with app.app_context():
        viewers = list(db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.action == "beneficiary.view")))
    assert viewers == [world.users["caseworker_a"]]


def _normalized(body: str, person_id: int) -> str:
    """A page with its per-request parts (CSRF tokens, the requested path) blanked out."""
    body = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', body)
    return body.replace(f"/beneficiaries/{person_id}", "/beneficiaries/ID")


@pytest.mark.parametrize("user_key, foreign_point", [("caseworker_a", "A-NAD"), ("supervisor_b", "A-OUJ")])
def test_unknown_and_foreign_ids_get_the_same_bare_404(app, world, persons, login_as, user_key, foreign_point):
    client = login_as(user_key)
    foreign = persons[foreign_point]
    unknown_id = max(p["id"] for p in persons.values()) + 1000
    foreign_response = client.get(f"/beneficiaries/{foreign['id']}")
    unknown_response = client.get(f"/beneficiaries/{unknown_id}")
    assert foreign_response.status_code == unknown_response.status_code == 404
    foreign_body = _body(foreign_response)
    assert _normalized(foreign_body, foreign["id"]) == _normalized(_body(unknown_response), unknown_id)
    for person in persons.values():
        for secret in (person["given_name"], person["family_name"], person["number"], person["phone"]):
            assert secret not in foreign_body
    for leak in ("Traceback", "sqlalchemy", "beneficiary_id", "Point A-", "Point B-"):
        assert leak not in foreign_body


def test_unknown_paths_are_404(app, world, login_as):
    client = login_as("supervisor_a")
    paths = ["/beneficiaries/0", "/beneficiaries/99999999", "/beneficiaries/abc", "/beneficiaries/-1", "/no-such-page"]
    assert {path: client.get(path).status_code for path in paths} == {path: 404 for path in paths}


# --- lists and searches ------------------------------------------------------------------------------------------


def _search(client, text: str) -> str:
    response = client.post("/cases/", data={"q": text, "csrf_token": csrf_token(client, "/cases/")})
    assert response.status_code == 302
    return _body(client.get("/cases/"))


def test_case_list_and_home_show_exactly_the_persons_in_scope(app, world, persons, login_as):
    shown = {}
    for user_key in CASE_USERS_SCOPE:
        client = login_as(user_key)
        for path in ("/cases/", "/"):
            body = _body(client.get(path))
            shown[user_key, path] = {point for point, person in persons.items() if person["given_name"] in body}
            numbers = {point for point, person in persons.items() if person["number"] in body}
            assert numbers == shown[user_key, path], (user_key, path)
    # The list shows the whole scope; a caseworker's home shows only their own cases, a supervisor's their team's.
    own = {key: {point for point, person in persons.items() if person["user"] == key} for key in CASE_USERS_SCOPE}
    expected_home = {key: points if key.startswith("supervisor") else own[key] & points
                     for key, points in CASE_USERS_SCOPE.items()}
    assert shown == {(key, "/cases/"): points for key, points in CASE_USERS_SCOPE.items()} | {
        (key, "/"): expected_home[key] for key in CASE_USERS_SCOPE}


@pytest.mark.parametrize("user_key", ["caseworker_a", "caseworker_a2", "supervisor_a", "supervisor_b"])
def test_searching_for_someone_out_of_scope_finds_nothing(app, world, persons, login_as, user_key):
    client = login_as(user_key)
    found, expected = {}, {}
    for point, person in persons.items():
        for text in (person["family_name"], person["number"], person["phone"]):
            body = _search(client, text)
            # The given name is never typed in the search box: it is on the page only if the row is.
            found[text] = {key for key, p in persons.items() if p["given_name"] in body}
            expected[text] = {point} & CASE_USERS_SCOPE[user_key]
    assert found == expected


def test_filters_in_the_query_string_do_not_widen_the_scope(app, world, persons, login_as):
    client = login_as("caseworker_a")
    body = _body(client.get(f"/cases/?service_point={world.service_points['B-BEM']}&status=registered"))
    assert "Brahim" not in body and "Zineb" not in body
    body = _body(client.get(f"/cases/?service_point={world.service_points['A-NAD']}"))
    assert "Karim" not in body
    assert "Point B-BEM" not in _body(client.get("/cases/"))  # other partners' points are not even offered


def test_non_case_roles_get_no_list_and_see_no_one(app, world, persons, login_as):
    for user_key in NON_CASE_USERS:
        client = login_as(user_key)
        assert client.get("/cases/").status_code == 403, user_key
        response = client.post("/cases/", data={"q": "Zineb", "csrf_token": csrf_token(client, "/")})
        assert response.status_code == 403, user_key
        home = client.get("/")
        assert home.status_code == 200, user_key
        for person in persons.values():
            assert person["given_name"] not in _body(home) and person["number"] not in _body(home), user_key


# --- headers -----------------------------------------------------------------------------------------------------


def _check_security_headers(response, label: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], label
    assert "script-src" in directives or "default-src" in directives, label
    script_src = directives.get("script-src", directives.get("default-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src and "*" not in script_src, label
    assert directives.get("object-src") == ["'none'"], label
    assert response.headers.get("X-Content-Type-Options") == "nosniff", label
    server = response.headers.get("Server")
    assert server is None or not re.search(r"\d|werkzeug|python|gunicorn", server, re.I), label


def _authenticated_responses(client, world, persons):
    yield "home", client.get("/")
    yield "case list", client.get("/cases/")
    yield "search", client.post("/cases/", data={"q": "Zineb", "csrf_token": csrf_token(client, "/")})
    yield "form", client.get("/beneficiaries/new")
    yield "person", client.get(f"/beneficiaries/{persons['A-OUJ']['id']}")
    yield "foreign person", client.get(f"/beneficiaries/{persons['B-BEM']['id']}")
    yield "unknown url", client.get("/no-such-page")
    yield "login while logged in", client.get("/login")
    yield "post without csrf", client.post("/beneficiaries/new", data={})
    yield "wrong method", client.get("/logout")


def test_every_authenticated_response_is_not_stored_and_carries_the_security_headers(app, world, persons, login_as):
    responses = list(_authenticated_responses(login_as("caseworker_a"), world, persons))
    dpo = login_as("dpo")
    responses += [("forbidden", dpo.get("/cases/")), ("dpo home", dpo.get("/"))]
    assert {label: r.status_code for label, r in responses} == {
        "home": 200, "case list": 200, "search": 302, "form": 200, "person": 200, "foreign person": 404,
        "unknown url": 404, "login while logged in": 302, "post without csrf": 400, "wrong method": 405,
        "forbidden": 403, "dpo home": 200,
    }
    for label, response in responses:
        assert "no-store" in response.headers.get("Cache-Control", ""), label
        _check_security_headers(response, label)


def test_every_anonymous_response_carries_the_security_headers(app, world):
    client = app.test_client()
    responses = [
        ("login", client.get("/login")),
        ("protected", client.get("/cases/")),
        ("health", client.get("/health/ready")),
        ("static", client.get("/static/css/app.css")),
        ("unknown", client.get("/no-such-page")),
        ("csrf", client.post("/login", data={"username": "x", "password": "y"})),
    ]
    for _, response in responses:
        response.close()  # the static file stays open until closed; headers remain readable
    assert [r.status_code for _, r in responses] == [200, 302, 200, 200, 404, 400]
    for label, response in responses:
        _check_security_headers(response, label)
    assert urlsplit(responses[1][1].headers["Location"]).path == "/login"

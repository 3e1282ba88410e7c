"""Login, logout, session handling, safe redirects and the interface language, through HTTP."""
import html
import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from flask_babel import gettext
from sqlalchemy import select

from caseapp.audit.models import AuditEvent
from caseapp.auth.models import User
from caseapp.extensions import db
from tests.conftest import PASSWORD, csrf_token, login

COOKIE = "caseapp_session"


def _translated(app, message: str, language: str) -> str:
    """`message` as the app shows it to a browser asking for `language`."""
    with app.test_request_context(headers={"Accept-Language": language}):
        return gettext(message)


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
        db.session.expunge_all()
        return events


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


# --- language of the login page ----------------------------------------------------------------------------------


def test_login_page_is_french_by_default(app, world):
    body = app.test_client().get("/login").get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in body


def test_login_page_is_arabic_and_right_to_left_for_an_arabic_browser(app, world):
    body = app.test_client().get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in body
    assert "bootstrap.rtl.min." in body


def test_login_page_follows_the_browsers_preferred_supported_language(app, world):
    body = app.test_client().get("/login", headers={"Accept-Language": "de, en;q=0.8, fr;q=0.5"}).get_data(
        as_text=True)
    assert '<html lang="en" dir="ltr">' in body


# --- login success and failure -----------------------------------------------------------------------------------


def test_login_success_redirects_home_and_is_audited(app, world):
    client = app.test_client()
    response = login(client, "caseworker.a")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/"
    assert _logged_in(client)
    events = _events(app, "login.ok")
    assert [event.actor_id for event in events] == [world.users["caseworker_a"]]


def test_username_is_not_case_sensitive(app, world):
    client = app.test_client()
    assert login(client, "  CaseWorker.A ").status_code == 302
    assert _logged_in(client)


@pytest.mark.parametrize("username, password, actor", [
    ("caseworker.a", "wrong password", "caseworker_a"),
    ("nobody.here", PASSWORD, None),
    ("caseworker.a", "", None),  # the form refuses it before any check: nothing to audit as an attempt
])
def test_login_failure_shows_an_error_and_does_not_log_in(app, world, username, password, actor):
    client = app.test_client()
    response = login(client, username, password)
    assert response.status_code == 200
    assert "Location" not in response.headers
    body = html.unescape(response.get_data(as_text=True))
    assert 'class="alert alert-danger"' in body
    assert not _logged_in(client)
    with client.session_transaction() as session:
        assert "_user_id" not in session
    if password:
        assert _translated(app, "Unknown username or wrong password.", "fr") in body
        events = _events(app, "login.failed")
        assert len(events) == 1
        assert events[0].actor_id == (world.users[actor] if actor else None)
        assert json.loads(events[0].details) == {"reason": "credentials"}
        assert password not in events[0].details
    assert _events(app, "login.ok") == []


def test_an_inactive_user_cannot_log_in(app, world):
    with app.app_context():
        db.session.get(User, world.users["caseworker_a"]).active = False
        db.session.commit()
    client = app.test_client()
    response = login(client, "caseworker.a")
    assert response.status_code == 200
    assert not _logged_in(client)
    assert [json.loads(e.details)["reason"] for e in _events(app, "login.failed")] == ["inactive"]


def test_a_logged_in_user_visiting_login_goes_home(app, world, login_as):
    response = login_as("caseworker_a").get("/login")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/"


# --- session at login --------------------------------------------------------------------------------------------


def test_login_clears_the_session_and_rotates_the_cookie(app, world):
    client = app.test_client()
    token = csrf_token(client, "/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["lang"] = "ar"
    before = _session_cookie(client)
    assert before
    response = client.post("/login", data={"username": "caseworker.a", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    after = _session_cookie(client)
    assert after and after != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "ar"  # the language chosen before login is kept
        assert session["_user_id"].startswith(f"{world.users['caseworker_a']}:")
    # The pre-login cookie grants nothing.
    stale = app.test_client()
    stale.set_cookie(COOKIE, before)
    assert _is_login_redirect(stale.get("/"))


def test_session_cookie_flags(app, world):
    response = login(app.test_client(), "caseworker.a")
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{COOKIE}=")]
    assert len(cookies) == 1
    attributes = {part.strip().split("=", 1)[0].lower(): (part.strip().split("=", 1) + [""])[1]
                  for part in cookies[0].split(";")[1:]}
    assert "httponly" in attributes
    assert attributes.get("samesite", "").lower() == "lax"
    assert attributes.get("path") == "/"
    assert "expires" in attributes  # a permanent session with a bounded lifetime, not a browser-session cookie


def test_a_session_older_than_the_absolute_lifetime_is_ended(app, world, login_as):
    client = login_as("caseworker_a")
    with client.session_transaction() as session:
        session["auth_at"] = (datetime.now(timezone.utc) - timedelta(hours=13)).isoformat()
    assert _is_login_redirect(client.get("/"))


# --- idle timeout: the cookie's signature time ---------------------------------------------------------------


def _sign_as_of(monkeypatch, client, seconds_ago: int) -> None:
    """Re-sign the client's session cookie as if `seconds_ago` seconds ago (itsdangerous's signing clock moved)."""
    import time

    from itsdangerous import TimestampSigner

    with client.session_transaction() as session:
        held = dict(session)
    with monkeypatch.context() as moved:
        moved.setattr(TimestampSigner, "get_timestamp", lambda signer: int(time.time()) - seconds_ago)
        with client.session_transaction() as session:  # the current cookie reads as from the future: not opened
            session.update(held)


def _seconds_left(response) -> int:
    return int(re.search(r'data-session-seconds="(\d+)"', response.get_data(as_text=True)).group(1))


def test_an_unchanged_session_is_signed_again_at_most_once_a_minute(app, world, login_as, monkeypatch):
    client = login_as("caseworker_a")
    client.get("/")  # the first page puts the CSRF token in the session: from then on it stays unchanged
    _sign_as_of(monkeypatch, client, 10)
    cookie = _session_cookie(client)
    response = client.get("/")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert _session_cookie(client) == cookie
    assert 1785 <= _seconds_left(response) <= 1790  # the warning counts from the cookie's signature, not from now
    _sign_as_of(monkeypatch, client, 61)
    response = client.get("/")
    assert response.status_code == 200 and any(value.startswith(f"{COOKIE}=")
                                                for value in response.headers.getlist("Set-Cookie"))
    assert _session_cookie(client) != cookie and _seconds_left(response) == 1800


def test_a_session_idle_for_the_whole_lifetime_is_ended_even_if_unchanged_since(app, world, login_as, monkeypatch):
    client = login_as("caseworker_a")
    _sign_as_of(monkeypatch, client, 30 * 60 - 5)
    assert _logged_in(client)  # 5 seconds left: signed again now, for 30 minutes more
    _sign_as_of(monkeypatch, client, 30 * 60 + 1)
    assert _is_login_redirect(client.get("/"))


def test_a_changed_session_is_signed_again_at_once(app, world, login_as, monkeypatch):
    client = login_as("caseworker_a")
    _sign_as_of(monkeypatch, client, 5)
    cookie = _session_cookie(client)
    response = client.post("/language", data={"language": "ar", "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302 and _session_cookie(client) != cookie


# --- logout ------------------------------------------------------------------------------------------------------


def test_logout_revokes_the_old_cookie(app, world, login_as):
    client = login_as("caseworker_a")
    saved = _session_cookie(client)
    token = csrf_token(client, "/")
    response = client.post("/logout", data={"csrf_token": token})
    assert _is_login_redirect(response)
    assert _is_login_redirect(client.get("/"))
    replay = app.test_client()
    replay.set_cookie(COOKIE, saved)
    assert _is_login_redirect(replay.get("/"))
    assert _is_login_redirect(replay.get("/cases/"))
    assert [event.actor_id for event in _events(app, "logout")] == [world.users["caseworker_a"]]


def test_logout_clears_what_the_session_held(app, world, login_as):
    client = login_as("caseworker_a")
    response = client.post("/cases/", data={"q": "Zineb Tahiri", "csrf_token": csrf_token(client, "/cases/")})
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session.get("case_search") == "Zineb Tahiri"
        session["lang"] = "ar"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    with client.session_transaction() as session:
        # The last search (a person's name) must not stay in the browser of a shared computer.
        assert "case_search" not in session
        assert "_user_id" not in session
        assert session.get("lang") == "ar"  # the login page stays in the chosen language


def test_logout_ends_every_session_of_the_user(app, world, login_as):
    first, second = login_as("caseworker_a"), login_as("caseworker_a")
    first.post("/logout", data={"csrf_token": csrf_token(first, "/")})
    assert _is_login_redirect(second.get("/"))


def test_logout_needs_post_and_a_csrf_token(app, world, login_as):
    client = login_as("caseworker_a")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert _logged_in(client)


# --- where to go after login -------------------------------------------------------------------------------------


OFF_SITE = ["//evil.example", "https://evil.example", "http://evil.example/cases/", "/\\evil.example",
            "\\\\evil.example", "javascript:alert(1)", "///evil.example", "/\t/evil.example"]


def test_next_pointing_off_site_is_ignored(app, world):
    locations = {}
    for target in OFF_SITE:
        client = app.test_client()
        token = csrf_token(client, "/login")
        response = client.post("/login", query_string={"next": target},
                               data={"username": "caseworker.a", "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, target
        locations[target] = response.headers["Location"]
    assert {target: urlsplit(location)[:3] for target, location in locations.items()} in (
        {target: ("", "", "/") for target in OFF_SITE}, {target: ("http", "localhost", "/") for target in OFF_SITE})


def test_next_on_this_site_is_followed(app, world):
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post("/login", query_string={"next": "/cases/"},
                           data={"username": "caseworker.a", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/cases/"


def test_a_protected_page_sends_to_login_and_back(app, world):
    client = app.test_client()
    first = client.get("/cases/")
    assert _is_login_redirect(first)
    login_page = first.headers["Location"]
    token = csrf_token(client, login_page)
    response = client.post(login_page, data={"username": "caseworker.a", "password": PASSWORD, "csrf_token": token})
    assert urlsplit(response.headers["Location"]).path == "/cases/"
    assert client.get("/cases/").status_code == 200


# --- CSRF --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_login_without_a_valid_csrf_token_is_refused(app, world, token):
    client = app.test_client()
    client.get("/login")
    data = {"username": "caseworker.a", "password": PASSWORD}
    if token:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 400
    assert not _logged_in(client)
    assert _events(app, "login.ok") == []


def test_a_token_from_another_session_is_refused(app, world):
    other = app.test_client()
    token = csrf_token(other, "/login")
    client = app.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": "caseworker.a", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400


# --- language switch ---------------------------------------------------------------------------------------------


def test_language_switch_stores_the_users_preference(app, world, login_as):
    client = login_as("caseworker_a")
    response = client.post("/language", data={"language": "ar", "next": "/cases/",
                                              "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/cases/"
    assert '<html lang="ar" dir="rtl">' in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, world.users["caseworker_a"]).preferred_language == "ar"
    assert [e.actor_id for e in _events(app, "user.update")] == [world.users["caseworker_a"]]
    # The preference follows the user to a new session, whatever the browser asks for.
    fresh = login_as("caseworker_a")
    body = fresh.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in body


def test_language_switch_before_login_is_kept_in_the_session(app, world):
    client = app.test_client()
    response = client.post("/language", data={"language": "ar", "next": "/login",
                                              "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302
    assert '<html lang="ar" dir="rtl">' in client.get("/login").get_data(as_text=True)
    assert _events(app, "user.update") == []


def test_language_switch_refuses_unknown_languages_off_site_targets_and_missing_tokens(app, world, login_as):
    client = login_as("caseworker_a")
    token = csrf_token(client, "/")
    assert client.post("/language", data={"language": "xx", "csrf_token": token}).status_code == 400
    response = client.post("/language", data={"language": "en", "next": "//evil.example", "csrf_token": token})
    assert response.status_code == 302 and "evil" not in response.headers["Location"]
    assert client.post("/language", data={"language": "fr"}).status_code == 400
    with app.app_context():
        assert db.session.get(User, world.users["caseworker_a"]).preferred_language == "en"

"""Requirements 3, 4 and 5 through HTTP: the second factor at login (replay, lockout, expiry of the pending login,
`next`), setting it up (forced for supervisor, dpo and admin), recovery codes, the forced password change, and
"log out everywhere".

Codes are computed here from the secret (`totp_secret_of`) without clearing the replay guard, except where a test
only needs a user logged in (`login_as`, `login`).
"""
import hashlib
import html
import json
import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pyotp
import pytest
from flask_babel import gettext, ngettext
from sqlalchemy import select, text

from caseapp.audit.models import AuditEvent
from caseapp.auth.models import User
from caseapp.extensions import db
from caseapp.security.rate_limit import InProcessRateLimiter, parse_rate, set_login_limiter
from tests.conftest import PASSWORD, csrf_token, login, totp_secret_of

COOKIE = "caseapp_session"
NEW_PASSWORD = "a quiet river under the cedar trees"
KEY_PATTERN = re.compile(r'<code class="user-select-all" dir="ltr">([A-Z2-7 ]+)</code>')
CODES_PATTERN = re.compile(r'<ul class="[^"]*recovery-codes"[^>]*>(.*?)</ul>', re.S)


# --- helpers -----------------------------------------------------------------------------------------------------


def _translated(app, message: str, language: str = "fr") -> str:
    with app.test_request_context(headers={"Accept-Language": language}):
        return gettext(message)


def _translated_plural(app, singular: str, plural: str, num: int, language: str = "fr") -> str:
    """A plural entry (ngettext in the template), formatted with `num` as the template does."""
    with app.test_request_context(headers={"Accept-Language": language}):
        return ngettext(singular, plural, num)


def _body(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _path(response) -> str | None:
    return urlsplit(response.headers["Location"]).path if response.status_code in (301, 302, 303) else None


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


def _events(app, *actions: str) -> list[tuple[str, int | None, dict]]:
    """(action, actor id, details) of the audit events with these actions, oldest first."""
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.id))
        return [(event.action, event.actor_id, json.loads(event.details)) for event in events]


def _account(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def _code_now(secret: str) -> str:
    return pyotp.TOTP(secret).at(time.time())


def _wrong_code(secret: str) -> str:
    """A 6-digit code that no step near now gives for `secret`."""
    totp, now = pyotp.TOTP(secret), time.time()
    near = {totp.at(now + 30 * offset) for offset in range(-3, 4)}
    return next(code for code in ("123456", "654321", "111111", "987654") if code not in near)


def _password_step(client, username: str, password: str = PASSWORD, next_url: str | None = None):
    token = csrf_token(client, "/login")
    return client.post("/login", query_string={"next": next_url} if next_url else None,
                       data={"username": username, "password": password, "csrf_token": token})


def _code_step(client, code: str):
    token = csrf_token(client, "/login/code")
    return client.post("/login/code", data={"code": code, "csrf_token": token})


def _pending(client, username: str, next_url: str | None = None):
    """A client whose password step for `username` passed: it now waits for the code."""
    response = _password_step(client, username, next_url=next_url)
    assert _path(response) == "/login/code", f"password step of {username}: {response.status_code}"
    return client


def _wrong_code_refused(app, response) -> bool:
    return (response.status_code == 200
            and _translated(app, "This code is wrong or was already used.") in _body(response))


def _set_cookie(response) -> dict[str, str]:
    """The attributes of the session cookie set by `response` (lower-case names)."""
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{COOKIE}=")]
    assert len(cookies) == 1
    return {part.strip().split("=", 1)[0].lower(): (part.strip().split("=", 1) + [""])[1]
            for part in cookies[0].split(";")[1:]}


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def _recovery_codes(response) -> list[str]:
    match = CODES_PATTERN.search(response.get_data(as_text=True))
    assert match, "no list of recovery codes on the page"
    return re.findall(r"<li>([^<]+)</li>", match.group(1))


def _post(client, path: str, page: str = "/account/security", **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


@pytest.fixture
def new_user(app, world):
    """new_user(username, role) → the id of an account created like an admin would, without a second factor."""
    from caseapp.auth.services import create_user
    from caseapp.partners.models import Partner
    from caseapp.places.models import ServicePoint

    def _new_user(username: str = "supervisor.new", role: str = "supervisor", **changes) -> int:
        with app.app_context():
            user = create_user(None, username=username, full_name="New Supervisor", password=PASSWORD, role=role,
                               partner=db.session.get(Partner, world.partners["A"]),
                               service_points=[db.session.get(ServicePoint, world.service_points["A-OUJ"])])
            for name, value in changes.items():
                setattr(user, name, value)
            db.session.commit()
            return user.id

    return _new_user


# --- the code step at login --------------------------------------------------------------------------------------


def test_a_supervisors_login_stops_at_the_code_step(app, world):
    client = app.test_client()
    response = _password_step(client, "supervisor.a")
    assert _path(response) == "/login/code"
    page = client.get("/login/code")
    assert page.status_code == 200 and 'name="code"' in page.get_data(as_text=True)
    # The password alone opens nothing.
    for path in ("/", "/cases/", "/account/security", "/account/second-factor"):
        assert _path(client.get(path)) == "/login", path
    with client.session_transaction() as session:
        assert "_user_id" not in session
        assert session["pending_login"]["user"] == world.users["supervisor_a"]
    assert _events(app, "login.ok") == []


def test_the_right_code_completes_the_login_and_both_steps_are_audited(app, world):
    client = _pending(app.test_client(), "supervisor.a")
    response = _code_step(client, _code_now(totp_secret_of("supervisor.a")))
    assert _path(response) == "/"
    assert _logged_in(client)
    assert client.get("/cases/").status_code == 200
    user_id = world.users["supervisor_a"]
    assert _events(app, "login.password_ok", "login.ok", "login.failed", "login.mfa_failed") == [
        ("login.password_ok", user_id, {"second_factor": "pending"}),
        ("login.ok", user_id, {"method": "totp"}),
    ]
    account = _account(app, user_id)
    assert account.failed_logins == 0 and account.last_login_at is not None
    with client.session_transaction() as session:
        assert "pending_login" not in session
        assert session["_user_id"] == f"{user_id}:{account.session_version}"


@pytest.mark.parametrize("key", ["supervisor_b", "dpo", "admin"])
def test_every_role_with_a_second_factor_gets_the_code_step(app, world, key):
    username = world.username(key)
    client = _pending(app.test_client(), username)
    assert _path(_code_step(client, _code_now(totp_secret_of(username)))) == "/"
    assert _logged_in(client)


def test_a_wrong_code_is_refused_and_counts_as_a_failed_login(app, world):
    secret = totp_secret_of("supervisor.a")
    client = _pending(app.test_client(), "supervisor.a")
    response = _code_step(client, _wrong_code(secret))
    assert _wrong_code_refused(app, response)
    assert 'class="alert alert-danger"' in response.get_data(as_text=True)
    assert not _logged_in(client)
    with client.session_transaction() as session:
        assert "_user_id" not in session
    user_id = world.users["supervisor_a"]
    assert _account(app, user_id).failed_logins == 1
    assert [action for action, _actor, _details in _events(app, "login.mfa_failed", "login.ok")] == [
        "login.mfa_failed"]
    # The pending login survives a typing mistake: the right code still works, and resets the count.
    assert _path(_code_step(client, _code_now(secret))) == "/"
    assert _logged_in(client)
    assert _account(app, user_id).failed_logins == 0


def test_wrong_codes_lock_the_account_even_for_the_right_code(app, world):
    secret = totp_secret_of("supervisor.a")
    user_id = world.users["supervisor_a"]
    client = _pending(app.test_client(), "supervisor.a")
    limit = app.config["LOGIN_LOCK_AFTER"]
    for attempt in range(1, limit + 1):
        assert _wrong_code_refused(app, _code_step(client, _wrong_code(secret)))
        assert _account(app, user_id).failed_logins == attempt
    locked_until = _account(app, user_id).locked_until
    assert locked_until is not None
    assert locked_until.replace(tzinfo=locked_until.tzinfo or timezone.utc) > datetime.now(timezone.utc)

    response = _code_step(client, _code_now(secret))
    assert _wrong_code_refused(app, response)  # the same words: no hint that the code was right
    assert not _logged_in(client)
    assert _account(app, user_id).totp_last_step is None  # the right code was not even checked, nor consumed
    locks = [details for _action, _actor, details in _events(app, "login.locked")]
    assert locks == [{"reason": "too_many_failures", "failures": limit, "lock_seconds": app.config[
        "LOGIN_LOCK_SECONDS"]}, {"reason": "second_factor"}]
    assert _events(app, "login.ok") == []
    # Starting again from the password does not help while the lock runs.
    assert _password_step(app.test_client(), "supervisor.a").status_code == 200


def test_a_new_password_step_does_not_reset_the_count_of_wrong_codes(app, world):
    secret = totp_secret_of("supervisor.a")
    user_id = world.users["supervisor_a"]
    limit = app.config["LOGIN_LOCK_AFTER"]
    for _attempt in range(limit - 1):
        client = _pending(app.test_client(), "supervisor.a")  # the right password every time
        assert _wrong_code_refused(app, _code_step(client, _wrong_code(secret)))
    assert _account(app, user_id).failed_logins == limit - 1
    assert _account(app, user_id).locked_until is None
    client = _pending(app.test_client(), "supervisor.a")
    assert _wrong_code_refused(app, _code_step(client, _wrong_code(secret)))
    assert _account(app, user_id).locked_until is not None


def test_a_replayed_code_is_refused_and_audited(app, world):
    secret = totp_secret_of("supervisor.a")
    code = _code_now(secret)
    first = _pending(app.test_client(), "supervisor.a")
    assert _path(_code_step(first, code)) == "/"

    second = _pending(app.test_client(), "supervisor.a")
    response = _code_step(second, code)  # seen over a shoulder, or sent on by a phishing page
    assert _wrong_code_refused(app, response)
    assert not _logged_in(second)
    assert _logged_in(first)
    user_id = world.users["supervisor_a"]
    assert _events(app, "login.mfa_reused") == [("login.mfa_reused", user_id, {})]
    assert [action for action, _actor, _details in _events(app, "login.ok")] == ["login.ok"]
    assert _account(app, user_id).failed_logins == 1  # a replay counts as a failure


def test_a_code_typed_in_other_digits_is_refused_without_an_error(app, world):
    client = _pending(app.test_client(), "supervisor.a")
    # Arabic-Indic (an Arabic keyboard), full-width, superscript: str.isdigit() is True for all three.
    for typed in ("٠١٢٣٤٥", "１２３４５６", "12345²"):
        response = _code_step(client, typed)
        assert response.status_code == 200, typed
        assert _wrong_code_refused(app, response), typed
    assert not _logged_in(client)


def test_the_pending_login_expires_after_five_minutes(app, world):
    secret = totp_secret_of("supervisor.a")
    client = _pending(app.test_client(), "supervisor.a")
    with client.session_transaction() as session:
        pending = dict(session["pending_login"])
        session["pending_login"] = {**pending, "at": (datetime.now(timezone.utc) - timedelta(minutes=4, seconds=50))
                                    .isoformat()}
    assert client.get("/login/code").status_code == 200  # still within the five minutes
    token = csrf_token(client, "/login/code")
    with client.session_transaction() as session:
        session["pending_login"] = {**pending, "at": (datetime.now(timezone.utc) - timedelta(minutes=5, seconds=1))
                                    .isoformat()}
    response = client.post("/login/code", data={"code": _code_now(secret), "csrf_token": token})
    assert _path(response) == "/login"
    assert not _logged_in(client)
    assert _account(app, world.users["supervisor_a"]).totp_last_step is None  # the code was not consumed
    with client.session_transaction() as session:
        assert "pending_login" not in session
    assert _path(client.get("/login/code")) == "/login"
    assert _events(app, "login.ok") == []


def test_the_pending_login_ends_when_the_session_version_changes(app, world):
    secret = totp_secret_of("supervisor.a")
    # The same supervisor, logged in on another device, logs out everywhere.
    code = _code_now(secret)
    elsewhere = _pending(app.test_client(), "supervisor.a")
    assert _path(_code_step(elsewhere, code)) == "/"
    waiting = _pending(app.test_client(), "supervisor.a")
    token = csrf_token(waiting, "/login/code")
    assert _path(_post(elsewhere, "/account/logout-everywhere")) == "/login"

    next_code = pyotp.TOTP(secret).at(time.time() + 30)  # a code not used yet
    response = waiting.post("/login/code", data={"code": next_code, "csrf_token": token})
    assert _path(response) == "/login"
    assert not _logged_in(waiting)
    assert _path(waiting.get("/login/code")) == "/login"
    assert [action for action, _actor, _details in _events(app, "login.ok")] == ["login.ok"]  # only `elsewhere`


def test_the_pending_login_ends_when_the_account_is_disabled(app, world):
    client = _pending(app.test_client(), "supervisor.a")
    token = csrf_token(client, "/login/code")
    with app.app_context():
        db.session.get(User, world.users["supervisor_a"]).active = False
        db.session.commit()
    response = client.post("/login/code", data={"code": _code_now(totp_secret_of("supervisor.a")),
                                                "csrf_token": token})
    assert _path(response) == "/login"
    assert not _logged_in(client)


def test_the_code_page_without_a_pending_login_sends_to_login(app, world):
    client = app.test_client()
    assert _path(client.get("/login/code")) == "/login"
    token = csrf_token(client, "/login")
    response = client.post("/login/code", data={"code": "123456", "csrf_token": token})
    assert _path(response) == "/login"
    assert _events(app, "login.mfa_failed", "login.failed", "login.ok") == []


def test_a_caseworker_password_login_has_no_code_step(app, world):
    client = app.test_client()
    assert _path(_password_step(client, "caseworker.a")) == "/"
    assert _path(client.get("/login/code")) == "/login"  # and then home: nothing is pending


def test_the_code_step_needs_a_csrf_token(app, world):
    client = _pending(app.test_client(), "supervisor.a")
    response = client.post("/login/code", data={"code": _code_now(totp_secret_of("supervisor.a"))})
    assert response.status_code == 400
    assert not _logged_in(client)
    assert _account(app, world.users["supervisor_a"]).totp_last_step is None


def test_next_is_kept_through_the_code_step(app, world):
    client = _pending(app.test_client(), "supervisor.a", next_url="/cases/")
    response = _code_step(client, _code_now(totp_secret_of("supervisor.a")))
    assert _path(response) == "/cases/"


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/cases/", "/\\evil.example"])
def test_next_off_site_is_ignored_through_the_code_step(app, world, target):
    with app.app_context():  # each parametrised run logs in again: allow the same step once more
        db.session.get(User, world.users["supervisor_a"]).totp_last_step = None
        db.session.commit()
    client = _pending(app.test_client(), "supervisor.a", next_url=target)
    response = _code_step(client, _code_now(totp_secret_of("supervisor.a")))
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/" and location.netloc in ("", "localhost")
    assert "evil" not in response.headers["Location"]


def test_a_recovery_code_completes_the_login_once(app, world, login_as):
    owner = login_as("supervisor_a")
    codes = _recovery_codes(_post(owner, "/account/recovery-codes", password=PASSWORD))
    assert len(codes) == 10
    client = _pending(app.test_client(), "supervisor.a")
    assert _path(_code_step(client, codes[0].upper())) == "/"
    assert _events(app, "login.ok")[-1][2] == {"method": "recovery"}
    again = _pending(app.test_client(), "supervisor.a")
    assert _wrong_code_refused(app, _code_step(again, codes[0]))
    assert not _logged_in(again)


def test_the_code_step_counts_towards_the_per_address_limit(app, world, monkeypatch):
    spec = "3/5min"
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", spec)
    set_login_limiter(app, InProcessRateLimiter(*parse_rate(spec)))
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    secret = totp_secret_of("supervisor.a")
    _pending(client, "supervisor.a")  # 1
    for _attempt in range(2):  # 2, 3
        assert _wrong_code_refused(app, _code_step(client, _wrong_code(secret)))
    response = _code_step(client, _code_now(secret))
    assert response.status_code == 429
    assert not _logged_in(client)
    assert _account(app, world.users["supervisor_a"]).totp_last_step is None


def test_the_code_step_clears_the_session_and_sets_a_safe_cookie(app, world):
    client = _pending(app.test_client(), "supervisor.a")
    token = csrf_token(client, "/login/code")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["lang"] = "ar"
    pending_cookie = _session_cookie(client)
    response = client.post("/login/code", data={"code": _code_now(totp_secret_of("supervisor.a")),
                                                "csrf_token": token})
    assert _path(response) == "/"
    attributes = _set_cookie(response)
    assert "httponly" in attributes
    assert attributes.get("samesite", "").lower() == "lax"
    assert _session_cookie(client) != pending_cookie
    with client.session_transaction() as session:
        assert "planted" not in session and "pending_login" not in session
        assert session["lang"] == "ar"
    # The cookie of the password step is not a login.
    stale = app.test_client()
    stale.set_cookie(COOKIE, pending_cookie)
    assert _path(stale.get("/")) == "/login"


# --- setting up the second factor ----------------------------------------------------------------------------------


def _setup_page(client):
    response = client.get("/account/second-factor")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    match = KEY_PATTERN.search(body)
    assert match, "no key on the set-up page"
    return body, match.group(1).replace(" ", "")


def test_a_supervisor_without_a_second_factor_must_set_it_up_first(app, world, new_user):
    new_user()
    client = app.test_client()
    assert _path(login(client, "supervisor.new")) == "/"  # the password is enough to reach the set-up
    for path in ("/", "/cases/", "/account/security", "/beneficiaries/new", "/login/code"):
        assert _path(client.get(path)) == "/account/second-factor", path
    response = client.post("/account/recovery-codes", data={"csrf_token": csrf_token(client, "/account/second-factor"),
                                                            "password": PASSWORD})
    assert _path(response) == "/account/second-factor"
    assert client.get("/account/password").status_code == 200  # still allowed
    assert _path(_post(client, "/logout", page="/account/second-factor")) == "/login"  # and so is logging out


def test_the_set_up_page_draws_the_qr_code_itself(app, world, new_user):
    user_id = new_user()
    client = app.test_client()
    login(client, "supervisor.new")
    body, key = _setup_page(client)
    with app.app_context():
        pending = db.session.get(User, user_id).totp_pending_secret
    assert key == pending
    assert re.search(r"<svg\b", body), "the QR code is inline SVG"
    assert "<img" not in body.lower()
    assert "otpauth" not in body  # the URI with the secret is only in the drawing
    for attribute, value in re.findall(r'\b(src|href|action|srcset|data)="([^"]*)"', body):
        assert not re.match(r"(?i)\s*(https?:)?//", value), f"{attribute}={value}: an external URL"
    # A reload shows the same key; only "show a new code" draws another.
    assert _setup_page(client)[1] == key
    # A GET with any query string draws nothing; the "new code" button is a POST with a CSRF token.
    assert KEY_PATTERN.search(client.get("/account/second-factor?restart=1").get_data(as_text=True)).group(1) \
        .replace(" ", "") == key
    assert client.post("/account/second-factor/new-key").status_code == 400
    assert client.post("/account/second-factor/new-key",
                       data={"csrf_token": csrf_token(client, "/account/second-factor")}).status_code == 302
    restarted = client.get("/account/second-factor")
    assert restarted.status_code == 200
    assert KEY_PATTERN.search(restarted.get_data(as_text=True)).group(1).replace(" ", "") != key


def test_a_wrong_code_at_set_up_leaves_it_off(app, world, new_user):
    user_id = new_user()
    client = app.test_client()
    login(client, "supervisor.new")
    _body_text, key = _setup_page(client)
    response = _post(client, "/account/second-factor", page="/account/second-factor", code=_wrong_code(key))
    assert response.status_code == 200
    assert 'id="code-errors"' in response.get_data(as_text=True)
    assert not _account(app, user_id).mfa_enabled
    assert _path(client.get("/")) == "/account/second-factor"
    assert _setup_page(client)[1] == key  # the same QR code, to try again
    assert [actor for _action, actor, _details in _events(app, "mfa.enrolment_failed")] == [user_id]


def test_a_code_in_other_digits_at_set_up_is_refused_without_an_error(app, world, new_user):
    user_id = new_user()
    client = app.test_client()
    login(client, "supervisor.new")
    _setup_page(client)
    response = _post(client, "/account/second-factor", page="/account/second-factor", code="٠١٢٣٤٥")
    assert response.status_code == 200
    assert 'id="code-errors"' in response.get_data(as_text=True)
    assert not _account(app, user_id).mfa_enabled


def test_the_right_code_turns_it_on_and_shows_the_recovery_codes_once(app, world, new_user):
    user_id = new_user()
    client = app.test_client()
    login(client, "supervisor.new")
    _body_text, key = _setup_page(client)
    typed = _code_now(key)
    response = _post(client, "/account/second-factor", page="/account/second-factor", code=typed)
    assert response.status_code == 200
    codes = _recovery_codes(response)
    assert len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes)
    assert "no-store" in response.headers.get("Cache-Control", "")  # the codes stay out of every cache
    account = _account(app, user_id)
    assert account.mfa_enabled
    with app.app_context():
        assert db.session.get(User, user_id).totp_secret == key
        stored = db.session.execute(text("SELECT code_hash FROM recovery_code WHERE user_id = :id"),
                                    {"id": user_id}).scalars().all()
    assert sorted(stored) == sorted(hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes)

    # Now every page opens, and the codes are never shown again.
    assert client.get("/").status_code == 200
    security = client.get("/account/security")
    assert security.status_code == 200
    assert not [code for code in codes if code in security.get_data(as_text=True)]
    assert "10" in _body(security)
    assert _path(client.get("/account/second-factor")) == "/account/security"
    assert not [code for code in codes if code in client.get("/").get_data(as_text=True)]
    # Sending the form again (the browser's "reload") shows nothing either.
    resent = _post(client, "/account/second-factor", page="/account/security", code=_code_now(key))
    assert _path(resent) == "/account/security"

    # The next login asks for a code, and the one typed at set-up has been used already.
    again = _pending(app.test_client(), "supervisor.new")
    assert _wrong_code_refused(app, _code_step(again, typed))
    assert _events(app, "login.mfa_reused")[-1][1] == user_id


def test_sessions_opened_with_the_password_only_end_when_the_second_factor_is_turned_on(app, world, new_user):
    """Requirement 3: a supervisor's session that never presented a code must not gain full access afterwards."""
    new_user()
    this_browser, other_browser = app.test_client(), app.test_client()
    login(this_browser, "supervisor.new")
    login(other_browser, "supervisor.new")  # e.g. someone who learnt the password, waiting on the set-up page
    assert _path(other_browser.get("/")) == "/account/second-factor"
    _body_text, key = _setup_page(this_browser)
    assert _recovery_codes(_post(this_browser, "/account/second-factor", page="/account/second-factor",
                                 code=_code_now(key)))
    assert this_browser.get("/").status_code == 200  # this browser typed a code
    assert _path(other_browser.get("/cases/")) == "/login"  # the other one only ever typed the password


def test_a_caseworker_is_not_forced_but_can_set_it_up_and_turn_it_off(app, world, login_as):
    user_id = world.users["caseworker_a"]
    client = login_as("caseworker_a")
    assert client.get("/").status_code == 200
    security = client.get("/account/security").get_data(as_text=True)
    assert 'href="/account/second-factor"' in security
    _body_text, key = _setup_page(client)
    codes = _recovery_codes(_post(client, "/account/second-factor", page="/account/second-factor",
                                  code=_code_now(key)))
    assert len(codes) == 10 and _account(app, user_id).mfa_enabled
    assert 'action="/account/second-factor/off"' in client.get("/account/security").get_data(as_text=True)

    # Turning it off needs the password.
    response = _post(client, "/account/second-factor/off", password="not my password at all")
    assert _path(response) == "/account/security"
    assert _account(app, user_id).mfa_enabled
    assert _translated(app, "The current password is wrong.") in _body(client.get("/account/security"))

    response = _post(client, "/account/second-factor/off", password=PASSWORD)
    assert _path(response) == "/account/security"
    account = _account(app, user_id)
    assert not account.mfa_enabled and account.totp_last_step is None
    with app.app_context():
        assert db.session.get(User, user_id).totp_secret is None
    assert [actor for _action, actor, _details in _events(app, "mfa.disable")] == [user_id]
    assert _path(_password_step(app.test_client(), "caseworker.a")) == "/"  # no code step any more


def test_a_supervisor_cannot_turn_it_off(app, world, login_as):
    user_id = world.users["supervisor_a"]
    client = login_as("supervisor_a")
    security = client.get("/account/security").get_data(as_text=True)
    assert "/account/second-factor/off" not in security
    response = _post(client, "/account/second-factor/off", password=PASSWORD)
    assert _path(response) == "/account/security"
    assert _translated(app, "Your role requires a second factor.") in _body(client.get("/account/security"))
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.mfa_enabled and user.totp_secret == totp_secret_of("supervisor.a")
    assert _events(app, "mfa.disable") == []


def test_new_recovery_codes_need_the_password_and_replace_the_old_ones(app, world, login_as):
    user_id = world.users["supervisor_a"]
    client = login_as("supervisor_a")
    response = _post(client, "/account/recovery-codes", password="not my password at all")
    assert _path(response) == "/account/security"
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM recovery_code WHERE user_id = :id"),
                                 {"id": user_id}) == 0
    assert client.post("/account/recovery-codes", data={"password": PASSWORD}).status_code == 400  # no CSRF token

    old = _recovery_codes(_post(client, "/account/recovery-codes", password=PASSWORD))
    new = _recovery_codes(_post(client, "/account/recovery-codes", password=PASSWORD))
    assert len(old) == len(new) == 10 and not set(old) & set(new)
    assert _translated_plural(app, "%(num)d unused recovery code.", "%(num)d unused recovery codes.", 10) in _body(
        client.get("/account/security"))

    refused = _pending(app.test_client(), "supervisor.a")
    assert _wrong_code_refused(app, _code_step(refused, old[0]))
    assert not _logged_in(refused)
    accepted = _pending(app.test_client(), "supervisor.a")
    assert _path(_code_step(accepted, new[0])) == "/"
    assert _logged_in(accepted)


# --- forced password change --------------------------------------------------------------------------------------


def _must_change(app, user_id: int) -> None:
    with app.app_context():
        db.session.get(User, user_id).must_change_password = True
        db.session.commit()


def _change(client, current: str, new: str, confirm: str | None = None):
    return _post(client, "/account/password", page="/account/password", current_password=current,
                 new_password=new, confirm_password=confirm or new)


def test_a_temporary_password_must_be_changed_before_anything_else(app, world):
    user_id = world.users["caseworker_a"]
    _must_change(app, user_id)
    client = app.test_client()
    assert login(client, "caseworker.a").status_code == 302
    for path in ("/", "/cases/", "/account/security", "/account/recovery-codes", "/beneficiaries/new"):
        assert _path(client.get(path)) == "/account/password", path
    response = client.post("/cases/", data={"q": "Zineb", "csrf_token": csrf_token(client, "/account/password")})
    assert _path(response) == "/account/password"
    assert client.get("/account/password").status_code == 200

    # The new password must differ from the current one.
    response = _change(client, PASSWORD, PASSWORD)
    assert response.status_code == 200
    assert 'id="new_password-errors"' in response.get_data(as_text=True)
    assert _translated(app, "Choose a password other than the current one.") in _body(response)
    assert _account(app, user_id).must_change_password

    assert _path(_change(client, PASSWORD, NEW_PASSWORD)) == "/"
    assert not _account(app, user_id).must_change_password
    assert client.get("/").status_code == 200
    assert client.get("/cases/").status_code == 200


def test_a_user_who_must_change_the_password_may_still_log_out(app, world):
    _must_change(app, world.users["caseworker_a"])
    client = app.test_client()
    login(client, "caseworker.a")
    assert _path(_post(client, "/logout", page="/account/password")) == "/login"
    assert _path(client.get("/account/password")) == "/login"


def test_the_password_comes_before_the_second_factor(app, world, new_user):
    new_user(must_change_password=True)
    client = app.test_client()
    login(client, "supervisor.new")
    assert _path(client.get("/")) == "/account/password"
    assert _path(_change(client, PASSWORD, NEW_PASSWORD)) == "/"
    assert _path(client.get("/")) == "/account/second-factor"


# --- sessions: log out everywhere (requirement 5) -----------------------------------------------------------------


def test_log_out_everywhere_revokes_every_session_of_the_user(app, world, login_as):
    user_id = world.users["caseworker_a"]
    version = _account(app, user_id).session_version
    this_browser, other_browser = login_as("caseworker_a"), login_as("caseworker_a")
    bystander = login_as("caseworker_a2")
    saved = _session_cookie(this_browser)
    response = _post(this_browser, "/account/logout-everywhere")
    assert _path(response) == "/login"
    assert _path(this_browser.get("/")) == "/login"
    assert _path(other_browser.get("/")) == "/login"
    assert _path(other_browser.get("/cases/")) == "/login"
    replay = app.test_client()
    replay.set_cookie(COOKIE, saved)
    assert _path(replay.get("/")) == "/login"
    assert _logged_in(bystander)  # another user's sessions are untouched
    assert _account(app, user_id).session_version == version + 1
    assert _events(app, "user.logout_everywhere") == [
        ("user.logout_everywhere", user_id, {"fields": ["session_version"]})]
    # A new login works as usual.
    assert _path(login(app.test_client(), "caseworker.a")) == "/"


def test_log_out_everywhere_needs_post_and_a_csrf_token(app, world, login_as):
    client = login_as("caseworker_a")
    assert client.get("/account/logout-everywhere").status_code == 405
    assert client.post("/account/logout-everywhere").status_code == 400
    assert _logged_in(client)


def test_log_out_everywhere_ends_a_supervisors_second_factor_sessions_too(app, world):
    secret = totp_secret_of("supervisor.a")
    first = _pending(app.test_client(), "supervisor.a")
    assert _path(_code_step(first, _code_now(secret))) == "/"
    second = _pending(app.test_client(), "supervisor.a")  # a second device, one step later
    assert _path(_code_step(second, pyotp.TOTP(secret).at(time.time() + 30))) == "/"
    assert _path(_post(second, "/account/logout-everywhere")) == "/login"
    assert not _logged_in(first) and not _logged_in(second)

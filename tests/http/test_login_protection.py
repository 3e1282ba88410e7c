"""Login protection: per-account lock after repeated failures (database counter), per-IP 429 on POST /login."""
import html
import json
from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import gettext
from sqlalchemy import select

from caseapp.audit.models import AuditEvent
from caseapp.auth import services
from caseapp.auth.models import User
from caseapp.auth.services import authenticate, lock_seconds
from caseapp.extensions import db
from caseapp.security.rate_limit import InProcessRateLimiter, parse_rate, set_login_limiter
from tests.conftest import PASSWORD, csrf_token, login

WRONG = "not the right password"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def _events(app, *actions: str) -> list[tuple[str, int | None, dict, str | None]]:
    """(action, actor id, details, ip) of the audit events with these actions, oldest first."""
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.id))
        return [(event.action, event.actor_id, json.loads(event.details), event.ip) for event in events]


def _account(app, user_id: int) -> tuple[int, datetime | None]:
    with app.app_context():
        user = db.session.get(User, user_id)
        locked = user.locked_until
        return user.failed_logins, (locked.replace(tzinfo=timezone.utc) if locked and not locked.tzinfo else locked)


def _generic_failure(app, response) -> bool:
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        message = gettext("Unknown username or wrong password.")
    return response.status_code == 200 and message in html.unescape(response.get_data(as_text=True))


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


def _attempt(app, username: str, password: str, now: datetime):
    """One login through the service at a chosen time, committed like the view does."""
    with app.test_request_context("/login", method="POST", environ_base={"REMOTE_ADDR": "192.0.2.10"}):
        user = authenticate(username, password, now=now)
        db.session.commit()
        return user is not None


@pytest.fixture
def no_hashing(monkeypatch):
    """Count password verifications; the list grows by one per verify_password call."""
    calls = []
    real = services.verify_password

    def counting(password_hash, password):
        calls.append(1)
        return real(password_hash, password)

    monkeypatch.setattr(services, "verify_password", counting)
    return calls


# --- per-account lock -------------------------------------------------------------------------------------------


def test_lock_durations_double_from_the_fifth_failure_up_to_an_hour(app):
    with app.app_context():
        assert [lock_seconds(n) for n in range(1, 14)] == [0, 0, 0, 0, 60, 120, 240, 480, 960, 1920, 3600, 3600,
                                                           3600]
        assert lock_seconds(10_000) == 3600


def test_five_failures_lock_the_account_even_for_the_right_password(app, world, no_hashing):
    user_id = world.users["caseworker_a"]
    client = app.test_client()
    for attempt in range(1, 6):
        assert _generic_failure(app, login(client, "caseworker.a", WRONG))
        assert _account(app, user_id)[0] == attempt
    failures, locked_until = _account(app, user_id)
    assert locked_until is not None
    assert timedelta(seconds=50) < locked_until - datetime.now(timezone.utc) <= timedelta(seconds=60)
    verifications = len(no_hashing)

    response = login(client, "caseworker.a", PASSWORD)
    assert _generic_failure(app, response)  # the very same words as a wrong password: no hint the account exists
    assert not _logged_in(client)
    assert len(no_hashing) == verifications  # refused without even verifying the hash
    assert _account(app, user_id) == (5, locked_until)  # an attempt while locked neither counts nor extends

    events = _events(app, "login.failed", "login.locked", "login.ok")
    assert [(action, actor) for action, actor, _details, _ip in events] == (
        [("login.failed", user_id)] * 5 + [("login.locked", user_id)] * 2)
    assert events[5][2] == {"reason": "too_many_failures", "failures": 5, "lock_seconds": 60}
    assert events[6][2] == {"reason": "locked"}
    for _action, _actor, details, ip in events:
        assert ip == "127.0.0.1"
        assert PASSWORD not in json.dumps(details) and WRONG not in json.dumps(details)

    with app.app_context():  # the lock runs out
        db.session.get(User, user_id).locked_until = datetime.now(timezone.utc) - timedelta(seconds=1)
        db.session.commit()
    assert login(client, "caseworker.a", PASSWORD).status_code == 302
    assert _logged_in(client)
    assert _account(app, user_id) == (0, None)


def test_each_failure_after_a_lock_locks_again_for_twice_as_long(app, world):
    user_id = world.users["caseworker_a"]
    for attempt in range(5):
        assert not _attempt(app, "caseworker.a", WRONG, T0 + timedelta(seconds=attempt))
    assert _account(app, user_id) == (5, T0 + timedelta(seconds=4 + 60))

    # While locked, even the right password fails and nothing changes.
    assert not _attempt(app, "caseworker.a", PASSWORD, T0 + timedelta(seconds=30))
    assert _account(app, user_id) == (5, T0 + timedelta(seconds=64))

    moment = T0 + timedelta(seconds=64)
    for failures, seconds in ((6, 120), (7, 240), (8, 480), (9, 960), (10, 1920), (11, 3600), (12, 3600)):
        moment += timedelta(seconds=1)  # just after the previous lock ended
        assert not _attempt(app, "caseworker.a", WRONG, moment)
        assert _account(app, user_id) == (failures, moment + timedelta(seconds=seconds))
        moment += timedelta(seconds=seconds)

    locks = [details for action, _actor, details, _ip in _events(app, "login.locked")]
    assert [details["lock_seconds"] for details in locks if details["reason"] == "too_many_failures"] == [
        60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert [details for details in locks if details["reason"] == "locked"] == [{"reason": "locked"}]

    # Once the last lock has ended the right password works and clears the counter.
    assert _attempt(app, "caseworker.a", PASSWORD, moment + timedelta(seconds=1))
    assert _account(app, user_id) == (0, None)


def test_a_success_resets_the_count(app, world):
    user_id = world.users["caseworker_a"]
    for attempt in range(4):
        assert not _attempt(app, "caseworker.a", WRONG, T0 + timedelta(seconds=attempt))
    assert _account(app, user_id) == (4, None)
    assert _attempt(app, "caseworker.a", PASSWORD, T0 + timedelta(seconds=5))
    assert _account(app, user_id) == (0, None)
    for attempt in range(4):
        assert not _attempt(app, "caseworker.a", WRONG, T0 + timedelta(seconds=10 + attempt))
    assert _account(app, user_id) == (4, None)  # four again, not eight: no lock
    assert _attempt(app, "caseworker.a", PASSWORD, T0 + timedelta(seconds=20))


def test_the_lock_is_per_account(app, world):
    for attempt in range(5):
        _attempt(app, "caseworker.a", WRONG, T0 + timedelta(seconds=attempt))
    assert not _attempt(app, "caseworker.a", PASSWORD, T0 + timedelta(seconds=10))
    assert _attempt(app, "caseworker.a2", PASSWORD, T0 + timedelta(seconds=10))


def test_unknown_usernames_are_audited_without_the_name_and_never_lock(app, world, no_hashing):
    client = app.test_client()
    for _attempt_number in range(7):
        assert _generic_failure(app, login(client, "ghost.account", PASSWORD))
    assert len(no_hashing) == 7  # the same work as for a real account
    events = _events(app, "login.failed", "login.locked")
    assert events == [("login.failed", None, {"reason": "credentials"}, "127.0.0.1")] * 7
    with app.app_context():
        stored = " ".join(event.details or "" for event in db.session.scalars(select(AuditEvent)))
    assert "ghost" not in stored and PASSWORD not in stored


def test_a_locked_account_username_case_does_not_matter(app, world):
    for attempt in range(5):
        _attempt(app, "CaseWorker.A", WRONG, T0 + timedelta(seconds=attempt))
    assert not _attempt(app, " caseworker.a ", PASSWORD, T0 + timedelta(seconds=10))
    assert _account(app, world.users["caseworker_a"])[0] == 5


def test_failures_of_a_disabled_account_do_not_lock_it(app, world):
    user_id = world.users["caseworker_a"]
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    for attempt in range(6):
        assert not _attempt(app, "caseworker.a", WRONG, T0 + timedelta(seconds=attempt))
    assert _account(app, user_id) == (0, None)
    assert {details["reason"] for _a, _u, details, _ip in _events(app, "login.failed")} == {"inactive"}


# --- per-IP rate limit ------------------------------------------------------------------------------------------


@pytest.fixture
def login_limit(app, monkeypatch):
    """LOGIN_RATE_LIMIT = 3 attempts per 5 minutes per address, with an empty store."""
    spec = "3/5min"
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", spec)
    set_login_limiter(app, InProcessRateLimiter(*parse_rate(spec)))
    return 3


def _client(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_too_many_attempts_from_one_address_get_429_before_any_hashing(app, world, login_limit, no_hashing):
    client = _client(app, "198.51.100.7")
    token = csrf_token(client)
    for _attempt_number in range(login_limit):
        assert _generic_failure(app, login(client, "caseworker.a", WRONG))
    assert len(no_hashing) == login_limit
    failed = len(_events(app, "login.failed"))

    response = client.post("/login", data={"username": "caseworker.a", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 300
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert gettext("Too many requests") in response.get_data(as_text=True)
    assert len(no_hashing) == login_limit  # no hash was computed for the refused attempt
    assert len(_events(app, "login.failed")) == failed  # and nothing reached the account
    assert _account(app, world.users["caseworker_a"])[0] == login_limit
    assert not _logged_in(client)
    assert client.get("/login").status_code == 200  # only POSTs count


def test_the_limit_is_per_address(app, world, login_limit):
    blocked = _client(app, "198.51.100.7")
    for _attempt_number in range(login_limit):
        login(blocked, "caseworker.b", WRONG)
    assert login(blocked, "caseworker.b", PASSWORD).status_code == 429

    other = _client(app, "198.51.100.8")
    assert login(other, "caseworker.b", PASSWORD).status_code == 302
    assert _logged_in(other)
    ok = _events(app, "login.ok")
    assert [(actor, ip) for _action, actor, _details, ip in ok] == [(world.users["caseworker_b"], "198.51.100.8")]


def test_successful_logins_count_too(app, world, login_limit):
    client = _client(app, "198.51.100.9")
    for _attempt_number in range(login_limit):
        assert login(client, "caseworker.a", PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert login(client, "caseworker.a", PASSWORD).status_code == 429


def test_the_password_is_verified_outside_any_transaction(app, world, monkeypatch):
    """On SQLite a transaction holds the only write lock: argon2id's tenth of a second must not run inside one."""
    open_transactions = []
    real_verify = services.verify_password

    def watching(password_hash, password):
        open_transactions.append(db.session().in_transaction())
        return real_verify(password_hash, password)

    monkeypatch.setattr(services, "verify_password", watching)
    client = app.test_client()
    login(client, "caseworker.a", PASSWORD)
    assert open_transactions == [False]
    assert client.get("/").status_code == 200  # and the login worked


def test_a_stale_session_cookie_does_not_block_the_login(app, world):
    """A cookie of a logged-out session makes the request read the database before the form is handled."""
    client = app.test_client()
    login(client, "caseworker.a", PASSWORD)
    with app.app_context():
        db.session.get(User, world.users["caseworker_a"]).session_version += 1  # "log out everywhere"
        db.session.commit()
    response = login(client, "caseworker.a", PASSWORD)
    assert response.status_code == 302 and client.get("/").status_code == 200

"""Changing one's own password: checks the current one and the policy, and revokes every other session."""
from caseapp.audit.models import AuditEvent
from caseapp.auth.models import User
from caseapp.extensions import db
from caseapp.security.passwords import verify_password
from tests.conftest import PASSWORD, csrf_token, login

NEW = "a quiet river under the cedar trees"


def _change(client, current: str, new: str, confirm: str | None = None):
    token = csrf_token(client, "/account/password")
    return client.post("/account/password", data={"csrf_token": token, "current_password": current,
                                                   "new_password": new, "confirm_password": confirm or new})


def test_change_revokes_other_sessions_and_keeps_this_one(app, world, login_as):
    this_browser, other_browser = login_as("caseworker_a"), login_as("caseworker_a")
    assert _change(this_browser, PASSWORD, NEW).status_code == 302
    assert this_browser.get("/").status_code == 200  # a fresh session was started here
    replay = other_browser.get("/")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    with app.app_context():
        user = db.session.get(User, world.users["caseworker_a"])
        assert verify_password(user.password_hash, NEW)
        assert db.session.query(AuditEvent).filter_by(action="user.password_change", actor_id=user.id).count() == 1
    assert login(app.test_client(), "caseworker.a", NEW).status_code == 302
    assert login(app.test_client(), "caseworker.a", PASSWORD).status_code == 200  # old one refused


def test_refusals_change_nothing(app, world, login_as):
    client = login_as("caseworker_a")
    cases = {
        "wrong current": (PASSWORD + "x", NEW, NEW, "current_password"),
        "too short": (PASSWORD, "short pass", "short pass", "new_password"),
        "common": (PASSWORD, "password1234", "password1234", "new_password"),
        "mismatch": (PASSWORD, NEW, NEW + "!", "confirm_password"),
    }
    for name, (current, new, confirm, field) in cases.items():
        response = _change(client, current, new, confirm)
        assert response.status_code == 200, name
        assert f'id="{field}-errors"' in response.get_data(as_text=True), name
    with app.app_context():
        assert verify_password(db.session.get(User, world.users["caseworker_a"]).password_hash, PASSWORD)
    assert client.get("/").status_code == 200  # still logged in


def test_anonymous_is_sent_to_login(app):
    response = app.test_client().get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]

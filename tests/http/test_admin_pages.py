"""Administration pages: admin only, CSRF, PRG, posted extras ignored, temporary password shown once, sessions."""
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, text

from caseapp.audit.models import AuditEvent
from caseapp.auth.models import RecoveryCode, User
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.partners.models import Partner
from caseapp.places.models import ServicePoint
from caseapp.security.passwords import verify_password
from tests.conftest import PASSWORD, USERS, csrf_token, login

NON_ADMINS = [key for key, spec in USERS.items() if spec[0] != "admin"]
PASSWORD_FIELD = re.compile(r'id="temporary-password"[^>]*value="([^"]+)"')


def _english(client):
    """Ask for English pages, so the assertions read the English messages whatever the default locale."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def admin_client(login_as):
    return _english(login_as("admin"))


def _admin_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")),
                  key=lambda rule: rule.rule)


def _url(app, world, rule) -> str:
    values = {"user_id": world.users["caseworker_b"], "partner_id": world.partners["B"],
              "point_id": world.service_points["B-BEM"]}
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})


def _get(model, object_id):
    db.session.expire_all()
    return db.session.get(model, object_id)


def _post(client, url: str, data: dict | None = None, token_page: str = "/admin/"):
    return client.post(url, data={"csrf_token": csrf_token(client, token_page), **(data or {})})


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# --- Who may open the pages -----------------------------------------------------------------------------------

def test_the_admin_routes_exist_and_each_declares_admin_manage(app):
    from caseapp.access.policy import declared_permission

    endpoints = {rule.endpoint for rule in _admin_rules(app)}
    assert {"admin.index", "admin.users", "admin.user_new", "admin.user_edit", "admin.user_disable",
            "admin.user_enable", "admin.user_mfa_reset", "admin.user_logout_everywhere", "admin.user_unlock",
            "admin.user_password_reset", "admin.partners", "admin.partner_new", "admin.partner_edit",
            "admin.service_points", "admin.service_point_new", "admin.service_point_edit"} <= endpoints
    with app.test_request_context():
        assert {declared_permission(endpoint) for endpoint in endpoints} == {"admin.manage"}


@pytest.mark.parametrize("key", NON_ADMINS)
def test_every_admin_route_is_refused_to_every_other_role(app, world, login_as, key):
    client = login_as(key)
    token = csrf_token(client, "/")
    for rule in _admin_rules(app):
        url = _url(app, world, rule)
        if "GET" in rule.methods:
            assert client.get(url).status_code == 403, url
        if "POST" in rule.methods:
            response = client.post(url, data={"csrf_token": token, "code": "X", "name": "X", "kind": "other",
                                              "role": "admin", "username": "intruder"})
            assert response.status_code == 403, url
    with app.app_context():
        target = db.session.get(User, world.users["caseworker_b"])
        assert (target.active, target.role, target.session_version) == (True, "caseworker", 1)
        assert db.session.scalar(select(func.count()).where(User.username == "intruder")) == 0
        assert db.session.get(Partner, world.partners["B"]).name == "Partner B"
    assert "/admin/" not in client.get("/").get_data(as_text=True)  # no menu entry either


def test_anonymous_visitors_are_sent_to_login(app, world):
    client = app.test_client()
    token = csrf_token(client, "/login")
    for rule in _admin_rules(app):
        url = _url(app, world, rule)
        method = client.get if "GET" in rule.methods else (lambda u: client.post(u, data={"csrf_token": token}))
        response = method(url)
        assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login", url


def test_admin_sees_every_page_and_the_menu_entry(app, world, admin_client):
    home = admin_client.get("/").get_data(as_text=True)
    assert 'href="/admin/"' in home and "Administration" in home
    index = admin_client.get("/admin/").get_data(as_text=True)
    for target in ("/admin/users", "/admin/partners", "/admin/service-points"):
        assert f'href="{target}"' in index
    for rule in _admin_rules(app):
        if "GET" in rule.methods:
            response = admin_client.get(_url(app, world, rule))
            assert response.status_code == 200, rule.rule
            assert response.headers["Cache-Control"] == "no-store"


def test_admin_never_opens_case_contents(app, world, register, admin_client):
    person_id, _number = register()
    assert admin_client.get("/cases/").status_code == 403
    assert admin_client.get(f"/beneficiaries/{person_id}").status_code in (403, 404)


def test_lists_show_state_and_filters_work(app, world, admin_client):
    with app.app_context():
        locked = db.session.get(User, world.users["supervisor_b"])
        locked.locked_until, locked.mfa_enabled_at = utcnow() + timedelta(days=1), utcnow()
        db.session.commit()
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert all(f">{world.username(key)}</a>" in page for key in USERS)
    assert "Locked</span>" in page and "Enabled" in page and "Never" in page
    filtered = admin_client.get(f"/admin/users?partner={world.partners['B']}&role=supervisor").get_data(as_text=True)
    assert ">supervisor.b</a>" in filtered
    assert ">caseworker.b</a>" not in filtered and ">supervisor.a</a>" not in filtered
    points = admin_client.get("/admin/service-points").get_data(as_text=True)
    assert ">A-OUJ</a>" in points and "Partner A" in points and "Oujda" in points


def test_list_pages_have_a_fixed_query_budget(app, world, admin_client, count_queries):
    def counts():
        result = {}
        for url in ("/admin/users", "/admin/partners", "/admin/service-points"):
            with count_queries() as counter:
                assert admin_client.get(url).status_code == 200
            result[url] = counter.count
        return result

    before = counts()
    with app.app_context():
        partner = Partner(code="D", name="Partner D", kind="other")
        db.session.add(partner)
        db.session.flush()
        for number in range(4):
            point = ServicePoint(code=f"D-{number}", name="Point", commune_code="OUJ", partner_id=partner.id)
            db.session.add(point)
            db.session.add(User(username=f"extra.{number}", full_name="Extra", password_hash="x", role="caseworker",
                                partner_id=partner.id, service_points=[point]))
        db.session.commit()
    assert counts() == before


# --- Forms: errors, PRG, double submission, CSRF, extras ------------------------------------------------------

def test_partner_create_shows_errors_next_to_fields_then_saves_once(app, world, admin_client):
    page = admin_client.post("/admin/partners/new", data={"csrf_token": csrf_token(admin_client, "/admin/partners/new"),
                                                          "code": "a", "name": "", "kind": "nonsense"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert all(f'id="{name}-errors"' in body for name in ("code", "name", "kind"))
    form_token = re.search(r'name="form_token"[^>]*value="([^"]+)"', body).group(1)
    data = {"csrf_token": csrf_token(admin_client, "/admin/partners/new"), "form_token": form_token, "code": "NEWP",
            "name": "New partner", "kind": "ministry", "active": "y", "partner_id": "1", "role": "admin"}
    first = admin_client.post("/admin/partners/new", data=data)
    second = admin_client.post("/admin/partners/new", data=data)
    assert first.status_code == second.status_code == 302
    assert urlsplit(first.headers["Location"]).path == "/admin/partners"
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Partner.code == "NEWP")) == 1
    assert len(_events(app, "partner.create")) == 1
    assert "Partner added." in admin_client.get("/admin/partners").get_data(as_text=True)


def test_partner_edit_deactivates_and_ignores_posted_extras(app, world, admin_client):
    url = f"/admin/partners/{world.partners['B']}"
    response = _post(admin_client, url, {"code": "B", "name": "Partner Bee", "kind": "association",
                                         "id": "999", "partner_id": str(world.partners["A"]), "role": "admin"},
                     token_page=url)
    assert response.status_code == 302
    with app.app_context():
        partner = _get(Partner, world.partners["B"])
        assert (partner.id, partner.name, partner.active) == (world.partners["B"], "Partner Bee", False)
        assert db.session.get(Partner, 999) is None
    assert [event.details for event in _events(app, "partner.deactivate")] == ['{"fields": ["name", "active"]}']


def test_service_point_create_and_edit(app, world, admin_client):
    data = {"code": "c-ouj", "name": "Antenne C", "commune_code": "OUJ", "partner_id": str(world.partners["C"]),
            "active": "y"}
    response = _post(admin_client, "/admin/service-points/new", data, token_page="/admin/service-points/new")
    assert response.status_code == 302
    with app.app_context():
        point = db.session.scalars(select(ServicePoint).where(ServicePoint.code == "C-OUJ")).one()
        point_id = point.id
    url = f"/admin/service-points/{point_id}"
    unticked = {name: value for name, value in data.items() if name != "active"}  # deactivate
    response = _post(admin_client, url, {**unticked, "code": "C-OUJ", "name": "Antenne C2", "commune_code": "NAD",
                                         "id": "1"}, token_page=url)
    assert response.status_code == 302
    with app.app_context():
        point = _get(ServicePoint, point_id)
        assert (point.name, point.commune_code, point.active) == ("Antenne C2", "NAD", False)
    moved = _post(admin_client, f"/admin/service-points/{world.service_points['A-OUJ']}",
                  {"code": "A-OUJ", "name": "Point A-OUJ", "commune_code": "OUJ", "active": "y",
                   "partner_id": str(world.partners["B"])}, token_page=url)
    assert moved.status_code == 200 and 'id="partner_id-errors"' in moved.get_data(as_text=True)


@pytest.mark.parametrize("url_of", [
    lambda w: "/admin/partners/new", lambda w: f"/admin/partners/{w.partners['B']}",
    lambda w: "/admin/service-points/new", lambda w: f"/admin/service-points/{w.service_points['B-BEM']}",
    lambda w: "/admin/users/new", lambda w: f"/admin/users/{w.users['caseworker_b']}",
    *[lambda w, action=action: f"/admin/users/{w.users['caseworker_b']}/{action}" for action in (
        "disable", "enable", "mfa-reset", "logout-everywhere", "unlock", "temporary-password")],
])
def test_a_post_without_csrf_token_is_refused(app, world, admin_client, url_of):
    response = admin_client.post(url_of(world), data={"code": "ZZ", "name": "Z", "kind": "other", "full_name": "Z",
                                                      "username": "zz", "role": "caseworker"})
    assert response.status_code == 400
    with app.app_context():
        user = db.session.get(User, world.users["caseworker_b"])
        assert (user.active, user.full_name, user.session_version) == (True, "Caseworker B", 1)
        assert db.session.scalar(select(func.count()).where(User.username == "zz")) == 0
        assert db.session.scalar(select(func.count()).where(Partner.code == "ZZ")) == 0


def test_user_edit_audits_role_change_and_ignores_fields_it_does_not_offer(app, world, admin_client):
    url = f"/admin/users/{world.users['caseworker_a']}"
    response = _post(admin_client, url, {
        "full_name": "Caseworker A", "role": "supervisor", "partner_id": str(world.partners["A"]),
        "service_point_ids": [str(world.service_points["A-OUJ"])],
        "username": "renamed", "active": "", "session_version": "99", "password_hash": "x", "failed_logins": "3",
        "must_change_password": "y", "mfa_enabled_at": "2020-01-01"}, token_page=url)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == url
    with app.app_context():
        user = _get(User, world.users["caseworker_a"])
        assert (user.role, user.username, user.active, user.session_version) == ("supervisor", "caseworker.a", True, 1)
        assert verify_password(user.password_hash, PASSWORD)
        assert (user.failed_logins, user.must_change_password, user.mfa_enabled_at) == (0, False, None)
    [event] = _events(app, "user.role_change")
    assert '"old_role": "caseworker"' in event.details and '"new_role": "supervisor"' in event.details


def test_user_edit_errors_are_shown_and_nothing_is_saved(app, world, admin_client):
    url = f"/admin/users/{world.users['caseworker_a']}"
    response = _post(admin_client, url, {"full_name": "", "role": "caseworker", "partner_id": str(world.partners["A"]),
                                         "service_point_ids": [str(world.service_points["B-BEM"])]}, token_page=url)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="full_name-errors"' in body and 'id="service_point_ids-errors"' in body
    with app.app_context():
        user = _get(User, world.users["caseworker_a"])
        assert (user.full_name, user.service_point_ids) == ("Caseworker A", {world.service_points["A-OUJ"]})


def test_an_action_ignores_posted_fields(app, world, admin_client):
    url = f"/admin/users/{world.users['caseworker_b']}/unlock"
    response = _post(admin_client, url, {"role": "admin", "partner_id": str(world.partners["A"]), "active": "",
                                         "restricted_access": "y"})
    assert response.status_code == 302
    with app.app_context():
        user = _get(User, world.users["caseworker_b"])
        assert (user.role, user.partner_id, user.active, user.restricted_access) == (
            "caseworker", world.partners["B"], True, False)


# --- Invitation and temporary passwords -----------------------------------------------------------------------

def _invite(client, world, **overrides):
    page = client.get("/admin/users/new").get_data(as_text=True)
    data = {"csrf_token": csrf_token(client, "/admin/users/new"),
            "form_token": re.search(r'name="form_token"[^>]*value="([^"]+)"', page).group(1),
            "username": "new.worker", "full_name": "Fatima Zahra Benali", "email": "f.benali@example.org",
            "preferred_language": "fr", "role": "caseworker", "partner_id": str(world.partners["A"]),
            "service_point_ids": [str(world.service_points["A-NAD"])],
            # not offered by the form: ignored
            "active": "", "must_change_password": "", "session_version": "7", "password": "chosen by the admin"}
    data.update(overrides)
    return client.post("/admin/users/new", data=data), data


def _session_contents(app, client) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is None:
        return ""
    return repr(app.session_interface.get_signing_serializer(app).loads(cookie.value))


def test_the_temporary_password_is_shown_exactly_once_and_works(app, world, admin_client):
    response, _data = _invite(admin_client, world)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Location" not in response.headers
    password = PASSWORD_FIELD.search(body).group(1)
    assert body.count(password) == 1
    assert response.headers["Cache-Control"] == "no-store"
    assert password not in _session_contents(app, admin_client)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == "new.worker")).one()
        user_id = user.id
        assert (user.active, user.must_change_password, user.session_version) == (True, True, 1)
        assert verify_password(user.password_hash, password)
        assert not verify_password(user.password_hash, "chosen by the admin")
        for table in ("user_account", "audit_event", "form_submission"):
            rows = db.session.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608 (fixed names)
            assert password not in repr(rows), table
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create",
                                                              AuditEvent.object_id == user_id)).all()
        assert event.actor_id == world.users["admin"]
        assert "Benali" not in event.details and "example.org" not in event.details
    for url in (f"/admin/users/{user_id}", "/admin/users", "/admin/", "/"):
        assert password not in admin_client.get(url).get_data(as_text=True), url
    newcomer = app.test_client()
    logged_in = login(newcomer, "new.worker", password)
    assert logged_in.status_code == 302 and urlsplit(logged_in.headers["Location"]).path != "/login"


def test_the_invitation_posted_twice_creates_one_account(app, world, admin_client):
    first, data = _invite(admin_client, world)
    assert first.status_code == 200
    second = admin_client.post("/admin/users/new", data=data)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == "new.worker")).one()
        assert second.status_code == 302 and urlsplit(second.headers["Location"]).path == f"/admin/users/{user.id}"
    follow = admin_client.get(second.headers["Location"]).get_data(as_text=True)
    assert PASSWORD_FIELD.search(follow) is None and "already created" in follow


def test_invitation_errors_are_shown_next_to_fields(app, world, admin_client):
    response, _data = _invite(admin_client, world, username="caseworker.a", role="caseworker",
                              service_point_ids=[str(world.service_points["B-BEM"])], email="nope")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and PASSWORD_FIELD.search(body) is None
    assert all(f'id="{name}-errors"' in body for name in ("username", "service_point_ids", "email"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(User.email == "nope")) == 0


def test_a_new_temporary_password_is_shown_once_and_ends_old_sessions(app, world, admin_client, login_as):
    victim = login_as("caseworker_b")
    response = _post(admin_client, f"/admin/users/{world.users['caseworker_b']}/temporary-password")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    password = PASSWORD_FIELD.search(body).group(1)
    assert body.count(password) == 1
    assert password not in admin_client.get(f"/admin/users/{world.users['caseworker_b']}").get_data(as_text=True)
    replay = victim.get("/")
    assert replay.status_code == 302 and urlsplit(replay.headers["Location"]).path == "/login"
    assert login(app.test_client(), "caseworker.b", PASSWORD).status_code == 200  # the old password is refused
    assert login(app.test_client(), "caseworker.b", password).status_code == 302
    assert len(_events(app, "user.password_reset")) == 1


# --- Account actions ------------------------------------------------------------------------------------------

def test_a_disabled_users_old_cookie_no_longer_works(app, world, admin_client, login_as):
    victim = login_as("caseworker_a")
    assert victim.get("/").status_code == 200
    response = _post(admin_client, f"/admin/users/{world.users['caseworker_a']}/disable")
    assert response.status_code == 302
    assert "Account disabled" in admin_client.get(response.headers["Location"]).get_data(as_text=True)
    replay = victim.get("/")
    assert replay.status_code == 302 and urlsplit(replay.headers["Location"]).path == "/login"
    assert login(app.test_client(), "caseworker.a").status_code == 200  # no new login either
    _post(admin_client, f"/admin/users/{world.users['caseworker_a']}/enable")
    assert victim.get("/").status_code == 302  # enabling again does not revive the old cookie
    assert login(app.test_client(), "caseworker.a").status_code == 302
    assert len(_events(app, "user.disable")) == len(_events(app, "user.enable")) == 1


def test_logout_everywhere_ends_the_users_sessions(app, world, admin_client, login_as):
    victim = login_as("receiver")
    _post(admin_client, f"/admin/users/{world.users['receiver']}/logout-everywhere")
    assert victim.get("/").status_code == 302
    assert len(_events(app, "user.logout_everywhere")) == 1


def test_mfa_reset_clears_everything_and_ends_sessions(app, world, admin_client, login_as):
    victim = login_as("caseworker_a2")
    with app.app_context():
        user = db.session.get(User, world.users["caseworker_a2"])
        user.totp_secret, user.totp_pending_secret = "JBSWY3DPEHPK3PXP", "KRSXG5CTMVRXEZLU"
        user.mfa_enabled_at, user.totp_last_step = utcnow(), 99
        db.session.add(RecoveryCode(user_id=user.id, code_hash="hash"))
        db.session.commit()
    response = _post(admin_client, f"/admin/users/{world.users['caseworker_a2']}/mfa-reset")
    assert response.status_code == 302
    with app.app_context():
        user = _get(User, world.users["caseworker_a2"])
        assert (user._totp_secret_sealed, user._totp_pending_secret_sealed, user.mfa_enabled_at,
                user.totp_last_step) == (None, None, None, None)
        assert db.session.scalar(select(func.count()).where(RecoveryCode.user_id == user.id)) == 0
    assert victim.get("/").status_code == 302
    assert len(_events(app, "user.mfa_reset")) == 1


def test_unlock_lifts_the_lock(app, world, admin_client):
    with app.app_context():
        user = db.session.get(User, world.users["caseworker_b"])
        user.failed_logins, user.locked_until = 9, utcnow() + timedelta(days=1)
        db.session.commit()
    assert login(app.test_client(), "caseworker.b").status_code == 200  # locked
    _post(admin_client, f"/admin/users/{world.users['caseworker_b']}/unlock")
    assert login(app.test_client(), "caseworker.b").status_code == 302
    assert len(_events(app, "user.unlock")) == 1


def test_an_admin_cannot_disable_or_demote_themselves(app, world, admin_client):
    me = world.users["admin"]
    response = _post(admin_client, f"/admin/users/{me}/disable")
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You cannot disable your own account." in page
    for action in ("mfa-reset", "temporary-password"):
        refused = _post(admin_client, f"/admin/users/{me}/{action}")
        assert refused.status_code == 302 and PASSWORD_FIELD.search(refused.get_data(as_text=True)) is None
    url = f"/admin/users/{me}"
    demoted = _post(admin_client, url, {"full_name": "Admin", "role": "dpo", "partner_id": str(world.partners["A"])},
                    token_page=url)
    body = demoted.get_data(as_text=True)
    assert demoted.status_code == 200 and 'id="role-errors"' in body
    assert "You cannot remove your own administrator role." in body
    with app.app_context():
        admin = _get(User, me)
        assert (admin.active, admin.role, admin.session_version, admin.must_change_password) == (True, "admin", 1,
                                                                                                False)
    assert admin_client.get("/admin/").status_code == 200


def test_two_administrators_saving_one_account_get_the_conflict_page(app, world, login_as):
    """The second save over an account someone changed since it was opened shows both versions (409) instead of
    silently putting back what the first administrator removed."""
    client = login_as("admin")
    url = f"/admin/users/{world.users['caseworker_restricted']}"
    page = client.get(url).get_data(as_text=True)
    stale_version = re.search(r'name="version"[^>]*value="([^"]+)"', page).group(1)
    with app.app_context():
        db.session.get(User, world.users["caseworker_restricted"]).restricted_access = False  # admin A's save
        db.session.commit()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "version": stale_version, "full_name": "Caseworker Restricted", "email": "",
            "preferred_language": "", "role": "caseworker", "partner_id": str(world.partners["A"]),
            "service_point_ids": [str(world.service_points["A-OUJ"])], "restricted_access": "y"}
    response = client.post(url, data=form)
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(User, world.users["caseworker_restricted"]).restricted_access is False

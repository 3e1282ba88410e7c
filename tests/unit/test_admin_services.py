"""Administration services: partners, service points and accounts — validation, nothing half-saved, audit events."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from caseapp.admin import services
from caseapp.audit.models import AuditEvent
from caseapp.auth.models import RecoveryCode, User
from caseapp.errors import NotAllowed, ValidationFailed
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.partners.models import Partner
from caseapp.places.models import ServicePoint
from caseapp.security.password_policy import password_problems
from caseapp.security.passwords import verify_password
from tests.conftest import PASSWORD, USERS


@pytest.fixture
def admin(app_ctx, world) -> User:
    return db.session.get(User, world.users["admin"])


def _user(world, key: str) -> User:
    return db.session.get(User, world.users[key])


def _events(action: str | None = None) -> list[AuditEvent]:
    """Events with an actor (the world fixture's own accounts were created by nobody)."""
    query = select(AuditEvent).where(AuditEvent.actor_id.is_not(None)).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def _details(event: AuditEvent) -> dict:
    return json.loads(event.details)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _refused(call, *args, **kwargs) -> dict[str, list[str]]:
    """Run a service expected to refuse; return its errors (every message already a non-empty string)."""
    with pytest.raises(ValidationFailed) as refusal:
        call(*args, **kwargs)
    assert all(isinstance(m, str) and m for messages in refusal.value.errors.values() for m in messages)
    return refusal.value.errors


def _invite_values(world, **overrides) -> dict:
    values = dict(username="new.worker", full_name="Fatima Zahra Benali", email="f.benali@example.org",
                  preferred_language="ar", role="caseworker", partner_id=world.partners["A"],
                  service_point_ids=[world.service_points["A-OUJ"]], restricted_access=False)
    values.update(overrides)
    return values


def _edit_values(user: User, **overrides) -> dict:
    values = dict(full_name=user.full_name, email=user.email, preferred_language=user.preferred_language,
                  role=user.role, partner_id=user.partner_id, service_point_ids=sorted(user.service_point_ids),
                  restricted_access=user.restricted_access)
    values.update(overrides)
    return values


# --- Partners -------------------------------------------------------------------------------------------------

def test_create_partner_saves_and_audits_field_names(admin):
    partner = services.create_partner(admin, code=" md-2 ", name=" Migration et Développement ", kind="association")
    assert (partner.code, partner.name, partner.kind, partner.active) == ("MD-2", "Migration et Développement",
                                                                         "association", True)
    [event] = _events("partner.create")
    assert (event.actor_id, event.object_type, event.object_id) == (admin.id, "partner", partner.id)
    assert _details(event) == {"fields": ["code", "name", "kind", "active"]}
    assert "Développement" not in event.details


def test_create_partner_reports_every_error_at_once_and_saves_nothing(admin):
    partners, events = _count(Partner), len(_events())
    errors = _refused(services.create_partner, admin, code="", name=" ", kind="church")
    assert set(errors) == {"code", "name", "kind"}
    assert (_count(Partner), len(_events())) == (partners, events)


@pytest.mark.parametrize("code", ["a", " B ", "has space", "é-1", "-X", "X" * 33])
def test_partner_code_must_be_new_and_well_formed(admin, code):
    assert set(_refused(services.create_partner, admin, code=code, name="Name", kind="ministry")) == {"code"}


def test_partner_name_has_a_maximum_length(admin):
    assert set(_refused(services.create_partner, admin, code="LONG", name="x" * 201, kind="ministry")) == {"name"}


def test_the_same_partner_form_posted_twice_creates_one_partner(admin):
    first = services.create_partner(admin, code="NEW", name="New", kind="other", form_token="token-partner-1")
    again = services.create_partner(admin, code="NEW", name="New", kind="other", form_token="token-partner-1")
    assert again.id == first.id
    assert db.session.scalar(select(func.count()).where(Partner.code == "NEW")) == 1
    assert len(_events("partner.create")) == 1


def test_update_partner_deactivates_and_audits_changed_fields_only(admin, world):
    partner = db.session.get(Partner, world.partners["B"])
    services.update_partner(admin, partner, code="B", name="Partner B renamed", kind="association", active=False)
    assert (partner.name, partner.active) == ("Partner B renamed", False)
    [event] = _events("partner.deactivate")
    assert _details(event) == {"fields": ["name", "active"]}
    assert "renamed" not in event.details
    services.update_partner(admin, partner, code="B", name="Partner B renamed", kind="association", active=True)
    assert [_details(e) for e in _events("partner.activate")] == [{"fields": ["active"]}]
    services.update_partner(admin, partner, code="B", name="Partner B renamed", kind="ministry", active=True)
    assert [_details(e) for e in _events("partner.update")] == [{"fields": ["kind"]}]


def test_saving_a_partner_unchanged_writes_nothing(admin, world):
    partner = db.session.get(Partner, world.partners["A"])
    before = len(_events())
    for _ in range(2):
        services.update_partner(admin, partner, code=partner.code, name=partner.name, kind=partner.kind, active=True)
    assert len(_events()) == before


def test_update_partner_refusal_changes_nothing(admin, world):
    partner = db.session.get(Partner, world.partners["B"])
    before = len(_events())
    errors = _refused(services.update_partner, admin, partner, code="a", name="", kind="x", active=False)
    assert set(errors) == {"code", "name", "kind"}
    assert (partner.code, partner.name, partner.kind, partner.active) == ("B", "Partner B", "association", True)
    assert len(_events()) == before


# --- Service points -------------------------------------------------------------------------------------------

def test_create_service_point_saves_and_audits(admin, world):
    point = services.create_service_point(admin, code="b-ber", name="Antenne de Berkane", commune_code="BER",
                                          partner_id=world.partners["B"])
    assert (point.code, point.commune_code, point.partner_id, point.active) == ("B-BER", "BER", world.partners["B"],
                                                                                True)
    [event] = _events("service_point.create")
    assert (event.object_type, event.object_id) == ("service_point", point.id)
    assert _details(event) == {"fields": ["code", "name", "commune_code", "partner_id", "active"]}


def test_create_service_point_reports_every_error_and_saves_nothing(admin, world):
    points, events = _count(ServicePoint), len(_events())
    errors = _refused(services.create_service_point, admin, code="a-ouj", name="", commune_code="XXX",
                      partner_id=999999)
    assert set(errors) == {"code", "name", "commune_code", "partner_id"}
    assert (_count(ServicePoint), len(_events())) == (points, events)


def test_a_service_point_needs_an_active_partner(admin, world):
    db.session.get(Partner, world.partners["C"]).active = False
    errors = _refused(services.create_service_point, admin, code="C-OUJ", name="Point", commune_code="OUJ",
                      partner_id=world.partners["C"])
    assert set(errors) == {"partner_id"}
    assert set(_refused(services.create_service_point, admin, code="C-OUJ", name="Point", commune_code="OUJ",
                        partner_id=None)) == {"partner_id"}


def test_the_same_service_point_form_posted_twice_creates_one(admin, world):
    values = dict(code="C-OUJ", name="Point", commune_code="OUJ", partner_id=world.partners["C"], form_token="tok-sp")
    assert services.create_service_point(admin, **values).id == services.create_service_point(admin, **values).id
    assert len(_events("service_point.create")) == 1


def test_update_service_point_audits_and_deactivates(admin, world):
    point = db.session.get(ServicePoint, world.service_points["B-BEM"])
    services.update_service_point(admin, point, code="B-BEM", name="Renamed", commune_code="NAD",
                                  partner_id=world.partners["B"], active=False)
    assert (point.name, point.commune_code, point.active) == ("Renamed", "NAD", False)
    assert [_details(e) for e in _events("service_point.deactivate")] == [{"fields": ["name", "commune_code",
                                                                                      "active"]}]


def test_a_service_point_in_use_keeps_its_partner(admin, world):
    point = db.session.get(ServicePoint, world.service_points["A-OUJ"])  # caseworkers are assigned to it
    before = len(_events())
    errors = _refused(services.update_service_point, admin, point, code="A-OUJ", name="Point A-OUJ",
                      commune_code="OUJ", partner_id=world.partners["B"], active=True)
    assert set(errors) == {"partner_id"}
    assert point.partner_id == world.partners["A"] and len(_events()) == before


def test_an_unused_service_point_can_move_to_another_partner_and_keep_an_inactive_one(admin, world):
    point = services.create_service_point(admin, code="C-NAD", name="Point", commune_code="NAD",
                                          partner_id=world.partners["C"])
    services.update_service_point(admin, point, code="C-NAD", name="Point", commune_code="NAD",
                                  partner_id=world.partners["B"], active=True)
    assert point.partner_id == world.partners["B"]
    db.session.get(Partner, world.partners["B"]).active = False
    services.update_service_point(admin, point, code="C-NAD", name="Point 2", commune_code="NAD",
                                  partner_id=world.partners["B"], active=True)  # its own inactive partner: kept
    assert point.name == "Point 2"


def test_list_service_points_carries_partner_and_commune(admin, world):
    rows = {point.code: point for point in services.list_service_points()}
    assert rows["A-OUJ"].partner.code == "A" and rows["A-OUJ"].commune.code == "OUJ"


# --- Users: invitation ----------------------------------------------------------------------------------------

def test_temporary_passwords_pass_the_policy_and_differ():
    from caseapp.admin.accounts import temporary_password

    passwords = {temporary_password("someone", "Some One") for _ in range(20)}
    assert len(passwords) == 20
    assert all(len(p) >= 20 and not password_problems(p) for p in passwords)


def test_invite_creates_an_account_with_a_temporary_password(admin, world):
    user, password = services.invite_user(admin, **_invite_values(world, username="New.Worker "))
    assert user.username == "new.worker" and user.must_change_password is True
    assert (user.email, user.preferred_language, user.role, user.partner_id) == (
        "f.benali@example.org", "ar", "caseworker", world.partners["A"])
    assert user.service_point_ids == {world.service_points["A-OUJ"]}
    assert not password_problems(password, username=user.username, full_name=user.full_name)
    assert verify_password(user.password_hash, password) and password not in user.password_hash
    [event] = _events("user.create")
    assert (event.actor_id, event.object_id) == (admin.id, user.id)
    for personal in ("new.worker", "Benali", "example.org", password):
        assert personal not in event.details


def test_invite_reports_every_error_at_once_and_saves_nothing(admin, world):
    users, events = _count(User), len(_events())
    errors = _refused(services.invite_user, admin, username="Caseworker.A", full_name="", email="not-an-email",
                      preferred_language="de", role="root", partner_id=None,
                      service_point_ids=[world.service_points["A-OUJ"], 999999])
    assert set(errors) == {"username", "full_name", "email", "preferred_language", "role", "partner_id",
                           "service_point_ids"}
    assert (_count(User), len(_events())) == (users, events)


@pytest.mark.parametrize("overrides, field", [
    ({"username": ""}, "username"),
    ({"username": "bad name!"}, "username"),
    ({"username": "x" * 81}, "username"),
    ({"username": "ADMIN"}, "username"),  # taken, whatever the case
    ({"full_name": "x" * 161}, "full_name"),
    ({"email": "a@b"}, "email"),
    ({"role": ""}, "role"),
    ({"partner_id": 999999}, "partner_id"),
    ({"service_point_ids": []}, "service_point_ids"),  # a caseworker needs one
    ({"service_point_ids": ["B-BEM"]}, "service_point_ids"),  # another partner's
    ({"service_point_ids": ["nonsense"]}, "service_point_ids"),
])
def test_each_invitation_rule(admin, world, overrides, field):
    if overrides.get("service_point_ids") == ["B-BEM"]:
        overrides = {"service_point_ids": [world.service_points["B-BEM"]]}
    errors = _refused(services.invite_user, admin, **_invite_values(world, **overrides))
    assert set(errors) == {field}


def test_invite_into_a_deactivated_partner_or_service_point_is_refused(admin, world):
    db.session.get(Partner, world.partners["B"]).active = False
    db.session.get(ServicePoint, world.service_points["A-NAD"]).active = False
    assert set(_refused(services.invite_user, admin, **_invite_values(
        world, partner_id=world.partners["B"], service_point_ids=[]))) == {"partner_id", "service_point_ids"}
    assert set(_refused(services.invite_user, admin, **_invite_values(
        world, service_point_ids=[world.service_points["A-NAD"]]))) == {"service_point_ids"}


def test_non_case_roles_need_no_service_point(admin, world):
    user, _password = services.invite_user(admin, **_invite_values(world, role="me_officer", service_point_ids=[]))
    assert user.role == "me_officer" and user.service_points == []


def test_the_same_invitation_posted_twice_creates_one_account_and_shows_no_second_password(admin, world):
    first, password = services.invite_user(admin, **_invite_values(world), form_token="invite-token")
    again, no_password = services.invite_user(admin, **_invite_values(world), form_token="invite-token")
    assert again.id == first.id and password and no_password is None
    assert db.session.scalar(select(func.count()).where(User.username == "new.worker")) == 1


# --- Users: edits ---------------------------------------------------------------------------------------------

def test_role_change_is_audited_with_old_and_new_codes(admin, world):
    user = _user(world, "caseworker_a")
    services.update_user(admin, user, **_edit_values(user, role="supervisor"))
    assert user.role == "supervisor"
    [event] = _events("user.role_change")
    assert _details(event) == {"fields": ["role"], "old_role": "caseworker", "new_role": "supervisor"}
    assert not _events("user.scope_change") and not _events("user.update")


def test_scope_change_is_audited_with_field_names_and_ids(admin, world):
    user = _user(world, "caseworker_a")
    new_points = [world.service_points["A-NAD"], world.service_points["A-OUJ"]]
    services.update_user(admin, user, **_edit_values(user, service_point_ids=new_points, restricted_access=True))
    assert user.service_point_ids == set(new_points) and user.restricted_access
    [event] = _events("user.scope_change")
    assert _details(event) == {"fields": ["restricted_access", "service_points"], "partner_id": world.partners["A"],
                               "old_partner_id": world.partners["A"], "service_point_ids": sorted(new_points),
                               "old_service_point_ids": [world.service_points["A-OUJ"]]}


def test_moving_a_user_to_another_partner(admin, world):
    user = _user(world, "caseworker_a")
    services.update_user(admin, user, **_edit_values(user, partner_id=world.partners["B"],
                                                     service_point_ids=[world.service_points["B-BEM"]]))
    assert user.partner_id == world.partners["B"] and user.service_point_ids == {world.service_points["B-BEM"]}
    assert _details(_events("user.scope_change")[0])["fields"] == ["partner_id", "service_points"]


def test_profile_change_is_audited_as_update_without_values(admin, world):
    user = _user(world, "caseworker_b")
    services.update_user(admin, user, **_edit_values(user, full_name="Karim Ouazzani", email="k.o@example.org",
                                                     preferred_language="fr"))
    assert (user.full_name, user.email, user.preferred_language) == ("Karim Ouazzani", "k.o@example.org", "fr")
    [event] = _events("user.update")
    assert _details(event) == {"fields": ["full_name", "email", "preferred_language"]}
    assert "Ouazzani" not in event.details and "example.org" not in event.details


def test_one_edit_can_write_each_kind_of_event_and_saving_again_writes_nothing(admin, world):
    user = _user(world, "caseworker_a")
    values = _edit_values(user, role="supervisor", restricted_access=True, full_name="New Name")
    services.update_user(admin, user, **values)
    assert [e.action for e in _events() if e.actor_id == admin.id] == [
        "user.role_change", "user.scope_change", "user.update"]
    before = len(_events())
    services.update_user(admin, user, **values)
    assert len(_events()) == before


def test_the_same_service_points_in_another_order_are_no_change(admin, world):
    user = _user(world, "supervisor_a")
    services.update_user(admin, user, **_edit_values(user, service_point_ids=sorted(user.service_point_ids,
                                                                                    reverse=True)))
    assert not _events()


def test_edit_refusal_reports_every_error_and_changes_nothing(admin, world):
    user = _user(world, "caseworker_a")
    snapshot = _edit_values(user)
    before = len(_events())
    errors = _refused(services.update_user, admin, user, **_edit_values(
        user, full_name="", email="bad", preferred_language="xx", role="boss", partner_id=None,
        service_point_ids=[999999], restricted_access=True))
    assert set(errors) == {"full_name", "email", "preferred_language", "role", "partner_id", "service_point_ids"}
    assert _edit_values(user) == snapshot and len(_events()) == before


def test_service_points_must_belong_to_the_users_partner(admin, world):
    user = _user(world, "supervisor_a")
    errors = _refused(services.update_user, admin, user, **_edit_values(
        user, service_point_ids=[world.service_points["B-BEM"]]))
    assert set(errors) == {"service_point_ids"}
    errors = _refused(services.update_user, admin, user, **_edit_values(user, partner_id=world.partners["B"]))
    assert set(errors) == {"service_point_ids"}  # A's points do not follow a move to B


def test_a_caseworker_keeps_at_least_one_service_point(admin, world):
    user = _user(world, "caseworker_a")
    assert set(_refused(services.update_user, admin, user, **_edit_values(user, service_point_ids=[]))) == {
        "service_point_ids"}


def test_an_already_assigned_inactive_service_point_may_stay(admin, world):
    user = _user(world, "caseworker_a")
    db.session.get(ServicePoint, world.service_points["A-OUJ"]).active = False
    services.update_user(admin, user, **_edit_values(user, full_name="Still Here"))
    assert user.full_name == "Still Here"


def test_an_admin_cannot_demote_themselves(admin, world):
    errors = _refused(services.update_user, admin, admin, **_edit_values(admin, role="dpo"))
    assert set(errors) == {"role"} and admin.role == "admin"


def test_the_last_active_admin_cannot_be_demoted_or_disabled(admin, world):
    """Two administrators act on each other at once: the second one to save finds no other active admin."""
    other, _password = services.invite_user(admin, **_invite_values(world, username="admin.two", role="admin",
                                                                     service_point_ids=[]))
    db.session.commit()
    actor, target = db.session.get(User, other.id), _user(world, "admin")
    assert actor.active and target.active  # both loaded by their own requests
    # Meanwhile `admin` disabled `other` (committed elsewhere): `other`'s request still holds its account as active.
    db.session.execute(update(User).where(User.id == other.id).values(active=False),
                       execution_options={"synchronize_session": False})
    errors = _refused(services.update_user, actor, target, **_edit_values(target, role="supervisor"))
    assert set(errors) == {"role"}
    assert set(_refused(services.disable_user, actor, target)) == {"active"}
    assert target.role == "admin" and target.active


# --- Users: account actions -----------------------------------------------------------------------------------

def test_disable_ends_every_session_and_is_audited(admin, world):
    user = _user(world, "caseworker_a")
    version = user.session_version
    services.disable_user(admin, user)
    assert user.active is False and user.session_version == version + 1
    [event] = _events("user.disable")
    assert (event.object_id, _details(event)) == (user.id, {"fields": ["active", "session_version"]})
    services.disable_user(admin, user)  # already disabled: nothing more
    assert user.session_version == version + 1 and len(_events("user.disable")) == 1


def test_enable_is_audited(admin, world):
    user = _user(world, "caseworker_a")
    services.disable_user(admin, user)
    services.enable_user(admin, user)
    assert user.active is True
    assert [_details(e) for e in _events("user.enable")] == [{"fields": ["active"]}]


def test_an_admin_cannot_disable_themselves(admin):
    before = len(_events())
    assert set(_refused(services.disable_user, admin, admin)) == {"active"}
    assert admin.active and len(_events()) == before


def test_another_admin_can_be_disabled_while_one_remains(admin, world):
    other, _password = services.invite_user(admin, **_invite_values(world, username="admin.two", role="admin",
                                                                     service_point_ids=[]))
    services.disable_user(admin, other)
    assert other.active is False


def _enrol(user: User) -> None:
    user.totp_secret = "JBSWY3DPEHPK3PXP"
    user.totp_pending_secret = "KRSXG5CTMVRXEZLU"
    user.mfa_enabled_at = utcnow()
    user.totp_last_step = 123456
    db.session.add_all([RecoveryCode(user_id=user.id, code_hash="hash-1"),
                        RecoveryCode(user_id=user.id, code_hash="hash-2")])
    db.session.flush()


def test_mfa_reset_clears_everything_and_ends_sessions(admin, world):
    user, bystander = _user(world, "supervisor_a"), _user(world, "dpo")
    _enrol(user)
    _enrol(bystander)
    version = user.session_version
    services.reset_mfa(admin, user)
    db.session.flush()
    db.session.expire_all()
    user = _user(world, "supervisor_a")
    assert (user.totp_secret, user.totp_pending_secret, user.mfa_enabled_at, user.totp_last_step) == (None,) * 4
    assert user._totp_secret_sealed is None and user._totp_pending_secret_sealed is None
    assert not user.mfa_enabled and user.session_version == version + 1
    assert db.session.scalar(select(func.count()).where(RecoveryCode.user_id == user.id)) == 0
    assert db.session.scalar(select(func.count()).where(RecoveryCode.user_id == bystander.id)) == 2
    [event] = _events("user.mfa_reset")
    assert _details(event)["recovery_codes_removed"] == 2
    assert "totp_secret" in _details(event)["fields"] and "JBSW" not in event.details


def test_an_admin_cannot_reset_their_own_second_factor(admin):
    _enrol(admin)
    assert set(_refused(services.reset_mfa, admin, admin)) == {"mfa"}
    assert admin.mfa_enabled


def test_logout_everywhere_bumps_the_session_version(admin, world):
    user = _user(world, "receiver")
    version = user.session_version
    services.logout_everywhere(admin, user)
    assert user.session_version == version + 1
    assert [_details(e) for e in _events("user.logout_everywhere")] == [{"fields": ["session_version"]}]


def test_unlock_clears_the_lock(admin, world):
    user = _user(world, "caseworker_b")
    user.failed_logins, user.locked_until = 7, utcnow() + timedelta(minutes=30)
    services.unlock_user(admin, user)
    assert (user.failed_logins, user.locked_until) == (0, None)
    assert [_details(e) for e in _events("user.unlock")] == [{"fields": ["failed_logins", "locked_until"]}]
    services.unlock_user(admin, user)  # nothing to unlock: nothing written
    assert len(_events("user.unlock")) == 1


def test_a_new_temporary_password_replaces_the_old_one(admin, world):
    user = _user(world, "caseworker_a")
    version = user.session_version
    password = services.issue_temporary_password(admin, user)
    assert verify_password(user.password_hash, password) and not verify_password(user.password_hash, PASSWORD)
    assert user.must_change_password and user.session_version == version + 1
    [event] = _events("user.password_reset")
    assert password not in event.details and "password_hash" in _details(event)["fields"]


def test_an_admin_cannot_give_themselves_a_temporary_password(admin):
    hashed = admin.password_hash
    assert set(_refused(services.issue_temporary_password, admin, admin)) == {"password"}
    assert admin.password_hash == hashed and not admin.must_change_password


def test_list_users_filters_by_partner_and_role(admin, world):
    by_partner = {user.username for user in services.list_users(partner_id=world.partners["B"])}
    assert by_partner == {"caseworker.b", "supervisor.b"}
    by_role = {user.username for user in services.list_users(role="supervisor")}
    assert by_role == {"supervisor.a", "supervisor.b"}
    assert {u.username for u in services.list_users(partner_id=world.partners["A"], role="caseworker")} == {
        "caseworker.a", "caseworker.a2", "caseworker.restricted"}
    assert len(services.list_users()) == len(USERS)


# --- Only administrators --------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", [key for key, spec in USERS.items() if spec[0] != "admin"])
def test_every_service_refuses_a_non_admin(app_ctx, world, key):
    actor, target = _user(world, key), _user(world, "caseworker_b")
    partner = db.session.get(Partner, world.partners["B"])
    point = db.session.get(ServicePoint, world.service_points["B-BEM"])
    calls = [
        lambda: services.create_partner(actor, code="X", name="X", kind="other"),
        lambda: services.update_partner(actor, partner, code="B", name="B", kind="other", active=False),
        lambda: services.create_service_point(actor, code="X", name="X", commune_code="OUJ",
                                              partner_id=partner.id),
        lambda: services.update_service_point(actor, point, code="B-BEM", name="X", commune_code="OUJ",
                                              partner_id=partner.id, active=False),
        lambda: services.invite_user(actor, **_invite_values(world)),
        lambda: services.update_user(actor, target, **_edit_values(target, role="admin")),
        *[lambda action=action: action(actor, target) for action in (
            services.disable_user, services.enable_user, services.reset_mfa, services.logout_everywhere,
            services.unlock_user, services.issue_temporary_password)],
    ]
    before = len(_events())
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
    assert len(_events()) == before
    assert (target.role, target.active, partner.name) == ("caseworker", True, "Partner B")

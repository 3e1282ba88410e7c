"""The access policy: role permissions, object scope (own / other service point / other partner), list scope."""
import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from caseapp.access import policy
from caseapp.access.policy import (
    AUTHENTICATED, PERMISSIONS, PUBLIC, ROLE_PERMISSIONS, ROLES, can, get_or_404, has_permission, scope,
)
from caseapp.auth.models import User
from caseapp.beneficiaries.flags import allowed_flag_codes, flag_choices
from caseapp.beneficiaries.models import Beneficiary, VulnerabilityFlag
from caseapp.beneficiaries.services import visible_cases
from caseapp.cases.models import Case
from caseapp.cases.services import open_case
from caseapp.extensions import db
from caseapp.partners.models import Partner
from caseapp.places.models import ServicePoint
from tests.conftest import EXPECTED_SCOPE, NON_CASE_USERS

# The one place that says who holds which permission. A new permission must be added here on purpose.
EXPECTED_HOLDERS = {
    "beneficiary.register": {"caseworker", "supervisor"},
    "beneficiary.view": {"caseworker", "supervisor"},
    "case.list": {"caseworker", "supervisor"},
    "case.view": {"caseworker", "supervisor"},
    "case.work": {"caseworker", "supervisor"},
    "note.edit": {"caseworker", "supervisor"},
    "household.manage": {"caseworker", "supervisor"},
    "flag.view": {"caseworker", "supervisor"},
    "case.assign": {"supervisor"},
    "case.close.approve": {"supervisor"},
    "case.reopen": {"supervisor"},
    "case.transfer.propose": {"supervisor"},
    "case.transfer.decide": {"supervisor"},
    "case.history": {"supervisor"},
    "referral.view": {"caseworker", "supervisor", "referral_receiver"},
    "referral.create": {"caseworker", "supervisor"},
    "referral.submit": {"caseworker", "supervisor"},
    "referral.cancel": {"caseworker", "supervisor"},
    "referral.record_answer": {"caseworker", "supervisor"},
    "referral.approve": {"supervisor"},
    "referral.return": {"supervisor"},
    "referral.review": {"supervisor"},
    "referral.inbox": {"referral_receiver"},
    "referral.accept": {"referral_receiver"},
    "referral.decline": {"referral_receiver"},
    "referral.start": {"referral_receiver"},
    "referral.complete": {"referral_receiver"},
    "directory.view": {"caseworker", "supervisor", "admin"},
    "directory.manage": {"admin"},
    "audit.view": {"dpo"},
    "audit.export": {"dpo"},
    "admin.manage": {"admin"},
    "consent.manage": {"caseworker", "supervisor"},
    "person.lookup": {"dpo"},
    "person.access_log": {"supervisor", "dpo"},
    "person.access_export": {"supervisor", "dpo"},
    "person.erase": {"dpo"},
    "dashboard.view": {"supervisor"},
    "person.merge": {"supervisor"},
    "import.manage": {"supervisor"},
    "report.view": {"me_officer"},
    "report.build": {"me_officer"},
    "report.publish": {"me_officer"},
}
CASE_ACTIONS = ("beneficiary.view", "case.view")

# One world user per role.
USER_OF_ROLE = {
    "caseworker": "caseworker_a",
    "supervisor": "supervisor_a",
    "referral_receiver": "receiver",
    "me_officer": "me_officer",
    "dpo": "dpo",
    "admin": "admin",
}
# Cases, people and service points follow the same scope.
VISIBLE_CASES = VISIBLE_SERVICE_POINTS = EXPECTED_SCOPE


def _user(world, key: str) -> User:
    return db.session.get(User, world.users[key])


@pytest.fixture
def three_cases(register, world):
    """One person and case at each service point: {service point code: (beneficiary id, case number)}."""
    return {
        "A-OUJ": register("caseworker_a", "A-OUJ", given_name="Ouj"),
        "A-NAD": register("caseworker_a2", "A-NAD", given_name="Nad", commune_code="NAD"),
        "B-BEM": register("caseworker_b", "B-BEM", given_name="Bem", commune_code="BEM"),
    }


def _case(number: str) -> Case:
    return db.session.scalars(select(Case).where(Case.number == number)).one()


# --- role-level permissions ------------------------------------------------------------------------------------


def test_the_permission_table_lists_exactly_the_known_permissions():
    assert set(PERMISSIONS) - {AUTHENTICATED} == set(EXPECTED_HOLDERS)
    assert set(ROLE_PERMISSIONS) == set(ROLES) == set(USER_OF_ROLE)


def test_exactly_the_expected_roles_hold_each_permission(app_ctx, world):
    users = {role: _user(world, key) for role, key in USER_OF_ROLE.items()}
    holders = {action: {role for role, user in users.items() if has_permission(user, action)}
               for action in EXPECTED_HOLDERS}
    assert holders == EXPECTED_HOLDERS
    via_can = {action: {role for role, user in users.items() if can(user, action)} for action in EXPECTED_HOLDERS}
    # Role level, the referring side may also record a receiver's answer: for a partner without accounts,
    # decided per referral (tests/unit/test_referral_access.py).
    answered_on_paper = {f"referral.{step}" for step in ("accept", "decline", "start", "complete")}
    assert via_can == {action: holders | ({"caseworker", "supervisor"} if action in answered_on_paper else set())
                       for action, holders in EXPECTED_HOLDERS.items()}


def test_every_active_role_is_authenticated_and_may_open_public_pages_but_nothing_unknown(app_ctx, world):
    for role, key in USER_OF_ROLE.items():
        user = _user(world, key)
        assert can(user, AUTHENTICATED) and can(user, PUBLIC), role
        assert not can(user, "case.delete") and not can(user, ""), role


def test_an_unknown_role_holds_nothing(app_ctx, world):
    user = _user(world, "caseworker_a")
    user.role = "superuser"
    assert not any(has_permission(user, action) for action in EXPECTED_HOLDERS)


def test_requires_refuses_an_unknown_permission():
    with pytest.raises(ValueError):
        policy.requires("case.destroy")


# --- object-level: own / other service point same partner / other partner -------------------------------------


def test_case_and_person_visibility_by_service_point_and_partner(app_ctx, world, three_cases):
    """Every user × action × case: own service point, other point of the same partner, other partner."""
    actual = {}
    for user_key in VISIBLE_CASES:
        user = _user(world, user_key)
        for action in CASE_ACTIONS:
            objects = {code: _case(number) if action == "case.view" else db.session.get(Beneficiary, person_id)
                       for code, (person_id, number) in three_cases.items()}
            actual[user_key, action] = {code for code, obj in objects.items() if can(user, action, obj)}
    assert actual == {(key, action): points for key, points in VISIBLE_CASES.items() for action in CASE_ACTIONS}


def test_get_or_404_loads_in_scope_rows_and_answers_404_otherwise(app_ctx, world, three_cases):
    for user_key, visible in VISIBLE_CASES.items():
        user = _user(world, user_key)
        for code, (person_id, number) in three_cases.items():
            case_id = _case(number).id
            if code in visible:
                assert get_or_404(Case, case_id, "case.view", user=user).number == number
                assert get_or_404(Beneficiary, person_id, "beneficiary.view", user=user).id == person_id
            else:
                with pytest.raises(NotFound):
                    get_or_404(Case, case_id, "case.view", user=user)
                with pytest.raises(NotFound):
                    get_or_404(Beneficiary, person_id, "beneficiary.view", user=user)


def test_get_or_404_answers_404_for_an_unknown_id(app_ctx, world, three_cases):
    user = _user(world, "supervisor_a")
    with pytest.raises(NotFound):
        get_or_404(Beneficiary, 987654, "beneficiary.view", user=user)
    with pytest.raises(NotFound):
        get_or_404(Case, 987654, "case.view", user=user)


def test_case_assign_is_limited_to_the_supervisors_own_partner(app_ctx, world, three_cases):
    supervisor_a, supervisor_b = _user(world, "supervisor_a"), _user(world, "supervisor_b")
    caseworker = _user(world, "caseworker_a")
    own, other_point, other_partner = (_case(three_cases[code][1]) for code in ("A-OUJ", "A-NAD", "B-BEM"))
    assert can(supervisor_a, "case.assign", own) and can(supervisor_a, "case.assign", other_point)
    assert not can(supervisor_a, "case.assign", other_partner)
    assert can(supervisor_b, "case.assign", other_partner) and not can(supervisor_b, "case.assign", own)
    assert not can(caseworker, "case.assign", own)  # the role lacks it even on its own case


def test_non_case_roles_see_no_case_even_of_their_own_partner(app_ctx, world, three_cases):
    for user_key in NON_CASE_USERS:
        user = _user(world, user_key)
        for action in ("case.view", "case.assign", "beneficiary.view", "audit.view", "admin.manage", AUTHENTICATED):
            for person_id, number in three_cases.values():
                assert not can(user, action, _case(number)), f"{user_key} {action}"
                assert not can(user, action, db.session.get(Beneficiary, person_id)), f"{user_key} {action}"


def test_objects_of_other_types_are_denied(app_ctx, world):
    supervisor = _user(world, "supervisor_a")
    assert not can(supervisor, "case.view", db.session.get(Partner, world.partners["A"]))
    assert not can(supervisor, "case.view", object())


def test_service_points_a_user_may_work_at(app_ctx, world):
    points = {code: db.session.get(ServicePoint, point_id) for code, point_id in world.service_points.items()}
    allowed = {key: {code for code, point in points.items() if can(_user(world, key), "beneficiary.register", point)}
               for key in EXPECTED_SCOPE}
    assert allowed == EXPECTED_SCOPE
    points["A-OUJ"].active = False
    assert not can(_user(world, "caseworker_a"), "beneficiary.register", points["A-OUJ"])


def test_a_caseworker_at_two_points_sees_both(app_ctx, world, three_cases):
    user = _user(world, "caseworker_a")
    user.service_points.append(db.session.get(ServicePoint, world.service_points["A-NAD"]))
    assert can(user, "case.view", _case(three_cases["A-NAD"][1]))
    assert not can(user, "case.view", _case(three_cases["B-BEM"][1]))


def test_a_person_with_cases_at_two_partners_shows_each_partner_only_its_own_case(app_ctx, world, three_cases):
    person = db.session.get(Beneficiary, three_cases["A-OUJ"][0])
    caseworker_b = _user(world, "caseworker_b")
    foreign_case = open_case(caseworker_b, person, db.session.get(ServicePoint, world.service_points["B-BEM"]))
    own_case = _case(three_cases["A-OUJ"][1])
    assert visible_cases(caseworker_b, person) == [foreign_case]
    assert visible_cases(_user(world, "caseworker_a"), person) == [own_case]
    assert visible_cases(_user(world, "caseworker_a2"), person) == []
    assert not can(caseworker_b, "case.view", own_case)


# --- list scope ------------------------------------------------------------------------------------------------


def test_scope_returns_exactly_the_visible_rows(app_ctx, world, three_cases):
    numbers = {number: code for code, (_, number) in three_cases.items()}
    people = {person_id: code for code, (person_id, _) in three_cases.items()}
    actual_cases, actual_people, actual_points = {}, {}, {}
    for user_key in VISIBLE_CASES:
        user = _user(world, user_key)
        actual_cases[user_key] = {numbers[n] for n in db.session.scalars(scope(user, select(Case.number), Case))}
        actual_people[user_key] = {people[i] for i in db.session.scalars(scope(user, select(Beneficiary.id),
                                                                                Beneficiary))}
        actual_points[user_key] = set(db.session.scalars(scope(user, select(ServicePoint.code), ServicePoint)))
    assert actual_cases == VISIBLE_CASES
    assert actual_people == VISIBLE_CASES
    assert actual_points == VISIBLE_SERVICE_POINTS


def test_scope_of_a_person_is_not_duplicated_by_several_cases(app_ctx, world, three_cases):
    person = db.session.get(Beneficiary, three_cases["A-OUJ"][0])
    supervisor = _user(world, "supervisor_a")
    open_case(supervisor, person, db.session.get(ServicePoint, world.service_points["A-NAD"]))
    ids = list(db.session.scalars(scope(supervisor, select(Beneficiary.id), Beneficiary)))
    assert sorted(ids) == sorted({three_cases["A-OUJ"][0], three_cases["A-NAD"][0]})


def test_flag_lists_offer_exactly_the_flags_the_object_rule_allows(app_ctx, world):
    flags = db.session.scalars(select(VulnerabilityFlag)).all()
    assert any(flag.restricted for flag in flags) and any(not flag.restricted for flag in flags)
    for key in EXPECTED_SCOPE:
        user = _user(world, key)
        allowed = {flag.code for flag in flags if can(user, "flag.view", flag)}
        assert {flag.code for flag in flag_choices(user)} == allowed, key
        assert set(db.session.scalars(scope(user, select(VulnerabilityFlag.code), VulnerabilityFlag))) == allowed
    restricted = {flag.code for flag in flags if flag.restricted}
    assert restricted <= allowed_flag_codes(_user(world, "caseworker_restricted"))
    assert not restricted & allowed_flag_codes(_user(world, "caseworker_a"))
    assert allowed_flag_codes(_user(world, "receiver")) == set()


@pytest.mark.parametrize("language", ["fr", "en", "ar"])
def test_flag_choices_are_named_in_the_interface_language(app, world, language):
    with app.test_request_context(headers={"Accept-Language": language}):
        from flask import session
        session["lang"] = language
        user = _user(world, "caseworker_restricted")
        names = {flag.code: flag.name for flag in flag_choices(user)}
        assert names and names == {flag.code: getattr(flag, f"name_{language}") or flag.name_fr
                                   for flag in db.session.scalars(select(VulnerabilityFlag))}


def test_scope_on_any_other_model_returns_nothing(app_ctx, world, three_cases):
    supervisor = _user(world, "supervisor_a")
    assert list(db.session.scalars(scope(supervisor, select(User), User))) == []
    assert list(db.session.scalars(scope(supervisor, select(Partner), Partner))) == []


# --- inactive and anonymous users -------------------------------------------------------------------------------


def test_an_inactive_user_can_nothing(app_ctx, world, three_cases):
    own_case = _case(three_cases["A-OUJ"][1])
    for user_key in ("caseworker_a", "supervisor_a", "dpo", "admin"):
        user = _user(world, user_key)
        user.active = False
        assert [action for action in sorted(PERMISSIONS) if can(user, action)] == [], user_key
        assert not can(user, "case.view", own_case), user_key
        assert not can(user, "beneficiary.view", own_case.beneficiary), user_key
        with pytest.raises(NotFound):
            get_or_404(Case, own_case.id, "case.view", user=user)
        for model in (Case, Beneficiary, ServicePoint):
            assert list(db.session.scalars(scope(user, select(model), model))) == [], (user_key, model)


def test_anonymous_can_nothing_but_public(app_ctx, world, three_cases):
    anonymous = AnonymousUserMixin()
    assert can(anonymous, PUBLIC)
    assert can(None, PUBLIC)
    for action in sorted(PERMISSIONS):
        assert not can(anonymous, action), action
        assert not can(None, action), action
    own_case = _case(three_cases["A-OUJ"][1])
    assert not can(anonymous, "case.view", own_case)
    with pytest.raises(NotFound):
        get_or_404(Case, own_case.id, "case.view", user=anonymous)
    for model in (Case, Beneficiary, ServicePoint):
        assert list(db.session.scalars(scope(anonymous, select(model), model))) == []


def test_an_import_batch_is_its_organisations_business(app_ctx, world):
    from caseapp.imports.models import ImportBatch

    batch = ImportBatch(partner_id=world.partners["A"], service_point_id=world.service_points["A-OUJ"],
                        filename="x.xlsx", file_sha256="0" * 64)
    users = {key: db.session.get(User, world.users[key]) for key in ("supervisor_a", "supervisor_b", "caseworker_a")}
    assert {key: can(user, "import.manage", batch) for key, user in users.items()} == {
        "supervisor_a": True, "supervisor_b": False, "caseworker_a": False}

"""Assignment and transfers without HTTP: bulk assignment (all or nothing), transfers between organisations,
households, and the case list's filters and sort orders."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from caseapp.access.policy import can, scope
from caseapp.auth.models import User
from caseapp.auth.services import create_user
from caseapp.beneficiaries.households import (
    find_person_by_case_number, leave_household, link_household, set_household_head, visible_members,
)
from caseapp.beneficiaries.services import register_beneficiary
from caseapp.cases.assessment import save_assessment
from caseapp.cases.assignment import (
    assign_cases, decide_transfer, incoming_transfers, pending_transfer, propose_transfer, transfer_targets,
)
from caseapp.cases.followups import add_follow_up, complete_follow_up
from caseapp.cases.history import case_history, decoded_changes
from caseapp.cases.models import Case, CaseTransfer, ChangeRecord
from caseapp.cases.services import CaseFilters, SORTS, open_case, search_cases
from caseapp.cases.workflow import decide_closure, request_closure
from caseapp.errors import DomainError
from caseapp.extensions import db
from caseapp.partners.models import Partner
from caseapp.places.models import ServicePoint
from caseapp.referrals.models import Referral
from tests.conftest import EXPECTED_SCOPE, PASSWORD, USERS, valid_registration

TODAY = date(2026, 3, 15)
REFUSED = "refused"


def _user(world, key: str) -> User:
    return db.session.get(User, world.users[key])


def _new_case(world, user_key: str = "caseworker_a", point: str = "A-OUJ", **overrides) -> Case:
    _, case = register_beneficiary(_user(world, user_key), valid_registration(world.service_points[point], **overrides))
    db.session.commit()
    return case


def _supervisor_c(world) -> User:
    """A supervisor of partner C: neither the giving nor the receiving organisation of a transfer."""
    return create_user(None, username="supervisor.c", full_name="Supervisor C", password=PASSWORD, role="supervisor",
                       partner=db.session.get(Partner, world.partners["C"]), service_points=[])


def _visible_to(world, case: Case) -> set[str]:
    """The world's users who can open `case` and find it in their case list."""
    keys = set()
    for key in USERS:
        user = _user(world, key)
        listed = case.id in db.session.scalars(scope(user, select(Case.id), Case)).all()
        assert listed == can(user, "case.view", case), key
        if listed:
            keys.add(key)
    return keys


def _outcome(action) -> str:
    try:
        action()
    except DomainError:
        return REFUSED
    return "done"


# --- bulk assignment ---------------------------------------------------------------------------------------------


def test_bulk_assignment_is_all_or_nothing(app_ctx, world):
    supervisor = _user(world, "supervisor_a")
    oujda = _new_case(world)
    oujda_2 = _new_case(world)
    nador = _new_case(world, "caseworker_a2", "A-NAD")
    berkane = _new_case(world, "caseworker_b", "B-BEM")
    before = {case.id: case.assigned_worker_id for case in (oujda, oujda_2, nador, berkane)}

    attempts = {
        "worker of another service point": ([oujda.id, nador.id], "caseworker_a"),
        "case of another partner": ([oujda.id, berkane.id], "caseworker_restricted"),
        "worker of another partner": ([oujda.id], "caseworker_b"),
        "no case": ([], "caseworker_a"),
        "no worker": ([oujda.id], None),
        "user without case work": ([oujda.id], "me_officer"),
        "unknown case": ([oujda.id, 987654], "caseworker_restricted"),
    }
    refused = {}
    for name, (case_ids, worker) in attempts.items():
        try:
            assign_cases(supervisor, case_ids, world.users[worker] if worker else None)
        except DomainError as refusal:
            refused[name] = refusal.message
    assert set(refused) == set(attempts)
    assert nador.number in refused["worker of another service point"]
    assert {case.id: case.assigned_worker_id for case in (oujda, oujda_2, nador, berkane)} == before
    assert db.session.scalars(select(ChangeRecord).where(ChangeRecord.action == "assign")).all() == []

    # A caseworker's scope is their own service point: the Nador case is not theirs to hand out.
    with pytest.raises(DomainError):
        assign_cases(_user(world, "caseworker_a"), [oujda.id, nador.id], world.users["caseworker_restricted"])

    assigned = assign_cases(supervisor, [oujda.id, oujda_2.id, oujda.id], world.users["caseworker_restricted"])
    assert sorted(case.number for case in assigned) == sorted([oujda.number, oujda_2.number])
    assert {case.id: case.assigned_worker_id for case in (oujda, oujda_2, nador)} == {
        oujda.id: world.users["caseworker_restricted"], oujda_2.id: world.users["caseworker_restricted"],
        nador.id: world.users["caseworker_a2"]}
    rows = [(entry.action, decoded_changes(entry), entry.actor_id) for entry in case_history(supervisor, oujda)]
    assert rows[0] == ("assign", {"assigned_worker_id": [world.users["caseworker_a"],
                                                         world.users["caseworker_restricted"]]}, supervisor.id)

    assign_cases(supervisor, [nador.id, oujda.id], world.users["supervisor_a"])  # a supervisor covers both points
    assert {oujda.assigned_worker_id, nador.assigned_worker_id} == {supervisor.id}


def test_the_sql_list_of_who_may_own_a_case_is_the_rule_itself(app_ctx, world):
    from caseapp.access.policy import may_be_assigned, may_be_assigned_condition
    from caseapp.cases.assignment import workers_for_case

    cases = [_new_case(world, "caseworker_a", "A-OUJ"), _new_case(world, "caseworker_a2", "A-NAD"),
             _new_case(world, "caseworker_b", "B-BEM")]
    deactivated = _user(world, "caseworker_restricted")
    deactivated.active = False
    db.session.commit()
    users = db.session.scalars(select(User)).all()
    assert {user.role for user in users} >= {"caseworker", "supervisor", "referral_receiver", "dpo", "admin"}
    for case in cases:
        listed = set(db.session.scalars(select(User.id).where(
            may_be_assigned_condition(case.partner_id, case.service_point_id))))
        assert set(workers_for_case(_user(world, "supervisor_a" if case.partner_id == world.partners["A"]
                                          else "supervisor_b"), case)) == listed
        assert listed == {user.id for user in users if may_be_assigned(user, case)}, case.service_point_id
        assert listed  # someone may own each case
        assert deactivated.id not in listed


# --- transfers ---------------------------------------------------------------------------------------------------


def test_a_transfer_goes_to_another_organisation_one_proposal_at_a_time(app_ctx, world):
    supervisor = _user(world, "supervisor_a")
    case = _new_case(world)
    points = world.service_points
    assert [point.code for point in transfer_targets(supervisor, case)] == ["B-BEM"]

    refused = {}
    for name, (target, reason) in {
        "own service point": (points["A-OUJ"], "Closer"),
        "own organisation's other point": (points["A-NAD"], "Closer"),
        "no service point": (None, "Closer"),
        "unknown service point": (987654, "Closer"),
        "no reason": (points["B-BEM"], "   "),
    }.items():
        try:
            propose_transfer(supervisor, case, target, reason)
        except DomainError as refusal:
            refused[name] = refusal.field
    assert refused == {"own service point": "to_service_point_id",
                       "own organisation's other point": "to_service_point_id",
                       "no service point": "to_service_point_id", "unknown service point": "to_service_point_id",
                       "no reason": "reason"}
    assert pending_transfer(case) is None

    transfer = propose_transfer(supervisor, case, points["B-BEM"], "  Moved to Berkane  ")
    assert (transfer.status, transfer.reason, transfer.from_service_point_id, transfer.proposed_by_id) == (
        "proposed", "Moved to Berkane", points["A-OUJ"], supervisor.id)
    assert pending_transfer(case) == transfer
    with pytest.raises(DomainError):
        propose_transfer(supervisor, case, points["B-BEM"], "Again")
    assert len(db.session.scalars(select(CaseTransfer)).all()) == 1

    closed = _new_case(world)
    request_closure(_user(world, "caseworker_a"), closed, "goals_met")
    decide_closure(supervisor, closed, approve=True)
    with pytest.raises(DomainError):
        propose_transfer(supervisor, closed, points["B-BEM"], "Closed already")

    inactive = db.session.get(ServicePoint, points["B-BEM"])
    inactive.active = False
    other = _new_case(world)
    with pytest.raises(DomainError):
        propose_transfer(supervisor, other, points["B-BEM"], "Inactive point")


def test_only_the_receiving_organisations_supervisor_decides_and_acceptance_moves_the_case(app_ctx, world):
    case = _new_case(world)
    add_follow_up(_user(world, "caseworker_a"), case, purpose="Call", due_date=TODAY, assigned_to_id=None, today=TODAY)
    request_closure(_user(world, "caseworker_a"), case, "moved")
    supervisor_c = _supervisor_c(world)
    transfer = propose_transfer(_user(world, "supervisor_a"), case, world.service_points["B-BEM"], "Moved")
    assert _visible_to(world, case) == {"caseworker_a", "caseworker_restricted", "supervisor_a"}

    incoming = {key: [item.id for item in incoming_transfers(_user(world, key))] for key in USERS}
    incoming["supervisor_c"] = [item.id for item in incoming_transfers(supervisor_c)]
    assert incoming == {**{key: [] for key in USERS}, "supervisor_b": [transfer.id], "supervisor_c": []}

    deciders = {key: _user(world, key) for key in USERS if key != "supervisor_b"} | {"supervisor_c": supervisor_c}
    decided = {key: _outcome(lambda: decide_transfer(user, transfer, accept=True)) for key, user in deciders.items()}
    assert decided == dict.fromkeys(deciders, REFUSED)
    assert (transfer.status, case.partner_id, case.service_point_id) == (
        "proposed", world.partners["A"], world.service_points["A-OUJ"])

    decide_transfer(_user(world, "supervisor_b"), transfer, accept=True, comment="  Welcome  ")
    db.session.commit()
    assert (transfer.status, transfer.decided_by_id, transfer.decision_comment) == (
        "accepted", world.users["supervisor_b"], "Welcome")
    assert (case.partner_id, case.service_point_id, case.assigned_worker_id, case.awaiting_closure,
            case.closure_reason) == (world.partners["B"], world.service_points["B-BEM"], None, False, None)
    assert _visible_to(world, case) == {"caseworker_b", "supervisor_b"}
    assert not can(_user(world, "caseworker_a"), "beneficiary.view", case.beneficiary)
    assert can(_user(world, "caseworker_b"), "beneficiary.view", case.beneficiary)
    assert incoming_transfers(_user(world, "supervisor_b")) == []
    assert _outcome(lambda: decide_transfer(_user(world, "supervisor_b"), transfer, accept=True)) == REFUSED
    # The old organisation's worker no longer sees its follow-up in their work lists either.
    assert search_cases(_user(world, "caseworker_a"), filters=CaseFilters(overdue=True),
                        today=TODAY + timedelta(days=1)).total == 0


def test_a_transfer_carries_the_cases_referrals_to_the_new_organisation(app_ctx, world):
    """A referral copies where its case is worked (for its own scope index); the database keeps the copy equal."""
    case = _new_case(world)
    referral = Referral(case=case, service_code="employment.anapec", receiving_partner_id=world.partners["C"],
                        priority="normal", reason="Need", created_by_id=world.users["caseworker_a"])
    db.session.add(referral)
    db.session.commit()

    def seen_by() -> set[str]:
        return {key for key in USERS if db.session.scalar(
            scope(_user(world, key), select(Referral.id), Referral).where(Referral.id == referral.id))}

    assert (referral.partner_id, referral.service_point_id) == (world.partners["A"], world.service_points["A-OUJ"])
    assert seen_by() == _visible_to(world, case) == {"caseworker_a", "caseworker_restricted", "supervisor_a"}

    transfer = propose_transfer(_user(world, "supervisor_a"), case, world.service_points["B-BEM"], "Moved")
    decide_transfer(_user(world, "supervisor_b"), transfer, accept=True)
    db.session.commit()
    db.session.expire_all()
    assert (referral.partner_id, referral.service_point_id) == (world.partners["B"], world.service_points["B-BEM"])
    assert seen_by() == _visible_to(world, case) == {"caseworker_b", "supervisor_b"}

    with pytest.raises(IntegrityError):  # a copy that differs from its case is refused
        db.session.execute(update(Referral).where(Referral.id == referral.id)
                           .values(service_point_id=world.service_points["A-OUJ"]))
        db.session.flush()
    db.session.rollback()


def test_a_declined_transfer_leaves_the_case_where_it_was(app_ctx, world):
    supervisor = _user(world, "supervisor_a")
    case = _new_case(world)
    transfer = propose_transfer(supervisor, case, world.service_points["B-BEM"], "Moved")
    decide_transfer(_user(world, "supervisor_b"), transfer, accept=False, comment="No capacity")
    assert (transfer.status, transfer.decision_comment, case.partner_id, case.service_point_id,
            case.assigned_worker_id) == ("declined", "No capacity", world.partners["A"], world.service_points["A-OUJ"],
                                         world.users["caseworker_a"])
    assert _visible_to(world, case) == {"caseworker_a", "caseworker_restricted", "supervisor_a"}
    assert pending_transfer(case) is None
    again = propose_transfer(supervisor, case, world.service_points["B-BEM"], "Moved, now with a flat")
    assert again.id != transfer.id and pending_transfer(case) == again


def test_acceptance_is_refused_when_the_person_already_has_an_open_case_there(app_ctx, world):
    case = _new_case(world)
    there = open_case(_user(world, "caseworker_b"), case.beneficiary,
                      db.session.get(ServicePoint, world.service_points["B-BEM"]))
    transfer = propose_transfer(_user(world, "supervisor_a"), case, world.service_points["B-BEM"], "Moved")
    with pytest.raises(DomainError) as refusal:
        decide_transfer(_user(world, "supervisor_b"), transfer, accept=True)
    assert there.number in refusal.value.message
    assert (transfer.status, case.partner_id) == ("proposed", world.partners["A"])


def test_a_case_closed_while_its_transfer_waits_cannot_be_accepted(app_ctx, world):
    case = _new_case(world)
    transfer = propose_transfer(_user(world, "supervisor_a"), case, world.service_points["B-BEM"], "Moved")
    request_closure(_user(world, "caseworker_a"), case, "moved")
    decide_closure(_user(world, "supervisor_a"), case, approve=True)
    with pytest.raises(DomainError):
        decide_transfer(_user(world, "supervisor_b"), transfer, accept=True)
    assert (transfer.status, case.status, case.closure_reason, case.partner_id) == (
        "proposed", "closed", "moved", world.partners["A"])
    decide_transfer(_user(world, "supervisor_b"), transfer, accept=False, comment="Closed meanwhile")
    assert transfer.status == "declined"


# --- households --------------------------------------------------------------------------------------------------


def test_households_link_head_leave_and_show_members_within_scope(app_ctx, world):
    worker, supervisor = _user(world, "caseworker_a"), _user(world, "supervisor_a")
    cases = {"father": _new_case(world, given_name="Omar"), "mother": _new_case(world, given_name="Fatima", sex="F"),
             "son": _new_case(world, "caseworker_a2", "A-NAD", given_name="Youssef"),
             "cousin": _new_case(world, "caseworker_b", "B-BEM", given_name="Hamza")}
    people = {name: case.beneficiary for name, case in cases.items()}
    father, mother, son, cousin = (people[name] for name in ("father", "mother", "son", "cousin"))

    def state() -> dict[str, tuple]:
        """name → (household number in order of first member, head?)."""
        numbers = {}
        for person in people.values():
            if person.household_id is not None:
                numbers.setdefault(person.household_id, len(numbers))
        return {name: (numbers.get(person.household_id), person.is_household_head) for name, person in people.items()}

    refused = {
        "the same person": _outcome(lambda: link_household(worker, father, father)),
        "a person of another service point": _outcome(lambda: link_household(worker, father, son)),
        "a person of another partner": _outcome(lambda: link_household(supervisor, father, cousin)),
        "leave without a household": _outcome(lambda: leave_household(worker, father)),
        "head without a household": _outcome(lambda: set_household_head(worker, father)),
    }
    assert refused == dict.fromkeys(refused, REFUSED)
    assert state() == dict.fromkeys(people, (None, False))

    link_household(worker, father, mother)
    assert state() == {"father": (0, True), "mother": (0, False), "son": (None, False), "cousin": (None, False)}
    link_household(supervisor, son, father)  # joins the household the father already has
    assert state() == {"father": (0, True), "mother": (0, False), "son": (0, False), "cousin": (None, False)}

    members = {(key, name): sorted(member.given_name for member in visible_members(_user(world, key), person))
               for key in ("caseworker_a", "caseworker_a2", "supervisor_a", "supervisor_b")
               for name, person in people.items() if name != "cousin"}
    assert members == {
        ("caseworker_a", "father"): ["Fatima"], ("caseworker_a", "mother"): ["Omar"],
        ("caseworker_a", "son"): ["Fatima", "Omar"],  # (caseworker_a cannot open the son's page at all)
        ("caseworker_a2", "father"): ["Youssef"], ("caseworker_a2", "mother"): ["Youssef"],
        ("caseworker_a2", "son"): [],
        ("supervisor_a", "father"): ["Fatima", "Youssef"], ("supervisor_a", "mother"): ["Omar", "Youssef"],
        ("supervisor_a", "son"): ["Fatima", "Omar"],
        ("supervisor_b", "father"): [], ("supervisor_b", "mother"): [], ("supervisor_b", "son"): [],
    }

    aunt, uncle = (_new_case(world, given_name=name).beneficiary for name in ("Nadia", "Rachid"))
    people.update(aunt=aunt, uncle=uncle)
    link_household(worker, aunt, uncle)
    assert _outcome(lambda: link_household(worker, mother, aunt)) == REFUSED  # two different households
    assert (state()["aunt"], state()["uncle"]) == ((1, True), (1, False))

    set_household_head(worker, mother)
    assert [state()[name] for name in ("father", "mother", "son")] == [(0, False), (0, True), (0, False)]
    leave_household(worker, mother)  # the head leaves: someone else heads the two who stay
    after = state()
    assert after["mother"] == (None, False)
    assert after["father"][0] == after["son"][0] == 0 and [after["father"][1], after["son"][1]].count(True) == 1
    leave_household(supervisor, son)  # the father is left alone: the household dissolves
    assert {name: state()[name] for name in ("father", "mother", "son")} == dict.fromkeys(
        ("father", "mother", "son"), (None, False))
    assert visible_members(supervisor, father) == []

    assert find_person_by_case_number(worker, f"  {cases['mother'].number.lower()} ") == mother
    with pytest.raises(DomainError):
        find_person_by_case_number(worker, cases["son"].number)  # not within caseworker_a's scope


# --- the case list: filters and sort orders -----------------------------------------------------------------------


@pytest.fixture
def listed(app_ctx, world):
    """Four A cases with different risk, flags, follow-ups and workers, and one B case; name → case."""
    restricted = _user(world, "caseworker_restricted")
    cases = {
        "high": _new_case(world, "caseworker_restricted", given_name="Amal", flags=["homeless", "gbv_survivor"]),
        "low": _new_case(world, given_name="Badr"),
        "medium": _new_case(world, "caseworker_a2", "A-NAD", given_name="Chama", flags=["homeless"]),
        "none": _new_case(world, given_name="Driss"),
        "b": _new_case(world, "caseworker_b", "B-BEM", given_name="Ezzahra", flags=["homeless"]),
    }
    save_assessment(restricted, cases["high"], needs={}, risk_level="high", flags=["homeless", "gbv_survivor"])
    save_assessment(_user(world, "caseworker_a"), cases["low"], needs={}, risk_level="low", flags=[])
    save_assessment(_user(world, "caseworker_a2"), cases["medium"], needs={}, risk_level="medium", flags=["homeless"])
    earlier = TODAY - timedelta(days=10)
    add_follow_up(_user(world, "caseworker_a"), cases["low"], purpose="Overdue", due_date=TODAY - timedelta(days=1),
                  assigned_to_id=None, today=earlier)
    add_follow_up(_user(world, "caseworker_a"), cases["none"], purpose="Due today", due_date=TODAY,
                  assigned_to_id=None, today=earlier)
    done = add_follow_up(_user(world, "caseworker_a"), cases["none"], purpose="Done late",
                         due_date=TODAY - timedelta(days=5), assigned_to_id=None, today=earlier)
    complete_follow_up(_user(world, "caseworker_a"), done)
    add_follow_up(_user(world, "caseworker_b"), cases["b"], purpose="Overdue", due_date=TODAY - timedelta(days=2),
                  assigned_to_id=None, today=earlier)
    db.session.commit()
    return cases


def _found(world, key: str, cases: dict[str, Case], filters: CaseFilters) -> list[str]:
    page = search_cases(_user(world, key), filters=filters, today=TODAY, audit=False)
    names = {case.id: name for name, case in cases.items()}
    assert page.total == len(page.items)
    return sorted(names[case.id] for case in page.items)


def test_case_list_filters(app_ctx, world, listed):
    filters = {
        "nothing": CaseFilters(),
        "risk high": CaseFilters(risk="high"), "risk medium": CaseFilters(risk="medium"),
        "risk low": CaseFilters(risk="low"), "unknown risk": CaseFilters(risk="extreme"),
        "flag homeless": CaseFilters(flag="homeless"), "restricted flag": CaseFilters(flag="gbv_survivor"),
        "unknown flag": CaseFilters(flag="nonsense"),
        "overdue": CaseFilters(overdue=True),
        "worker caseworker_a": CaseFilters(worker_id=world.users["caseworker_a"]),
        "worker caseworker_a2": CaseFilters(worker_id=world.users["caseworker_a2"]),
        "worker caseworker_b": CaseFilters(worker_id=world.users["caseworker_b"]),
        "service point A-NAD": CaseFilters(service_point_id=world.service_points["A-NAD"]),
        "status registered": CaseFilters(status="registered"),
        "overdue and low risk": CaseFilters(overdue=True, risk="low"),
        "homeless and high risk": CaseFilters(flag="homeless", risk="high"),
    }
    seen = {(key, name): _found(world, key, listed, f)
            for key in ("supervisor_a", "caseworker_restricted", "caseworker_a", "supervisor_b")
            for name, f in filters.items()}
    every_a = ["high", "low", "medium", "none"]
    oujda = ["high", "low", "none"]
    expected_supervisor_a = {
        "nothing": every_a, "risk high": ["high"], "risk medium": ["medium"], "risk low": ["low"],
        "unknown risk": every_a, "flag homeless": ["high", "medium"], "restricted flag": ["high"],
        "unknown flag": every_a, "overdue": ["low"], "worker caseworker_a": ["low", "none"],
        "worker caseworker_a2": ["medium"], "worker caseworker_b": [], "service point A-NAD": ["medium"],
        "status registered": every_a, "overdue and low risk": ["low"], "homeless and high risk": ["high"],
    }
    expected_restricted = {name: [case for case in found if case in oujda]
                           for name, found in expected_supervisor_a.items()}
    # Without restricted access a restricted flag filters nothing: the list must not reveal who has the flag.
    expected_caseworker_a = {**expected_restricted, "restricted flag": oujda}
    expected_b = {name: [] for name in filters} | {
        "nothing": ["b"], "unknown risk": ["b"], "flag homeless": ["b"], "restricted flag": ["b"],
        "unknown flag": ["b"], "overdue": ["b"], "worker caseworker_b": ["b"], "status registered": ["b"]}
    assert seen == {
        **{("supervisor_a", name): found for name, found in expected_supervisor_a.items()},
        **{("caseworker_restricted", name): found for name, found in expected_restricted.items()},
        **{("caseworker_a", name): found for name, found in expected_caseworker_a.items()},
        **{("supervisor_b", name): found for name, found in expected_b.items()},
    }
    assert EXPECTED_SCOPE["caseworker_a"] == {"A-OUJ"}  # the scope these expectations rely on


def test_case_list_sort_orders(app_ctx, world, listed):
    def at(day: int) -> datetime:
        return datetime(2026, 1, day, 9, 30, tzinfo=timezone.utc)

    # opened: none < high < medium < low;  updated: medium < none < low < high
    stamps = {"high": (at(2), at(20)), "low": (at(4), at(15)), "medium": (at(3), at(5)), "none": (at(1), at(10))}
    for name, (opened, updated) in stamps.items():
        db.session.execute(update(Case).where(Case.id == listed[name].id).values(opened_at=opened, updated_at=updated))
    db.session.commit()
    by_number = [name for name, _ in sorted(((name, case.number) for name, case in listed.items() if name != "b"),
                                            key=lambda pair: pair[1])]

    names = {case.id: name for name, case in listed.items()}
    orders = {sort: [names[case.id] for case in search_cases(_user(world, "supervisor_a"), sort=sort,
                                                              audit=False).items]
              for sort in (*SORTS, "unknown")}
    assert orders == {
        "opened_desc": ["low", "medium", "high", "none"], "opened_asc": ["none", "high", "medium", "low"],
        "updated_desc": ["high", "low", "none", "medium"], "number": by_number,
        "unknown": ["low", "medium", "high", "none"],
    }
    assert by_number[0] == "medium"  # NAD-… sorts before OUJ-…
    paged = [names[case.id] for page in (1, 2) for case in search_cases(
        _user(world, "supervisor_a"), sort="opened_asc", page=page, per_page=3, audit=False).items]
    assert paged == orders["opened_asc"]

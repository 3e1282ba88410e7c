"""Case stages without HTTP: the transition table over every pair of stages, closure requests and decisions,
reopening, and who may do which of these."""
import pytest

from caseapp.access.policy import can
from caseapp.auth.models import User
from caseapp.beneficiaries.services import register_beneficiary
from caseapp.cases.history import case_history, decoded_changes
from caseapp.cases.models import CASE_STATUSES, OPEN_STATUSES, Case
from caseapp.cases.services import open_case
from caseapp.cases.workflow import (
    STEP_MOVES, TRANSITIONS, closure_reasons, decide_closure, move_stage, next_steps, reopen, request_closure,
)
from caseapp.errors import DomainError
from caseapp.extensions import db
from caseapp.places.models import ServicePoint
from tests.conftest import USERS, valid_registration

REFUSED = "refused"


def _user(world, key: str) -> User:
    return db.session.get(User, world.users[key])


def _new_case(world, user_key: str = "caseworker_a", point: str = "A-OUJ") -> Case:
    _, case = register_beneficiary(_user(world, user_key), valid_registration(world.service_points[point]))
    db.session.commit()
    return case


def _set_stage(case: Case, status: str) -> None:
    """Put the case at `status` with no closure pending (test setup, bypassing the services)."""
    case.status, case.closure_reason, case.closure_requested_at, case.closure_requested_by_id = status, None, None, None
    case.closed_at = None
    db.session.flush()


def _close(world, case: Case, worker: str = "caseworker_a") -> None:
    request_closure(_user(world, worker), case, "goals_met")
    decide_closure(_user(world, "supervisor_a"), case, approve=True)


def _outcome(action) -> str:
    try:
        action()
    except DomainError:
        return REFUSED
    return "done"


# --- the transition table ----------------------------------------------------------------------------------------


def test_the_table_names_every_stage_and_only_known_stages():
    assert set(TRANSITIONS) == set(CASE_STATUSES)
    assert all(set(targets) <= set(CASE_STATUSES) for targets in TRANSITIONS.values())
    assert not any("registered" in targets for targets in TRANSITIONS.values()), "nothing goes back to registered"
    assert TRANSITIONS["closed"] == ("reopened",)
    assert all("closed" in TRANSITIONS[status] for status in OPEN_STATUSES)


def test_every_pair_of_stages_moves_exactly_as_the_table_says(app_ctx, world):
    """Each (from, to) pair, through the service that reaches `to`: step moves, closure approval, reopening."""
    worker, supervisor = _user(world, "caseworker_a"), _user(world, "supervisor_a")
    case = _new_case(world)

    def attempt(target: str) -> None:
        if target == "closed":
            request_closure(worker, case, "goals_met")
            decide_closure(supervisor, case, approve=True)
        elif target == "reopened":
            reopen(supervisor, case, "New facts")
        else:  # the explicit steps; "registered" has no way in at all
            move_stage(worker, case, target)

    reached, expected = {}, {}
    for source in CASE_STATUSES:
        for target in CASE_STATUSES:
            _set_stage(case, source)
            try:
                attempt(target)
            except DomainError:
                reached[source, target] = (REFUSED, case.status)
            else:
                reached[source, target] = case.status
            expected[source, target] = target if target in TRANSITIONS[source] else (REFUSED, source)
    assert reached == expected


def test_closing_and_reopening_are_never_direct_moves(app_ctx, world):
    supervisor = _user(world, "supervisor_a")
    case = _new_case(world)
    refused = {}
    for source in CASE_STATUSES:
        for target in ("closed", "reopened", "registered", "unknown"):
            _set_stage(case, source)
            refused[source, target] = (_outcome(lambda: move_stage(supervisor, case, target)), case.status)
    assert refused == {pair: (REFUSED, pair[0]) for pair in refused}
    steps = {}
    for status in CASE_STATUSES:
        _set_stage(case, status)
        steps[status] = next_steps(case)
    assert steps == {status: [target for target in TRANSITIONS[status] if target in STEP_MOVES]
                     for status in CASE_STATUSES}


def test_stage_moves_are_recorded_old_to_new_with_the_actor(app_ctx, world):
    worker = _user(world, "caseworker_a")
    case = _new_case(world)
    for target in ("assessment", "plan", "active"):
        move_stage(worker, case, target)
    rows = [(entry.action, decoded_changes(entry), entry.actor_id) for entry in case_history(worker, case)]
    assert rows == [
        ("stage", {"status": ["plan", "active"]}, worker.id),
        ("stage", {"status": ["assessment", "plan"]}, worker.id),
        ("stage", {"status": ["registered", "assessment"]}, worker.id),
    ]


# --- closure -----------------------------------------------------------------------------------------------------


def test_closure_needs_a_reason_from_the_reference_list(app_ctx, world):
    worker, supervisor = _user(world, "caseworker_a"), _user(world, "supervisor_a")
    case = _new_case(world)
    reasons = ["", " ", "bogus", "GOALS_MET", "goals_met ", *closure_reasons()]
    outcome = {}
    for reason in reasons:
        try:
            request_closure(worker, case, reason)
        except DomainError as refusal:
            outcome[reason] = (REFUSED, refusal.field, case.closure_reason, case.awaiting_closure)
        else:
            outcome[reason] = (case.closure_reason, case.closure_requested_by_id, case.awaiting_closure)
            decide_closure(supervisor, case, approve=False)  # back to open, ready for the next reason
    assert outcome == {
        **{bad: (REFUSED, "reason", None, False) for bad in ("", " ", "bogus", "GOALS_MET", "goals_met ")},
        **{code: (code, worker.id, True) for code in closure_reasons()},
    }
    assert len(closure_reasons()) >= 5 and case.status == "registered"


def test_while_closure_awaits_nothing_moves_and_a_rejection_reopens_the_way(app_ctx, world):
    worker, supervisor = _user(world, "caseworker_a"), _user(world, "supervisor_a")
    case = _new_case(world)
    move_stage(worker, case, "assessment")
    assert _outcome(lambda: decide_closure(supervisor, case, approve=True)) == REFUSED  # nothing requested yet
    request_closure(worker, case, "withdrew")

    attempts = {target: _outcome(lambda: move_stage(worker, case, target)) for target in STEP_MOVES}
    attempts["request again"] = _outcome(lambda: request_closure(worker, case, "moved"))
    attempts["reopen"] = _outcome(lambda: reopen(supervisor, case, "Why not"))
    assert attempts == {"assessment": REFUSED, "plan": REFUSED, "active": REFUSED, "request again": REFUSED,
                        "reopen": REFUSED}
    assert (case.status, case.closure_reason) == ("assessment", "withdrew")

    decide_closure(supervisor, case, approve=False)
    assert (case.status, case.closure_reason, case.closure_requested_at, case.closure_requested_by_id,
            case.awaiting_closure) == ("assessment", None, None, None, False)
    move_stage(worker, case, "plan")
    assert case.status == "plan"

    request_closure(worker, case, "goals_met")
    decide_closure(supervisor, case, approve=True)
    assert (case.status, case.closure_reason, case.closed_at is not None, case.awaiting_closure) == (
        "closed", "goals_met", True, False)
    assert _outcome(lambda: request_closure(worker, case, "goals_met")) == REFUSED  # a closed case
    assert _outcome(lambda: decide_closure(supervisor, case, approve=True)) == REFUSED


# --- who may do what ---------------------------------------------------------------------------------------------

CASE_ACTIONS = ("case.view", "case.work", "case.assign", "case.close.approve", "case.reopen",
                "case.transfer.propose", "case.history")
SUPERVISION = {"case.assign", "case.close.approve", "case.reopen", "case.transfer.propose", "case.history"}


def test_who_may_work_close_and_reopen_a_case(app_ctx, world):
    cases = {"A-OUJ": _new_case(world), "A-NAD": _new_case(world, "caseworker_a2", "A-NAD")}
    allowed = {(key, point): {action for action in CASE_ACTIONS if can(_user(world, key), action, case)}
               for key in USERS for point, case in cases.items()}
    work = {"case.view", "case.work"}
    expected = {(key, point): set() for key in USERS for point in cases}
    expected.update({("caseworker_a", "A-OUJ"): work, ("caseworker_restricted", "A-OUJ"): work,
                     ("caseworker_a2", "A-NAD"): work,
                     ("supervisor_a", "A-OUJ"): work | SUPERVISION, ("supervisor_a", "A-NAD"): work | SUPERVISION})
    assert allowed == expected


@pytest.mark.parametrize("point, worker", [("A-OUJ", "caseworker_a"), ("A-NAD", "caseworker_a2")])
def test_only_a_supervisor_of_the_cases_organisation_decides_closure_and_reopens(app_ctx, world, point, worker):
    case = _new_case(world, worker, point)
    request_closure(_user(world, worker), case, "goals_met")
    others = [key for key in USERS if key != "supervisor_a"]

    decided = {key: _outcome(lambda: decide_closure(_user(world, key), case, approve=True)) for key in others}
    assert decided == dict.fromkeys(others, REFUSED)
    assert case.status != "closed" and case.awaiting_closure
    decide_closure(_user(world, "supervisor_a"), case, approve=True)
    assert case.status == "closed"

    reopened = {key: _outcome(lambda: reopen(_user(world, key), case, "New facts")) for key in others}
    assert reopened == dict.fromkeys(others, REFUSED)
    assert case.status == "closed"
    reopen(_user(world, "supervisor_a"), case, "New facts")
    assert case.status == "reopened"


# --- reopening ---------------------------------------------------------------------------------------------------


def test_reopening_needs_a_reason_and_clears_the_closure(app_ctx, world):
    supervisor = _user(world, "supervisor_a")
    case = _new_case(world)
    _close(world, case)
    refusals = {}
    for reason in ("", "   ", "\n"):
        try:
            reopen(supervisor, case, reason)
        except DomainError as refusal:
            refusals[reason] = (refusal.field, case.status)
    assert refusals == {reason: ("reason", "closed") for reason in ("", "   ", "\n")}

    reopen(supervisor, case, "  The person came back  ")
    assert (case.status, case.reopen_reason, case.closed_at, case.closure_reason, case.closure_requested_at,
            case.closure_requested_by_id) == ("reopened", "The person came back", None, None, None, None)
    assert next_steps(case) == ["assessment", "plan", "active"]


def test_reopening_is_refused_while_the_person_has_another_open_case_with_that_partner(app_ctx, world):
    supervisor = _user(world, "supervisor_a")
    case = _new_case(world)
    person = case.beneficiary
    _close(world, case)
    point = {code: db.session.get(ServicePoint, world.service_points[code]) for code in ("B-BEM", "A-NAD")}
    elsewhere = open_case(_user(world, "caseworker_b"), person, point["B-BEM"])
    sibling = open_case(_user(world, "caseworker_a2"), person, point["A-NAD"])

    with pytest.raises(DomainError) as refusal:
        reopen(supervisor, case, "New facts")
    assert sibling.number in refusal.value.message
    assert case.status == "closed"

    _close(world, sibling, "caseworker_a2")
    reopen(supervisor, case, "New facts")  # an open case with another organisation does not block it
    assert (case.status, sibling.status, elsewhere.status) == ("reopened", "closed", "registered")

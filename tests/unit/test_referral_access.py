"""Who may do what to a referral, without HTTP: every action by every role, the receiving partner's view and inbox
while the referral is open to it, no access to the case, and the referring side answering for a partner that has no
account in the app."""
import pytest
from sqlalchemy import func, select

from caseapp.access.policy import can, scope
from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases.models import Case
from caseapp.errors import DomainError, NotAllowed
from caseapp.extensions import db
from caseapp.referrals.models import REFERRAL_STATUSES, Referral, ReferralEvent
from caseapp.referrals.queries import case_referrals, inbox, referring_list, review_queue
from caseapp.referrals.services import TRANSITIONS, transition
from tests.unit.test_referrals import (
    ACTION_ARGS, REFUSED, ReferralWorld, add_user, build_referral_world, drive, make_referral, set_status,
)

# The roles of the brief: the case's caseworker, a caseworker of another service point, another partner's caseworker,
# the referring partner's supervisor, another partner's supervisor, the receiving partner's receiver, another
# partner's receiver, and the roles that never work on referrals.
ACTORS = ("caseworker_a", "caseworker_a2", "caseworker_b", "supervisor_a", "supervisor_b", "receiver", "receiver_d",
          "me_officer", "dpo", "admin")
REFERRING_SIDE = {"caseworker_a", "supervisor_a"}  # the case's scope: its service point's caseworker, its supervisor
OPEN = ("approved", "accepted", "in_progress")


@pytest.fixture
def rw(app_ctx, world) -> ReferralWorld:
    return build_referral_world(world)


def _attempts(rw, referral) -> dict[tuple[str, str, str], bool]:
    """Every action from every status it leaves from, by every actor; the referral is put back after each try."""
    results = {}
    for action, (sources, target) in TRANSITIONS.items():
        for source in sources:
            for key in ACTORS:
                set_status(referral, source)
                events = db.session.scalar(select(func.count(ReferralEvent.id)))
                try:
                    transition(rw.user(key), referral, action, **ACTION_ARGS.get(action, {}))
                    results[action, source, key] = referral.status == target
                except DomainError:
                    assert (referral.status, db.session.scalar(select(func.count(ReferralEvent.id)))) == (
                        source, events), f"{key} refused {action} from {source} yet changed something"
                    results[action, source, key] = False
    return results


def _expected(who: dict[str, set[str]]) -> dict[tuple[str, str, str], bool]:
    return {(action, source, key): key in who[action]
            for action, (sources, _) in TRANSITIONS.items() for source in sources for key in ACTORS}


def test_every_action_by_every_role_to_a_partner_with_a_receiver(rw):
    referral = make_referral(rw, partner="C")
    assert _attempts(rw, referral) == _expected({
        "submit": REFERRING_SIDE, "cancel": REFERRING_SIDE,
        "approve": {"supervisor_a"}, "return": {"supervisor_a"},
        "accept": {"receiver"}, "decline": {"receiver"}, "start": {"receiver"}, "complete": {"receiver"},
    })


def test_every_action_by_every_role_to_a_partner_without_accounts(rw):
    """B has no referral_receiver: the referring side records B's answer on paper; nobody else may."""
    referral = make_referral(rw, partner="B")
    assert _attempts(rw, referral) == _expected({
        "submit": REFERRING_SIDE, "cancel": REFERRING_SIDE,
        "approve": {"supervisor_a"}, "return": {"supervisor_a"},
        "accept": REFERRING_SIDE, "decline": REFERRING_SIDE, "start": REFERRING_SIDE, "complete": REFERRING_SIDE,
    })


def test_creating_is_for_the_referring_side_only(rw):
    results = {}
    for key in ACTORS + ("caseworker_restricted",):
        try:
            make_referral(rw, key)
            results[key] = "created"
        except NotAllowed:
            results[key] = REFUSED
    assert results == {key: "created" if key in REFERRING_SIDE | {"caseworker_restricted"} else REFUSED
                       for key in results}


def test_who_may_view_a_referral_in_each_status(rw):
    referral = make_referral(rw, partner="C")
    seen = {}
    for status in REFERRAL_STATUSES:
        set_status(referral, status)
        seen[status] = {key for key in ACTORS if can(rw.user(key), "referral.view", referral)}
    assert seen == {status: REFERRING_SIDE | ({"receiver"} if status in OPEN else set())
                    for status in REFERRAL_STATUSES}


def test_the_lists_hold_exactly_the_referrals_each_user_may_see(rw):
    """One referral to C in each status, and B's referrals (approved, accepted): the receiver's inbox holds C's open
    ones only; the referring side lists them all; everyone else lists nothing."""
    to_c = {}
    for status in REFERRAL_STATUSES:
        to_c[status] = make_referral(rw, partner="C")
        set_status(to_c[status], status)
    to_b = [make_referral(rw, partner="B") for _ in range(2)]
    set_status(to_b[0], "approved")
    set_status(to_b[1], "accepted")
    everything = {referral.id for referral in [*to_c.values(), *to_b]}
    open_to_c = {to_c[status].id for status in OPEN}
    lists = {key: ({r.id for r in inbox(rw.user(key)).items}, {r.id for r in referring_list(rw.user(key)).items},
                   {r.id for r in case_referrals(rw.user(key), rw.case)})
             for key in ACTORS}
    assert lists == {key: (everything, everything, everything) if key in REFERRING_SIDE
                     else (open_to_c, open_to_c, open_to_c) if key == "receiver" else (set(), set(), set())
                     for key in ACTORS}
    assert {key: [r.id for r in review_queue(rw.user(key)).items] for key in ("supervisor_a", "supervisor_b")} == {
        "supervisor_a": [to_c["submitted"].id], "supervisor_b": []}
    assert [r.id for r in inbox(rw.user("receiver")).items] == sorted(open_to_c)


def test_the_receiver_never_reaches_the_case_or_the_person(rw):
    referral = drive(rw, make_referral(rw, partner="C"), "submit", "approve", "accept")
    receiver, case = rw.user("receiver"), rw.case
    person = db.session.get(Beneficiary, case.beneficiary_id)
    assert can(receiver, "referral.view", referral)
    assert {action: can(receiver, action, target) for action, target in (
        ("case.view", case), ("case.list", None), ("case.work", case), ("beneficiary.view", person),
        ("flag.view", None), ("referral.create", case), ("referral.cancel", referral),
        ("referral.submit", referral), ("referral.approve", referral), ("referral.record_answer", referral),
    )} == {action: False for action in (
        "case.view", "case.list", "case.work", "beneficiary.view", "flag.view", "referral.create", "referral.cancel",
        "referral.submit", "referral.approve", "referral.record_answer")}
    assert db.session.scalars(scope(receiver, select(Case), Case)).all() == []
    assert db.session.scalars(scope(receiver, select(Beneficiary), Beneficiary)).all() == []


def test_the_receiver_loses_access_once_the_referral_is_closed(rw):
    receiver = rw.user("receiver")
    paths = {"completed": ("submit", "approve", "accept", "start", "complete"),
             "declined": ("submit", "approve", "decline"),
             "cancelled while accepted": ("submit", "approve", "accept", "cancel"),
             "cancelled while sent": ("submit", "approve", "cancel")}
    access = {}
    for label, path in paths.items():
        referral = make_referral(rw, partner="C")
        steps = []
        for action in path:
            drive(rw, referral, action)
            steps.append(can(receiver, "referral.view", referral))
        access[label] = steps
    assert access == {
        "completed": [False, True, True, True, False],
        "declined": [False, True, False],
        "cancelled while accepted": [False, True, True, False],
        "cancelled while sent": [False, True, False],
    }
    assert inbox(receiver).items == []
    closed = db.session.scalars(select(Referral)).all()
    assert [attempt_as(rw, "receiver", referral, "start") for referral in closed] == [REFUSED] * len(closed)


def attempt_as(rw, key, referral, action) -> str:
    try:
        transition(rw.user(key), referral, action, **ACTION_ARGS.get(action, {}))
    except DomainError:
        return REFUSED
    return referral.status


def test_the_referring_side_records_the_answer_only_while_the_partner_has_no_active_receiver(rw):
    referral = drive(rw, make_referral(rw, partner="B"), "submit", "approve")
    assert [attempt_as(rw, "caseworker_a", referral, action) for action in ("accept", "start")] == [
        "accepted", "in_progress"]
    assert [(event.action, event.actor_id) for event in referral.events[-2:]] == [
        ("accept", rw.user("caseworker_a").id), ("start", rw.user("caseworker_a").id)]

    left = add_user(rw, "receiver_b_left", "referral_receiver", "B", active=False)  # an inactive account: no one
    assert can(rw.user("caseworker_a"), "referral.complete", referral)

    left.active = True  # B now answers in the app itself
    db.session.flush()
    results = {key: attempt_as(rw, key, referral, "complete")
               for key in ("caseworker_a", "supervisor_a", "caseworker_b", "receiver")}
    assert results == {"caseworker_a": REFUSED, "supervisor_a": REFUSED, "caseworker_b": REFUSED,
                       "receiver": REFUSED}
    assert attempt_as(rw, "receiver_b_left", referral, "complete") == "completed"
    assert (referral.outcome, referral.events[-1].actor_id) == ("service_delivered", left.id)


def test_a_deactivated_user_may_do_nothing(rw):
    referral = drive(rw, make_referral(rw, partner="C"), "submit", "approve")
    for key in ("receiver", "caseworker_a"):
        rw.user(key).active = False
    db.session.flush()
    assert {key: (can(rw.user(key), "referral.view", referral), attempt_as(rw, key, referral, action))
            for key, action in (("receiver", "accept"), ("caseworker_a", "cancel"))} == {
        "receiver": (False, REFUSED), "caseworker_a": (False, REFUSED)}
    # C's only receiver is inactive: C now counts as a partner without accounts.
    assert attempt_as(rw, "supervisor_a", referral, "accept") == "accepted"

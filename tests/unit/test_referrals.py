"""Referrals without HTTP: the transition table over every status and action, sharing consent, timeline and audit
events, deadlines and overdue answers across Morocco's 2026 clock changes, notifications, e-mail without SMTP,
double posts and the rules of creation.

Who may do what (roles, the receiving partner's inbox, partners without accounts) is in test_referral_access.py,
which reuses the fixture and helpers of this file.
"""
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from caseapp.audit.models import AuditEvent
from caseapp.auth.models import User
from caseapp.auth.services import create_user
from caseapp.beneficiaries.models import ConsentRecord
from caseapp.beneficiaries.services import register_beneficiary
from caseapp.cases.models import Case
from caseapp.errors import DomainError, NotAllowed, ValidationFailed
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.partners.models import Partner
from caseapp.referrals import notifications
from caseapp.referrals.models import (
    OUTCOMES, PRIORITIES, REFERRAL_STATUSES, DirectoryEntry, Notification, Referral, ReferralEvent,
)
from caseapp.referrals.queries import overdue_count, referral_summary
from caseapp.referrals.services import (
    OPEN_FOR_RECEIVER, TRANSITIONS, create_referral, deadline_hours, has_sharing_consent, is_overdue,
    partners_offering, record_consent, transition,
)
from tests.conftest import PASSWORD, World, valid_registration

SERVICE = "employment.anapec"
UTC = timezone.utc
CASABLANCA = ZoneInfo("Africa/Casablanca")
REFUSED = "refused"

# The domain's table, written out independently of the code: action → (statuses it leaves from, status it reaches).
EXPECTED_TRANSITIONS = {
    "submit": ({"draft", "returned"}, "submitted"),
    "approve": ({"submitted"}, "approved"),
    "return": ({"submitted"}, "returned"),
    "accept": ({"approved"}, "accepted"),
    "decline": ({"approved"}, "declined"),
    "start": ({"accepted"}, "in_progress"),
    "complete": ({"in_progress"}, "completed"),
    "cancel": ({"draft", "submitted", "returned", "approved", "accepted", "in_progress"}, "cancelled"),
}
# What each action needs besides the actor.
ACTION_ARGS = {"return": {"comment": "Missing documents"}, "decline": {"comment": "No places left"},
               "complete": {"outcome": "service_delivered"}}


# --- fixture and helpers (also used by test_referral_access.py) --------------------------------------------------


@dataclass
class ReferralWorld:
    """The conftest world plus partner D (with its own receiver), directory entries and one open case at A-OUJ."""

    world: World
    case_id: int

    def user(self, key: str) -> User:
        return db.session.get(User, self.world.users[key])

    def partner(self, code: str) -> int:
        return self.world.partners[code]

    @property
    def case(self) -> Case:
        return db.session.get(Case, self.case_id)

    def username(self, user_id: int | None) -> str | None:
        return next((key for key, value in self.world.users.items() if value == user_id), None)


def add_user(rw: ReferralWorld, key: str, role: str, partner: str, active: bool = True) -> User:
    user = create_user(None, username=key.replace("_", "."), full_name=key.title(), password=PASSWORD, role=role,
                       partner=db.session.get(Partner, rw.partner(partner)), service_points=[])
    user.active = active
    db.session.flush()
    rw.world.users[key] = user.id
    return user


def build_referral_world(world: World) -> ReferralWorld:
    """C offers the service in OUJ (and has a receiver), B offers it too (no account), D has a receiver but no offer."""
    partner_d = Partner(code="D", name="Partner D", kind="association")
    db.session.add(partner_d)
    db.session.flush()
    world.partners["D"] = partner_d.id
    result = ReferralWorld(world, 0)
    add_user(result, "receiver_d", "referral_receiver", "D")
    db.session.add_all([DirectoryEntry(partner_id=world.partners[code], service_code=SERVICE, commune_code="OUJ")
                        for code in ("C", "B")])
    result.case_id = new_case(result).id
    db.session.commit()
    return result


@pytest.fixture
def rw(app_ctx, world) -> ReferralWorld:
    return build_referral_world(world)


def new_case(rw: ReferralWorld, actor: str = "caseworker_a", point: str = "A-OUJ", **overrides) -> Case:
    """Register a person (commune OUJ unless overridden) and return their open case, assigned to `actor`."""
    _, case = register_beneficiary(rw.user(actor), valid_registration(rw.world.service_points[point], **overrides))
    db.session.flush()
    return case


def make_referral(rw: ReferralWorld, actor: str = "caseworker_a", partner: str = "C", *, case: Case | None = None,
                  **overrides) -> Referral:
    """A draft referral with a signed sharing consent; override any argument of create_referral."""
    values = dict(service_code=SERVICE, receiving_partner_id=rw.partner(partner), priority="normal",
                  reason="Looking for work", consent_method="signed_form", consent_witness="",
                  shared_fields=["nationality"])
    values.update(overrides)
    return create_referral(rw.user(actor), case or rw.case, **values)


def default_actor(rw: ReferralWorld, referral: Referral, action: str) -> User:
    """Someone the domain lets do `action`: the referrer, its supervisor, or the receiving side."""
    if action in ("approve", "return"):
        return rw.user("supervisor_a")
    if action in ("accept", "decline", "start", "complete") and referral.receiving_partner_id == rw.partner("C"):
        return rw.user("receiver")
    return rw.user("caseworker_a")


def drive(rw: ReferralWorld, referral: Referral, *actions: str, now: datetime | None = None) -> Referral:
    """Move the referral through `actions`, each by its default actor."""
    for action in actions:
        transition(default_actor(rw, referral, action), referral, action, now=now, **ACTION_ARGS.get(action, {}))
    return referral


def set_status(referral: Referral, status: str) -> None:
    """Put the referral at `status` (test setup, bypassing the services)."""
    referral.status = status
    db.session.flush()


def attempt(action) -> str:
    try:
        action()
    except DomainError:
        return REFUSED
    return "done"


def instant(moment: datetime | None) -> datetime | None:
    """The absolute instant, as aware UTC (SQLite hands back naive UTC)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def reload(referral: Referral) -> Referral:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Referral, referral.id)


def event_count(referral: Referral) -> int:
    return db.session.scalar(select(func.count(ReferralEvent.id)).where(ReferralEvent.referral_id == referral.id))


# --- the transition table ----------------------------------------------------------------------------------------


def test_the_table_is_the_domains_table():
    assert {action: (set(sources), target) for action, (sources, target) in TRANSITIONS.items()} == \
        EXPECTED_TRANSITIONS
    assert OPEN_FOR_RECEIVER == ("approved", "accepted", "in_progress")
    assert all(set(sources) | {target} <= set(REFERRAL_STATUSES) for sources, target in TRANSITIONS.values())


def test_every_action_from_every_status_moves_exactly_as_the_table_says(rw):
    referral = make_referral(rw)
    reached, expected, unchanged = {}, {}, {}
    for status in REFERRAL_STATUSES:
        for action, (sources, target) in EXPECTED_TRANSITIONS.items():
            set_status(referral, status)
            events = event_count(referral)
            reached[status, action] = attempt(lambda: drive(rw, referral, action)) == "done" and referral.status
            expected[status, action] = status in sources and target
            if not reached[status, action]:
                unchanged[status, action] = (referral.status, event_count(referral)) == (status, events)
    assert reached == expected
    assert unchanged == {key: True for key in unchanged}
    assert len(unchanged) == len(REFERRAL_STATUSES) * len(TRANSITIONS) - 14


def test_an_unknown_action_is_refused(rw):
    referral = make_referral(rw)
    with pytest.raises(DomainError):
        transition(rw.user("caseworker_a"), referral, "reopen")
    assert referral.status == "draft"


def test_return_and_decline_need_a_comment_and_complete_needs_a_known_outcome(rw):
    referral = make_referral(rw)
    outcomes = {}
    for action, status, arguments in (
            ("return", "submitted", {}), ("return", "submitted", {"comment": "   "}),
            ("return", "submitted", {"comment": "Missing documents"}),
            ("decline", "approved", {}), ("decline", "approved", {"comment": "\n"}),
            ("decline", "approved", {"comment": "No places"}),
            ("complete", "in_progress", {}), ("complete", "in_progress", {"outcome": "done"}),
            *(("complete", "in_progress", {"outcome": outcome}) for outcome in OUTCOMES)):
        set_status(referral, status)
        try:
            transition(default_actor(rw, referral, action), referral, action, **arguments)
            outcomes[action, tuple(arguments.values())] = referral.status
        except DomainError as error:
            outcomes[action, tuple(arguments.values())] = (error.field, referral.status)
    assert outcomes == {
        ("return", ()): ("comment", "submitted"), ("return", ("   ",)): ("comment", "submitted"),
        ("return", ("Missing documents",)): "returned",
        ("decline", ()): ("comment", "approved"), ("decline", ("\n",)): ("comment", "approved"),
        ("decline", ("No places",)): "declined",
        ("complete", ()): ("outcome", "in_progress"), ("complete", ("done",)): ("outcome", "in_progress"),
        **{("complete", (outcome,)): "completed" for outcome in OUTCOMES},
    }
    assert referral.outcome == OUTCOMES[-1]


def test_the_referrer_may_cancel_until_completion(rw):
    referral = make_referral(rw)
    results = {}
    for status in REFERRAL_STATUSES:
        set_status(referral, status)
        results[status] = attempt(lambda: transition(rw.user("caseworker_a"), referral, "cancel"))
    assert results == {status: "done" if status in ("draft", "submitted", "returned", "approved", "accepted",
                                                    "in_progress") else REFUSED for status in REFERRAL_STATUSES}


# --- sharing consent ---------------------------------------------------------------------------------------------


def test_submit_needs_an_active_consent_to_share_with_the_receiving_partner(rw):
    referral = make_referral(rw, consent_method="")
    assert referral.consent_id is None and not has_sharing_consent(referral)
    with pytest.raises(DomainError) as refused:
        transition(rw.user("caseworker_a"), referral, "submit")
    assert (refused.value.field, referral.status, event_count(referral)) == ("consent_method", "draft", 0)

    record_consent(rw.user("caseworker_a"), referral, "oral_witness", "Fatima Zahra")
    consent = db.session.get(ConsentRecord, referral.consent_id)
    assert (consent.kind, consent.method, consent.partner_id, consent.witness_name, consent.beneficiary_id,
            consent.recorded_by_id) == ("sharing", "oral_witness", rw.partner("C"), "Fatima Zahra",
                                        rw.case.beneficiary_id, rw.user("caseworker_a").id)
    assert has_sharing_consent(referral)
    drive(rw, referral, "submit")
    assert referral.status == "submitted"

    drive(rw, referral, "return")  # back for changes: the consent is withdrawn meanwhile
    consent.withdrawn_at = utcnow()
    db.session.flush()
    assert not has_sharing_consent(referral)
    with pytest.raises(DomainError):
        drive(rw, referral, "submit")
    assert referral.status == "returned"


def test_a_consent_for_another_partner_does_not_count(rw):
    referral = make_referral(rw, consent_method="")
    other = ConsentRecord(beneficiary_id=rw.case.beneficiary_id, kind="sharing", method="signed_form",
                          partner_id=rw.partner("B"), recorded_by_id=rw.user("caseworker_a").id)
    processing = ConsentRecord(beneficiary_id=rw.case.beneficiary_id, kind="processing", method="signed_form",
                               partner_id=rw.partner("C"), recorded_by_id=rw.user("caseworker_a").id)
    db.session.add_all([other, processing])
    db.session.flush()
    results = {}
    for consent in (other, processing):
        referral.consent_id = consent.id
        results[consent.kind, consent.partner_id] = attempt(lambda: drive(rw, referral, "submit"))
    assert results == {("sharing", rw.partner("B")): REFUSED, ("processing", rw.partner("C")): REFUSED}
    assert referral.status == "draft"


def test_record_consent_checks_method_witness_and_actor(rw):
    referral = make_referral(rw, consent_method="")
    refusals = {}
    for method, witness in (("", ""), ("email", ""), ("oral_witness", ""), ("oral_witness", "  ")):
        try:
            record_consent(rw.user("caseworker_a"), referral, method, witness)
        except DomainError as error:
            refusals[method, witness] = error.field
    assert refusals == {("", ""): "consent_method", ("email", ""): "consent_method",
                        ("oral_witness", ""): "consent_witness", ("oral_witness", "  "): "consent_witness"}
    for outsider in ("caseworker_a2", "caseworker_b", "receiver", "dpo"):
        with pytest.raises(NotAllowed):
            record_consent(rw.user(outsider), referral, "signed_form")
    assert referral.consent_id is None
    assert db.session.scalar(select(func.count(ConsentRecord.id)).where(ConsentRecord.kind == "sharing")) == 0


# --- timeline and audit ------------------------------------------------------------------------------------------


def test_each_transition_writes_a_timeline_event_and_an_audit_event(rw):
    referral = make_referral(rw)
    start = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    steps = [("submit", "caseworker_a", ""), ("return", "supervisor_a", "Say which office"),
             ("submit", "caseworker_a", "  Office of Oujda  "), ("approve", "supervisor_a", ""),
             ("accept", "receiver", "We call her tomorrow"), ("start", "receiver", ""),
             ("complete", "receiver", "Registered")]
    for index, (action, actor, comment) in enumerate(steps):
        transition(rw.user(actor), referral, action, comment=comment, outcome="service_delivered",
                   now=start + timedelta(hours=index))
    referral = reload(referral)
    timeline = [(event.action, event.from_status, event.to_status, rw.username(event.actor_id), event.comment,
                 instant(event.at)) for event in referral.events]
    sources = ["draft", "submitted", "returned", "submitted", "approved", "accepted", "in_progress"]
    assert timeline == [
        (action, source, TRANSITIONS[action][1], actor, comment.strip() or None, start + timedelta(hours=index))
        for index, ((action, actor, comment), source) in enumerate(zip(steps, sources))]
    audit = db.session.execute(select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.partner_id,
                                      AuditEvent.details)
                               .where(AuditEvent.object_type == "referral", AuditEvent.object_id == referral.id)
                               .order_by(AuditEvent.id)).all()
    assert [(action, rw.username(actor_id), partner_id, json.loads(details)) for action, actor_id, partner_id, details
            in audit] == [
        ("referral.create", "caseworker_a", rw.partner("A"),
         {"case_id": rw.case_id, "fields": ["service_code", "receiving_partner_id", "priority", "reason",
                                            "shared_fields"]}),
        *((f"referral.{action}", actor, rw.partner("C" if actor == "receiver" else "A"),
           {"from_status": source, "to_status": TRANSITIONS[action][1]})
          for (action, actor, _), source in zip(steps, sources))]
    assert (referral.status, referral.outcome, instant(referral.completed_at)) == (
        "completed", "service_delivered", start + timedelta(hours=6))
    assert (instant(referral.sent_at), instant(referral.answered_at), instant(referral.accepted_at)) == (
        start + timedelta(hours=3), start + timedelta(hours=4), start + timedelta(hours=4))


def test_a_refused_transition_writes_nothing(rw):
    referral = make_referral(rw)
    audit_before = db.session.scalar(select(func.count(AuditEvent.id)))
    for actor, action in (("caseworker_a", "approve"), ("receiver", "accept"), ("caseworker_b", "submit"),
                          ("caseworker_a", "complete")):
        assert attempt(lambda: transition(rw.user(actor), referral, action, outcome="no_show")) == REFUSED
    assert (referral.status, event_count(referral), db.session.scalar(select(func.count(AuditEvent.id))),
            db.session.scalar(select(func.count(Notification.id)))) == ("draft", 0, audit_before, 0)


# --- deadlines and overdue answers -------------------------------------------------------------------------------


def test_approval_sets_the_deadline_by_priority(rw):
    sent = datetime(2026, 5, 4, 16, 45, tzinfo=UTC)
    referrals = {priority: drive(rw, make_referral(rw, priority=priority), "submit", "approve", now=sent)
                 for priority in PRIORITIES}
    db.session.commit()
    db.session.expire_all()
    assert {priority: (instant(referral.sent_at), instant(referral.deadline_at) - instant(referral.sent_at))
            for priority, referral in referrals.items()} == {
        "emergency": (sent, timedelta(hours=24)), "urgent": (sent, timedelta(hours=72)),
        "normal": (sent, timedelta(days=14))}
    assert {priority: deadline_hours(priority) for priority in PRIORITIES} == {
        "emergency": 24, "urgent": 72, "normal": 336}


def test_clock_changes_of_2026_in_casablanca_are_real():
    """Morocco leaves UTC+1 for UTC+0 during Ramadan 2026: back on 15 February, forward on 22 March."""
    assert datetime(2026, 2, 15, 1, 59, tzinfo=UTC).astimezone(CASABLANCA).utcoffset() == timedelta(hours=1)
    assert datetime(2026, 2, 15, 2, 0, tzinfo=UTC).astimezone(CASABLANCA).utcoffset() == timedelta(0)
    assert datetime(2026, 3, 22, 1, 59, tzinfo=UTC).astimezone(CASABLANCA).utcoffset() == timedelta(0)
    assert datetime(2026, 3, 22, 2, 0, tzinfo=UTC).astimezone(CASABLANCA).utcoffset() == timedelta(hours=1)


def _local(*fields, fold: int = 0) -> datetime:
    return datetime(*fields, tzinfo=CASABLANCA, fold=fold)


def _overdue_answers(rw, referral, nows: dict[str, datetime]) -> dict[str, tuple[bool, int]]:
    """is_overdue and the caseworker's overdue_count at each `now`."""
    worker = rw.user("caseworker_a")
    return {label: (is_overdue(referral, now), overdue_count(worker, now)) for label, now in nows.items()}


def test_overdue_across_the_february_2026_change_depends_only_on_the_instant(rw):
    """Approved at 03:30 Casablanca time (UTC+1) on 14 February, emergency: due 24 h later, 02:30 UTC on the 15th,
    the night the clocks go back (local 02:00–03:00 happens twice). 24 wall-clock hours would be 03:30 UTC."""
    referral = make_referral(rw, priority="emergency")
    drive(rw, referral, "submit", "approve", now=_local(2026, 2, 14, 3, 30))
    due = datetime(2026, 2, 15, 2, 30, tzinfo=UTC)
    nows = {
        "utc just before": due - timedelta(seconds=1),
        "utc at the deadline": due,
        "utc just after": due + timedelta(seconds=1),
        "local 02:29:59, second pass (UTC+0)": _local(2026, 2, 15, 2, 29, 59, fold=1),
        "local 02:30:01, second pass (UTC+0)": _local(2026, 2, 15, 2, 30, 1, fold=1),
        "local 02:30:01, first pass (UTC+1)": _local(2026, 2, 15, 2, 30, 1, fold=0),
        "local 03:29:59 (UTC+0)": _local(2026, 2, 15, 3, 29, 59),
        "fixed +01:00 03:30:01": datetime(2026, 2, 15, 3, 30, 1, tzinfo=timezone(timedelta(hours=1))),
    }
    expected = {
        "utc just before": False, "utc at the deadline": False, "utc just after": True,
        "local 02:29:59, second pass (UTC+0)": False, "local 02:30:01, second pass (UTC+0)": True,
        "local 02:30:01, first pass (UTC+1)": False, "local 03:29:59 (UTC+0)": True, "fixed +01:00 03:30:01": True,
    }
    expected = {label: (answer, int(answer)) for label, answer in expected.items()}
    assert instant(referral.deadline_at) == due
    assert _overdue_answers(rw, referral, nows) == expected  # as the service left it in memory
    referral = reload(referral)
    assert (instant(referral.sent_at), instant(referral.deadline_at)) == (due - timedelta(hours=24), due)
    assert _overdue_answers(rw, referral, nows) == expected  # as stored


def test_overdue_across_the_march_2026_change_depends_only_on_the_instant(rw):
    """Approved at 09:00 UTC (= local) on 10 March, normal: due 14 days later at 09:00 UTC, which is 10:00 local
    after the clocks went forward on 22 March."""
    referral = make_referral(rw, priority="normal")
    drive(rw, referral, "submit", "approve", now=datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    referral = reload(referral)
    nows = {
        "local 09:30 (wall clock of approval)": _local(2026, 3, 24, 9, 30),
        "local 09:59:59": _local(2026, 3, 24, 9, 59, 59),
        "local 10:00:01": _local(2026, 3, 24, 10, 0, 1),
        "utc 08:59:59": datetime(2026, 3, 24, 8, 59, 59, tzinfo=UTC),
        "utc 09:00:01": datetime(2026, 3, 24, 9, 0, 1, tzinfo=UTC),
        "naive utc 09:00:01": datetime(2026, 3, 24, 9, 0, 1),
    }
    assert _overdue_answers(rw, referral, nows) == {
        "local 09:30 (wall clock of approval)": (False, 0), "local 09:59:59": (False, 0),
        "local 10:00:01": (True, 1), "utc 08:59:59": (False, 0), "utc 09:00:01": (True, 1),
        "naive utc 09:00:01": (True, 1)}


def test_only_an_unanswered_sent_referral_is_ever_overdue(rw):
    long_ago = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    later = datetime(2026, 6, 1, tzinfo=UTC)
    paths = {"draft": (), "submitted": ("submit",), "returned": ("submit", "return"),
             "approved": ("submit", "approve"), "accepted": ("submit", "approve", "accept"),
             "declined": ("submit", "approve", "decline"), "in_progress": ("submit", "approve", "accept", "start"),
             "completed": ("submit", "approve", "accept", "start", "complete"),
             "cancelled": ("submit", "approve", "cancel")}
    referrals = {status: drive(rw, make_referral(rw, priority="emergency"), *path, now=long_ago)
                 for status, path in paths.items()}
    assert {status: referral.status for status, referral in referrals.items()} == {status: status for status in paths}
    assert {status: is_overdue(referral, later) for status, referral in referrals.items()} == {
        status: status == "approved" for status in paths}
    worker, receiver = rw.user("caseworker_a"), rw.user("receiver")
    assert (overdue_count(worker, later), overdue_count(receiver, later), overdue_count(rw.user("caseworker_b"),
                                                                                          later)) == (1, 1, 0)
    assert referral_summary(receiver, later) == {"approved": 1, "accepted": 1, "in_progress": 1, "overdue": 1}
    assert referral_summary(rw.user("supervisor_a"), later) == {
        "to_review": 1, "approved": 1, "accepted": 1, "in_progress": 1, "overdue": 1}


# --- notifications -----------------------------------------------------------------------------------------------


def _new_notifications(rw, seen: set[int]) -> set[tuple[str, str]]:
    query = select(Notification)
    if seen:
        query = query.where(Notification.id.not_in(seen))
    rows = db.session.scalars(query).all()
    seen.update(row.id for row in rows)
    return {(rw.username(row.user_id), row.kind) for row in rows}


def test_notifications_go_to_whoever_must_act_and_nobody_else(rw):
    """Created by caseworker_restricted on a case assigned to caseworker_a; A has a second, inactive supervisor."""
    add_user(rw, "supervisor_a_left", "supervisor", "A", active=False)
    add_user(rw, "receiver_c_left", "referral_receiver", "C", active=False)
    seen: set[int] = set()
    first = make_referral(rw, "caseworker_restricted")
    second = make_referral(rw, "caseworker_restricted")
    to_b = make_referral(rw, "caseworker_restricted", partner="B")  # B has no receiver to tell
    steps = {}
    steps["create"] = _new_notifications(rw, seen)
    for label, referral, actions in (
            ("first", first, ("submit", "return", "submit", "approve", "accept", "start", "complete")),
            ("second", second, ("submit", "approve", "decline")), ("to B", to_b, ("submit", "approve", "cancel"))):
        for action in actions:
            drive(rw, referral, action)
            steps[label, action, referral.status] = _new_notifications(rw, seen)

    def to_referrers(kind):
        return {("caseworker_restricted", kind), ("caseworker_a", kind)}

    assert steps == {
        "create": set(),
        ("first", "submit", "submitted"): {("supervisor_a", "referral.submitted")},
        ("first", "return", "returned"): to_referrers("referral.returned"),
        ("first", "approve", "approved"): {("receiver", "referral.approved")},
        ("first", "accept", "accepted"): to_referrers("referral.accepted"),
        ("first", "start", "in_progress"): set(),
        ("first", "complete", "completed"): to_referrers("referral.completed"),
        ("second", "submit", "submitted"): {("supervisor_a", "referral.submitted")},
        ("second", "approve", "approved"): {("receiver", "referral.approved")},
        ("second", "decline", "declined"): to_referrers("referral.declined"),
        ("to B", "submit", "submitted"): {("supervisor_a", "referral.submitted")},
        ("to B", "approve", "approved"): set(), ("to B", "cancel", "cancelled"): set(),
    }
    assert {key: notifications.unread_count(rw.user(key)) for key in rw.world.users} == {
        key: 0 for key in rw.world.users} | {"supervisor_a": 4, "receiver": 2, "caseworker_a": 4,
                                              "caseworker_restricted": 4}


def test_the_header_badge_counts_unread_notifications_up_to_99_plus(app, rw):
    from flask_login import login_user

    from caseapp.referrals.models import Notification

    user, other = rw.user("caseworker_a"), rw.user("caseworker_b")
    db.session.add_all([Notification(user_id=other.id, kind="referral.accepted") for _ in range(120)])
    badges = []
    for unread in (0, 1, 99, 100, 150):
        db.session.add_all([Notification(user_id=user.id, kind="referral.accepted")
                            for _ in range(unread - notifications.unread_count(user))])
        db.session.flush()
        with app.test_request_context():
            login_user(user)
            badges.append(notifications.template_unread_count())
    assert badges == ["", "1", "99", "99+", "99+"]
    assert notifications.unread_count(user) == 150 and notifications.unread_count(user, cap=99) == 100


def test_the_badge_read_with_the_account_serves_the_header_until_the_request_changes_notifications(app, rw):
    """The user loader's count (auth.session) stands for the header's statement, for that account only; a
    notification added or read in the request makes the header count again."""
    from flask_login import login_user

    from caseapp.referrals.models import Notification

    user, other = rw.user("caseworker_a"), rw.user("caseworker_b")
    referral = make_referral(rw)
    with app.test_request_context():
        login_user(user)
        notifications.keep_unread_badge(user.id, 7)
        assert notifications.template_unread_count() == "7"  # as the loader read it: no statement of its own
        notifications.keep_unread_badge(other.id, 7)
        assert notifications.template_unread_count() == ""  # another account's count is not this one's
        notifications.keep_unread_badge(user.id, 0)
        notifications.notify([user], "referral.accepted", referral)
        assert notifications.template_unread_count() == "1"
        notifications.keep_unread_badge(user.id, 1)
        notifications.mark_read(user, db.session.scalars(select(Notification).filter_by(user_id=user.id)).one())
        db.session.flush()
        assert notifications.template_unread_count() == ""


def test_cancelling_tells_the_receivers_only_once_the_referral_was_sent(rw):
    seen: set[int] = set()
    paths = {"draft": (), "submitted": ("submit",), "returned": ("submit", "return"),
             "approved": ("submit", "approve"), "accepted": ("submit", "approve", "accept"),
             "in_progress": ("submit", "approve", "accept", "start")}
    cancelled = {}
    for status, path in paths.items():
        referral = drive(rw, make_referral(rw), *path)
        _new_notifications(rw, seen)
        transition(rw.user("caseworker_a"), referral, "cancel")
        cancelled[status] = _new_notifications(rw, seen)
    told = {("receiver", "referral.cancelled")}
    assert cancelled == {"draft": set(), "submitted": set(), "returned": set(), "approved": told, "accepted": told,
                         "in_progress": told}


def test_the_creator_who_is_also_the_assigned_worker_is_told_once(rw):
    referral = drive(rw, make_referral(rw), "submit", "return")
    rows = db.session.scalars(select(Notification).where(Notification.kind == "referral.returned")).all()
    assert [(rw.username(row.user_id), row.referral_id) for row in rows] == [("caseworker_a", referral.id)]


def test_without_a_mail_server_pending_emails_send_nothing_and_raise_nothing(rw, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)

    def no_smtp(*args, **kwargs):
        raise AssertionError("no SMTP connection without MAIL_SERVER")

    monkeypatch.setattr(notifications.smtplib, "SMTP", no_smtp)
    for key in ("supervisor_a", "receiver", "caseworker_a"):
        rw.user(key).email = f"{key}@example.org"
    drive(rw, make_referral(rw), "submit", "return", "submit", "approve")
    db.session.commit()
    assert notifications.send_pending_emails() == 0
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    assert notifications.send_pending_emails() == 0
    db.session.expire_all()
    rows = db.session.scalars(select(Notification)).all()
    assert len(rows) == 4 and all(row.emailed_at is None for row in rows)


# --- creation ----------------------------------------------------------------------------------------------------


def test_a_double_post_of_the_create_form_creates_one_referral(rw):
    first = make_referral(rw, form_token="token-1")
    db.session.commit()
    again = make_referral(rw, form_token="token-1", reason="Posted twice")
    db.session.commit()
    other = make_referral(rw, form_token="token-2")
    db.session.commit()
    assert again.id == first.id and other.id != first.id
    assert db.session.scalar(select(func.count(Referral.id))) == 2
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "referral.create")) == 2
    assert db.session.scalar(select(func.count(ConsentRecord.id)).where(ConsentRecord.kind == "sharing")) == 2


def test_create_records_the_referral_and_its_consent(rw):
    referral = make_referral(rw, consent_method="oral_witness", consent_witness=" Aicha ", reason="  Needs work  ",
                             shared_fields=["profile", "nationality", "profile"], priority="urgent")
    referral = reload(referral)
    consent = db.session.get(ConsentRecord, referral.consent_id)
    assert (referral.status, referral.reason, referral.shared_field_list, referral.priority, referral.service_code,
            referral.receiving_partner_id, rw.username(referral.created_by_id), referral.sent_at,
            referral.deadline_at) == ("draft", "Needs work", ["nationality", "profile"], "urgent", SERVICE,
                                      rw.partner("C"), "caseworker_a", None, None)
    assert (consent.kind, consent.method, consent.witness_name, consent.partner_id) == (
        "sharing", "oral_witness", "Aicha", rw.partner("C"))
    assert {entry.partner_id for entry in partners_offering(SERVICE, "OUJ")} == {rw.partner("B"), rw.partner("C")}


def test_create_refuses_what_the_domain_refuses(rw):
    nad_case = new_case(rw, "caseworker_a2", "A-NAD", commune_code="NAD")
    closed_case = new_case(rw, given_name="Youssef")
    closed_case.status = "closed"
    withdrawn = DirectoryEntry(partner_id=rw.partner("D"), service_code=SERVICE, commune_code="OUJ", active=False)
    db.session.add(withdrawn)
    db.session.flush()
    cases = {"OUJ": rw.case, "NAD": nad_case, "closed": closed_case}
    attempts = {
        "partner not offering the service": dict(receiving_partner_id=rw.partner("A")),
        "partner offering it in another commune": dict(case="NAD", actor="caseworker_a2"),
        "partner whose entry is withdrawn": dict(receiving_partner_id=rw.partner("D")),
        "no partner": dict(receiving_partner_id=None),
        "partner offering another service": dict(service_code="employment.job_placement"),
        "unknown service": dict(service_code="employment.astronaut"),
        "no service": dict(service_code=""),
        "unknown priority": dict(priority="critical"),
        "empty reason": dict(reason="  \n "),
        "reason too long": dict(reason="x" * 4001),
        "oral consent without witness": dict(consent_method="oral_witness", consent_witness=" "),
        "unknown consent method": dict(consent_method="telepathy"),
        "unknown shared field": dict(shared_fields=["nationality", "phone"]),
        "closed case": dict(case="closed"),
    }
    errors = {}
    for label, overrides in attempts.items():
        case = cases[overrides.pop("case", "OUJ")]
        try:
            make_referral(rw, overrides.pop("actor", "caseworker_a"), case=case, **overrides)
            errors[label] = "created"
        except ValidationFailed as error:
            errors[label] = sorted(error.errors)
    assert errors == {
        "partner not offering the service": ["receiving_partner_id"],
        "partner offering it in another commune": ["receiving_partner_id"],
        "partner whose entry is withdrawn": ["receiving_partner_id"],
        "no partner": ["receiving_partner_id"],
        "partner offering another service": ["receiving_partner_id"],
        "unknown service": ["service_code"], "no service": ["service_code"],
        "unknown priority": ["priority"], "empty reason": ["reason"], "reason too long": ["reason"],
        "oral consent without witness": ["consent_witness"], "unknown consent method": ["consent_method"],
        "unknown shared field": ["shared_fields"], "closed case": ["reason"],
    }
    assert db.session.scalar(select(func.count(Referral.id))) == 0
    assert db.session.scalar(select(func.count(ConsentRecord.id)).where(ConsentRecord.kind == "sharing")) == 0

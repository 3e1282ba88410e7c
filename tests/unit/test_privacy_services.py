"""Data-protection services without HTTP: consents (record, withdraw, referrals cancelled), subject access contents,
anonymisation (every trace of a canary person gone from the database, aggregate figures unchanged).

The builders at the top (`privacy_setup`, `rich_person`...) are reused by tests/http/test_privacy_pages.py and
tests/unit/test_retention.py.
"""
import json
import smtplib
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from caseapp.audit.models import AuditEvent
from caseapp.auth.models import User
from caseapp.auth.services import create_user
from caseapp.beneficiaries import households
from caseapp.beneficiaries.models import Beneficiary, ConsentRecord, Household, IdentityDocument
from caseapp.beneficiaries.services import register_beneficiary
from caseapp.cases.assessment import save_assessment
from caseapp.cases.assignment import decide_transfer, propose_transfer
from caseapp.cases.followups import add_follow_up
from caseapp.cases.models import Case, CaseNote, ChangeRecord, FollowUp, PlanAction, PlanGoal
from caseapp.cases.notes import add_note
from caseapp.cases.plan import add_action, add_goal
from caseapp.cases.workflow import decide_closure, reopen, request_closure
from caseapp.errors import DomainError, NotAllowed, ValidationFailed
from caseapp.extensions import db
from caseapp.partners.models import Partner
from caseapp.privacy import consents as consent_services
from caseapp.privacy.services import ANONYMISED, anonymise_person
from caseapp.privacy.subject_access import subject_access_data, to_json
from caseapp.referrals.models import DirectoryEntry, Notification, Referral
from caseapp.referrals.notifications import NOTIFICATION_LABELS, send_pending_emails
from caseapp.referrals.services import create_referral, transition
from tests.conftest import PASSWORD, World, valid_registration

SERVICE = "employment.anapec"

# Words that exist nowhere but in the canary person's data.
CANARY = {
    "given_name": "Qwertzuname", "family_name": "Xylofamilia",
    "given_name_alt": "كناريون", "family_name_alt": "زيلوفا",
    "phone": "+212 699 887 766", "document": "ZK998877", "witness": "Wittycanary", "legal_basis": "Lexcanary",
    "need": "Needcanary", "goal": "Goalcanary", "action": "Actioncanary", "owner": "Ownercanary",
    "note": "Notecanary", "restricted_note": "Secretcanary", "follow_up": "Followcanary", "referral": "Reasoncanary",
    "event": "Eventcanary", "transfer": "Transfercanary", "decision": "Decisioncanary", "reopen": "Reopencanary",
}
PHONE_DIGITS = "699887766"


@dataclass
class PrivacySetup:
    """The conftest world plus partner D (with a receiver), and C, D offering SERVICE in OUJ."""

    world: World
    ids: dict[str, int] = field(default_factory=dict)

    def user(self, key: str) -> User:
        return db.session.get(User, self.world.users[key])

    def partner(self, code: str) -> int:
        return self.world.partners[code]

    def point(self, code: str) -> int:
        return self.world.service_points[code]


def privacy_setup(world: World) -> PrivacySetup:
    """Partner D with its own receiver; C (receiver 'receiver') and D offer SERVICE in OUJ. Commits; once per world."""
    if "D" in world.partners:
        return PrivacySetup(world)
    partner_d = Partner(code="D", name="Partner D", kind="association")
    db.session.add(partner_d)
    db.session.flush()
    world.partners["D"] = partner_d.id
    receiver_d = create_user(None, username="receiver.d", full_name="Receiver D", password=PASSWORD,
                             role="referral_receiver", partner=partner_d, service_points=[])
    world.users["receiver_d"] = receiver_d.id
    db.session.add_all([DirectoryEntry(partner_id=world.partners[code], service_code=SERVICE, commune_code="OUJ")
                        for code in ("C", "D")])
    db.session.commit()
    return PrivacySetup(world)


def new_person(ps: PrivacySetup, actor: str = "caseworker_a", point: str = "A-OUJ", **overrides):
    """Register a person; returns (person, first case)."""
    person, case = register_beneficiary(ps.user(actor), valid_registration(ps.point(point), **overrides))
    db.session.flush()
    return person, case


def referral_at(ps: PrivacySetup, case: Case, partner: str, status: str, reason: str = "Looking for work") -> Referral:
    """A referral of `case` to `partner` brought to `status` through the workflow (each step by its usual actor)."""
    referral = create_referral(ps.user("caseworker_a"), case, service_code=SERVICE,
                               receiving_partner_id=ps.partner(partner), priority="normal", reason=reason,
                               consent_method="signed_form")
    receiver = ps.user("receiver" if partner == "C" else "receiver_d")
    steps = {
        "draft": [], "submitted": ["submit"], "approved": ["submit", "approve"],
        "accepted": ["submit", "approve", "accept"], "in_progress": ["submit", "approve", "accept", "start"],
        "completed": ["submit", "approve", "accept", "start", "complete"],
        "declined": ["submit", "approve", "decline"], "cancelled": ["cancel"],
    }[status]
    for action in steps:
        actor = {"approve": ps.user("supervisor_a"), "accept": receiver, "start": receiver, "complete": receiver,
                 "decline": receiver}.get(action, ps.user("caseworker_a"))
        transition(actor, referral, action, comment="No places" if action == "decline" else "",
                   outcome="service_delivered" if action == "complete" else "")
    assert referral.status == status
    return referral


def rich_person(ps: PrivacySetup) -> dict[str, int]:
    """A person whose data touches every table that can hold personal data, written with the CANARY words. Commits.

    Returns ids: person, case, household_member, referral, transfer.
    """
    cw, sup = ps.user("caseworker_a"), ps.user("supervisor_a")
    person, case = new_person(
        ps, given_name=CANARY["given_name"], family_name=CANARY["family_name"],
        given_name_alt=CANARY["given_name_alt"], family_name_alt=CANARY["family_name_alt"], phone=CANARY["phone"],
        document_type="passport", document_number=CANARY["document"], processing_basis="oral_witness",
        witness_name=CANARY["witness"], flags=["single_parent"], date_of_birth=date(1990, 5, 17),
        arrival_date=date(2024, 3, 9))
    member, _ = new_person(ps, given_name="Other", family_name="Member", phone="")
    households.link_household(cw, person, member)
    consent_services.record_consent(cw, person, kind="processing", method="legal_basis",
                                    legal_basis=CANARY["legal_basis"])
    save_assessment(sup, case, needs={"avrr": CANARY["need"], "employment": CANARY["need"]}, risk_level="high",
                    flags=["single_parent", "gbv_survivor"])
    goal = add_goal(cw, case, area="employment", title=CANARY["goal"])
    add_action(cw, goal, description=CANARY["action"], owner=CANARY["owner"], due_date=date.today())
    add_note(cw, case, kind="general", body=CANARY["note"], occurred_on=date.today())
    add_note(ps.user("caseworker_restricted"), case, kind="psychosocial", body=CANARY["restricted_note"],
             occurred_on=date.today())
    add_follow_up(cw, case, purpose=CANARY["follow_up"], due_date=date.today() + timedelta(days=7),
                  assigned_to_id=None)
    referral = create_referral(cw, case, service_code=SERVICE, receiving_partner_id=ps.partner("C"),
                               priority="normal", reason=CANARY["referral"], consent_method="oral_witness",
                               consent_witness=CANARY["witness"])
    transition(cw, referral, "submit")
    transition(sup, referral, "return", comment=CANARY["event"])
    request_closure(cw, case, "goals_met")
    decide_closure(sup, case, True)
    reopen(sup, case, CANARY["reopen"])
    transfer = propose_transfer(sup, case, ps.point("B-BEM"), CANARY["transfer"])
    decide_transfer(ps.user("supervisor_b"), transfer, accept=False, comment=CANARY["decision"])
    db.session.commit()
    return {"person": person.id, "case": case.id, "household_member": member.id, "referral": referral.id,
            "transfer": transfer.id}


def raw_database_text() -> dict[str, str]:
    """Every table's rows as raw text, read with SQL (encrypted columns stay ciphertext)."""
    texts = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        texts[table.name] = "\n".join(" | ".join(str(value) for value in row) for row in rows)
    return texts


def canary_hits(texts: dict[str, str]) -> dict[str, list[str]]:
    """Table → the canary words found in it (case-insensitive, and the phone also as bare digits)."""
    needles = [word for word in CANARY.values()] + [PHONE_DIGITS, CANARY["given_name"].lower()]
    hits = {}
    for table, text in texts.items():
        found = sorted({needle for needle in needles if needle.lower() in text.lower()})
        if found:
            hits[table] = found
    return hits


def audit_actions(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def ps(app_ctx, world) -> PrivacySetup:
    return privacy_setup(world)


# --- recording consents ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("values, field_name", [
    (dict(kind="processing", method="oral_witness", witness_name="  "), "witness_name"),
    (dict(kind="processing", method="legal_basis", legal_basis=""), "legal_basis"),
    (dict(kind="sharing", method="signed_form", partner_id=None), "partner_id"),
    (dict(kind="statistics", method="legal_basis", legal_basis="Decree"), "method"),
    (dict(kind="sharing", method="legal_basis", legal_basis="Decree", partner_id=-1), "method"),
    (dict(kind="marketing", method="signed_form"), "kind"),
    (dict(kind="processing", method="by_smoke_signal"), "method"),
])
def test_an_invalid_consent_is_refused_field_by_field_and_nothing_is_saved(ps, values, field_name):
    person, _ = new_person(ps)
    db.session.commit()
    consents_before, audit_before = len(person.consents), len(audit_actions("consent.record"))
    with pytest.raises(ValidationFailed) as refused:
        consent_services.record_consent(ps.user("caseworker_a"), person, **values)
    assert field_name in refused.value.errors
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord).where(
        ConsentRecord.beneficiary_id == person.id)) == consents_before
    assert len(audit_actions("consent.record")) == audit_before


def test_a_valid_consent_is_recorded_and_audited_without_personal_values(ps):
    person, _ = new_person(ps)
    actor = ps.user("caseworker_a")
    consent = consent_services.record_consent(actor, person, kind="sharing", method="oral_witness",
                                              partner_id=ps.partner("C"), witness_name=" Amina Witness ")
    db.session.commit()
    assert (consent.kind, consent.method, consent.partner_id, consent.witness_name, consent.recorded_by_id) == \
        ("sharing", "oral_witness", ps.partner("C"), "Amina Witness", actor.id)
    event = audit_actions("consent.record")[-1]
    assert (event.object_type, event.object_id, event.actor_id) == ("consent_record", consent.id, actor.id)
    assert json.loads(event.details) == {"beneficiary_id": person.id, "kind": "sharing", "method": "oral_witness",
                                         "partner_id": ps.partner("C")}
    assert "Amina" not in event.details


def test_the_partner_is_kept_only_for_a_sharing_consent_and_a_form_token_records_once(ps):
    person, _ = new_person(ps)
    actor = ps.user("caseworker_a")
    first = consent_services.record_consent(actor, person, kind="statistics", method="signed_form",
                                            partner_id=ps.partner("C"), form_token="tok-1")
    again = consent_services.record_consent(actor, person, kind="statistics", method="signed_form",
                                            form_token="tok-1")
    assert first.id == again.id and first.partner_id is None


def test_only_users_whose_scope_covers_the_person_manage_consents(ps):
    person, _ = new_person(ps)
    for key in ("caseworker_b", "caseworker_a2", "supervisor_b", "dpo", "receiver", "me_officer", "admin"):
        with pytest.raises(NotAllowed):
            consent_services.record_consent(ps.user(key), person, kind="statistics", method="signed_form")
        with pytest.raises(NotAllowed):
            consent_services.withdraw_consent(ps.user(key), person.consents[0])
    consent_services.record_consent(ps.user("supervisor_a"), person, kind="statistics", method="signed_form")


# --- withdrawing consents ----------------------------------------------------------------------------------------


def test_withdrawal_is_dated_attributed_audited_and_happens_once(ps):
    person, _ = new_person(ps)
    actor = ps.user("caseworker_a")
    statistics = next(consent for consent in person.consents if consent.kind == "statistics")
    assert consent_services.withdraw_consent(actor, statistics) == []
    db.session.commit()
    assert statistics.withdrawn_at is not None and statistics.withdrawn_by_id == actor.id
    event = audit_actions("consent.withdraw")[-1]
    assert (event.object_type, event.object_id) == ("consent_record", statistics.id)
    assert json.loads(event.details)["kind"] == "statistics"
    with pytest.raises(DomainError):
        consent_services.withdraw_consent(actor, statistics)


def test_withdrawing_sharing_consent_cancels_exactly_the_open_referrals_to_that_partner(ps, app, monkeypatch):
    person, case = new_person(ps, given_name="Namecanary", family_name="Familycanary")
    referrals = {status: referral_at(ps, case, "C", status) for status in
                 ("draft", "submitted", "approved", "accepted", "in_progress", "completed", "declined")}
    to_d = referral_at(ps, case, "D", "approved")
    other_person, other_case = new_person(ps, given_name="Someone", family_name="Else")
    others = referral_at(ps, other_case, "C", "approved")
    db.session.commit()
    receiver, receiver_d = ps.user("receiver"), ps.user("receiver_d")
    receiver.email = "focal@partner-c.example"
    notified_before = {user.id: db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id)) for user in (receiver, receiver_d)}
    consent = db.session.get(ConsentRecord, referrals["approved"].consent_id)
    assert consent.partner_id == ps.partner("C")

    cancelled = consent_services.withdraw_consent(ps.user("caseworker_a"), consent)
    db.session.commit()

    open_statuses = {"draft", "submitted", "approved", "accepted", "in_progress"}
    assert {referral.id for referral in cancelled} == {referrals[status].id for status in open_statuses}
    for status, referral in referrals.items():
        db.session.refresh(referral)
        assert referral.status == ("cancelled" if status in open_statuses else status), status
        last = referral.events[-1]
        if status in open_statuses:
            assert (last.action, last.from_status, last.to_status) == ("cancel", status, "cancelled")
    assert to_d.status == "approved" and others.status == "approved"
    cancel_events = audit_actions("referral.cancel")
    assert {event.object_id for event in cancel_events} == {referrals[status].id for status in open_statuses}
    withdraw = json.loads(audit_actions("consent.withdraw")[-1].details)
    assert sorted(withdraw["cancelled_referrals"]) == sorted(referrals[status].id for status in open_statuses)

    # The receiving partner's focal point hears of the referrals that had reached it; D hears nothing.
    new_notes = db.session.scalars(select(Notification).where(
        Notification.user_id == receiver.id, Notification.kind == "consent_withdrawn")).all()
    assert {note.referral_id for note in new_notes} == {referrals[s].id for s in ("approved", "accepted",
                                                                                   "in_progress")}
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == receiver_d.id)) == notified_before[receiver_d.id]

    sent = []

    class FakeSMTP:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message)

    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    assert send_pending_emails() >= 3
    with force_locale("fr"):  # the receiver has no preferred language: French
        subject = str(NOTIFICATION_LABELS["consent_withdrawn"])
    assert len([m for m in sent if m["To"] == receiver.email and m["Subject"] == subject]) == 3
    for message in sent:
        text = message.as_string()
        for secret in ("Namecanary", "Familycanary", case.number):
            assert secret not in text


def test_a_sharing_consent_naming_no_partner_cancels_referrals_to_every_partner(ps):
    person, case = new_person(ps)
    to_c, to_d = referral_at(ps, case, "C", "approved"), referral_at(ps, case, "D", "submitted")
    done = referral_at(ps, case, "C", "completed")
    general = ConsentRecord(beneficiary_id=person.id, kind="sharing", method="signed_form",
                            recorded_by_id=ps.user("caseworker_a").id)
    db.session.add(general)
    db.session.commit()
    cancelled = consent_services.withdraw_consent(ps.user("supervisor_a"), general)
    assert {referral.id for referral in cancelled} == {to_c.id, to_d.id}
    assert (to_c.status, to_d.status, done.status) == ("cancelled", "cancelled", "completed")


def test_withdrawing_processing_or_statistics_consent_cancels_no_referral(ps):
    person, case = new_person(ps)
    referral = referral_at(ps, case, "C", "approved")
    for consent in [consent for consent in person.consents if consent.kind != "sharing"]:
        assert consent_services.withdraw_consent(ps.user("caseworker_a"), consent) == []
    assert referral.status == "approved"


# --- subject access ----------------------------------------------------------------------------------------------


def _all_note_bodies(data: dict) -> list[str]:
    return [note["body"] for case in data["cases"] for note in case["notes"]]


def test_subject_access_holds_everything_with_the_document_number_in_clear(ps):
    ids = rich_person(ps)
    person = db.session.get(Beneficiary, ids["person"])
    dpo = ps.user("dpo")
    without = subject_access_data(dpo, person, "json")  # the dpo's role reaches the person, not restricted content
    assert sorted(_all_note_bodies(without)) == [CANARY["note"]]
    dpo.restricted_access = True
    data = subject_access_data(dpo, person, "json")
    text = to_json(data)
    assert json.loads(text)["documents"] == [{"type": "passport", "number": CANARY["document"]}]
    assert data["person"]["given_name"] == CANARY["given_name"]
    assert data["contact"]["phone"] == CANARY["phone"]
    assert data["household"] == {"id": person.household_id, "is_head": True}
    assert sorted(_all_note_bodies(data)) == sorted([CANARY["note"], CANARY["restricted_note"]])
    [case] = data["cases"]
    assert case["assessment"]["needs"]["avrr"] == CANARY["need"]
    assert case["plan"][0]["title"] == CANARY["goal"] and case["plan"][0]["actions"][0]["owner"] == CANARY["owner"]
    assert case["follow_ups"][0]["purpose"] == CANARY["follow_up"]
    assert case["transfers"][0]["reason"] == CANARY["transfer"]
    assert case["reopen_reason"] == CANARY["reopen"]
    [referral] = case["referrals"]
    assert referral["reason"] == CANARY["referral"]
    assert [event["action"] for event in referral["events"]] == ["submit", "return"]
    assert data["recipients"] == []  # returned before it was ever sent
    assert {flag["code"] for flag in data["flags"]} == {"single_parent", "gbv_survivor"}
    assert data["left_out"] == []
    assert {consent["kind"] for consent in data["consents"]} == {"processing", "sharing", "statistics"}


def test_restricted_notes_and_flags_are_left_out_without_restricted_access(ps):
    ids = rich_person(ps)
    person = db.session.get(Beneficiary, ids["person"])
    supervisor = ps.user("supervisor_a")
    supervisor.restricted_access = False
    data = subject_access_data(supervisor, person, "print")
    assert _all_note_bodies(data) == [CANARY["note"]]
    assert CANARY["restricted_note"] not in to_json(data)
    assert {flag["code"] for flag in data["flags"]} == {"single_parent"}
    assert "restricted" in data["left_out"]
    supervisor.restricted_access = True
    assert CANARY["restricted_note"] in _all_note_bodies(subject_access_data(supervisor, person, "print"))


def test_recipients_are_the_partners_a_referral_was_sent_to(ps):
    person, case = new_person(ps)
    referral_at(ps, case, "C", "completed")
    referral_at(ps, case, "D", "draft")
    data = subject_access_data(ps.user("supervisor_a"), person, "json")
    assert data["recipients"] == ["Partner C"]


def test_the_export_is_audited_with_its_format_and_refused_out_of_scope(ps):
    person, _ = new_person(ps)
    subject_access_data(ps.user("supervisor_a"), person, "json")
    event = audit_actions("person.access_export")[-1]
    assert (event.object_type, event.object_id) == ("beneficiary", person.id)
    assert json.loads(event.details)["format"] == "json"
    for key in ("caseworker_a", "supervisor_b", "receiver", "admin"):
        with pytest.raises(NotAllowed):
            subject_access_data(ps.user(key), person, "json")


# --- anonymisation -----------------------------------------------------------------------------------------------


def _figures() -> dict[str, list]:
    def grouped(*columns):
        return sorted(db.session.execute(select(*columns, func.count()).group_by(*columns)).tuples().all())

    return {
        "sex": grouped(Beneficiary.sex), "nationality": grouped(Beneficiary.nationality),
        "commune": grouped(Beneficiary.commune_code), "profile": grouped(Beneficiary.profile),
        "birth_year": sorted(day.year for day in db.session.scalars(select(Beneficiary.date_of_birth))),
        "cases": grouped(Case.status, Case.service_point_id, Case.closure_reason),
        "referrals": grouped(Referral.service_code, Referral.receiving_partner_id, Referral.status),
    }


def _history_text(case_id: int) -> str:
    """The case's field history, decrypted."""
    return "\n".join(entry.changes for entry in db.session.scalars(
        select(ChangeRecord).where(ChangeRecord.case_id == case_id)))


def test_anonymisation_leaves_no_trace_of_the_person_and_keeps_the_figures(ps):
    ids = rich_person(ps)
    new_person(ps, given_name="Fatima", family_name="Bennani", sex="F", nationality="SEN", profile="foreign_migrant",
               commune_code="NAD", country_returned_from="", point="A-NAD", actor="caseworker_a2")
    new_person(ps, given_name="Brahim", family_name="Bem", point="B-BEM", actor="caseworker_b", commune_code="BEM")
    db.session.commit()
    before_hits = canary_hits(raw_database_text())
    # The test can see the canary words where they are stored in clear (notes, documents and history are encrypted:
    # their plaintext is checked through the models).
    assert {"beneficiary", "consent_record", "case_assessment", "plan_goal", "plan_action", "follow_up", "referral",
            "referral_event", "case_transfer", "case_file"} <= set(before_hits)
    assert canary_hits({"history": _history_text(ids["case"])}) != {}
    figures = _figures()

    person = db.session.get(Beneficiary, ids["person"])
    anonymise_person(ps.user("dpo"), person, "subject_request")
    db.session.commit()
    db.session.expire_all()

    assert canary_hits(raw_database_text()) == {}
    assert canary_hits({"history": _history_text(ids["case"])}) == {}
    assert _figures() == figures
    person = db.session.get(Beneficiary, ids["person"])
    assert (person.given_name, person.family_name, person.given_name_alt, person.family_name_alt) == \
        (ANONYMISED, ANONYMISED, None, None)
    assert (person.name_search, person.phone, person.phone_index) == ("", None, None)
    assert (person.date_of_birth, person.dob_estimated, person.arrival_date) == (date(1990, 1, 1), True,
                                                                               date(2024, 1, 1))
    assert (person.sex, person.nationality, person.commune_code, person.profile) == ("M", "MAR", "OUJ", "returnee")
    assert person.anonymised_at is not None
    assert person.household_id is None and not person.is_household_head
    assert db.session.scalar(select(func.count()).select_from(Household)) == 0  # a household of one is dissolved
    assert db.session.get(Beneficiary, ids["household_member"]).household_id is None
    assert db.session.scalar(select(func.count()).select_from(IdentityDocument).where(
        IdentityDocument.beneficiary_id == person.id)) == 0
    assert {item.flag_code for item in person.flags} == {"single_parent", "gbv_survivor"}
    assert all(consent.witness_name is None and consent.legal_basis is None for consent in person.consents)
    # Encrypted texts: blank once decrypted.
    notes = db.session.scalars(select(CaseNote).where(CaseNote.case_id == ids["case"])).all()
    assert len(notes) == 2 and {note.body for note in notes} == {""}
    # Cases, their numbers and stages stay; history keeps field names only.
    case = db.session.get(Case, ids["case"])
    assert case.status == "reopened" and case.beneficiary_id == person.id
    for entry in db.session.scalars(select(ChangeRecord).where(ChangeRecord.case_id == case.id)):
        assert set(json.loads(entry.changes).values()) <= {None}
    assert any("reopen_reason" in json.loads(entry.changes) for entry in db.session.scalars(select(ChangeRecord)))
    referral = db.session.get(Referral, ids["referral"])
    assert (referral.reason, referral.status, referral.service_code) == ("", "returned", SERVICE)
    assert all(event.comment is None for event in referral.events)
    assert {goal.title for goal in db.session.scalars(select(PlanGoal))} == {""}
    assert {(a.description, a.owner) for a in db.session.scalars(select(PlanAction))} == {("", "")}
    assert {f.purpose for f in db.session.scalars(select(FollowUp))} == {""}

    [event] = audit_actions("person.anonymise")
    assert (event.object_type, event.object_id, event.actor_id) == ("beneficiary", person.id, ps.user("dpo").id)
    assert json.loads(event.details)["reason"] == "subject_request"


def test_a_person_is_anonymised_once_and_only_by_the_dpo(ps):
    person, _ = new_person(ps)
    db.session.commit()
    for key in ("supervisor_a", "caseworker_a", "admin", "me_officer"):
        with pytest.raises(NotAllowed):
            anonymise_person(ps.user(key), person, "subject_request")
    with pytest.raises(ValidationFailed):
        anonymise_person(ps.user("dpo"), person, "because")
    anonymise_person(ps.user("dpo"), person, "other")
    db.session.commit()
    with pytest.raises(DomainError):
        anonymise_person(ps.user("dpo"), person, "other")
    assert len(audit_actions("person.anonymise")) == 1


def test_an_anonymised_person_takes_no_new_consent(ps):
    person, _ = new_person(ps)
    anonymise_person(ps.user("dpo"), person, "subject_request")
    with pytest.raises(DomainError):
        consent_services.record_consent(ps.user("caseworker_a"), person, kind="statistics", method="signed_form")


def test_a_household_of_three_keeps_the_two_others_with_a_head(ps):
    cw = ps.user("caseworker_a")
    head, _ = new_person(ps)
    second, _ = new_person(ps, given_name="Second")
    third, _ = new_person(ps, given_name="Third")
    households.link_household(cw, head, second)
    households.link_household(cw, head, third)
    assert head.is_household_head
    anonymise_person(ps.user("dpo"), head, "subject_request")
    db.session.flush()
    assert head.household_id is None
    assert second.household_id == third.household_id is not None
    assert [second.is_household_head, third.is_household_head].count(True) == 1

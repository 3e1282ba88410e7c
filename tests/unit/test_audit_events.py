"""Requirement 15: what the audit trail records, one row per event, and what it never records.

Logins (ok, failed, locked), views of a person, a case and a referral, searches (without their terms) and writes
(field names, not values) each leave one row with its UTC time, actor, actor's partner, object and IP address.
A canary person — name, phone, document number, note and referral texts — goes through registration, views,
searches, a note and a referral: none of it appears in any column of audit_event nor in any log record.

Requests go through the test client (so events carry the client's address, 127.0.0.1); labels are never compared.
"""
import json
import logging
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from caseapp.audit.models import AuditEvent
from caseapp.beneficiaries.models import Beneficiary, IdentityDocument
from caseapp.cases.models import Case, CaseNote
from caseapp.extensions import db
from caseapp.referrals.models import DirectoryEntry, Referral
from tests.conftest import PASSWORD, csrf_token, login
from tests.http.test_case_pages import submit_form

CLIENT_IP = "127.0.0.1"
SERVICE = "employment.anapec"
CANARY_GIVEN, CANARY_FAMILY = "Canaryzq", "Qwertyx"
CANARY_ALT = "كناريزق"
CANARY_PHONE = "+212 698 765 432"
CANARY_DOCUMENT = "ZQ9876543"
CANARY_NOTE = "Canaryzq raconte son parcours NOTE-CANARI-8W"
CANARY_REASON = "Orientation de Canaryzq Qwertyx RAISON-CANARI-5T"
# Every form the canary's data could take in a column or a log line (compared case-insensitively).
CANARY_STRINGS = (CANARY_GIVEN, CANARY_FAMILY, CANARY_ALT, CANARY_PHONE, "698765432", "698 765 432", "0698765432",
                  CANARY_DOCUMENT, "NOTE-CANARI-8W", "RAISON-CANARI-5T")
AUDIT_COLUMNS = [column.name for column in AuditEvent.__table__.columns]


# --- helpers -----------------------------------------------------------------------------------------------------


def _events(app, *conditions) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).where(*conditions).order_by(AuditEvent.id)))
        db.session.expunge_all()
        return events


def _events_after(app, last_id: int, *conditions) -> list[AuditEvent]:
    return _events(app, AuditEvent.id > last_id, *conditions)


def _last_id(app) -> int:
    events = _events(app)
    return events[-1].id if events else 0


def _utc(moment: datetime) -> datetime:
    """Stored times are UTC (SQLite hands them back naive)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _assert_complete(event: AuditEvent, world, user_key: str, since: datetime, partner: str = "A") -> None:
    """UTC time within the test, actor, the actor's partner and the client's address."""
    until = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert since - timedelta(seconds=1) <= _utc(event.occurred_at) <= until, (event.action, event.occurred_at)
    assert event.actor_id == world.users[user_key], event.action
    assert event.partner_id == world.partners[partner], event.action
    assert event.ip == CLIENT_IP, event.action
    assert event.hash and event.prev_hash, event.action


def _one(events: list[AuditEvent], action: str) -> AuditEvent:
    matching = [event for event in events if event.action == action]
    assert len(matching) == 1, (action, [event.action for event in events])
    return matching[0]


def _case_id(app, number: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Case.id).where(Case.number == number))


@pytest.fixture
def directory(app, world):
    """Partner C offers ANAPEC registration in Oujda."""
    with app.app_context():
        db.session.add(DirectoryEntry(partner_id=world.partners["C"], service_code=SERVICE, commune_code="OUJ",
                                      contact="0536 00 00 00", hours="9h-16h", languages="ar, fr", eligibility=""))
        db.session.commit()


def _new_referral(client, world, case_id: int, reason: str) -> None:
    url = f"/cases/{case_id}/referrals/new"
    submit_form(client, url, url, service_code=SERVICE, receiving_partner_id=str(world.partners["C"]),
                priority="normal", reason=reason, consent_method="signed_form", shared_fields=["documents"])


def _search(client, text: str) -> None:
    """The case list's free-text search: posted, kept in the session, run by the page it redirects to."""
    response = client.post("/cases/", data={"q": text, "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200


# --- logins --------------------------------------------------------------------------------------------------------


def test_a_successful_login_is_one_row(app, world):
    since, last = datetime.now(timezone.utc), _last_id(app)
    assert login(app.test_client(), "caseworker.a").status_code == 302
    events = _events_after(app, last)
    assert [event.action for event in events] == ["login.ok"]
    _assert_complete(events[0], world, "caseworker_a", since)
    assert (events[0].object_type, events[0].object_id) == ("user_account", world.users["caseworker_a"])
    assert PASSWORD not in events[0].details


def test_a_failed_login_is_one_row_without_what_was_typed(app, world):
    since, last = datetime.now(timezone.utc), _last_id(app)
    assert login(app.test_client(), "caseworker.a", "wrong horse battery staple").status_code == 200
    events = _events_after(app, last)
    assert [event.action for event in events] == ["login.failed"]
    _assert_complete(events[0], world, "caseworker_a", since)
    assert "wrong horse" not in events[0].details

    last = _last_id(app)
    login(app.test_client(), "nobody.typed-this", "wrong horse battery staple")
    (unknown,) = _events_after(app, last)
    assert unknown.action == "login.failed" and unknown.ip == CLIENT_IP and unknown.actor_id is None
    assert not any("nobody" in str(getattr(unknown, column)) for column in AUDIT_COLUMNS)


def test_locking_and_a_locked_login_are_one_row_each(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LOCK_AFTER", 2)
    client = app.test_client()
    since, last = datetime.now(timezone.utc), _last_id(app)
    login(client, "caseworker.a", "wrong horse battery staple")
    login(client, "caseworker.a", "wrong horse battery staple")  # the second failure locks the account
    events = _events_after(app, last)
    assert [event.action for event in events] == ["login.failed", "login.failed", "login.locked"]
    assert json.loads(events[-1].details)["reason"] == "too_many_failures"

    last = _last_id(app)
    assert login(client, "caseworker.a", PASSWORD).status_code == 200  # right password, still locked
    events = _events_after(app, last)
    assert [event.action for event in events] == ["login.locked"]
    assert json.loads(events[0].details)["reason"] == "locked"
    for event in _events(app, AuditEvent.id > 0, AuditEvent.action.startswith("login.")):
        if _utc(event.occurred_at) >= since - timedelta(seconds=1):
            _assert_complete(event, world, "caseworker_a", since)


# --- views, searches, writes ---------------------------------------------------------------------------------------


def test_views_of_a_person_a_case_and_a_referral_are_one_row_each(app, world, login_as, register, directory):
    person_id, number = register("caseworker_a")
    case_id = _case_id(app, number)
    client = login_as("caseworker_a")
    _new_referral(client, world, case_id, "Recherche d'emploi")
    with app.app_context():
        referral_id = db.session.scalar(select(Referral.id))
    for url, action, object_type, object_id in (
            (f"/beneficiaries/{person_id}", "beneficiary.view", "beneficiary", person_id),
            (f"/cases/{case_id}", "case.view", "case_file", case_id),
            (f"/referrals/{referral_id}", "referral.view", "referral", referral_id)):
        since, last = datetime.now(timezone.utc), _last_id(app)
        assert client.get(url).status_code == 200, url
        events = _events_after(app, last)
        assert [event.action for event in events] == [action], url
        assert (events[0].object_type, events[0].object_id) == (object_type, object_id)
        _assert_complete(events[0], world, "caseworker_a", since)


def test_a_refused_view_leaves_no_view_row(app, world, login_as, register):
    person_id, _number = register("caseworker_a")
    last = _last_id(app)
    assert login_as("caseworker_b").get(f"/beneficiaries/{person_id}").status_code == 404
    assert [event.action for event in _events_after(app, last)] == ["login.ok"]


def test_a_search_is_one_row_with_filter_names_and_no_terms(app, world, login_as, register):
    register("caseworker_a", given_name="Ghizlane", family_name="Benjelloun", phone="+212 611 223 344")
    client = login_as("caseworker_a")
    for text in ("Ghizlane Benjelloun", "+212 611 223 344", "OUJ-"):
        since, last = datetime.now(timezone.utc), _last_id(app)
        _search(client, text)
        events = _events_after(app, last)
        event = _one(events, "case.search")
        assert json.loads(event.details) == {"filters": ["text"], "results": 1}, text
        _assert_complete(event, world, "caseworker_a", since)
        assert (event.object_type, event.object_id) == (None, None)
        for column in AUDIT_COLUMNS:
            value = str(getattr(event, column)).lower()
            assert not {"ghizlane", "benjelloun", "611 223", "611223344"} & set(re.findall(r"[\w ]+", value))
            assert "ghizlane" not in value and "611223344" not in value and text.lower() not in value


def test_writes_carry_field_names_not_values(app, world, login_as, directory):
    client = login_as("caseworker_a")
    since, last = datetime.now(timezone.utc), _last_id(app)
    submit_form(client, "/beneficiaries/new", "/beneficiaries/new", given_name="Hamza", family_name="Tazi",
                given_name_alt="", family_name_alt="", sex="M", date_of_birth="1991-02-03", nationality="MAR",
                profile="returnee", country_returned_from="LBY", commune_code="OUJ", phone="+212 622 334 455",
                languages=["ar"], document_type="cnie", document_number="AB123456", processing_basis="signed_form")
    with app.app_context():
        person = db.session.scalars(select(Beneficiary)).one()
        person_id, case_id = person.id, person.cases[0].id
    created = _events_after(app, last)
    registration = _one(created, "beneficiary.create")
    fields = json.loads(registration.details)["fields"]
    assert {"given_name", "family_name", "phone", "document_number", "date_of_birth"} <= set(fields)
    assert (registration.object_type, registration.object_id) == ("beneficiary", person_id)
    opened = _one(created, "case.open")
    assert (opened.object_type, opened.object_id) == ("case_file", case_id)

    submit_form(client, f"/cases/{case_id}", f"/cases/{case_id}/notes", kind="general", body="Texte de la note 4R")
    _new_referral(client, world, case_id, "Motif de l'orientation 9K")
    written = _events_after(app, last)
    note = _one(written, "case_note.create")
    assert json.loads(note.details) == {"case_id": case_id, "fields": ["body", "kind", "occurred_on"]}
    referral = _one(written, "referral.create")
    assert set(json.loads(referral.details)["fields"]) >= {"reason", "service_code", "receiving_partner_id"}
    consent = _one(written, "consent.record")
    assert consent.object_type == "consent_record"
    for event in written:
        if event.action.endswith((".create", ".open", ".record")):
            _assert_complete(event, world, "caseworker_a", since)
        text = " ".join(str(getattr(event, column)) for column in AUDIT_COLUMNS)
        for value in ("Hamza", "Tazi", "622 334 455", "622334455", "AB123456", "1991-02-03", "4R", "9K"):
            assert value not in text, (event.action, value)


# --- the canary ----------------------------------------------------------------------------------------------------


def test_a_canary_person_never_reaches_the_audit_trail_or_the_logs(app, world, login_as, directory, caplog):
    """The canary goes through registration, views, searches by name, phone and document, a note and a referral.

    Every logger runs at DEBUG, except SQLAlchemy's statement echo (off in every configuration: it prints bound
    parameters by design, so it must never be turned on where real data is).
    """
    caplog.set_level(logging.WARNING, logger="sqlalchemy")  # first: each call also sets the capture's own level
    caplog.set_level(logging.DEBUG)
    logging.getLogger("caseapp.audit").debug("capture check")  # the capture reaches the app's loggers
    client = login_as("caseworker_restricted")
    submit_form(client, "/beneficiaries/new", "/beneficiaries/new", given_name=CANARY_GIVEN,
                family_name=CANARY_FAMILY, given_name_alt=CANARY_ALT, family_name_alt="", sex="F",
                date_of_birth="1993-04-05", nationality="SEN", profile="foreign_migrant", country_returned_from="",
                commune_code="OUJ", phone=CANARY_PHONE, languages=["fr"], document_type="passport",
                document_number=CANARY_DOCUMENT, processing_basis="signed_form")
    with app.app_context():
        person = db.session.scalars(select(Beneficiary).where(Beneficiary.given_name == CANARY_GIVEN)).one()
        person_id, case_id = person.id, person.cases[0].id
        assert db.session.scalar(select(IdentityDocument.id).where(IdentityDocument.beneficiary_id == person_id))
    assert client.get(f"/beneficiaries/{person_id}").status_code == 200
    for text in (f"{CANARY_GIVEN} {CANARY_FAMILY}", CANARY_FAMILY.lower(), CANARY_PHONE, CANARY_DOCUMENT):
        _search(client, text)
    submit_form(client, f"/cases/{case_id}", f"/cases/{case_id}/notes", kind="general", body=CANARY_NOTE)
    submit_form(client, f"/cases/{case_id}", f"/cases/{case_id}/notes", kind="psychosocial", body=CANARY_NOTE)
    _new_referral(client, world, case_id, CANARY_REASON)
    with app.app_context():
        referral_id = db.session.scalar(select(Referral.id).where(Referral.case_id == case_id))
        assert db.session.scalar(select(CaseNote.id).where(CaseNote.case_id == case_id, CaseNote.restricted))
    assert client.get(f"/referrals/{referral_id}").status_code == 200
    assert client.get(f"/cases/{case_id}").status_code == 200
    # The supervisor and the data protection officer look at the person's access log and search the audit trail.
    assert login_as("supervisor_a").get(f"/people/{person_id}/access-log").status_code == 200
    dpo = login_as("dpo")
    assert dpo.get(f"/people/{person_id}/access-log").status_code == 200
    assert dpo.get(f"/audit?object_type=beneficiary&object_id={person_id}").status_code == 200
    assert dpo.get("/audit/export.csv").status_code == 200

    events = _events(app)
    actions = {event.action for event in events}
    assert {"beneficiary.create", "beneficiary.view", "case.search", "case_note.create", "referral.create",
            "referral.view", "case.view", "person.access_log_view", "audit.search", "audit.export"} <= actions
    for event in events:
        for column in AUDIT_COLUMNS:
            value = str(getattr(event, column)).lower()
            for canary in CANARY_STRINGS:
                assert canary.lower() not in value, (event.id, event.action, column, canary)

    assert any(log_record.getMessage() == "capture check" for log_record in caplog.records)
    for log_record in caplog.records:
        text = " ".join((log_record.getMessage(), str(log_record.args), log_record.exc_text or "",
                         str(getattr(log_record, "pathname", "")))).lower()
        for canary in CANARY_STRINGS:
            assert canary.lower() not in text, (log_record.name, canary)


def test_every_event_of_a_working_session_has_time_actor_partner_and_address(app, world, login_as, register,
                                                                               directory):
    person_id, number = register("caseworker_a")
    case_id = _case_id(app, number)
    since, last = datetime.now(timezone.utc), _last_id(app)
    client = login_as("caseworker_a")
    client.get(f"/beneficiaries/{person_id}")
    client.get(f"/cases/{case_id}")
    _search(client, "Mohamed")
    submit_form(client, f"/cases/{case_id}", f"/cases/{case_id}/notes", kind="general", body="Entretien",
                occurred_on=date.today().isoformat())
    _new_referral(client, world, case_id, "Recherche d'emploi")
    events = _events_after(app, last)
    assert len(events) >= 7
    for event in events:
        _assert_complete(event, world, "caseworker_a", since)

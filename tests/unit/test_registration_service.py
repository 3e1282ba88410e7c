"""register_beneficiary without HTTP: what a registration saves, case numbering, and every validation rule."""
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from sqlalchemy import func, select

from caseapp.audit.models import AuditEvent
from caseapp.auth.models import User
from caseapp.beneficiaries.lookup import phone_lookup_index
from caseapp.beneficiaries.models import (
    Beneficiary, BeneficiaryFlag, ConsentRecord, IdentityDocument,
)
from caseapp.beneficiaries.services import register_beneficiary
from caseapp.cases.models import Case, CaseNumberCounter
from caseapp.errors import ValidationFailed
from caseapp.extensions import db
from tests.conftest import valid_registration

TODAY = date(2026, 3, 15)
SAVED_MODELS = (Beneficiary, Case, ConsentRecord, IdentityDocument, BeneficiaryFlag, AuditEvent, CaseNumberCounter)


def _user(world, key: str) -> User:
    return db.session.get(User, world.users[key])


def _counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in SAVED_MODELS}


def _year() -> int:
    """The case-number year: the current year in the programme's time zone."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).year


def _register(world, user_key="caseworker_a", point="A-OUJ", today=None, **overrides):
    actor = _user(world, user_key)
    person, case = register_beneficiary(actor, valid_registration(world.service_points[point], **overrides),
                                        today=today)
    db.session.commit()
    return person, case


# --- success -----------------------------------------------------------------------------------------------------


def test_registration_saves_person_case_consents_and_audit(app_ctx, world):
    actor_id = world.users["caseworker_a"]
    before = _counts()
    person, case = _register(world, given_name="Yasmina", family_name="Benkirane", phone="+212 661 22 33 44",
                             document_type="passport", document_number="ZX998877", flags=["homeless"])

    after = _counts()
    assert after["Beneficiary"] == before["Beneficiary"] + 1
    assert after["Case"] == before["Case"] + 1
    assert after["IdentityDocument"] == before["IdentityDocument"] + 1
    assert after["BeneficiaryFlag"] == before["BeneficiaryFlag"] + 1

    saved = db.session.get(Beneficiary, person.id)
    assert (saved.given_name, saved.family_name) == ("Yasmina", "Benkirane")
    assert saved.registered_by_id == actor_id
    assert saved.registered_at_service_point_id == world.service_points["A-OUJ"]
    assert saved.phone == "+212 661 22 33 44" and saved.phone_index == phone_lookup_index("0661223344")
    assert saved.languages == "ar,fr"
    assert [(d.doc_type, d.number) for d in saved.documents] == [("passport", "ZX998877")]
    assert [f.flag_code for f in saved.flags] == ["homeless"]

    assert [c.id for c in saved.cases] == [case.id]
    assert case.partner_id == world.partners["A"]
    assert case.service_point_id == world.service_points["A-OUJ"]
    assert case.assigned_worker_id == actor_id and case.opened_by_id == actor_id
    assert case.status == "registered"

    consents = {(c.kind, c.method) for c in saved.consents}
    assert consents == {("processing", "signed_form"), ("statistics", "signed_form")}
    assert all(c.recorded_by_id == actor_id and c.withdrawn_at is None for c in saved.consents)

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == actor_id)).all()
    by_action = {event.action: event for event in events}
    assert set(by_action) == {"beneficiary.create", "case.open"}
    create = by_action["beneficiary.create"]
    assert (create.object_type, create.object_id, create.partner_id) == ("beneficiary", person.id, world.partners["A"])
    fields = json.loads(create.details)["fields"]
    assert {"given_name", "family_name", "phone", "document_number", "flags"} <= set(fields)
    opened = by_action["case.open"]
    assert (opened.object_type, opened.object_id) == ("case_file", case.id)


def test_audit_rows_hold_field_names_never_values(app_ctx, world):
    values = dict(given_name="Yasmina", family_name="Benkirane", given_name_alt="ياسمينة", family_name_alt="بنكيران",
                  phone="+212 661 22 33 44", document_type="cnie", document_number="ZX998877",
                  processing_basis="oral_witness", witness_name="Khadija Witness", statistics_consent=True)
    _register(world, **values)
    details = [event.details for event in db.session.scalars(select(AuditEvent))]
    assert details
    for secret in ("Yasmina", "yasmina", "Benkirane", "ياسمينة", "بنكيران", "661", "ZX998877", "Khadija",
                   "1990-05-17"):
        assert not any(secret in row for row in details), secret


def test_oral_consent_keeps_the_witness_and_legal_basis_keeps_its_text(app_ctx, world):
    oral, _ = _register(world, processing_basis="oral_witness", witness_name="Khadija", statistics_consent=True)
    assert {(c.kind, c.witness_name) for c in oral.consents} == {("processing", "Khadija"), ("statistics", "Khadija")}
    legal, _ = _register(world, processing_basis="legal_basis", legal_basis="Loi 09-08, art. 4",
                         statistics_consent=False)
    assert [(c.kind, c.method, c.legal_basis) for c in legal.consents] == [
        ("processing", "legal_basis", "Loi 09-08, art. 4")]


def test_without_statistics_consent_only_processing_is_recorded(app_ctx, world):
    person, _ = _register(world, statistics_consent=False)
    assert [c.kind for c in person.consents] == ["processing"]


def test_estimated_birth_year_is_saved_as_first_of_january(app_ctx, world):
    person, _ = _register(world, date_of_birth=None, dob_estimated=True, birth_year=1985)
    assert person.date_of_birth == date(1985, 1, 1) and person.dob_estimated


def test_age_of_exactly_120_is_accepted(app_ctx, world):
    person, _ = _register(world, today=TODAY, date_of_birth=date(TODAY.year - 120, TODAY.month, TODAY.day))
    assert person.date_of_birth.year == TODAY.year - 120


def test_arabic_script_names_are_accepted_and_stored_as_written(app_ctx, world):
    person, _ = _register(world, given_name="مُحَمَّد", family_name="العَمْرانيّ", given_name_alt="Mohamed",
                          family_name_alt="El Amrani")
    db.session.expire_all()
    saved = db.session.get(Beneficiary, person.id)
    assert saved.given_name == "مُحَمَّد"
    assert saved.family_name == "العَمْرانيّ"
    assert saved.display_name == "مُحَمَّد العَمْرانيّ"
    # The search key drops the short vowels so that searching without them finds the person.
    assert "محمد" in saved.name_search and "العمراني" in saved.name_search and "el amrani" in saved.name_search


def test_a_user_with_restricted_access_may_set_a_restricted_flag(app_ctx, world):
    person, _ = _register(world, "caseworker_restricted", flags=["gbv_survivor", "homeless"])
    assert [f.flag_code for f in person.flags] == ["gbv_survivor", "homeless"]


# --- case numbers ------------------------------------------------------------------------------------------------


def test_case_numbers_increase_per_commune_and_year_and_are_unique(app_ctx, world):
    year = _year()
    numbers = [_register(world)[1].number for _ in range(3)]
    assert numbers == [f"OUJ-{year}-00001", f"OUJ-{year}-00002", f"OUJ-{year}-00003"]
    # Another commune has its own sequence; the number follows the service point, not the person's commune.
    assert _register(world, "caseworker_a2", "A-NAD", commune_code="OUJ")[1].number == f"NAD-{year}-00001"
    assert _register(world, "caseworker_b", "B-BEM", commune_code="BEM")[1].number == f"BEM-{year}-00001"
    assert _register(world)[1].number == f"OUJ-{year}-00004"
    all_numbers = list(db.session.scalars(select(Case.number)))
    assert len(all_numbers) == len(set(all_numbers)) == 6


def test_a_rolled_back_registration_leaves_no_gap_in_the_numbers(app_ctx, world):
    year = _year()
    assert _register(world)[1].number == f"OUJ-{year}-00001"
    actor = _user(world, "caseworker_a")
    register_beneficiary(actor, valid_registration(world.service_points["A-OUJ"]))
    db.session.rollback()
    # The counter bump was rolled back with the rest: the next committed case takes the next number.
    assert _register(world)[1].number == f"OUJ-{year}-00002"


def test_a_refused_registration_does_not_consume_a_number(app_ctx, world):
    year = _year()
    with pytest.raises(ValidationFailed):
        _register(world, phone="not a phone")
    assert _register(world)[1].number == f"OUJ-{year}-00001"


# --- validation: one rule at a time ------------------------------------------------------------------------------

RULES = {
    "future date of birth": ("date_of_birth", dict(date_of_birth=TODAY + timedelta(days=1))),
    "age over 120": ("date_of_birth", dict(date_of_birth=date(TODAY.year - 121, 3, 15))),
    "estimated dob without year": ("birth_year", dict(date_of_birth=None, dob_estimated=True, birth_year=None)),
    "future birth year": ("birth_year", dict(date_of_birth=None, dob_estimated=True, birth_year=TODAY.year + 1)),
    "estimated age over 120": ("birth_year", dict(date_of_birth=None, dob_estimated=True, birth_year=TODAY.year - 121)),
    "no date of birth": ("date_of_birth", dict(date_of_birth=None)),
    "unknown commune": ("commune_code", dict(commune_code="XXX")),
    "direction override in a name": ("given_name", dict(given_name="\u202eEvil")),
    "isolate in an alternative name": ("family_name_alt", dict(family_name_alt="\u2067العمراني\u2069")),
    "control character in a name": ("family_name", dict(family_name="El\x1bAmrani")),
    "empty commune": ("commune_code", dict(commune_code="")),
    "unknown nationality": ("nationality", dict(nationality="ZZZ")),
    "returnee without country": ("country_returned_from", dict(profile="returnee", country_returned_from="")),
    "unknown country returned from": ("country_returned_from", dict(country_returned_from="XYZ")),
    "missing consent": ("processing_basis", dict(processing_basis="", statistics_consent=False)),
    "unknown consent method": ("processing_basis", dict(processing_basis="implied", statistics_consent=False)),
    "oral consent without witness": ("witness_name", dict(processing_basis="oral_witness", witness_name="  ")),
    "legal basis without text": ("legal_basis", dict(processing_basis="legal_basis", legal_basis=" ",
                                                     statistics_consent=False)),
    "statistics consent with legal basis": ("statistics_consent", dict(processing_basis="legal_basis",
                                                                       legal_basis="Loi 09-08",
                                                                       statistics_consent=True)),
    "document number without type": ("document_type", dict(document_type="", document_number="AB123456")),
    "document type without number": ("document_number", dict(document_type="passport", document_number="")),
    "restricted flag without restricted access": ("flags", dict(flags=["gbv_survivor"])),
    "unknown flag": ("flags", dict(flags=["not_a_flag"])),
    "phone with letters": ("phone", dict(phone="06 12 AB 34 56")),
    "phone too short": ("phone", dict(phone="12-34")),
    "arrival date in the future": ("arrival_date", dict(arrival_date=TODAY + timedelta(days=1))),
    "arrival before birth": ("arrival_date", dict(arrival_date=date(1980, 1, 1))),
    "missing given name": ("given_name", dict(given_name="   ")),
    "name too long": ("family_name", dict(family_name="x" * 121)),
    "unknown sex": ("sex", dict(sex="X")),
    "unknown profile": ("profile", dict(profile="tourist", country_returned_from="")),
    "unknown language": ("languages", dict(languages=["ar", "klingon"])),
}


def _refused_fields(actor, data) -> list[str] | str:
    """The fields a refused registration names, or "saved" when it was not refused."""
    try:
        register_beneficiary(actor, data, today=TODAY)
    except ValidationFailed as refused:
        assert all(message.strip() for messages in refused.errors.values() for message in messages)
        return sorted(refused.errors)
    return "saved"


def test_each_rule_refuses_on_its_field_and_saves_nothing(app_ctx, world):
    actor = _user(world, "caseworker_a")
    before = _counts()
    refused = {rule: _refused_fields(actor, valid_registration(world.service_points["A-OUJ"], **overrides))
               for rule, (_, overrides) in RULES.items()}
    assert refused == {rule: [field] for rule, (field, _) in RULES.items()}
    assert _counts() == before
    assert not db.session.new


def test_a_service_point_not_the_actors_is_refused(app_ctx, world):
    actor = _user(world, "caseworker_a")
    before = _counts()
    refused = {point: _refused_fields(actor, valid_registration(world.service_points[point]))
               for point in ("A-NAD", "B-BEM")}
    assert refused == {"A-NAD": ["service_point_id"], "B-BEM": ["service_point_id"]}
    assert _counts() == before


def test_a_missing_service_point_is_refused(app_ctx, world):
    with pytest.raises(ValidationFailed) as refused:
        register_beneficiary(_user(world, "caseworker_a"), valid_registration(None), today=TODAY)
    assert set(refused.value.errors) == {"service_point_id"}


def test_all_errors_are_reported_at_once(app_ctx, world):
    before = _counts()
    overrides = dict(date_of_birth=TODAY + timedelta(days=3), phone="call me", commune_code="XXX",
                     processing_basis="", statistics_consent=False, flags=["trafficking_victim"])
    with pytest.raises(ValidationFailed) as refused:
        register_beneficiary(_user(world, "caseworker_a"), valid_registration(world.service_points["A-OUJ"],
                                                                               **overrides), today=TODAY)
    assert set(refused.value.errors) == {"date_of_birth", "phone", "commune_code", "processing_basis", "flags"}
    assert _counts() == before


def test_input_that_could_not_be_parsed_is_reported_once_with_the_other_errors(app_ctx, world):
    unparsed = {"arrival_date": ["Not a valid date value."]}
    with pytest.raises(ValidationFailed) as refused:
        register_beneficiary(_user(world, "caseworker_a"),
                             valid_registration(world.service_points["A-OUJ"], phone="abc"),
                             today=TODAY, unparsed=unparsed)
    assert refused.value.errors["arrival_date"] == ["Not a valid date value."]
    assert set(refused.value.errors) == {"arrival_date", "phone"}


def test_users_without_service_points_cannot_register_anywhere(app_ctx, world):
    before = _counts()
    for user_key in ("me_officer", "admin", "receiver"):
        assert _refused_fields(_user(world, user_key),
                               valid_registration(world.service_points["A-OUJ"])) == ["service_point_id"], user_key
    assert _counts() == before

"""Merging two records of one person: every child record moves, chosen fields are kept, undo restores both exactly;
tombstones are left out of searches, lists, duplicates and report counts; scope, conflicts, audit, double posts."""
import json
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from flask_babel import gettext
from sqlalchemy import inspect, select

from caseapp.access.policy import scope
from caseapp.audit.models import AuditEvent
from caseapp.auth.models import User
from caseapp.beneficiaries.blocking import person_keys
from caseapp.beneficiaries.duplicates import find_duplicates
from caseapp.beneficiaries.households import link_household
from caseapp.beneficiaries.lookup import phone_lookup_index
from caseapp.beneficiaries.merge import current_record, merge_people, merge_snapshot, undo_merge
from caseapp.beneficiaries.models import (
    Beneficiary, BeneficiaryFlag, ConsentRecord, IdentityDocument, PersonKey, PersonMerge,
)
from caseapp.beneficiaries.normalize import name_search_key
from caseapp.beneficiaries.services import register_beneficiary
from caseapp.cases.models import Case, CaseNote
from caseapp.cases.notes import add_note
from caseapp.cases.services import search_cases
from caseapp.errors import DomainError, EditConflict, NotAllowed, ValidationFailed
from caseapp.extensions import db
from caseapp.referrals.models import DirectoryEntry, Referral
from caseapp.referrals.services import create_referral
from caseapp.reports.indicators import ACTIVE_CASES, REGISTERED, build_indicators
from caseapp.reports.periods import parse_period
from tests.conftest import valid_registration

TODAY = date.today()


def _user(world, key: str) -> User:
    return db.session.get(User, world.users[key])


def _register(world, user_key: str, point: str, **overrides) -> Beneficiary:
    person, _case = register_beneficiary(_user(world, user_key),
                                         valid_registration(world.service_points[point], **overrides))
    db.session.flush()
    return person


@pytest.fixture
def pair(app_ctx, world):
    """The same person registered twice (A-OUJ and A-NAD), each with documents, flags, consents; the second record
    also has a note and a referral on its case, and a household."""
    kept = _register(world, "caseworker_a", "A-OUJ", document_type="passport", document_number="ZX998877",
                     flags=["homeless", "single_parent"])
    merged = _register(world, "caseworker_a2", "A-NAD", given_name="Mohammed", family_name="Elamrani",
                       given_name_alt="", family_name_alt="", date_of_birth=date(1990, 5, 18),
                       phone="+212 655 00 11 22", languages=["ar"], document_type="cnie",
                       document_number="K 123 456", flags=["homeless", "no_income"], statistics_consent=False,
                       processing_basis="oral_witness", witness_name="A neighbour")
    housemate = _register(world, "caseworker_a2", "A-NAD", given_name="Fatima", family_name="Zahra",
                          given_name_alt="", family_name_alt="", sex="F", date_of_birth=date(1992, 2, 2))
    worker2 = _user(world, "caseworker_a2")
    link_household(worker2, merged, housemate)
    case = merged.cases[0]
    add_note(worker2, case, kind="general", body="Visit at home", occurred_on=TODAY, today=TODAY)
    db.session.add(DirectoryEntry(partner_id=world.partners["C"], service_code="employment.anapec",
                                  commune_code="OUJ"))
    db.session.flush()
    create_referral(worker2, case, service_code="employment.anapec", receiving_partner_id=world.partners["C"],
                    priority="normal", reason="Looking for work", consent_method="signed_form",
                    shared_fields=["nationality"])
    db.session.commit()
    return kept.id, merged.id


def _columns(obj, skip=()) -> dict:
    return {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs if attr.key not in skip}


def _state(person_id: int) -> dict:
    """Everything about one person: its row (but the version counter) and every child record, in full."""
    db.session.expire_all()
    person = db.session.get(Beneficiary, person_id)
    cases = db.session.scalars(select(Case).where(Case.beneficiary_id == person_id).order_by(Case.id)).all()
    case_ids = [case.id for case in cases]
    return {
        "person": _columns(person, skip=("version",)),
        "cases": [_columns(case) for case in cases],
        "notes": [_columns(note) for note in db.session.scalars(
            select(CaseNote).where(CaseNote.case_id.in_(case_ids)).order_by(CaseNote.id))],
        "referrals": [_columns(item) for item in db.session.scalars(
            select(Referral).where(Referral.case_id.in_(case_ids)).order_by(Referral.id))],
        "documents": [_columns(doc) for doc in db.session.scalars(
            select(IdentityDocument).where(IdentityDocument.beneficiary_id == person_id)
            .order_by(IdentityDocument.id))],
        "flags": [_columns(flag) for flag in db.session.scalars(
            select(BeneficiaryFlag).where(BeneficiaryFlag.beneficiary_id == person_id)
            .order_by(BeneficiaryFlag.flag_code))],
        "consents": [_columns(consent) for consent in db.session.scalars(
            select(ConsentRecord).where(ConsentRecord.beneficiary_id == person_id).order_by(ConsentRecord.id))],
        "keys": sorted(db.session.scalars(select(PersonKey.key).where(PersonKey.beneficiary_id == person_id))),
    }


def _merge(world, kept_id: int, merged_id: int, choices=None, actor="supervisor_a", **kwargs) -> PersonMerge:
    kept, merged = db.session.get(Beneficiary, kept_id), db.session.get(Beneficiary, merged_id)
    result = merge_people(_user(world, actor), kept, merged, choices or {}, **kwargs)
    db.session.commit()
    return result


def test_the_merge_keeps_every_child_record_and_the_chosen_fields(world, pair):
    kept_id, merged_id = pair
    before = {person_id: _state(person_id) for person_id in pair}
    _merge(world, kept_id, merged_id, {"given_name": "merged", "phone": "merged", "date_of_birth": "merged",
                                       "languages": "kept", "family_name": "kept"})
    assert all(before[merged_id][kind] for kind in ("cases", "notes", "referrals", "documents", "flags", "consents"))
    after = _state(kept_id)
    for kind in ("cases", "notes", "referrals", "documents", "consents"):
        ids = sorted(row["id"] for person_id in pair for row in before[person_id][kind])
        assert sorted(row["id"] for row in after[kind]) == ids, kind
    assert [row["beneficiary_id"] for row in after["cases"]] == [kept_id, kept_id]
    assert after["cases"] == sorted((dict(row, beneficiary_id=kept_id) for person_id in pair
                                     for row in before[person_id]["cases"]), key=lambda row: row["id"])
    assert [flag["flag_code"] for flag in after["flags"]] == ["homeless", "no_income", "single_parent"]
    homeless = [flag for flag in after["flags"] if flag["flag_code"] == "homeless"][0]
    assert homeless == before[kept_id]["flags"][0]  # the kept record's own flag stays
    person = after["person"]
    assert (person["given_name"], person["family_name"]) == ("Mohammed", "El Amrani")
    assert (person["date_of_birth"], person["phone"]) == (date(1990, 5, 18), "+212 655 00 11 22")
    assert person["phone_index"] == phone_lookup_index("0655001122")
    assert person["languages"] == "ar,fr"
    assert person["name_search"] == name_search_key("Mohammed", "El Amrani", "محمد", "العمراني")
    expected_keys = person_keys(("Mohammed", "محمد"), ("El Amrani", "العمراني"), date(1990, 5, 18)) \
        | person_keys(("Mohammed", ""), ("Elamrani", ""), date(1990, 5, 18))  # and its former spelling's
    assert after["keys"] == sorted(expected_keys)
    assert person["household_id"] == before[merged_id]["person"]["household_id"]
    tombstone = _state(merged_id)
    assert tombstone["person"]["merged_into_id"] == kept_id and tombstone["person"]["household_id"] is None
    assert all(not tombstone[kind] for kind in ("cases", "documents", "flags", "consents", "keys"))
    assert current_record(merged_id).id == kept_id and current_record(kept_id) is None


def test_undo_restores_both_records_exactly(world, pair):
    kept_id, merged_id = pair
    before = {person_id: _state(person_id) for person_id in pair}
    person_merge = _merge(world, kept_id, merged_id, {name: "merged" for name in (
        "given_name", "family_name", "given_name_alt", "family_name_alt", "date_of_birth", "phone", "languages",
        "commune_code")})
    assert _state(kept_id) != before[kept_id] and before[merged_id]["person"]["household_id"] is not None
    undo_merge(_user(world, "supervisor_a"), person_merge)
    db.session.commit()
    assert {person_id: _state(person_id) for person_id in pair} == before
    person_merge = db.session.get(PersonMerge, person_merge.id)
    assert person_merge.undone_at is not None and person_merge.undone_by_id == world.users["supervisor_a"]
    with pytest.raises(DomainError, match=re.escape(gettext("This merge was already undone."))):
        undo_merge(_user(world, "supervisor_a"), person_merge)


def test_undo_is_refused_once_a_record_changed_since(world, pair):
    kept_id, merged_id = pair
    person_merge = _merge(world, kept_id, merged_id)
    kept = db.session.get(Beneficiary, kept_id)
    kept.is_household_head = not kept.is_household_head  # any later save of the kept record
    db.session.commit()
    with pytest.raises(DomainError, match=re.escape(gettext(
            "The records were changed after the merge, so it cannot be undone safely."))) as refusal:
        undo_merge(_user(world, "supervisor_a"), person_merge)
    assert not isinstance(refusal.value, NotAllowed)
    db.session.rollback()
    assert db.session.get(Beneficiary, merged_id).merged_into_id == kept_id


def test_undo_is_refused_while_a_later_merge_of_the_kept_record_stands(world, pair):
    kept_id, merged_id = pair
    first = _merge(world, kept_id, merged_id)
    third = _register(world, "caseworker_a", "A-OUJ", given_name="Mouhamed")
    db.session.commit()
    _merge(world, third.id, kept_id)
    with pytest.raises(DomainError):
        undo_merge(_user(world, "supervisor_a"), db.session.get(PersonMerge, first.id))
    db.session.rollback()
    assert current_record(merged_id).id == third.id  # a tombstone of a tombstone leads to the living record


def test_a_merged_record_is_absent_from_search_lists_and_duplicates(world, pair):
    kept_id, merged_id = pair
    supervisor = _user(world, "supervisor_a")
    record = {"given_name": "Mohammed", "family_name": "Elamrani", "sex": "M", "date_of_birth": "1990-05-18",
              "dob_is_estimated": False, "nationality": "MAR", "document_number": "K123456"}
    assert {person.id for person, _ in find_duplicates(supervisor, record).visible} == {kept_id, merged_id}
    _merge(world, kept_id, merged_id)
    supervisor = _user(world, "supervisor_a")
    found = find_duplicates(supervisor, record)
    assert [person.id for person, _ in found.visible] == [kept_id] and found.outside_scope == 0
    for text in ("Elamrani", "Mohammed", "0655001122", "K123456"):
        page = search_cases(supervisor, text=text, audit=False)
        assert {case.beneficiary_id for case in page.items} <= {kept_id}, text
    listed = set(db.session.scalars(scope(supervisor, select(Beneficiary.id), Beneficiary)))
    assert kept_id in listed and merged_id not in listed
    # Even with a case left on it (as an import could), a tombstone is listed for no one.
    db.session.get(Case, db.session.scalars(select(Case.id).where(Case.beneficiary_id == kept_id)).first()) \
        .beneficiary_id = merged_id
    db.session.flush()
    assert merged_id not in set(db.session.scalars(scope(supervisor, select(Beneficiary.id), Beneficiary)))
    assert all(case.beneficiary_id != merged_id for case in search_cases(supervisor, text="Elamrani",
                                                                            audit=False).items)
    left = db.session.scalars(select(Case).where(Case.beneficiary_id == merged_id)).one()
    assert search_cases(supervisor, text=left.number, audit=False).total == 0  # nor through its case number


def _this_month():
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return parse_period(datetime.now(zone).strftime("%Y-%m"))


def _counts() -> tuple[int, int, int]:
    data = build_indicators(_this_month())
    return (data.table(REGISTERED, ("region", "sex")).value(), data.table(ACTIVE_CASES, ("profile",)).value(),
            data.excluded_without_consent)


def test_reports_count_the_person_once_after_a_merge_and_twice_after_its_undo(world, pair):
    kept_id, merged_id = pair
    before = _counts()
    assert before == (2, 2, 1)  # the kept record and the housemate consented; the merged record did not
    person_merge = _merge(world, kept_id, merged_id)
    # The tombstone is neither counted nor excluded; its case is now counted with the kept record (which consented).
    assert _counts() == (2, 3, 0)
    undo_merge(_user(world, "supervisor_a"), person_merge)
    db.session.commit()
    assert _counts() == before


def test_both_records_must_be_in_the_supervisors_scope(world, pair):
    kept_id, merged_id = pair
    elsewhere = _register(world, "caseworker_b", "B-BEM").id
    db.session.commit()
    for actor, other in (("supervisor_b", merged_id), ("caseworker_a", merged_id), ("supervisor_a", elsewhere)):
        with pytest.raises(NotAllowed):
            _merge(world, kept_id, other, actor=actor)
        db.session.rollback()
    assert db.session.scalar(select(PersonMerge.id)) is None
    person_merge = _merge(world, kept_id, merged_id)
    for actor in ("supervisor_b", "caseworker_a"):
        with pytest.raises(NotAllowed):
            undo_merge(_user(world, actor), db.session.get(PersonMerge, person_merge.id))
        db.session.rollback()


def test_a_record_saved_since_the_comparison_is_a_conflict(world, pair):
    kept_id, merged_id = pair
    versions = (db.session.get(Beneficiary, kept_id).version, db.session.get(Beneficiary, merged_id).version)
    db.session.get(Beneficiary, merged_id).is_household_head = False  # someone saves the other record meanwhile
    db.session.commit()
    with pytest.raises(EditConflict):
        _merge(world, kept_id, merged_id, expected_versions=versions)
    db.session.rollback()
    assert db.session.get(Beneficiary, merged_id).merged_into_id is None
    assert db.session.scalar(select(PersonMerge.id)) is None


def test_wrong_choices_and_wrong_pairs_are_refused(world, pair):
    kept_id, merged_id = pair
    with pytest.raises(ValidationFailed) as failure:
        _merge(world, kept_id, merged_id, {"version": "merged", "sex": "both"})
    assert set(failure.value.errors) == {"version", "sex"}
    db.session.rollback()
    with pytest.raises(ValidationFailed) as failure:  # a returnee needs the country returned from
        db.session.get(Beneficiary, merged_id).country_returned_from = None
        _merge(world, kept_id, merged_id, {"country_returned_from": "merged"})
    assert set(failure.value.errors) == {"country_returned_from"}
    db.session.rollback()
    with pytest.raises(DomainError):
        _merge(world, kept_id, kept_id)
    db.session.rollback()
    _merge(world, kept_id, merged_id)
    third = _register(world, "caseworker_a", "A-OUJ").id
    db.session.commit()
    with pytest.raises((DomainError, NotAllowed)):  # a tombstone cannot be merged again
        _merge(world, third, merged_id)


def test_audit_events_name_ids_and_fields_never_values(world, pair):
    kept_id, merged_id = pair
    person_merge = _merge(world, kept_id, merged_id, {"given_name": "merged", "phone": "merged"})
    undo_merge(_user(world, "supervisor_a"), person_merge)
    db.session.commit()
    events = {event.action: event for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(("person.merge", "person.merge_undo"))))}
    assert set(events) == {"person.merge", "person.merge_undo"}
    details = json.loads(events["person.merge"].details)
    assert details["fields"] == ["given_name", "phone"]
    assert (details["kept_id"], details["merged_id"]) == (kept_id, merged_id)
    for event in events.values():
        text = event.details
        for value in ("Mohammed", "Mohamed", "Amrani", "655", "612", "1990", "ZX998877", "K 123", "homeless",
                      "no_income", "neighbour"):
            assert value not in text, (event.action, value)


def test_the_same_form_posted_twice_merges_once(world, pair):
    kept_id, merged_id = pair
    first = _merge(world, kept_id, merged_id, form_token="token-1")
    again = _merge(world, kept_id, merged_id, form_token="token-1")
    assert again.id == first.id
    assert len(db.session.scalars(select(PersonMerge)).all()) == 1
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "person.merge")).all()) == 1
    assert merge_snapshot(first)["moved"]["flags"] == ["no_income"]


def test_anonymising_the_kept_person_erases_the_tombstone_and_the_undo_snapshot(app_ctx, world, register):
    """The merged record is the same person: erasure reaches it, and the merge's undo data goes too."""
    from caseapp.privacy.services import anonymise_person

    kept_id, _ = register("caseworker_a", given_name="Keptcanary", family_name="Doublon")
    merged_id, _ = register("caseworker_a", given_name="Mergedcanary", family_name="Doublon")
    supervisor = db.session.get(User, world.users["supervisor_a"])
    kept, merged = db.session.get(Beneficiary, kept_id), db.session.get(Beneficiary, merged_id)
    merge = merge_people(supervisor, kept, merged, {}, (kept.version, merged.version))
    db.session.commit()
    anonymise_person(db.session.get(User, world.users["dpo"]), kept, "subject_request")
    db.session.commit()
    merged = db.session.get(Beneficiary, merged_id)
    assert merged.given_name != "Mergedcanary" and merged.anonymised_at is not None
    assert "canary" not in json.dumps(merge_snapshot(db.session.get(PersonMerge, merge.id))).lower()
    with pytest.raises(DomainError):
        undo_merge(supervisor, db.session.get(PersonMerge, merge.id))


def test_the_kept_record_is_found_under_the_merged_records_former_spelling_until_the_undo(world, app_ctx):
    """Searching or registering under the spelling of the merged record finds the person it now lives in."""
    kept_id = _register(world, "caseworker_a", "A-OUJ").id  # Mohamed El Amrani
    merged_id = _register(world, "caseworker_a2", "A-NAD", given_name="Mohammed", family_name="Ouazzani",
                          given_name_alt="", family_name_alt="", date_of_birth=date(1990, 5, 18)).id
    db.session.commit()
    supervisor = _user(world, "supervisor_a")
    assert {case.beneficiary_id for case in search_cases(supervisor, text="Ouazzani", audit=False).items} \
        == {merged_id}
    person_merge = _merge(world, kept_id, merged_id)
    supervisor = _user(world, "supervisor_a")
    for text in ("Ouazzani", "Mohammed Ouazzani", "محمد الوزاني"):
        found = {case.beneficiary_id for case in search_cases(supervisor, text=text, audit=False).items}
        assert found == {kept_id}, text
    record = {"given_name": "Muhammad", "family_name": "Wazzani", "sex": "M", "date_of_birth": "1990-05-18",
              "dob_is_estimated": False, "nationality": "MAR", "document_number": ""}
    assert kept_id in {person.id for person, _ in find_duplicates(supervisor, record).visible}
    undo_merge(supervisor, db.session.get(PersonMerge, person_merge.id))
    db.session.commit()
    assert {case.beneficiary_id for case in search_cases(supervisor, text="Ouazzani", audit=False).items} \
        == {merged_id}

"""Blocking keys at registration: search across scripts and spellings, and likely duplicates within scope."""
from datetime import date

import pytest
from sqlalchemy import func, select

from caseapp.auth.models import User
from caseapp.beneficiaries.duplicates import find_duplicates
from caseapp.beneficiaries.models import Beneficiary, PersonKey
from caseapp.cases.services import search_cases
from caseapp.extensions import db


def _user(world, key):
    return db.session.get(User, world.users[key])


@pytest.fixture
def amrani(register, world):
    """Mohamed El Amrani, registered in Latin script only (no Arabic spelling on file), at A-OUJ."""
    person_id, _ = register("caseworker_a", given_name="Mohamed", family_name="El Amrani", given_name_alt="",
                            family_name_alt="", date_of_birth=date(1990, 5, 17), document_type="passport",
                            document_number="XK 123 4567")
    return person_id


def _found(world, text, user="caseworker_a"):
    return {case.beneficiary_id for case in search_cases(_user(world, user), text=text, audit=False).items}


@pytest.mark.parametrize("text", ["محمد العمراني", "Muhammad Amrani", "Amrani Mohammed", "العمراني", "Mohammed"])
def test_a_name_is_found_across_scripts_and_spellings(app_ctx, world, amrani, text):
    assert _found(world, text) == {amrani}


def test_search_across_scripts_stays_within_scope(app_ctx, world, amrani):
    assert _found(world, "محمد العمراني", user="caseworker_b") == set()


def test_a_likely_duplicate_is_shown_in_scope_and_only_counted_outside(app_ctx, world, amrani):
    record = {"given_name": "Mohammed", "family_name": "Amrani", "sex": "M", "date_of_birth": "1990-05-17",
              "dob_is_estimated": False, "nationality": "MAR", "document_number": ""}
    mine = find_duplicates(_user(world, "caseworker_a"), record)
    assert [person.id for person, _ in mine.visible] == [amrani] and mine.outside_scope == 0
    theirs = find_duplicates(_user(world, "caseworker_b"), record)
    assert theirs.visible == [] and theirs.outside_scope == 1


def test_arabic_spelling_and_swapped_day_month_still_match(app_ctx, world, amrani):
    record = {"given_name": "محمد", "family_name": "العمراني", "sex": "M", "date_of_birth": "1990-05-17",
              "dob_is_estimated": False, "nationality": "MAR", "document_number": ""}
    assert [p.id for p, _ in find_duplicates(_user(world, "caseworker_a"), record).visible] == [amrani]


def test_a_namesake_born_decades_apart_is_not_a_duplicate(app_ctx, world, amrani):
    record = {"given_name": "Mohamed", "family_name": "El Amrani", "sex": "M", "date_of_birth": "1961-02-03",
              "dob_is_estimated": False, "nationality": "MAR", "document_number": ""}
    assert find_duplicates(_user(world, "caseworker_a"), record).visible == []


def test_the_same_document_number_in_another_format_finds_the_person(app_ctx, world, amrani):
    """Found through the document's blind index even with no name key in common (keys removed here)."""
    from sqlalchemy import delete

    db.session.execute(delete(PersonKey).where(PersonKey.beneficiary_id == amrani))
    record = {"given_name": "Mohamad", "family_name": "Amrany", "sex": "M", "date_of_birth": "",
              "dob_is_estimated": False, "nationality": "MAR", "document_number": "xk-1234567"}
    assert [p.id for p, _ in find_duplicates(_user(world, "caseworker_a"), record).visible] == [amrani]


def test_every_registered_person_gets_keys_and_anonymisation_removes_them(app_ctx, world, amrani):
    from caseapp.privacy.services import anonymise_person

    assert db.session.scalar(select(func.count()).select_from(PersonKey).where(
        PersonKey.beneficiary_id == amrani)) >= 4
    anonymise_person(_user(world, "dpo"), db.session.get(Beneficiary, amrani), "subject_request")
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(PersonKey).where(
        PersonKey.beneficiary_id == amrani)) == 0

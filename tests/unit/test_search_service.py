"""search_cases: by name (accents, case, Arabic letter forms), case number and phone; filters, pages, scope, audit;
and the normalizers behind it."""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from sqlalchemy import select

from caseapp.audit.models import AuditEvent
from caseapp.auth.models import User
from caseapp.beneficiaries.lookup import phone_lookup_index
from caseapp.beneficiaries.models import Beneficiary
from caseapp.beneficiaries.normalize import name_search_key, normalize_name, phone_digits
from caseapp.cases.models import Case
from caseapp.cases.services import CaseFilters, recent_cases, search_cases
from caseapp.extensions import db



def _year() -> int:
    """The case-number year: the current year in the programme's time zone."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).year


def _user(world, key: str) -> User:
    return db.session.get(User, world.users[key])


def _names(page) -> set[str]:
    return {case.beneficiary.display_name for case in page.items}


@pytest.fixture
def people(register):
    """Persons at A-OUJ (caseworker_a), A-NAD (caseworker_a2) and B-BEM (caseworker_b); name → case number.

    B's person has the very same name and phone as A's first one, so only scope can keep it out.
    """
    numbers = {}
    numbers["Mohamed El Amrani"] = register(
        "caseworker_a", given_name="Mohamed", family_name="El Amrani", given_name_alt="محمد",
        family_name_alt="العمراني", phone="+212 612 345 678")[1]
    numbers["Aïcha Bennani"] = register(
        "caseworker_a", given_name="Aïcha", family_name="Bennani", given_name_alt="عائشة", family_name_alt="بناني",
        phone="0698 76 54 32")[1]
    numbers["Ahmed Ouali"] = register(
        "caseworker_a", given_name="Ahmed", family_name="Ouali", given_name_alt="أحمد", family_name_alt="الوالي",
        phone="")[1]
    numbers["Karim Nadori"] = register(
        "caseworker_a2", "A-NAD", given_name="Karim", family_name="Nadori", given_name_alt="", family_name_alt="",
        commune_code="NAD", phone="0677 00 11 22")[1]
    numbers["Mohamed El Amrani (B)"] = register(
        "caseworker_b", "B-BEM", given_name="Mohamed", family_name="El Amrani", given_name_alt="محمد",
        family_name_alt="العمراني", commune_code="BEM", phone="+212 612 345 678")[1]
    return numbers


def _numbers(page) -> set[str]:
    return {case.number for case in page.items}


# --- by name -----------------------------------------------------------------------------------------------------


def _found(world, texts, user_key="caseworker_a") -> dict[str, set[str]]:
    user = _user(world, user_key)
    return {text: _numbers(search_cases(user, text=text)) for text in texts}


def test_name_search_ignores_case_accents_order_and_separators(app_ctx, world, people):
    texts = ["Amrani", "amrani", "AMRANI", "El Amrani", "el-amrani", "El’Amrani", "mohamed amrani",
             "Amrani Mohamed", "  amrâni  ", "moh"]
    assert _found(world, texts) == {text: {people["Mohamed El Amrani"]} for text in texts}


def test_multiword_names_are_found_written_together(app_ctx, world, people):
    # "El Amrani" is also indexed as "elamrani"; "el-amrani" folds to "el amrani".
    found = {text: search_cases(_user(world, "caseworker_a"), text=text).total for text in ("elamrani", "el-amrani")}
    assert all(total >= 1 for total in found.values()), found


def test_accented_names_are_found_with_or_without_accents(app_ctx, world, people):
    texts = ["aicha", "Aïcha", "AÏCHA", "aïcha bennani", "Bennani"]
    assert _found(world, texts) == {text: {people["Aïcha Bennani"]} for text in texts}


def test_every_word_must_match(app_ctx, world, people):
    assert search_cases(_user(world, "caseworker_a"), text="Mohamed Bennani").total == 0


ARABIC_SEARCHES = {
    "محمد": "Mohamed El Amrani",
    "مُحَمَّد": "Mohamed El Amrani",  # short vowels typed by the user are ignored
    "العمراني": "Mohamed El Amrani",
    "أحمد": "Ahmed Ouali",  # stored as أحمد
    "احمد": "Ahmed Ouali",  # hamza-less spelling finds it
    "إحمد": "Ahmed Ouali",
    "عايشة": "Aïcha Bennani",  # ئ / ي and ة / ه fold together
    "عائشه": "Aïcha Bennani",
}


def test_arabic_names_are_found_whatever_the_letter_forms(app_ctx, world, people):
    assert _found(world, ARABIC_SEARCHES) == {text: {people[name]} for text, name in ARABIC_SEARCHES.items()}


def test_a_text_that_normalizes_into_hundreds_of_words_is_searched_by_its_first_distinct_words(app_ctx, world,
                                                                                                   people):
    # U+FDFA is one character that Unicode folds into four words: 120 of them (the form's limit) made 480 LIKEs.
    user = _user(world, "caseworker_a")
    assert search_cases(user, text="\ufdfa" * 120).total == 0
    repeated = " ".join(["mohamed"] * 40 + ["amrani"] * 40)  # distinct words count, not repetitions
    assert _numbers(search_cases(user, text=repeated)) == {people["Mohamed El Amrani"]}
    assert search_cases(user, text="Mohamed Bennani " + "x " * 50).total == 0  # the first words still all apply


def test_a_name_matching_nobody_finds_nothing(app_ctx, world, people):
    page = search_cases(_user(world, "caseworker_a"), text="Zzyzx")
    assert page.total == 0 and page.items == [] and page.page == 1 and page.pages == 1


def test_like_wildcards_in_the_text_are_taken_literally(app_ctx, world, people):
    assert search_cases(_user(world, "caseworker_a"), text="%").total == 0
    assert search_cases(_user(world, "caseworker_a"), text="Benn%").total == 0
    assert search_cases(_user(world, "caseworker_a"), text="OUJ-%").total == 0


# --- by case number ----------------------------------------------------------------------------------------------


def test_full_case_number_finds_exactly_that_case(app_ctx, world, people):
    number = people["Aïcha Bennani"]
    user = _user(world, "caseworker_a")
    assert _numbers(search_cases(user, text=number)) == {number}
    assert _numbers(search_cases(user, text=f"  {number.lower()} ")) == {number}


def test_a_full_case_number_finds_no_one_whose_name_sounds_like_its_commune(app_ctx, world, people, register):
    number = register("caseworker_a", given_name="Nadia", family_name="Ned", given_name_alt="", family_name_alt="",
                      phone="0611 22 33 44")[1]  # sounds like NAD, the commune of Karim Nadori's case
    supervisor = _user(world, "supervisor_a")
    assert _numbers(search_cases(supervisor, text=people["Karim Nadori"])) == {people["Karim Nadori"]}
    assert number in _numbers(search_cases(supervisor, text="Nadi"))  # the name itself is still found by its sound


def test_case_number_prefix_finds_the_cases_of_that_commune(app_ctx, world, people):
    supervisor = _user(world, "supervisor_a")
    year = _year()
    ouj = {people[name] for name in ("Mohamed El Amrani", "Aïcha Bennani", "Ahmed Ouali")}
    assert _numbers(search_cases(supervisor, text="OUJ-")) == ouj
    assert _numbers(search_cases(supervisor, text=f"OUJ-{year}")) == ouj
    assert _numbers(search_cases(supervisor, text=f"ouj-{year}-0000")) == ouj
    assert _numbers(search_cases(supervisor, text="NAD-")) == {people["Karim Nadori"]}
    assert search_cases(supervisor, text=f"OUJ-{year - 1}").total == 0


# --- by phone ----------------------------------------------------------------------------------------------------


def test_phone_search_ignores_the_format(app_ctx, world, people):
    texts = ["+212 612 345 678", "+212612345678", "00212 612 345 678", "0612345678", "06 12 34 56 78",
             "06-12-34-56-78", "(06) 12.34.56.78", "612 345 678"]
    assert _found(world, texts) == {text: {people["Mohamed El Amrani"]} for text in texts}


def test_phone_search_is_exact_through_the_blind_index(app_ctx, world, people):
    """Phones are looked up by a keyed hash of the whole number: a fragment finds nothing."""
    assert _found(world, ["345678", "0612345679"]) == {"345678": set(), "0612345679": set()}
    stored = db.session.scalar(select(Beneficiary.phone_index).where(Beneficiary.phone.like("%345 678%")))
    assert stored == phone_lookup_index("0612345678") and "345678" not in stored


def test_phone_stored_in_national_form_is_found_in_international_form(app_ctx, world, people):
    assert _numbers(search_cases(_user(world, "caseworker_a"), text="+212 698 765 432")) == {people["Aïcha Bennani"]}


def test_too_few_digits_do_not_search_phones(app_ctx, world, people):
    assert search_cases(_user(world, "caseworker_a"), text="678").total == 0


# --- filters and pages -------------------------------------------------------------------------------------------


def test_status_filter(app_ctx, world, people):
    closed = db.session.scalars(select(Case).where(Case.number == people["Ahmed Ouali"])).one()
    closed.status = "closed"
    db.session.commit()
    user = _user(world, "caseworker_a")
    assert _numbers(search_cases(user, filters=CaseFilters(status="closed"))) == {people["Ahmed Ouali"]}
    assert _numbers(search_cases(user, filters=CaseFilters(status="registered"))) == {people["Mohamed El Amrani"], people["Aïcha Bennani"]}
    assert search_cases(user, filters=CaseFilters(status="closed"), text="amrani").total == 0
    assert search_cases(user, filters=CaseFilters(status="no-such-status")).total == 3  # unknown statuses are ignored, not an error


def test_service_point_filter_stays_inside_scope(app_ctx, world, people):
    supervisor = _user(world, "supervisor_a")
    assert _numbers(search_cases(supervisor, filters=CaseFilters(service_point_id=world.service_points["A-NAD"]))) == {
        people["Karim Nadori"]}
    assert search_cases(supervisor, filters=CaseFilters(service_point_id=world.service_points["A-OUJ"])).total == 3
    # A filter on a service point outside the scope does not widen the scope.
    assert search_cases(supervisor, filters=CaseFilters(service_point_id=world.service_points["B-BEM"])).total == 0
    assert search_cases(_user(world, "caseworker_a"), filters=CaseFilters(service_point_id=world.service_points["A-NAD"])).total == 0


def test_pagination(app_ctx, world, register):
    for index in range(5):
        register("caseworker_a", given_name=f"Person{index}")
    user = _user(world, "caseworker_a")
    pages = [search_cases(user, page=number, per_page=2) for number in (1, 2, 3)]
    assert [len(page.items) for page in pages] == [2, 2, 1]
    assert all(page.total == 5 and page.pages == 3 for page in pages)
    assert [page.page for page in pages] == [1, 2, 3]
    seen = [case.number for page in pages for case in page.items]
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True)  # newest first
    beyond = search_cases(user, page=99, per_page=2)
    assert beyond.page == 3 and _numbers(beyond) == _numbers(pages[2])
    for below in (0, -4):
        first = search_cases(user, page=below, per_page=2)
        assert first.page == 1 and _numbers(first) == _numbers(pages[0])


def test_pagination_of_an_empty_result(app_ctx, world):
    page = search_cases(_user(world, "caseworker_a"), page=5, per_page=2)
    assert (page.total, page.page, page.pages, page.items) == (0, 1, 1, [])


# --- scope -------------------------------------------------------------------------------------------------------


def test_search_never_leaves_the_scope(app_ctx, world, people):
    in_scope = {
        "caseworker_a": {people[name] for name in ("Mohamed El Amrani", "Aïcha Bennani", "Ahmed Ouali")},
        "caseworker_a2": {people["Karim Nadori"]},
        "caseworker_b": {people["Mohamed El Amrani (B)"]},
        "supervisor_a": {people[name] for name in ("Mohamed El Amrani", "Aïcha Bennani", "Ahmed Ouali",
                                                   "Karim Nadori")},
        "supervisor_b": {people["Mohamed El Amrani (B)"]},
        "receiver": set(), "me_officer": set(), "dpo": set(), "admin": set(),
    }
    for text in ("Amrani", "محمد", "+212 612 345 678", "OUJ-", "BEM-", "NAD-", "Nadori", ""):
        for key, allowed in in_scope.items():
            found = _numbers(search_cases(_user(world, key), text=text, per_page=100))
            assert found <= allowed, (key, text)
            if not text:
                assert found == allowed, key


def test_the_same_name_at_two_partners_is_found_only_at_ones_own(app_ctx, world, people):
    assert _numbers(search_cases(_user(world, "caseworker_a"), text="Mohamed El Amrani")) == {
        people["Mohamed El Amrani"]}
    assert _numbers(search_cases(_user(world, "caseworker_b"), text="Mohamed El Amrani")) == {
        people["Mohamed El Amrani (B)"]}
    assert search_cases(_user(world, "caseworker_a2"), text="Mohamed El Amrani").total == 0
    assert search_cases(_user(world, "caseworker_a"), text=people["Mohamed El Amrani (B)"]).total == 0


def test_recent_cases_are_scoped_too(app_ctx, world, people):
    assert {case.number for case in recent_cases(_user(world, "caseworker_b"))} == {people["Mohamed El Amrani (B)"]}
    assert recent_cases(_user(world, "dpo")) == []


# --- audit -------------------------------------------------------------------------------------------------------


def _search_events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.search")))


def test_a_search_is_audited_without_its_terms(app_ctx, world, people):
    user = _user(world, "caseworker_a")
    texts = ["Amrani", "محمد", "+212 612 345 678", people["Aïcha Bennani"]]
    totals = [search_cases(user, text=text, filters=CaseFilters(status="registered")).total for text in texts]
    db.session.commit()
    events = _search_events()
    assert [(e.actor_id, e.partner_id, e.object_id) for e in events] == [(user.id, world.partners["A"], None)] * 4
    assert [json.loads(e.details) for e in events] == [
        {"filters": ["text", "status"], "results": total} for total in totals]
    assert totals == [1, 1, 1, 1]
    every_row = list(db.session.scalars(select(AuditEvent.details)))
    for text in texts:
        for term in (text, normalize_name(text), phone_digits(text) or text, text.split("-")[-1]):
            assert not any(term in row for row in every_row), term


def test_listing_without_criteria_is_not_audited_as_a_search(app_ctx, world, people):
    search_cases(_user(world, "caseworker_a"))
    search_cases(_user(world, "caseworker_a"), text="Amrani", audit=False)
    assert _search_events() == []


# --- normalize.py ------------------------------------------------------------------------------------------------


NAMES = [
    ("El Amrani", "el amrani"),
    ("  EL   AMRANI ", "el amrani"),
    ("El-Amrani", "el amrani"),
    ("El’Amrani", "el amrani"),
    ("O'Neil", "o neil"),
    ("Aït_Ben.Haddou", "ait ben haddou"),
    ("Élodie Müller-Çelik", "elodie muller celik"),
    ("Straße", "strasse"),
    ("أحمد", "احمد"),
    ("إبراهيم", "ابراهيم"),
    ("آمنة", "امنه"),
    ("مُحَمَّد", "محمد"),
    ("محـــمد", "محمد"),  # tatweel
    ("ﻣﺤﻤﺪ", "محمد"),  # presentation forms
    ("مصطفى", "مصطفي"),
    ("عائشة", "عايشه"),
    ("مؤمن", "مومن"),
    ("", ""),
    (None, ""),
]


def test_normalize_name():
    assert {raw: normalize_name(raw) for raw, _ in NAMES} == dict(NAMES)


def test_normalize_name_is_idempotent():
    for raw in ("El’Amrani", "أحمد", "Élodie", "عائشة"):
        assert normalize_name(normalize_name(raw)) == normalize_name(raw)


def test_name_search_key_joins_every_written_form():
    assert name_search_key("Mohamed", "El Amrani", "محمد", "العمراني") == "mohamed el amrani elamrani محمد العمراني"
    assert name_search_key("Aïcha", None, "", "  ") == "aicha"


PHONES = [
    ("+212 612 345 678", "0612345678"),
    ("+212612345678", "0612345678"),
    ("00212 612-345-678", "0612345678"),
    ("212612345678", "0612345678"),
    ("0612345678", "0612345678"),
    ("(06) 12.34.56.78", "0612345678"),
    ("+33 6 12 34 56 78", "33612345678"),  # foreign numbers keep their country code
    ("212", "212"),  # too short to be an international Moroccan number
    ("2125", "2125"),
    ("abc", None),
    ("", None),
    (None, None),
]


def test_phone_digits():
    assert {raw: phone_digits(raw) for raw, _ in PHONES} == dict(PHONES)

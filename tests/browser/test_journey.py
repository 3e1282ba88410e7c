"""A caseworker's first journey in a real browser: log in, register a person, find them, switch language.

Translations may still be empty, so nothing here asserts on translated wording: only on structure,
lang/dir attributes, URLs, names and case numbers. Every page visited is checked with axe-core
(no serious or critical violation) in French, and in Arabic by `test_pages_in_arabic`.
"""
import re

import pytest

from tests.browser.conftest import (
    check_accessibility, check_page, fill_registration, log_in, open_page, path_of, screenshot, submit,
    switch_language,
)

pytestmark = pytest.mark.browser

CASE_NUMBER = re.compile(r"OUJ-\d{4}-\d{5}")
GIVEN, FAMILY = "Youssef", "Benali"
GIVEN_AR, FAMILY_AR = "يوسف", "بنعلي"
PHONE = "+212 661 234 567"
SUBMIT = "main form button[type=submit]"


def assert_html(page, lang: str, direction: str) -> None:
    html = page.locator("html")
    assert html.get_attribute("lang") == lang, f"html lang on {page.url}"
    assert html.get_attribute("dir") == direction, f"html dir on {page.url}"


def fill_person(page, service_point_id: int) -> None:
    fill_registration(page, service_point_id, given=GIVEN, family=FAMILY, given_ar=GIVEN_AR, family_ar=FAMILY_AR,
                      sex="M", born="1988-03-02", phone=PHONE)


def case_rows(page) -> list[tuple[str, str]]:
    """(case number, person name) of each row of the case table on the page."""
    rows = page.locator("main table tbody tr")
    return [(rows.nth(i).locator("td.case-number").inner_text().strip(),
             rows.nth(i).locator("td a[href^='/beneficiaries/']").inner_text().strip()) for i in range(rows.count())]


def search_cases(page, text: str) -> list[tuple[str, str]]:
    """Search the case list (a POST form, field q); return the rows found."""
    search = page.locator("form[role=search]")
    search.locator("input[name=q]").fill(text)
    submit(page, "form[role=search] button[type=submit]:not([name])")
    assert path_of(page) == "/cases/"
    assert text not in page.url, "the search text must not travel in the URL"
    return case_rows(page)


def test_caseworker_registers_finds_and_switches_language(page, world, register):
    _, other_number = register()  # Mohamed El Amrani, +212 612 345 678: must not match the searches
    open_page(page, "/login")
    assert_html(page, "fr", "ltr")
    check_page(page, "login_fr")

    log_in(page, "caseworker.a")
    assert path_of(page) == "/"
    assert_html(page, "fr", "ltr")
    check_page(page, "home_fr")

    with page.expect_navigation():
        page.click("header nav a[href='/beneficiaries/new']")
    assert path_of(page) == "/beneficiaries/new"
    check_page(page, "register_fr")

    submit(page, SUBMIT)  # empty form: the errors are shown, summed up and linked to their fields
    assert path_of(page) == "/beneficiaries/new"
    assert page.locator("main .alert-danger[role=alert]").count() == 1
    assert page.locator("#given_name[aria-invalid=true]").count() == 1
    assert page.locator("#given_name-errors").count() == 1
    check_page(page, "register_errors_fr")

    fill_person(page, world.service_points["A-OUJ"])
    submit(page, SUBMIT)
    assert re.fullmatch(r"/beneficiaries/\d+", path_of(page)), f"not on a person page: {page.url}"
    person_url = page.url
    heading = page.locator("main h1").inner_text()
    assert heading.startswith(f"{GIVEN} {FAMILY}")
    assert GIVEN_AR in heading and FAMILY_AR in heading
    number = page.locator("main td.case-number").first.inner_text().strip()
    assert CASE_NUMBER.fullmatch(number), number
    assert number != other_number
    assert number in page.locator("main .alert-success").inner_text()
    check_page(page, "person_fr")

    with page.expect_navigation():
        page.click("header nav a[href='/cases/']")
    assert path_of(page) == "/cases/"
    expected = [(number, f"{GIVEN} {FAMILY}")]
    assert search_cases(page, f"{GIVEN} {FAMILY}") == expected
    assert search_cases(page, FAMILY_AR) == expected
    assert search_cases(page, number) == expected
    assert search_cases(page, "0661 234 567") == expected
    check_page(page, "cases_fr")
    with page.expect_navigation():
        page.click(f"main table a:has-text('{GIVEN} {FAMILY}')")
    assert page.url == person_url

    open_page(page, "/cases/")
    switch_language(page, "ar")
    assert_html(page, "ar", "rtl")
    assert path_of(page) == "/cases/"
    assert case_rows(page) == expected  # the search is kept in the session
    check_accessibility(page, "case list, ar (after the switch)")
    with page.expect_navigation():
        page.click(f"main table a:has-text('{GIVEN} {FAMILY}')")
    assert page.url == person_url
    assert_html(page, "ar", "rtl")
    check_accessibility(page, "person page, ar (after the switch)")
    screenshot(page, "person_ar_after_switch")

    switch_language(page, "en")
    assert_html(page, "en", "ltr")
    assert page.url == person_url
    open_page(page, "/")  # the choice sticks to the user, not to one page
    assert_html(page, "en", "ltr")


def test_pages_in_arabic(page, world, register):
    person_id, number = register(given_name="Fatima", family_name="Zahra", given_name_alt="فاطمة",
                                 family_name_alt="الزهراء", sex="F")
    open_page(page, "/login")
    assert_html(page, "fr", "ltr")
    switch_language(page, "ar")  # before logging in: kept in the session, through the login
    assert path_of(page) == "/login"
    check_page(page, "login_ar")

    log_in(page, "caseworker.a")
    assert_html(page, "ar", "rtl")
    assert number in page.locator("main table").inner_text()
    check_page(page, "home_ar")

    open_page(page, "/beneficiaries/new")
    assert_html(page, "ar", "rtl")
    check_page(page, "register_ar")
    page.fill("#phone", "not a phone")
    submit(page, SUBMIT)
    assert page.locator("#phone-errors").count() == 1
    assert page.locator("main .alert-danger[role=alert]").count() == 1
    check_page(page, "register_errors_ar")

    open_page(page, f"/beneficiaries/{person_id}")
    assert_html(page, "ar", "rtl")
    assert "فاطمة" in page.locator("main h1").inner_text()
    check_page(page, "person_ar")

    open_page(page, "/cases/")
    assert_html(page, "ar", "rtl")
    assert [n for n, _ in case_rows(page)] == [number]
    check_page(page, "cases_ar")


def test_other_partner_finds_nothing_and_gets_404(page, world, register):
    person_id, number = register()
    log_in(page, "caseworker.b")
    open_page(page, "/cases/")
    assert case_rows(page) == []
    assert search_cases(page, "Mohamed El Amrani") == []
    assert search_cases(page, number) == []
    assert page.locator("main table").count() == 0

    response = page.goto(f"/beneficiaries/{person_id}")
    assert response.status == 404
    assert_html(page, "fr", "ltr")
    assert "Amrani" not in page.content()
    check_page(page, "not_found_fr")


def test_script_in_a_name_is_shown_as_text(strict_page, world, register):
    """No bypass_csp here: the app's own Content-Security-Policy is in force, as in production."""
    page = strict_page
    payload = "<script>alert(1)</script>"
    person_id, _ = register(given_name=payload)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    log_in(page, "caseworker.a")
    assert payload in page.locator("main table").inner_text()  # recent cases on the home page
    open_page(page, f"/beneficiaries/{person_id}")
    page.wait_for_load_state("load")
    assert page.locator("main h1").inner_text().startswith(f"{payload} El Amrani")
    assert page.title().startswith(payload)
    assert not page.evaluate("[...document.scripts].some(s => s.textContent.includes('alert(1)'))")
    assert dialogs == []

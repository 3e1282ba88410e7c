"""The M&E officer builds, reviews and publishes a report in Chromium; the pages pass axe in French and Arabic."""
from datetime import date

import pytest

from tests.browser.conftest import check_page, log_in, open_page, path_of, submit, switch_language

pytestmark = pytest.mark.browser


def test_the_officer_publishes_a_report_and_it_reads_in_both_directions(page, world, register):
    for number, (point, user) in enumerate([("A-OUJ", "caseworker_a")] * 6 + [("A-NAD", "caseworker_a2")]):
        register(user, point, given_name=f"Reporty{number}", commune_code="NAD" if point == "A-NAD" else "OUJ")
    log_in(page, "me.officer")
    open_page(page, "/reports/")
    page.fill("input[name=period]", str(date.today().year))
    submit(page, "main form button[type=submit]")
    assert page.locator("table").count() >= 10
    assert page.get_by_text("Reporty").count() == 0  # aggregates only
    check_page(page, "report-preview-fr")
    submit(page, "form[action$='/reports/publish'] button[type=submit]")
    assert path_of(page).startswith("/reports/") and path_of(page) != "/reports/"
    assert page.locator("a[href$='.xlsx']").count() == 1
    switch_language(page, "ar")
    check_page(page, "report-published-ar")

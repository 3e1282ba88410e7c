"""A case from registration to approved closure in a real browser, a caseworker and a supervisor side by side.

The caseworker registers a person, works the case (assessment, plan, note, follow-up due today), sees the
follow-up on the home page and asks for closure; the supervisor, in a separate browser context, finds the case
awaiting closure on the home page and approves it. The case, assessment, edit and home pages are checked with
axe-core (no serious or critical violation) in French and in Arabic, switched with the header buttons.

Translations may still be empty, so selectors and assertions use structure, names, URLs and case numbers,
never translated wording (except a status label computed with the app's own catalogue).
"""
import re
from datetime import date

import pytest
from flask_babel import force_locale

from caseapp.cases.models import Case
from caseapp.extensions import db
from caseapp.labels import CASE_STATUS_LABELS
from tests.browser.conftest import (
    _new_page, check_accessibility, check_page, fill_registration, log_in, open_page, path_of, screenshot, submit,
    switch_language,
)

pytestmark = pytest.mark.browser

GIVEN, FAMILY = "Amina", "Chraibi"
GIVEN_AR, FAMILY_AR = "أمينة", "الشرايبي"
SUBMIT = "main form button[type=submit]"
CASE_PATH = re.compile(r"^/cases/(\d+)$")
TODAY = date.today().isoformat()


def section(page, heading_id: str):
    """The <section> labelled by the heading with this id."""
    return page.locator(f"main section[aria-labelledby={heading_id}]")


def status_label(app, code: str, language: str) -> str:
    with app.test_request_context(), force_locale(language):
        return str(CASE_STATUS_LABELS[code])


def case_status(app, case_id: int) -> str:
    with app.app_context():
        return db.session.get(Case, case_id).status


def register_person(page, service_point_id: int) -> None:
    with page.expect_navigation():
        page.click("header nav a[href='/beneficiaries/new']")
    fill_registration(page, service_point_id, given=GIVEN, family=FAMILY, given_ar=GIVEN_AR, family_ar=FAMILY_AR,
                      sex="F", born="1994-07-21", phone="+212 662 111 222")
    submit(page, SUBMIT)
    assert re.fullmatch(r"/beneficiaries/\d+", path_of(page)), f"not on a person page: {page.url}"


def move_to(page, stage: str) -> None:
    submit(page, f"main form button[name=target][value={stage}]")


def test_case_from_registration_to_approved_closure(page, browser, live_server, app, world):
    worker = page
    worker.emulate_media(reduced_motion="reduce")  # no smooth scrolling before each click far down the page
    open_page(worker, "/login")
    log_in(worker, "caseworker.a")
    register_person(worker, world.service_points["A-OUJ"])
    number = worker.locator("main td.case-number").first.inner_text().strip()
    with worker.expect_navigation():
        worker.click("main td.case-number a")
    match = CASE_PATH.match(path_of(worker))
    assert match, f"not on a case page: {worker.url}"
    case_id, case_url = int(match.group(1)), path_of(worker)
    assert worker.locator("main h1").inner_text().strip() == number
    assert f"{GIVEN} {FAMILY}" in worker.locator("main").inner_text()

    # Assessment: needs, risk, one flag.
    move_to(worker, "assessment")
    assert case_status(app, case_id) == "assessment"
    with worker.expect_navigation():
        worker.click(f"main a[href='{case_url}/assessment']")
    assert path_of(worker) == f"{case_url}/assessment"
    check_page(worker, "assessment_fr")
    worker.fill("#need_avrr", "Billet de retour déjà utilisé")
    worker.fill("#need_employment", "Cherche un emploi dans la couture")
    worker.check("input[name=risk_level][value=high]")
    worker.check("input[name=flags][value=single_parent]")
    submit(worker, SUBMIT)
    assert path_of(worker) == case_url
    assessment = section(worker, "assessment-heading").inner_text()
    assert "Cherche un emploi dans la couture" in assessment
    assert worker.locator("main .badge.text-bg-danger").count() >= 1  # high risk badge
    assert worker.locator("main .badge.text-bg-warning").count() >= 1  # the flag

    # Plan: a goal and one action.
    move_to(worker, "plan")
    assert case_status(app, case_id) == "plan"
    worker.select_option("#area", "employment")
    worker.fill("#title", "Trouver un emploi stable")
    submit(worker, f"main form[action='{case_url}/goals'] button[type=submit]")
    plan = section(worker, "plan-heading")
    assert "Trouver un emploi stable" in plan.inner_text()
    action_form = plan.locator("form[action$='/actions']")
    assert action_form.count() == 1
    action_form.locator("input[name$='-description']").fill("Atelier CV à l'ANAPEC")
    action_form.locator("input[name$='-owner']").fill("Conseillère ANAPEC")
    action_form.locator("input[name$='-due_date']").fill(TODAY)
    submit(worker, "main form[action$='/actions'] button[type=submit]")
    assert "Atelier CV à l'ANAPEC" in section(worker, "plan-heading").inner_text()

    # A note and a follow-up due today.
    worker.select_option("#kind", "general")
    worker.fill("#body", "Premier entretien : la personne souhaite rester à Oujda.")
    submit(worker, f"main form[action='{case_url}/notes'] button[type=submit]")
    assert "souhaite rester à Oujda" in section(worker, "notes-heading").inner_text()
    worker.fill("#purpose", "Appeler pour l'atelier CV")
    worker.fill("#due_date", TODAY)
    submit(worker, f"main form[action='{case_url}/follow-ups'] button[type=submit]")
    assert "Appeler pour l'atelier CV" in section(worker, "follow-ups-heading").inner_text()
    check_page(worker, "case_fr")

    # The edit page of the action.
    with worker.expect_navigation():
        worker.click("main section[aria-labelledby=plan-heading] table a[href$='/edit']")
    assert re.fullmatch(r"/actions/\d+/edit", path_of(worker))
    edit_url = path_of(worker)
    check_accessibility(worker, "action edit page, fr")
    worker.select_option("#status", "in_progress")
    submit(worker, SUBMIT)
    assert path_of(worker) == case_url

    # Home: the follow-up is due today.
    with worker.expect_navigation():
        worker.click("header nav a.navbar-brand")
    assert path_of(worker) == "/"
    due_today = section(worker, "due-heading").inner_text()
    assert number in due_today and "Appeler pour l'atelier CV" in due_today
    check_accessibility(worker, "caseworker home, fr")

    # The same pages in Arabic, switched with the header buttons.
    switch_language(worker, "ar")
    assert path_of(worker) == "/"
    assert number in section(worker, "due-heading").inner_text()
    check_accessibility(worker, "caseworker home, ar")
    open_page(worker, case_url)
    assert worker.locator("html").get_attribute("dir") == "rtl"
    check_page(worker, "case_ar")
    open_page(worker, f"{case_url}/assessment")
    assert worker.locator("input[name=flags][value=single_parent]").is_checked()
    check_accessibility(worker, "assessment page, ar")
    open_page(worker, edit_url)
    check_accessibility(worker, "action edit page, ar")
    switch_language(worker, "fr")

    # Closure request with a reason.
    open_page(worker, case_url)
    worker.select_option("#reason", "goals_met")
    submit(worker, f"main form[action='{case_url}/closure'] button[type=submit]")
    assert worker.locator("main .alert-warning[role=status]").count() == 1
    assert worker.locator(f"main form[action='{case_url}/closure/decision']").count() == 0
    assert worker.locator("main button[name=target]").count() == 0  # no stage move while awaiting closure

    # The supervisor, in a browser context of their own.
    context, boss = _new_page(browser, live_server, bypass_csp=True)
    boss.emulate_media(reduced_motion="reduce")
    try:
        open_page(boss, "/login")
        log_in(boss, "supervisor.a")
        awaiting = section(boss, "closure-heading")
        assert number in awaiting.inner_text()
        check_page(boss, "home_supervisor_fr")
        with boss.expect_navigation():
            awaiting.locator(f"a[href='{case_url}']").click()
        assert path_of(boss) == case_url
        check_page(boss, "case_awaiting_closure_supervisor_fr")
        submit(boss, "main button[name=decision][value=approve]")
        assert case_status(app, case_id) == "closed"
        assert boss.locator("main h1 + .badge").inner_text().strip() == status_label(app, "closed", "fr")
        assert boss.locator(f"main form[action='{case_url}/reopen']").count() == 1
        assert boss.locator(f"main form[action='{case_url}/closure']").count() == 0
        screenshot(boss, "case_closed_supervisor_fr")
        switch_language(boss, "ar")
        assert boss.locator("main h1 + .badge").inner_text().strip() == status_label(app, "closed", "ar")
        check_accessibility(boss, "closed case page, ar")
        open_page(boss, "/")
        assert number not in section(boss, "closure-heading").inner_text()
        check_page(boss, "home_supervisor_ar")
    finally:
        context.close()

    # The caseworker sees the closed case too.
    open_page(worker, case_url)
    assert worker.locator("main h1 + .badge").inner_text().strip() == status_label(app, "closed", "fr")
    assert worker.locator(f"main form[action='{case_url}/goals']").count() == 0

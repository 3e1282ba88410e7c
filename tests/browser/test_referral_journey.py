"""A referral from a case to its outcome in a real browser, three people side by side.

The caseworker refers one need of a case to partner C (service, partner, priority, reason, signed consent) and
submits it; the supervisor finds it in the review queue and approves it; the receiver of partner C sees the
notification badge, finds the referral in the inbox, reads the minimum dataset only, accepts, starts and records
the outcome; the caseworker sees "service delivered" on the case page and on the referral's timeline. Each user
has a browser context of their own. The new-referral form, both sides of the referral page, the review queue, the
inbox, the notifications and the directory are checked with axe-core (no serious or critical violation) in French
and in Arabic, switched with the header buttons; so is the printed slip.

Translations may still be empty, so selectors and assertions use structure, names, URLs, ids and labels computed
with the app's own catalogue, never wording written here.
"""
import re
from datetime import date

import pytest
from flask_babel import force_locale

from caseapp.auth.models import User
from caseapp.cases.models import Case
from caseapp.extensions import db
from caseapp.labels import OUTCOME_LABELS, REFERRAL_ACTION_LABELS, REFERRAL_STATUS_LABELS
from caseapp.referrals.models import DirectoryEntry, Referral
from tests.browser.conftest import (
    _new_page, check_accessibility, check_page, log_in, open_page, path_of, screenshot, submit, switch_language,
)

pytestmark = pytest.mark.browser

SERVICE = "employment.anapec"
REASON = "Inscription pour un poste de soudeur — RAISON-NAVIGATEUR"
BIRTH = date(1988, 3, 9)
DOCUMENT_NUMBER = "XK7741952"
ASSESSMENT_TEXT = "Dettes familiales EVAL-NAVIGATEUR"
GENERAL_NOTE = "Entretien au bureau NOTE-NAVIGATEUR"
RESTRICTED_NOTE = "Récit de la traversée NOTE-RESTREINTE-NAVIGATEUR"
SAVE = "main form button[type=submit]"


def label(app, labels: dict, code: str, language: str = "fr") -> str:
    with app.test_request_context(), force_locale(language):
        return str(labels[code])


def referral_state(app, referral_id: int) -> tuple[str, str | None]:
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        return referral.status, referral.outcome


def unread_badge(page) -> str:
    """The unread count shown in the header ("" when there is no badge)."""
    badge = page.locator("header a[href='/notifications'] .badge")
    if badge.count() == 0:
        return ""
    return badge.inner_text().split()[0]


def press(page, action: str) -> None:
    """Press a referral action button (they post to /referrals/<id>/<action>) and wait for the next page."""
    submit(page, f"main form button[formaction$='/{action}']")


def visit_by_link(page, href: str) -> None:
    with page.expect_navigation():
        page.click(f"a[href='{href}']")
    assert path_of(page) == href.split("?")[0], page.url


@pytest.fixture
def journey(app, world, register):
    """Partner C offers ANAPEC registration in Oujda; a person at A-OUJ with a document, open flags, an
    assessment, a general and a restricted note."""
    from caseapp.cases import notes
    from caseapp.cases.assessment import save_assessment

    with app.app_context():
        db.session.add(DirectoryEntry(partner_id=world.partners["C"], service_code=SERVICE, commune_code="OUJ",
                                      contact="0536 68 00 00 · anapec.oujda@example.org", hours="Lun-Ven 8h30-16h30",
                                      languages="ar, fr", eligibility="Personnes en âge de travailler"))
        db.session.commit()
    person_id, number = register(
        given_name="Khadija", family_name="Benali", given_name_alt="خديجة", family_name_alt="بنعلي", sex="F",
        date_of_birth=BIRTH, nationality="SEN", profile="foreign_migrant", country_returned_from="",
        phone="+212 661 234 567", languages=["ar", "fr"], document_type="passport", document_number=DOCUMENT_NUMBER,
        flags=["homeless"])
    with app.test_request_context():
        case = db.session.scalar(db.select(Case).where(Case.number == number))
        worker = db.session.get(User, world.users["caseworker_a"])
        save_assessment(worker, case, needs={"employment": ASSESSMENT_TEXT}, risk_level="medium", flags=["homeless"])
        notes.add_note(worker, case, kind="general", body=GENERAL_NOTE, occurred_on=date.today())
        notes.add_note(db.session.get(User, world.users["supervisor_a"]), case, kind="psychosocial",
                       body=RESTRICTED_NOTE, occurred_on=date.today())
        db.session.commit()
        case_id = case.id
    return dict(case=case_id, person=person_id, number=number)


def test_referral_from_case_to_outcome(page, browser, live_server, app, world, journey):
    worker = page
    worker.emulate_media(reduced_motion="reduce")
    case_url = f"/cases/{journey['case']}"
    open_page(worker, "/login")
    log_in(worker, "caseworker.a")

    # The caseworker opens the new-referral form from the case page.
    open_page(worker, case_url)
    visit_by_link(worker, f"{case_url}/referrals/new")
    new_url = path_of(worker)
    assert worker.locator(f"#receiving_partner_id option[value='{world.partners['C']}']").count() == 1
    check_page(worker, "referral_new_fr")
    submit(worker, SAVE)  # empty: errors next to the fields and in the summary
    assert path_of(worker) == new_url
    assert worker.locator("main .alert-danger[role=alert]").count() == 1
    assert worker.locator("main .is-invalid").count() >= 2
    check_accessibility(worker, "new referral form with errors, fr")
    switch_language(worker, "ar")
    assert path_of(worker) == new_url
    check_accessibility(worker, "new referral form, ar")
    screenshot(worker, "referral_new_ar")
    switch_language(worker, "fr")

    worker.select_option("#service_code", SERVICE)
    worker.select_option("#receiving_partner_id", str(world.partners["C"]))
    worker.check("input[name=priority][value=urgent]")
    worker.fill("#reason", REASON)
    worker.check("input[name=consent_method][value=signed_form]")
    submit(worker, SAVE)
    match = re.fullmatch(r"/referrals/(\d+)", path_of(worker))
    assert match, f"not on a referral page: {worker.url}"
    referral_id, referral_url = int(match.group(1)), path_of(worker)
    assert referral_state(app, referral_id) == ("draft", None)
    assert journey["number"] in worker.locator("main").inner_text()
    check_accessibility(worker, "referral page (draft, referring side), fr")
    press(worker, "submit")
    assert referral_state(app, referral_id) == ("submitted", None)
    assert worker.locator("main .alert-success[role=status]").count() == 1

    # The supervisor, in a browser context of their own: review queue, approval.
    context, boss = _new_page(browser, live_server, bypass_csp=True)
    boss.emulate_media(reduced_motion="reduce")
    try:
        open_page(boss, "/login")
        log_in(boss, "supervisor.a")
        assert unread_badge(boss) == "1"
        visit_by_link(boss, "/referrals/review")
        assert boss.locator(f"main table a[href='{referral_url}']").count() == 1
        check_page(boss, "review_fr")
        visit_by_link(boss, referral_url)
        assert boss.locator("main form button[formaction$='/approve']").count() == 1
        assert boss.locator("main form button[formaction$='/return']").count() == 1
        check_accessibility(boss, "referral page (submitted, supervisor), fr")
        switch_language(boss, "ar")
        check_accessibility(boss, "referral page (submitted, supervisor), ar")
        open_page(boss, "/referrals/review")
        check_accessibility(boss, "review queue, ar")
        open_page(boss, "/notifications")
        check_accessibility(boss, "notifications, ar")
        switch_language(boss, "fr")
        check_accessibility(boss, "notifications, fr")
        open_page(boss, referral_url)
        press(boss, "approve")
        assert referral_state(app, referral_id) == ("approved", None)
        open_page(boss, "/referrals/review")
        assert boss.locator(f"main a[href='{referral_url}']").count() == 0
    finally:
        context.close()

    # The receiver of partner C: badge, inbox, minimum dataset, accept, start, outcome.
    context, receiver = _new_page(browser, live_server, bypass_csp=True)
    receiver.emulate_media(reduced_motion="reduce")
    try:
        open_page(receiver, "/login")
        log_in(receiver, "receiver")
        assert unread_badge(receiver) == "1"
        assert receiver.locator("header a[href='/cases/']").count() == 0
        visit_by_link(receiver, "/referrals/inbox")
        row = receiver.locator("main table tbody tr", has=receiver.locator(f"a[href='{referral_url}']"))
        assert row.count() == 1
        assert "Khadija Benali" in row.inner_text()
        check_page(receiver, "inbox_fr")
        visit_by_link(receiver, referral_url)
        assert_minimum_dataset(receiver, journey)
        check_accessibility(receiver, "referral page (receiver), fr")
        switch_language(receiver, "ar")
        assert_minimum_dataset(receiver, journey)
        check_page(receiver, "referral_receiver_ar")
        open_page(receiver, "/referrals/inbox")
        check_accessibility(receiver, "inbox, ar")
        open_page(receiver, "/notifications")
        check_accessibility(receiver, "notifications (receiver), ar")
        switch_language(receiver, "fr")
        check_accessibility(receiver, "notifications (receiver), fr")

        open_page(receiver, referral_url)
        press(receiver, "accept")
        assert referral_state(app, referral_id) == ("accepted", None)
        press(receiver, "start")
        assert referral_state(app, referral_id) == ("in_progress", None)
        assert receiver.locator("#outcome").count() == 1
        check_accessibility(receiver, "referral page (in progress, receiver), fr")
        receiver.select_option("#outcome", "service_delivered")
        press(receiver, "complete")
        assert referral_state(app, referral_id) == ("completed", "service_delivered")
        assert path_of(receiver) == "/referrals/inbox"  # the referral is closed to them now
        assert receiver.locator(f"main a[href='{referral_url}']").count() == 0
        assert open_page(receiver, referral_url, status=404)
    finally:
        context.close()

    # The caseworker: two notifications (accepted, completed), the outcome on the case page and the timeline.
    open_page(worker, case_url)
    assert unread_badge(worker) == "2"
    referrals = worker.locator("main section[aria-labelledby=referrals-heading]")
    assert label(app, OUTCOME_LABELS, "service_delivered") in referrals.inner_text()
    assert label(app, REFERRAL_STATUS_LABELS, "completed") in referrals.inner_text()
    visit_by_link(worker, referral_url)
    timeline = worker.locator("main ol").inner_text()
    for action in ("submit", "approve", "accept", "start", "complete"):
        assert label(app, REFERRAL_ACTION_LABELS, action) in timeline, action
    assert label(app, OUTCOME_LABELS, "service_delivered") in worker.locator("main dl").inner_text()
    check_page(worker, "referral_completed_fr")
    visit_by_link(worker, "/notifications")
    assert worker.locator("main li.fw-bold").count() == 2
    check_accessibility(worker, "notifications (caseworker), fr")
    with worker.expect_navigation():
        worker.locator("main li form button[type=submit]").first.click()
    assert path_of(worker) == referral_url
    assert unread_badge(worker) == "1"

    # The directory, and the slip printed for a partner without an account, in both languages.
    visit_by_link(worker, "/directory/")
    worker.select_option("#service", SERVICE)
    worker.select_option("#commune", "OUJ")
    submit(worker, "main form[method=get] button[type=submit]")
    assert "Partner C" in worker.locator("main table tbody").inner_text()
    check_page(worker, "directory_fr")
    open_page(worker, f"{referral_url}/slip?lang=fr")
    assert worker.locator("html").get_attribute("lang") == "fr"
    check_accessibility(worker, "slip, fr")
    open_page(worker, f"{referral_url}/slip?lang=ar")
    assert worker.locator("html").get_attribute("lang") == "ar"
    assert worker.locator("html").get_attribute("dir") == "rtl"
    slip = worker.locator("main").inner_text()
    assert "Khadija Benali" in slip and REASON in slip and DOCUMENT_NUMBER not in slip
    check_page(worker, "slip_ar")
    open_page(worker, "/directory/")
    switch_language(worker, "ar")
    check_page(worker, "directory_ar")
    open_page(worker, referral_url)
    check_accessibility(worker, "referral page (completed, referring side), ar")
    open_page(worker, "/notifications")
    check_accessibility(worker, "notifications (caseworker), ar")
    open_page(worker, case_url)
    assert label(app, OUTCOME_LABELS, "service_delivered", "ar") in referrals.inner_text()
    switch_language(worker, "fr")


def assert_minimum_dataset(page, journey) -> None:
    """The receiver's page shows the minimum dataset and nothing else of the person or the case."""
    main = page.locator("main")
    text = main.inner_text()
    for shown in ("Khadija Benali", "خديجة", "+212 661 234 567", REASON):
        assert shown in text, shown
    assert main.locator("dl dt").count() == 8  # name, sex, age, phone, commune, languages, reason, deadline
    for hidden in (DOCUMENT_NUMBER, ASSESSMENT_TEXT, GENERAL_NOTE, RESTRICTED_NOTE, journey["number"],
                   str(BIRTH.year), BIRTH.isoformat()):
        assert hidden not in text, hidden
    html = page.content()
    for hidden in (DOCUMENT_NUMBER, ASSESSMENT_TEXT, GENERAL_NOTE, RESTRICTED_NOTE, journey["number"],
                   f"/cases/{journey['case']}", f"/beneficiaries/{journey['person']}"):
        assert hidden not in html, hidden


def test_the_directory_editor_is_accessible(page, live_server, app, world):
    """The admin's directory page (search, table with withdraw buttons, add form) in French and Arabic."""
    with app.app_context():
        db.session.add(DirectoryEntry(partner_id=world.partners["C"], service_code=SERVICE, commune_code="OUJ",
                                      contact="0536 68 00 00", hours="Lun-Ven", languages="ar, fr", eligibility=""))
        db.session.commit()
    open_page(page, "/login")
    log_in(page, "admin")
    open_page(page, "/directory/")
    assert page.locator("#partner_id").count() == 1
    submit(page, "main form[method=post]:not([action]) button[type=submit]")  # empty: errors
    assert page.locator("main .alert-danger[role=alert]").count() == 1
    check_accessibility(page, "directory editor with errors, fr")
    page.select_option("#partner_id", str(world.partners["B"]))
    page.select_option("#service_code", "social.legal_aid")
    page.select_option("#commune_code", "OUJ")
    page.fill("#contact", "Maison du droit, Oujda")
    submit(page, "main form[method=post]:not([action]) button[type=submit]")
    assert "Maison du droit, Oujda" in page.locator("main table").inner_text()
    check_page(page, "directory_admin_fr")
    switch_language(page, "ar")
    check_accessibility(page, "directory editor, ar")
    submit(page, "main table form button[type=submit]")  # withdraw the first entry
    assert page.locator("main table tbody tr.text-body-secondary").count() == 1
    check_accessibility(page, "directory editor with a withdrawn entry, ar")
    switch_language(page, "fr")

"""A new supervisor's first login in a real browser: forced to set up two-step login, scans (reads) the key, types
the code, keeps the recovery codes, reaches the home page; next login asks for a code. The set-up page and the
code page are checked with axe-core (no serious or critical violation) in French and in Arabic.

Translations may still be empty, so selectors use structure, names and URLs, never translated wording.
"""
import re
import time

import pyotp
import pytest

from caseapp.auth.models import User
from caseapp.extensions import db
from tests.browser.conftest import check_accessibility, log_in, open_page, path_of, screenshot, submit, switch_language
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

USERNAME = "supervisor.new"
SUBMIT = "main form button[type=submit]"


@pytest.fixture
def supervisor_without_mfa(app, world):
    from caseapp.auth.services import create_user
    from caseapp.partners.models import Partner
    from caseapp.places.models import ServicePoint

    with app.app_context():
        user = create_user(None, username=USERNAME, full_name="Nadia Berrada", password=PASSWORD, role="supervisor",
                           partner=db.session.get(Partner, world.partners["A"]),
                           service_points=[db.session.get(ServicePoint, world.service_points["A-OUJ"])])
        db.session.commit()
        return user.id


def _html_lang(page) -> tuple[str, str]:
    html = page.locator("html")
    return html.get_attribute("lang"), html.get_attribute("dir")


def _check_in_both_languages(page, label: str) -> None:
    """axe on the current page in French, then in Arabic (right to left); the page stays the same."""
    path = path_of(page)
    if _html_lang(page)[0] != "fr":
        switch_language(page, "fr")
    assert path_of(page) == path
    check_accessibility(page, f"{label}, fr")
    switch_language(page, "ar")
    assert path_of(page) == path and _html_lang(page) == ("ar", "rtl")
    check_accessibility(page, f"{label}, ar")
    screenshot(page, f"{label.replace(' ', '_')}_ar")


def test_a_new_supervisor_sets_up_two_step_login(app, page, supervisor_without_mfa):
    log_in(page, USERNAME)
    assert path_of(page) == "/account/second-factor"
    open_page(page, "/cases/")  # every page leads back to the set-up
    assert path_of(page) == "/account/second-factor"

    qr = page.locator("main figure svg")
    qr.wait_for(state="visible")
    box = qr.bounding_box()
    assert box and box["width"] >= 100 and box["height"] >= 100  # big enough to scan
    key = re.sub(r"\s+", "", page.locator("main figure code").inner_text())
    assert re.fullmatch(r"[A-Z2-7]{32}", key), key
    assert page.locator("main img").count() == 0
    _check_in_both_languages(page, "second factor set-up page")
    # Switching language reloads the page without drawing a new secret.
    assert re.sub(r"\s+", "", page.locator("main figure code").inner_text()) == key
    switch_language(page, "fr")

    page.fill("input[name=code]", pyotp.TOTP(key).now())
    submit(page, SUBMIT)
    codes = page.locator("main ul.recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes), codes
    with app.app_context():
        user = db.session.get(User, supervisor_without_mfa)
        assert user.mfa_enabled and user.totp_secret == key

    with page.expect_navigation():
        page.click("main a.btn-primary")
    assert path_of(page) == "/"
    assert page.locator("main h1").count() >= 1
    open_page(page, "/cases/")
    assert path_of(page) == "/cases/"

    # The next login asks for a code from the same key.
    submit(page, "header form[action='/logout'] button[type=submit]")
    assert path_of(page) == "/login"
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    submit(page, SUBMIT)
    assert path_of(page) == "/login/code"
    _check_in_both_languages(page, "second factor code page")
    assert path_of(page) == "/login/code"  # the pending login survives the language switch
    # The set-up consumed the current time step: the app of a phone shows the next code a little later.
    page.fill("input[name=code]", pyotp.TOTP(key).at(time.time() + 30))
    submit(page, SUBMIT)
    assert path_of(page) == "/"
    # The language chosen while logged in (French, stored as the user's preference) wins over the one chosen on
    # the code page.
    assert _html_lang(page) == ("fr", "ltr")

"""Browser fixtures: the session app on a live loopback server, Debian's Chromium, axe and screenshots.

The tests in this folder drive a real Chromium (through the Playwright sync API) against the same
`app` fixture the other tests use, served by Werkzeug on 127.0.0.1 in a daemon thread. The
database is the session test database, so `world`, `register` and `clean_tables` work as usual.
"""
import json
import logging
import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, current_totp_code

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
HERE = Path(__file__).resolve().parent
AXE_SCRIPT = HERE / "vendor" / "axe.min.js"
SCREENSHOTS = HERE / "screenshots"
BLOCKING_IMPACTS = {"serious", "critical"}
TIMEOUT_MS = 10_000
_served_app = []  # the app behind live_server, for log_in's second factor


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def live_server(app):
    """Base URL of the session app served on loopback (random free port) for the whole session."""
    werkzeug_log = logging.getLogger("werkzeug")
    previous_level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)  # no access log line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    _served_app[:] = [app]
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        werkzeug_log.setLevel(previous_level)


@pytest.fixture(scope="session")
def browser(live_server):
    """Debian's Chromium, headless. Depends on `live_server` so it is closed before the server stops."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: install Debian's `chromium` package (apt-get install chromium)"
        if _in_ci():
            raise RuntimeError(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _new_page(browser, live_server, **options):
    context = browser.new_context(base_url=live_server, locale="fr-FR", **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    return context, page


@pytest.fixture
def page(browser, live_server):
    """A fresh French page for pages checked with axe.

    bypass_csp=True: the app sends `script-src 'self'`, and `page.add_script_tag(path=...)` inlines
    axe into the page, which that policy would block. Only these axe-checking contexts bypass the
    CSP; the XSS test uses `strict_page`, which keeps the policy on.
    """
    context, new_page = _new_page(browser, live_server, bypass_csp=True)
    yield new_page
    context.close()


@pytest.fixture
def strict_page(browser, live_server):
    """A fresh French page with the app's Content-Security-Policy enforced (no bypass)."""
    context, new_page = _new_page(browser, live_server)
    yield new_page
    context.close()


def open_page(page, path: str, status: int = 200):
    """page.goto(path), asserting the HTTP status of the response (a 500 page fails here, clearly)."""
    response = page.goto(path)
    assert response is not None and response.status == status, (
        f"GET {path}: status {response and response.status}, expected {status}; page says: "
        + page.locator("main").inner_text()[:300]
    )
    return response


def submit(page, selector: str, status: int = 200):
    """Click a submit button and wait for the resulting page; assert its final status."""
    with page.expect_navigation() as navigation:
        page.click(selector)
    response = navigation.value
    assert response is not None and response.status == status, (
        f"submitting {selector}: status {response and response.status} on {page.url}, expected {status}; "
        "page says: " + page.locator("main").inner_text()[:300]
    )
    return response


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login form and wait for the home page."""
    if "/login" not in page.url:
        open_page(page, "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    submit(page, "main form button[type=submit]")
    if page.url.split("?")[0].endswith("/login/code"):  # a role with a second factor: type the app's code
        page.fill("input[name=code]", current_totp_code(_served_app[0], username))
        submit(page, "main form button[type=submit]")
    assert not page.url.split("?")[0].endswith("/login"), f"login as {username} failed: still on {page.url}"


def switch_language(page, code: str) -> None:
    """Press the language button in the header (a POST form) and wait for the page to come back."""
    submit(page, f"header form button[name=language][value={code}]")
    expected_dir = "rtl" if code == "ar" else "ltr"
    html = page.locator("html")
    assert html.get_attribute("lang") == code
    assert html.get_attribute("dir") == expected_dir


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:10]:
            target = " ".join(json.dumps(t) if not isinstance(t, str) else t for t in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {target}: {summary}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    ... and {len(violation['nodes']) - 10} more nodes")
    return "\n".join(lines)


def check_accessibility(page, label: str) -> None:
    """Run axe-core on the current page; fail on any violation of impact serious or critical."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, (
        f"axe found {len(blocking)} serious/critical accessibility violation(s) on {label} ({page.url}):\n"
        + _describe(blocking)
    )


def screenshot(page, name: str) -> Path:
    """Full-page PNG under tests/browser/screenshots/ (git-ignored), for a human look."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_page(page, name: str) -> None:
    """axe (serious/critical) and a screenshot for one visited page."""
    check_accessibility(page, name)
    screenshot(page, name)


def path_of(page) -> str:
    """The path of the page's URL, without query or fragment."""
    return re.sub(r"^https?://[^/]+", "", page.url).split("?")[0].split("#")[0]


def fill_registration(page, service_point_id: int, *, given: str, family: str, given_ar: str, family_ar: str,
                      sex: str, born: str, phone: str) -> None:
    """Fill the registration form with a returnee from Libya living in Oujda (signed consent, statistics)."""
    page.select_option("#service_point_id", str(service_point_id))
    page.fill("#given_name", given)
    page.fill("#family_name", family)
    page.fill("#given_name_alt", given_ar)
    page.fill("#family_name_alt", family_ar)
    page.check(f"input[name=sex][value={sex}]")
    page.fill("#date_of_birth", born)
    page.select_option("#nationality", "MAR")
    page.select_option("#profile", "returnee")
    page.select_option("#country_returned_from", "LBY")
    page.select_option("#commune_code", "OUJ")
    page.fill("#phone", phone)
    page.check("input[name=languages][value=ar]")
    page.check("input[name=processing_basis][value=signed_form]")
    page.check("#statistics_consent")

"""The idle-session warning appears before the session ends (static script, no inline JavaScript)."""
from datetime import timedelta

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_warning_shows_before_the_idle_timeout(app, strict_page, world):
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=123)  # the warning comes 120 s before the end
    try:
        log_in(strict_page, "caseworker.a")
        warning = strict_page.locator("#session-warning")
        assert warning.is_hidden()
        warning.wait_for(state="visible", timeout=10_000)
        assert warning.get_attribute("role") == "alert"
    finally:
        app.config["PERMANENT_SESSION_LIFETIME"] = lifetime

"""Page weight in Chromium: every main page is at most 150 KB on a first load, and a second load fetches no static file.

Each page is opened in a fresh browser context (empty cache; the user's session cookie copied from a context that
logged in through the form). Every response of the load is counted: text (HTML, CSS, JavaScript, JSON, SVG) at its
gzip size at level 6, as nginx serves it in production, anything else as is, plus its header lines. The figures of
every page are printed. Then the same page is opened again in the same context: the server must see no request for
a static file (fingerprinted names are cached for a year, immutable).
"""
import gzip
from dataclasses import dataclass

import pytest

from tests.browser.conftest import _new_page, log_in, open_page, submit
from tests.http.page_data import PageRows

pytestmark = pytest.mark.browser

BUDGET = 150_000  # bytes transferred on a first load
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class Weight:
    """What one load of a page transferred."""

    responses: int
    raw: int           # bodies as sent by the app
    transferred: int   # text bodies gzipped (level 6), other bodies as is, plus headers

    def line(self, label: str) -> str:
        return f"| {label} | {self.responses} | {self.raw / 1000:.1f} | {self.transferred / 1000:.1f} |"


def _transferred(response) -> tuple[int, int]:
    """(raw body bytes, bytes on the wire with gzip for text) of one response."""
    headers = sum(len(f"{item['name']}: {item['value']}\r\n") for item in response.headers_array())
    body = b"" if 300 <= response.status < 400 else response.body()
    text = (response.headers.get("content-type") or "").startswith(TEXT_TYPES)
    return len(body), headers + (len(gzip.compress(body, compresslevel=6)) if text else len(body))


def _load(page, path: str) -> Weight:
    responses = []

    def keep(response) -> None:
        responses.append(response)

    page.on("response", keep)
    open_page(page, path)  # returns once the page and its sub-resources have loaded
    page.remove_listener("response", keep)
    sizes = [_transferred(response) for response in responses]
    return Weight(len(responses), sum(raw for raw, _ in sizes), sum(wire for _, wire in sizes))


@pytest.fixture
def server_paths(app):
    """The paths the live server is asked for while the test runs (recorded in front of the app)."""
    seen: list[str] = []
    inner = app.wsgi_app

    def record(environ, start_response):
        seen.append(environ.get("PATH_INFO", ""))
        return inner(environ, start_response)

    app.wsgi_app = record
    yield seen
    app.wsgi_app = inner


@pytest.fixture
def rows(app, world) -> PageRows:
    """A case list of 30 rows; a case with notes, follow-ups, a plan and referrals in every status; a household,
    a merge candidate pair, an import batch and a published report."""
    made = PageRows(app, world)
    made.directory()
    made.many_people(30)
    made.person("A-NAD")  # person_ids[30]: a likely duplicate is not needed, the comparison takes any two
    made.case_work(made.case_ids[0], 3)
    made.referrals_of(made.case_ids[0], 9)
    made.household(made.person_ids[:3])
    made.consents(made.person_ids[0], 2)
    made.add_to_batch(made.import_batch(), 3)
    made.published_reports(1)
    return made


def _sessions(browser, live_server, world) -> dict:
    """Each user's logged-in browser state (cookies), and "searcher": a caseworker with a search in the session."""
    states = {}
    for key in ("caseworker_a", "supervisor_a", "receiver", "me_officer", "dpo", "admin", "searcher"):
        context, page = _new_page(browser, live_server)
        log_in(page, world.username("caseworker_a" if key == "searcher" else key))
        if key == "searcher":
            open_page(page, "/cases/")
            page.fill("input[name=q]", "Famille00")
            submit(page, "main form[role=search] button[type=submit]")
        states[key] = context.storage_state()
        context.close()
    return states


def _pages(rows: PageRows) -> list[tuple[str, str | None, str]]:
    """(label, user or None for anonymous, path) of every main page."""
    person, case, referral = rows.person_ids[0], rows.case_ids[0], rows.referral_ids[3]
    return [
        ("login", None, "/login"),
        ("home", "caseworker_a", "/"),
        ("case list (30 cases, 25 shown)", "caseworker_a", "/cases/"),
        ("search results", "searcher", "/cases/"),
        ("case page (notes, plan, follow-ups, 9 referrals)", "caseworker_a", f"/cases/{case}"),
        ("person page (household, consents)", "caseworker_a", f"/beneficiaries/{person}"),
        ("referrals of my cases", "caseworker_a", "/referrals/"),
        ("referral page", "caseworker_a", f"/referrals/{referral}"),
        ("new referral", "caseworker_a", f"/cases/{case}/referrals/new"),
        ("registration form", "caseworker_a", "/beneficiaries/new"),
        ("referral inbox", "receiver", "/referrals/inbox"),
        ("referral page (receiving side)", "receiver", f"/referrals/{referral}"),
        ("home (supervisor)", "supervisor_a", "/"),
        ("team dashboard", "supervisor_a", "/cases/team"),
        ("review queue", "supervisor_a", "/referrals/review"),
        ("merge comparison", "supervisor_a", f"/people/{person}/merge?with={rows.person_ids[30]}"),
        ("imports", "supervisor_a", "/imports/"),
        ("import batch", "supervisor_a", f"/imports/{rows.batch_ids[0]}"),
        ("new import", "supervisor_a", "/imports/new"),
        ("reports", "me_officer", "/reports/"),
        ("report page", "me_officer", f"/reports/{rows.report_ids[0]}"),
        ("audit search", "dpo", "/audit"),
        ("access log", "dpo", f"/people/{person}/access-log"),
        ("administration", "admin", "/admin/"),
        ("accounts", "admin", "/admin/users"),
        ("partners", "admin", "/admin/partners"),
        ("service points", "admin", "/admin/service-points"),
    ]


def test_every_main_page_weighs_at_most_150_kb_and_reloads_from_cache(browser, live_server, world, rows,
                                                                       server_paths, capsys):
    states = _sessions(browser, live_server, world)
    table, too_heavy, fetched_again = [], [], []
    for label, user, path in _pages(rows):
        options = {"storage_state": states[user]} if user else {}
        context, page = _new_page(browser, live_server, **options)
        try:
            first = _load(page, path)
            server_paths.clear()
            open_page(page, path)
            again = [seen for seen in server_paths if seen.startswith("/static/")]
        finally:
            context.close()
        table.append(first.line(label))
        if first.transferred > BUDGET:
            too_heavy.append(label)
        if again:
            fetched_again.append(f"{label}: {again}")
    figures = "\n".join(["| page | responses | bodies (kB) | transferred, text gzipped (kB) |",
                         "|---|---:|---:|---:|", *table])
    with capsys.disabled():
        print(f"\nPage weight on a first load (budget {BUDGET / 1000:.0f} kB):\n{figures}")
    assert not too_heavy, f"over {BUDGET} bytes: {too_heavy}\n{figures}"
    assert not fetched_again, "static files fetched again on a second load:\n" + "\n".join(fetched_again)


def test_the_arabic_pages_weigh_the_same(browser, live_server, world, capsys):
    """The right-to-left stylesheet is the other large file: the Arabic login page is within the budget too."""
    context = browser.new_context(base_url=live_server, locale="ar")
    page = context.new_page()
    try:
        weight = _load(page, "/login")
        assert page.locator("html").get_attribute("dir") == "rtl"
    finally:
        context.close()
    with capsys.disabled():
        print(f"\nArabic login page: {weight.line('login (ar)')}")
    assert weight.transferred <= BUDGET

"""Every main page sends a fixed number of SQL statements whatever the number of rows it shows (no N+1).

Each test opens its pages once (warm-up), counts the statements of every page, adds rows of each kind the pages
list or count (people, cases, case work, referrals and their timelines, households, transfers, consents, merges,
imports, reports, accounts, audit events), counts again, and asserts that both counts are equal and within the
page's budget. A budget is the count measured on PostgreSQL, where a page that writes an audit event sends one
statement more than on SQLite (the audit writers' lock, see caseapp/audit/chain.py). The fragments a process keeps
and the statements it keeps (caseapp.fragments) are dropped before each count: a budget bounds a page's cold visit.
"""
import difflib
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from caseapp.fragments import STATEMENTS
from tests.http.page_data import PageRows

# the case list: 7, plus the audit chain's last hash and lock when a filter is used (searches); its filters rendered
# (the first visit, or after a change to accounts, service points or flags: caseapp.fragments)
LIST_BUDGET = 9


@dataclass(frozen=True)
class Page:
    """A page to count: who opens it, its path (from the rows made so far) and its budget of statements."""

    label: str
    client: str
    path: Callable[[PageRows], str]
    budget: int


def _forget_kept(app) -> None:
    """Drop the fragments and statements the process keeps: counted cold (test_case_list_fragments.py,
    test_case_list_statements.py)."""
    for store in ("caseapp_fragments", STATEMENTS):
        app.extensions.pop(store, None)


def _count(client, count_queries, path: str):
    _forget_kept(client.application)
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200, f"GET {path}: {response.status_code}"
    return counter


def _short(counter) -> list[str]:
    return [" ".join(statement.split())[:160] for statement in counter.statements]


def _check_budgets(clients: dict, count_queries, rows: PageRows, pages: list[Page],
                   grow: Callable[[int], None]) -> None:
    """Count every page before and after `grow(…)`: the counts must be equal and within the budgets."""
    for page in pages:
        _count(clients[page.client], count_queries, page.path(rows))  # warm-up: caches filled once per process
    before = {page.label: _count(clients[page.client], count_queries, page.path(rows)) for page in pages}
    grow(4)
    after = {page.label: _count(clients[page.client], count_queries, page.path(rows)) for page in pages}
    figures = "\n".join(f"  {page.label}: {before[page.label].count} → {after[page.label].count} "
                        f"(budget {page.budget})" for page in pages)
    print(f"\nSQL statements per page, fewer → more rows:\n{figures}")
    changed = [label for label in before if after[label].count != before[label].count]
    assert not changed, f"statements that change with the rows:\n{figures}\n" + "\n".join(
        f"{label}:\n" + "\n".join(difflib.unified_diff(_short(before[label]), _short(after[label]), lineterm="", n=0))
        for label in changed)
    over = [page.label for page in pages if after[page.label].count > page.budget]
    assert not over, f"over budget: {over}\n{figures}"


@pytest.fixture
def rows(app, world) -> PageRows:
    made = PageRows(app, world)
    made.directory()
    return made


@pytest.fixture
def clients(app, login_as):
    """Logged-in clients per user key, created on first use; "searcher" has a text search in its session."""

    class Clients(dict):
        def __missing__(self, key):
            if key == "anonymous":
                client = app.test_client()
            elif key == "searcher":
                client = login_as("caseworker_a")
                with client.session_transaction() as session:
                    session["case_search"] = "Personne"
            else:
                client = login_as(key)
            self[key] = client
            return client

    return Clients()


# --- the case list with 25+ rows: the page size changes, the number of statements does not -----------------------


@pytest.fixture
def many_people(register):
    for index in range(30):
        register(given_name=f"Person{index}", phone=f"+212 600 000 {index:03d}")


@pytest.mark.parametrize("path", ["/", "/cases/", "/cases/?page=2", "/cases/?status=registered"])
def test_list_pages_have_a_fixed_query_budget(app, login_as, many_people, count_queries, path):
    client = login_as("caseworker_a")
    counts = {}
    for page_size in (5, 25):
        app.config["PAGE_SIZE"] = page_size
        _forget_kept(app)
        try:
            with count_queries() as counter:
                assert client.get(path).status_code == 200
        finally:
            app.config["PAGE_SIZE"] = 25
        counts[page_size] = counter.count
    assert counts[5] == counts[25], counts
    assert counts[25] <= LIST_BUDGET, (counts, counter.statements)


# --- case work: lists, the case page, the person page, the supervisor's pages -----------------------------------


def _first_case(rows: PageRows) -> str:
    return f"/cases/{rows.case_ids[0]}"


def _first_person(rows: PageRows) -> str:
    return f"/beneficiaries/{rows.person_ids[0]}"


CASE_WORK_PAGES = [
    Page("home (caseworker)", "caseworker_a", lambda rows: "/", 8),  # referral counts: tally, then the overdue
    Page("case list", "caseworker_a", lambda rows: "/cases/", 6),  # the count read along the rows
    Page("case list, filtered and sorted", "caseworker_a",
         lambda rows: "/cases/?status=registered&risk=&flag=homeless&overdue=y&sort=updated_desc", 11),
    Page("search results", "searcher", lambda rows: "/cases/", 10),
    Page("case page", "caseworker_a", _first_case, 11),
    Page("case page (restricted access)", "caseworker_restricted", _first_case, 11),
    Page("case page (supervisor)", "supervisor_a", _first_case, 12),
    Page("person page", "caseworker_a", _first_person, 15),
    Page("person page (supervisor: likely duplicates)", "supervisor_a", _first_person, 24),
    Page("new referral", "caseworker_a", lambda rows: f"/cases/{rows.case_ids[0]}/referrals/new", 10),
    Page("registration form", "caseworker_a", lambda rows: "/beneficiaries/new", 5),
    Page("assessment form", "caseworker_a", lambda rows: f"/cases/{rows.case_ids[0]}/assessment", 10),
    Page("my account", "caseworker_a", lambda rows: "/account/security", 1),
    Page("referrals of my cases", "caseworker_a", lambda rows: "/referrals/", 4),  # a page of rows, and their count
    Page("notifications", "caseworker_a", lambda rows: "/notifications", 2),
    Page("home (supervisor)", "supervisor_a", lambda rows: "/", 10),
    Page("case list (supervisor: bulk assignment)", "supervisor_a", lambda rows: "/cases/", 5),
    Page("team dashboard", "supervisor_a", lambda rows: "/cases/team", 10),
    Page("review queue", "supervisor_a", lambda rows: "/referrals/review", 3),
    Page("transfers proposed", "supervisor_a", lambda rows: "/transfers", 2),
    Page("access log", "supervisor_a", lambda rows: f"/people/{rows.person_ids[0]}/access-log", 8),
]


def test_case_work_pages_have_fixed_budgets(clients, count_queries, rows):
    def grow(count: int) -> None:
        first = len(rows.person_ids)
        rows.many_people(count)
        rows.many_people(count, "A-NAD")
        rows.case_work(rows.case_ids[0], count)
        rows.referrals_of(rows.case_ids[0], 2 * count)
        rows.household([rows.person_ids[0], *rows.person_ids[max(first, 1):first + count]])
        rows.other_cases(rows.person_ids[0], count)
        rows.consents(rows.person_ids[0], count)
        rows.flags(rows.person_ids[0], count)
        rows.transfers(count)
        rows.accounts(count)  # more organisations: transfer targets, the directory of the new referral page

    grow(2)
    _check_budgets(clients, count_queries, rows, CASE_WORK_PAGES, grow)


# --- referrals: both sides of a referral page, the slip, the receiver's inbox ------------------------------------


def _submitted_referral(rows: PageRows) -> int:
    return rows.referral_ids[1]  # REFERRAL_PATHS[1]: submitted


def _approved_referral(rows: PageRows) -> int:
    return rows.referral_ids[3]  # REFERRAL_PATHS[3]: approved, in the receiver's inbox


REFERRAL_PAGES = [
    Page("referral page (timeline growing)", "caseworker_a", lambda rows: f"/referrals/{_submitted_referral(rows)}",
         14),
    Page("referral page (referring side)", "caseworker_a", lambda rows: f"/referrals/{_approved_referral(rows)}", 16),
    Page("referral page (receiving side)", "receiver", lambda rows: f"/referrals/{_approved_referral(rows)}", 13),
    Page("referral slip", "caseworker_a", lambda rows: f"/referrals/{_approved_referral(rows)}/slip", 12),
    Page("referral inbox", "receiver", lambda rows: "/referrals/inbox", 3),
    Page("home (receiver)", "receiver", lambda rows: "/", 4),
    Page("notifications (receiver)", "receiver", lambda rows: "/notifications", 2),
]


def test_referral_pages_have_fixed_budgets(clients, count_queries, rows):
    rows.person()
    rows.referrals_of(rows.case_ids[0], 9)  # one in each status

    def grow(count: int) -> None:
        rows.timeline(_submitted_referral(rows), count)
        rows.consents(rows.person_ids[0], count)
        for _ in range(count):
            rows.person()
            rows.referrals_of(rows.case_ids[-1], 9)

    _check_budgets(clients, count_queries, rows, REFERRAL_PAGES, grow)


# --- merges and imports -------------------------------------------------------------------------------------------


def _comparison(rows: PageRows) -> str:
    return f"/people/{rows.person_ids[0]}/merge?with={rows.person_ids[1]}"


MERGE_AND_IMPORT_PAGES = [
    Page("merge comparison", "supervisor_a", lambda rows: _comparison(rows), 11),
    Page("merge page (latest merge)", "supervisor_a", lambda rows: f"/merges/{rows.merge_ids[-1]}", 8),
    Page("imports", "supervisor_a", lambda rows: "/imports/", 2),
    Page("import batch", "supervisor_a", lambda rows: f"/imports/{rows.batch_ids[0]}", 20),
    Page("new import", "supervisor_a", lambda rows: "/imports/new", 3),
]


def test_merge_and_import_pages_have_fixed_budgets(clients, count_queries, rows):
    rows.person()
    rows.person("A-NAD")

    def grow(count: int) -> None:
        """The compared people get more cases and consents; the latest merge moved more; more and fuller batches."""
        for person in rows.person_ids[:2]:
            rows.other_cases(person, count)
            rows.consents(person, count)
        kept, _case = rows.person()
        merged, _case = rows.person("A-NAD")
        rows.other_cases(merged, count)
        rows.consents(merged, count)
        rows.merge(kept, merged)
        if not rows.batch_ids:
            rows.import_batch()
        rows.add_to_batch(rows.batch_ids[0], count)
        for _ in range(count):
            rows.add_to_batch(rows.import_batch(), 1)

    grow(1)
    _check_budgets(clients, count_queries, rows, MERGE_AND_IMPORT_PAGES, grow)


# --- programme-wide pages: login, reports, audit, data protection, administration ---------------------------------


PROGRAMME_PAGES = [
    Page("login", "anonymous", lambda rows: "/login", 0),
    Page("reports", "me_officer", lambda rows: "/reports/", 3),
    Page("report page (latest)", "me_officer", lambda rows: f"/reports/{rows.report_ids[-1]}", 7),
    Page("audit search", "dpo", lambda rows: "/audit", 7),
    Page("audit search, filtered", "dpo",
         lambda rows: "/audit?action=case.&partner=A&date_from=2000-01-01&date_to=2999-12-31&object_type=case_file", 7),
    Page("audit search by user", "dpo", lambda rows: "/audit?actor=caseworker.a", 7),
    Page("access log (data protection)", "dpo", lambda rows: f"/people/{rows.person_ids[0]}/access-log", 8),
    Page("data protection lookup", "dpo", lambda rows: "/privacy", 1),
    Page("data protection person page", "dpo", lambda rows: f"/privacy/people/{rows.person_ids[0]}", 6),
    Page("subject access", "dpo", lambda rows: f"/people/{rows.person_ids[0]}/subject-access", 19),
    Page("administration", "admin", lambda rows: "/admin/", 4),
    Page("accounts", "admin", lambda rows: "/admin/users", 5),
    Page("partners", "admin", lambda rows: "/admin/partners", 3),
    Page("service points", "admin", lambda rows: "/admin/service-points", 2),
    Page("account page", "admin", lambda rows: f"/admin/users/{rows.world.users['caseworker_a']}", 6),
    Page("service directory", "admin", lambda rows: "/directory/", 7),
]


def test_programme_pages_have_fixed_budgets(clients, count_queries, rows, monkeypatch):
    from caseapp.reports import views as report_views

    monkeypatch.setattr(report_views, "PUBLISHED_PAGES_KEPT", 0)  # every report page rendered: its statements counted

    def grow(count: int) -> None:
        rows.many_people(count)
        rows.many_people(count, "B-BEM")
        rows.referrals_of(rows.case_ids[0], count)
        rows.other_cases(rows.person_ids[0], count)
        rows.consents(rows.person_ids[0], count)
        rows.published_reports(1)
        rows.accounts(count)

    grow(2)
    _check_budgets(clients, count_queries, rows, PROGRAMME_PAGES, grow)

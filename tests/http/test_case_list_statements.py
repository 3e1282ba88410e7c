"""The case list's statements (its count and its page of rows, when no text is searched) and the home page's lists
are kept per process and reader (caseapp.fragments.kept_statement), under the reference stamp: a change to a
reader's scope made anywhere shows at their next visit, and no reader ever runs a statement built for another."""
import re
from datetime import date, timedelta

import pytest
from flask import g
from flask_login import login_user
from sqlalchemy import select

from caseapp.auth.models import User
from caseapp.cases import services
from caseapp.extensions import db
from caseapp.fragments import STATEMENTS
from caseapp.reference_stamp import current_stamp
from tests.http.test_case_list_fragments import _elsewhere

CASE_LINK = re.compile(r'<td class="case-number"><a href="/cases/\d+">([^<]+)</a>')


def _listed(client, path: str = "/cases/") -> set[str]:
    response = client.get(path)
    assert response.status_code == 200
    return set(CASE_LINK.findall(response.get_data(as_text=True)))


@pytest.fixture
def cases(register) -> dict[str, str]:
    """One case at each of partner A's service points and one at partner B's: service point → case number."""
    return {point: register(user, point, given_name=f"Person {point}")[1]
            for user, point in (("supervisor_a", "A-OUJ"), ("supervisor_a", "A-NAD"), ("supervisor_b", "B-BEM"))}


def _builds(monkeypatch) -> dict[str, int]:
    """How many times the case list's statements are built from now on."""
    built = {"count": 0, "rows": 0}
    for name, key in (("counting", "count"), ("rows", "rows")):
        original = getattr(services._CaseSearch, name)

        def counted(*arguments, _original=original, _key=key):
            built[_key] += 1
            return _original(*arguments)

        monkeypatch.setattr(services._CaseSearch, name, counted)
    return built


def _kept_statements(app) -> dict:
    store = app.extensions.get(STATEMENTS)
    return dict(store._kept) if store is not None else {}


def test_a_second_visit_builds_neither_statement_and_lists_the_same(app, world, cases, login_as, monkeypatch):
    client = login_as("supervisor_a")
    built = _builds(monkeypatch)
    first = _listed(client)
    assert first == {cases["A-OUJ"], cases["A-NAD"]} and built == {"count": 1, "rows": 1}
    assert _listed(client) == first and built == {"count": 1, "rows": 1}
    assert _listed(client, "/cases/?status=registered&sort=number") == first and built == {"count": 2, "rows": 2}
    assert _listed(client, "/cases/?status=closed") == set() and built["count"] == 3


def test_a_scope_changed_elsewhere_shows_at_the_next_visit(app, world, cases, login_as):
    client = login_as("caseworker_a")
    assert _listed(client) == {cases["A-OUJ"]}
    assert _listed(client) == {cases["A-OUJ"]}  # kept

    _elsewhere(app, "INSERT INTO user_service_point (user_id, service_point_id) VALUES (:user, :point)",
               user=world.users["caseworker_a"], point=world.service_points["A-NAD"])
    assert _listed(client) == {cases["A-OUJ"], cases["A-NAD"]}

    _elsewhere(app, "DELETE FROM user_service_point WHERE user_id = :user AND service_point_id = :point",
               user=world.users["caseworker_a"], point=world.service_points["A-OUJ"])
    assert _listed(client) == {cases["A-NAD"]}  # narrowed at once: the kept statements are gone with the stamp


def test_a_supervisor_made_caseworker_elsewhere_sees_only_their_service_points_next(app, world, cases, login_as):
    client = login_as("supervisor_a")
    assert _listed(client) == {cases["A-OUJ"], cases["A-NAD"]}
    _elsewhere(app, "DELETE FROM user_service_point WHERE user_id = :user AND service_point_id = :point",
               user=world.users["supervisor_a"], point=world.service_points["A-NAD"])
    assert _listed(client) == {cases["A-OUJ"], cases["A-NAD"]}  # a supervisor's scope is the organisation
    _elsewhere(app, "UPDATE user_account SET role = 'caseworker' WHERE id = :user", user=world.users["supervisor_a"])
    assert _listed(client) == {cases["A-OUJ"]}


def test_readers_never_run_each_others_statements(app, world, cases, login_as):
    expected = {"supervisor_a": {cases["A-OUJ"], cases["A-NAD"]}, "supervisor_b": {cases["B-BEM"]},
                "caseworker_a": {cases["A-OUJ"]}, "caseworker_a2": {cases["A-NAD"]}}
    readers = {key: login_as(key) for key in expected}
    for _ in range(2):  # the second round runs what the first kept
        assert {key: _listed(client) for key, client in readers.items()} == expected


def test_a_text_search_is_never_kept(app, world, cases, login_as):
    client = login_as("supervisor_a")
    _listed(client)
    kept = _kept_statements(app)
    with client.session_transaction() as session:
        session["case_search"] = "Person"
    assert _listed(client) == {cases["A-OUJ"], cases["A-NAD"]}
    assert _listed(client) == {cases["A-OUJ"], cases["A-NAD"]}
    assert _kept_statements(app) == kept


def test_the_overdue_filter_is_kept_for_one_day_only(app, world, cases, monkeypatch):
    built = _builds(monkeypatch)
    overdue = services.CaseFilters(overdue=True)
    today = date.today()
    with app.test_request_context():
        login_user(db.session.get(User, world.users["supervisor_a"]))
        for day in (today, today, today + timedelta(days=1), today + timedelta(days=1)):
            services.search_cases(db.session.get(User, world.users["supervisor_a"]), filters=overdue, today=day)
    assert built == {"count": 2, "rows": 2}


def test_outside_a_request_nothing_is_kept(app, world, cases, monkeypatch):
    built = _builds(monkeypatch)
    kept = _kept_statements(app)
    with app.app_context():
        actor = db.session.get(User, world.users["supervisor_a"])
        for _ in range(2):
            assert services.search_cases(actor, audit=False).total == 2
    assert built == {"count": 2, "rows": 2} and _kept_statements(app) == kept


def _loaded(world, key: str) -> User:
    """The account logged in for the request, with the reference stamp read as the user loader reads it."""
    actor = db.session.get(User, world.users[key])
    login_user(actor)
    g.reference_stamp = current_stamp()
    return actor


def test_the_first_page_comes_with_its_total_and_every_page_has_it(app, world, cases, register, count_queries,
                                                                   monkeypatch):
    register("supervisor_a", "A-OUJ", given_name="Person Three")
    expected = {1: 2, 2: 1, 9: 1}  # page asked → rows on the page shown (past the end: the last page)
    with app.test_request_context():
        actor = _loaded(world, "supervisor_a")
        for asked, shown in expected.items():
            page = services.search_cases(actor, page=asked, per_page=2, audit=False)
            assert (page.total, len(page.items), page.page) == (3, shown, min(asked, 2))
        with count_queries() as counter:
            first = services.search_cases(actor, per_page=2, audit=False)
        assert first.total == 3 and counter.count == 1  # the first page and its total in one statement
        with count_queries() as counter:
            services.search_cases(actor, page=9, per_page=2, audit=False)
        assert counter.count == 2  # a later page: counted first (page 9 is past the end), then the last page read


def test_an_empty_list_is_one_statement(app, world, login_as, count_queries):
    with app.test_request_context():
        actor = _loaded(world, "supervisor_b")
        with count_queries() as counter:
            page = services.search_cases(actor, audit=False)
        assert (page.total, page.items, page.page) == (0, [], 1) and counter.count == 1, counter.statements


# --- the home page's lists ---------------------------------------------------------------------------------------

RECENT = re.compile(r'<a href="/cases/\d+">([A-Z]{3}-\d{4}-\d{5})</a>')


def _home_builds(monkeypatch) -> list[tuple[int, date]]:
    """Who the home page's statements are built for, and for which day, from now on."""
    from caseapp.cases import followups

    built, original = [], followups._home_statements

    def counted(actor, today, limit):
        built.append((actor.id, today))
        return original(actor, today, limit)

    monkeypatch.setattr(followups, "_home_statements", counted)
    return built


def _home(client) -> set[str]:
    response = client.get("/")
    assert response.status_code == 200
    return set(RECENT.findall(response.get_data(as_text=True)))


def test_the_home_pages_lists_are_kept_per_reader_and_follow_their_scope(app, world, cases, login_as, monkeypatch):
    built = _home_builds(monkeypatch)
    readers = {key: login_as(key) for key in ("supervisor_a", "caseworker_a", "supervisor_b")}
    expected = {"supervisor_a": {cases["A-OUJ"], cases["A-NAD"]}, "caseworker_a": set(),  # not assigned to them
                "supervisor_b": {cases["B-BEM"]}}
    for _ in range(2):  # the second round runs what the first kept
        assert {key: _home(client) for key, client in readers.items()} == expected
    assert len(built) == 3
    _elsewhere(app, "DELETE FROM user_service_point WHERE user_id = :user AND service_point_id = :point",
               user=world.users["supervisor_a"], point=world.service_points["A-NAD"])
    _elsewhere(app, "UPDATE user_account SET role = 'caseworker' WHERE id = :user", user=world.users["supervisor_a"])
    assert _home(readers["supervisor_a"]) == {cases["A-OUJ"]}  # now a caseworker of A-OUJ only
    assert len(built) == 4


def test_the_home_pages_lists_are_built_again_the_next_day(app, world, cases, monkeypatch):
    from caseapp.cases.followups import home_work

    built = _home_builds(monkeypatch)
    today = date.today()
    with app.test_request_context():
        actor = _loaded(world, "supervisor_a")
        for day in (today, today, today + timedelta(days=1)):
            assert {row.number for row in home_work(actor, day).recently_updated} == {cases["A-OUJ"], cases["A-NAD"]}
    assert built == [(actor.id, today), (actor.id, today + timedelta(days=1))]


def test_the_follow_up_lists_are_of_their_own_day_written_into_their_sql(app, world, cases, count_queries):
    """Due today and overdue, from the statements kept for each day: the day is written into their SQL (so that
    PostgreSQL plans them once, see followups._home_statements), and each day's lists are that day's."""
    from caseapp.cases.followups import add_follow_up, home_work
    from caseapp.cases.models import Case

    today = date.today()
    with app.test_request_context():
        actor = _loaded(world, "supervisor_a")
        case = db.session.scalar(select(Case).where(Case.number == cases["A-OUJ"]))
        for purpose, due in (("Hier", today - timedelta(days=1)), ("Aujourd'hui", today),
                             ("Demain", today + timedelta(days=1))):
            add_follow_up(actor, case, purpose=purpose, due_date=due, assigned_to_id=None, today=due)
        db.session.commit()
        for day, due, overdue in ((today, {"Aujourd'hui"}, {"Hier"}),
                                  (today + timedelta(days=1), {"Demain"}, {"Hier", "Aujourd'hui"}), (today, None, None)):
            with count_queries() as counter:
                work = home_work(actor, day)
            assert {row.purpose for row in work.due_today} == (due or {"Aujourd'hui"})
            assert {row.purpose for row in work.overdue} == (overdue or {"Hier"})
            follow_up_lists = [text for text in counter.statements if "follow_up.due_date" in text]
            assert len(follow_up_lists) == 2 and all(f"'{day.isoformat()}'" in text for text in follow_up_lists)

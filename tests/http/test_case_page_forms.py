"""The case page's empty forms: their visible fields are a fragment kept per reader, language and what they list
(caseapp.cases.empty_forms), their hidden fields written at each visit. Each case still offers its own workers, each
reader their own note types, each day its own date; a form sent back with errors shows what was typed; and a page
whose fields came from the fragment posts as a built one does."""
import datetime as real_datetime
import re

import pytest
from sqlalchemy import select

from caseapp.cases import page_context
from caseapp.cases.models import CaseNote
from caseapp.extensions import db
from tests.http.test_case_list_fragments import _elsewhere
from tests.http.test_case_pages import _body, _case_id, form_data, submit_form

OUJ_WORKERS = {"Caseworker A", "Caseworker Restricted", "Supervisor A"}
NAD_WORKERS = {"Caseworker A2", "Supervisor A"}


@pytest.fixture
def cases(app, world, register) -> dict[str, int]:
    """An open case at each of partner A's service points: service point → case id."""
    return {point: _case_id(app, register("supervisor_a", point, given_name=f"Person {point}")[1])
            for point in ("A-OUJ", "A-NAD")}


def _page(client, case_id: int) -> str:
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    return _body(response)


def _options(page: str, name: str) -> set[str]:
    select_ = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return set(re.findall(r"<option[^>]*>([^<]*)</option>", select_)) - {"—"}


def test_each_case_offers_the_workers_of_its_own_service_point(app, world, cases, login_as):
    client = login_as("supervisor_a")
    for _ in range(2):  # the second round from the kept fragments
        assert _options(_page(client, cases["A-OUJ"]), "assigned_to_id") == OUJ_WORKERS
        assert _options(_page(client, cases["A-NAD"]), "assigned_to_id") == NAD_WORKERS


def test_a_worker_given_the_service_point_elsewhere_is_offered_at_the_next_visit(app, world, cases, login_as):
    client = login_as("supervisor_a")
    assert _options(_page(client, cases["A-OUJ"]), "assigned_to_id") == OUJ_WORKERS
    _elsewhere(app, "INSERT INTO user_service_point (user_id, service_point_id) VALUES (:user, :point)",
               user=world.users["caseworker_a2"], point=world.service_points["A-OUJ"])
    assert _options(_page(client, cases["A-OUJ"]), "assigned_to_id") == OUJ_WORKERS | {"Caseworker A2"}


def test_each_reader_is_offered_their_own_note_types(app, world, cases, login_as):
    readers = [("caseworker_a", False), ("caseworker_restricted", True), ("supervisor_a", True)]
    clients = {key: login_as(key) for key, _restricted in readers}
    for _ in range(2):
        for key, restricted in readers:
            page = _page(clients[key], cases["A-OUJ"])
            kinds = re.findall(r'<option[^>]*value="([a-z_]+)"', re.search(
                r'<select[^>]*name="kind"[^>]*>(.*?)</select>', page, re.S).group(1))
            assert ("psychosocial" in kinds) is restricted and "general" in kinds, key


def test_the_note_form_is_dated_of_each_day(app, world, cases, login_as, monkeypatch):
    client = login_as("caseworker_a")
    today = real_datetime.date.today()
    assert f'value="{today.isoformat()}"' in _page(client, cases["A-OUJ"])
    tomorrow = today + real_datetime.timedelta(days=1)

    class Tomorrow(real_datetime.date):
        @classmethod
        def today(cls):
            return tomorrow

    monkeypatch.setattr(page_context, "date", Tomorrow)
    page = _page(client, cases["A-OUJ"])
    assert f'value="{tomorrow.isoformat()}"' in page and f'value="{today.isoformat()}"' not in page


def test_a_refused_note_shows_what_was_typed_then_the_next_visit_an_empty_form(app, world, cases, login_as):
    client = login_as("caseworker_a")
    case_url, action = f"/cases/{cases['A-OUJ']}", f"/cases/{cases['A-OUJ']}/notes"
    _page(client, cases["A-OUJ"])  # the fragment kept
    refused = _body(submit_form(client, case_url, action, expected=422, kind="general", body=" ",
                                occurred_on="2026-01-15"))
    assert 'value="2026-01-15"' in refused and "is-invalid" in refused
    again = _page(client, cases["A-OUJ"])
    assert 'value="2026-01-15"' not in again and "is-invalid" not in again


def test_forms_written_from_the_fragment_post_and_each_visit_has_a_new_one_time_token(app, world, cases, login_as):
    client = login_as("caseworker_a")
    case_url, action = f"/cases/{cases['A-OUJ']}", f"/cases/{cases['A-OUJ']}/notes"
    first, second = _page(client, cases["A-OUJ"]), _page(client, cases["A-OUJ"])
    tokens = [form_data(page, action)["form_token"] for page in (first, second)]
    assert tokens[0] != tokens[1]
    submit_form(client, case_url, action, kind="general", body="Première visite au point d'accueil")
    with app.app_context():
        assert [note.body for note in db.session.scalars(select(CaseNote))] == ["Première visite au point d'accueil"]


def test_each_goal_s_action_form_has_its_own_fields_and_adds_to_its_goal(app, world, cases, login_as):
    from caseapp.cases.models import PlanAction, PlanGoal

    client = login_as("caseworker_a")
    case_url = f"/cases/{cases['A-OUJ']}"
    for title in ("Logement", "Emploi"):
        submit_form(client, case_url, f"{case_url}/goals", area="employment", title=title)
    with app.app_context():
        goals = db.session.scalars(select(PlanGoal.id).order_by(PlanGoal.id)).all()
    for _ in range(2):  # the second visit from the kept fragment
        page = _page(client, cases["A-OUJ"])
        for goal in goals:
            assert page.count(f'id="goal{goal}-description"') == 1
            assert page.count(f'for="goal{goal}-description"') == 1
            assert f'name="goal{goal}-status"' in page and f'name="goal{goal}-csrf_token"' in page
        assert "{prefix}" not in page
    submit_form(client, case_url, f"/goals/{goals[1]}/actions", **{
        f"goal{goals[1]}-description": "Inscription à l'ANAPEC", f"goal{goals[1]}-owner": "Caseworker A"})
    with app.app_context():
        assert [(action.goal_id, action.description) for action in db.session.scalars(select(PlanAction))] == [
            (goals[1], "Inscription à l'ANAPEC")]

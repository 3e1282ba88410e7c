"""The supervisor's team dashboard: their organisation's figures only, for supervisors only."""
import html

from sqlalchemy import select

from caseapp.auth.models import User
from caseapp.cases.dashboard import team_dashboard
from caseapp.cases.models import Case
from caseapp.extensions import db


def test_the_dashboard_counts_the_supervisors_organisation_only(app, world, register):
    register("caseworker_a", "A-OUJ", given_name="Aya")
    register("caseworker_a2", "A-NAD", given_name="Badr")
    register("caseworker_b", "B-BEM", given_name="Chama")
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.service_point_id == world.service_points["A-OUJ"]))
        case.assigned_worker_id = world.users["caseworker_a"]
        db.session.commit()
        board_a = team_dashboard(db.session.get(User, world.users["supervisor_a"]))
        board_b = team_dashboard(db.session.get(User, world.users["supervisor_b"]))
    assert sum(sum(counts.values()) for _, counts in board_a.cases_by_point) == 2
    assert [name for name, _ in board_a.cases_by_point] == ["Point A-NAD", "Point A-OUJ"]
    assert sum(sum(counts.values()) for _, counts in board_b.cases_by_point) == 1
    assert board_a.opened_recently == 2 and board_b.opened_recently == 1
    assert ("Caseworker A", 1, 0) in board_a.workers
    assert all(name != "Caseworker B" for name, _, _ in board_a.workers)


def test_only_supervisors_open_it_and_it_names_no_other_organisation(app, world, register, login_as):
    register("caseworker_b", "B-BEM", given_name="Chama")
    page = html.unescape(login_as("supervisor_a").get("/cases/team").get_data(as_text=True))
    assert "Point B-BEM" not in page and "Caseworker B" not in page
    for key in ("caseworker_a", "receiver", "me_officer", "dpo", "admin"):
        assert login_as(key).get("/cases/team").status_code == 403, key

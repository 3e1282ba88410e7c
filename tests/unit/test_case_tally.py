"""The case tally (caseapp.cases.tally): its sums always equal counting the cases themselves, through every change
the triggers see, folds, a fold beside an open transaction, the migration's fill; and the pages' counts read it."""
import threading
from datetime import date

import pytest
from sqlalchemy import delete, func, select, text

from caseapp.auth.models import User
from caseapp import tallies
from caseapp.cases import tally
from caseapp.cases.dashboard import team_dashboard
from caseapp.cases.followups import home_work
from caseapp.cases.models import Case
from caseapp.cases.services import CaseFilters, _key_conditions, search_cases
from caseapp.access.policy import scope
from caseapp.extensions import db
from caseapp.models_base import utcnow
from tests.unit.tally_checks import TallyCheck

CHECK = TallyCheck(tally.CASES, "case_file")
_assert_tally_is_true, _tally_rows = CHECK.assert_true, CHECK.rows


def _cases(register, world, count: int = 3) -> None:
    for index in range(count):
        register("caseworker_a", given_name=f"Amina{index}", phone=f"+212 612 000 {index:03d}")
    register("caseworker_a2", service_point="A-NAD", given_name="Youssef", phone="+212 612 000 900")
    register("caseworker_b", service_point="B-BEM", given_name="Karim", phone="+212 612 000 901")


def test_the_tally_follows_every_change_of_a_case(app, world, register):
    _cases(register, world)
    with app.app_context():
        _assert_tally_is_true()
        first, second, *_ = db.session.scalars(select(Case).order_by(Case.id))
        first.status = "assessment"  # a status change
        second.assigned_worker_id = world.users["caseworker_a"]  # an assignment
        db.session.commit()
        _assert_tally_is_true()
        rows = _tally_rows()
        second.service_point_id = world.service_points["A-NAD"]  # a transfer
        second.assigned_worker_id = None
        first.risk_level = "high"  # not a key: nothing appended
        db.session.commit()
        assert _tally_rows() == rows + 2
        _assert_tally_is_true()
        extra = Case(number="OUJ-2026-99999", beneficiary_id=first.beneficiary_id, partner_id=first.partner_id,
                     service_point_id=first.service_point_id, opened_by_id=world.users["caseworker_a"])
        db.session.add(extra)
        db.session.commit()
        _assert_tally_is_true()
        db.session.execute(delete(Case).where(Case.id == extra.id))  # a case gone
        db.session.execute(text("UPDATE case_file SET status = 'closed'"))  # several at once, outside the ORM
        db.session.commit()
        _assert_tally_is_true()


def test_a_fold_leaves_one_row_per_key_and_every_sum(app, world, register):
    _cases(register, world)
    with app.app_context():
        for case in db.session.scalars(select(Case)):
            case.status = "plan"
            db.session.flush()
            case.status = "active"
        db.session.commit()
        before = _tally_rows()
        removed = tally.fold(db.session.connection())
        db.session.commit()
        keys = len(CHECK.truth())
        assert _tally_rows() == keys == before - removed
        _assert_tally_is_true()
        assert tally.fold(db.session.connection()) == 0  # folded already


def _assert_a_fold_must_wait(engine) -> None:
    """SQLite: a fold cannot begin while another transaction holds the write lock (it gives up after 50 ms)."""
    with engine.connect() as connection, pytest.raises(Exception, match="locked"):
        connection.exec_driver_sql("PRAGMA busy_timeout = 50")
        with connection.begin():
            tally.fold(connection)


def test_a_fold_beside_an_open_transaction_loses_none_of_its_rows(app, world, register):
    _cases(register, world)
    with app.app_context():
        engine = db.engine
        person, point, worker = db.session.execute(select(Case.beneficiary_id, Case.service_point_id,
                                                          Case.opened_by_id)).first()
        partner = world.partners["A"]
        db.session.rollback()
        writer = engine.connect()
        writer.begin()
        writer.execute(text("INSERT INTO case_file (number, beneficiary_id, partner_id, service_point_id, status, "
                            "opened_at, opened_by_id, updated_at, version) VALUES ('OUJ-2026-88888', :person, "
                            ":partner, :point, 'registered', :now, :worker, :now, 1)"),
                       dict(person=person, partner=partner, point=point, worker=worker, now=utcnow()))
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:  # the writer's appended row is not visible to the fold: it stays
                tally.fold(connection)
        else:  # SQLite: every transaction takes the write lock first, so a fold waits for the writer to end
            _assert_a_fold_must_wait(engine)
        writer.commit()
        writer.close()
        _assert_tally_is_true()


def test_two_folds_at_once_never_both_fold(app, world, register):
    _cases(register, world)
    with app.app_context():
        engine = db.engine
        first = engine.connect()
        first.begin()
        assert tally.fold(first) > 0
        if engine.dialect.name == "postgresql":
            done = []
            second = engine.connect()
            thread = threading.Thread(target=lambda: done.append(tally.fold(second)))
            thread.start()
            thread.join(10)
            second.rollback()
            second.close()
            assert done == [0]  # the advisory lock is taken: it did nothing, and did not wait
        else:  # SQLite: the second one's transaction cannot begin while the first writes
            _assert_a_fold_must_wait(engine)
        first.commit()
        first.close()
        _assert_tally_is_true()


FILTERS = [CaseFilters(), CaseFilters(status="registered"), CaseFilters(status="closed"), CaseFilters(status="x"),
           CaseFilters(service_point_id=1), CaseFilters(service_point_id=2), CaseFilters(service_point_id=3)]


@pytest.mark.parametrize("user_key", ["caseworker_a", "caseworker_a2", "caseworker_b", "supervisor_a",
                                      "supervisor_b", "receiver", "admin"])
def test_the_case_lists_total_is_the_number_of_its_cases(app, world, register, user_key):
    _cases(register, world)
    with app.app_context():
        actor = db.session.get(User, world.users[user_key])
        cases = list(db.session.scalars(select(Case)))
        cases[0].status = "closed"
        cases[1].assigned_worker_id = world.users["caseworker_a"]
        db.session.commit()
        filters = FILTERS + [CaseFilters(worker_id=world.users["caseworker_a"]),
                             CaseFilters(status="registered", service_point_id=world.service_points["A-OUJ"])]
        for filters_used in filters:
            counted = db.session.scalar(select(func.count()).select_from(
                scope(actor, select(Case), Case).where(*_key_conditions(Case, filters_used)).subquery()))
            page = search_cases(actor, filters=filters_used, audit=False)
            assert page.total == counted, filters_used
            if counted <= 25:
                assert len(page.items) == counted


def test_the_supervisors_counts_are_the_cases_counted(app, world, register):
    _cases(register, world)
    with app.app_context():
        cases = list(db.session.scalars(select(Case).where(Case.partner_id == world.partners["A"])
                                        .order_by(Case.id)))
        for case, worker in zip(cases, ("caseworker_a", "caseworker_a", "caseworker_a2", None)):
            case.assigned_worker_id = world.users[worker] if worker else None
        cases[1].status = "closed"
        db.session.commit()
        supervisor = db.session.get(User, world.users["supervisor_a"])
        assert home_work(supervisor, date.today()).workload == [("Caseworker A", 1), ("Caseworker A2", 1)]
        board = team_dashboard(supervisor)
        assert board.unassigned_open == 1
        assert [(name, count) for name, count, _ in board.workers] == [("Caseworker A", 1), ("Caseworker A2", 1)]
        assert board.cases_by_point == [("Point A-NAD", {"registered": 1}),
                                        ("Point A-OUJ", {"closed": 1, "registered": 2})]
        cases[0].status = "closed"
        cases[3].status = "closed"
        db.session.commit()
        assert home_work(supervisor, date.today()).workload == [("Caseworker A2", 1)]  # none left: not listed
        board = team_dashboard(supervisor)
        assert board.unassigned_open == 0
        assert board.cases_by_point == [("Point A-NAD", {"closed": 1}), ("Point A-OUJ", {"closed": 2, "registered": 1})]


def test_a_long_tally_is_folded_once_the_page_is_sent(app, world, register, login_as, monkeypatch):
    _cases(register, world)
    with app.app_context():
        for case in db.session.scalars(select(Case)):
            case.status = "plan"
        db.session.commit()
        before = _tally_rows()
    monkeypatch.setattr(tallies, "FOLD_AFTER", 2)
    client = login_as("supervisor_a")
    response = client.get("/cases/")
    assert response.status_code == 200
    with app.app_context():
        assert _tally_rows() == before  # not while the page is being answered
    response.close()  # the server closes the response once sent
    with app.app_context():
        assert _tally_rows() == len(CHECK.truth()) < before
        _assert_tally_is_true()


def test_the_migration_fills_the_tally_from_the_cases_there(app, world, register):
    _cases(register, world)
    with app.app_context():
        CHECK.assert_filled_by_migration_after("159528e14983")

"""A request that only read has its transaction committed by the driver (PostgreSQL then keeps its prepared plans);
one that changed anything, flushed or not, or failed, still rolls back and saves nothing; to the ORM every request
still ends in a rollback (a read recorded for the audit and never committed is not written)."""
import pytest
from sqlalchemy import func, select, text

from caseapp import create_app, read_only_commit
from caseapp.access.policy import PUBLIC, requires
from caseapp.audit.models import AuditEvent
from caseapp.audit.service import record_read
from caseapp.auth.models import User
from caseapp.extensions import db

RENAMED = "Renamed Without Commit"


@pytest.fixture
def probe(database_url, world, monkeypatch):
    """An app on the suite's database with test routes around one account, and the commits the driver was asked."""
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": database_url, "PROPAGATE_EXCEPTIONS": False})
    user_id, commits = world.users["caseworker_a"], []
    driver_commit = read_only_commit._driver_commit
    monkeypatch.setattr(read_only_commit, "_driver_commit",
                        lambda connection: (commits.append(connection), driver_commit(connection)))

    def account() -> User:
        return db.session.get(User, user_id)

    @app.get("/_probe/read")
    @requires(PUBLIC)
    def read():
        return account().full_name

    @app.get("/_probe/changed")
    @requires(PUBLIC)
    def changed():
        account().full_name = RENAMED  # changed in memory, never flushed nor committed
        return "ok"

    @app.get("/_probe/flushed")
    @requires(PUBLIC)
    def flushed():
        account().full_name = RENAMED
        db.session.flush()  # the UPDATE reached the database, uncommitted
        return account().full_name

    @app.get("/_probe/failed")
    @requires(PUBLIC)
    def failed():
        account()
        raise RuntimeError("a failure after reading")

    @app.get("/_probe/read-audited")
    @requires(PUBLIC)
    def read_audited():
        record_read(account(), "case.view")  # written at a commit, which this view never asks for
        return "ok"

    yield app, commits
    with app.app_context():
        db.engine.dispose()


def _stored_name(app, user_id: int) -> str:
    with app.app_context():
        return db.session.scalar(select(User.full_name).where(User.id == user_id))


def test_a_read_only_request_is_committed(probe, world):
    app, commits = probe
    response = app.test_client().get("/_probe/read")
    assert response.status_code == 200 and response.text == "Caseworker A"
    assert len(commits) == 1


@pytest.mark.parametrize("route", ["/_probe/changed", "/_probe/flushed"])
def test_a_request_that_changed_something_without_committing_saves_nothing(probe, world, route):
    app, commits = probe
    assert app.test_client().get(route).status_code == 200
    assert commits == []
    assert _stored_name(app, world.users["caseworker_a"]) == "Caseworker A"


def test_a_failed_request_is_not_committed(probe, world):
    app, commits = probe
    assert app.test_client().get("/_probe/failed").status_code == 500
    assert commits == []


def test_a_read_recorded_for_the_audit_and_never_committed_is_not_written(probe, world):
    app, commits = probe
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert app.test_client().get("/_probe/read-audited").status_code == 200
    assert len(commits) == 1  # the database's transaction read only: committed by the driver, the ORM's not
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_the_next_transaction_starts_clean(probe, world):
    """A flushed write marks its own transaction only: the read-only request after it is committed again."""
    app, commits = probe
    client = app.test_client()
    client.get("/_probe/flushed")
    client.get("/_probe/read")
    assert len(commits) == 1


def test_postgresql_keeps_the_prepared_statements_of_read_only_requests(probe, world):
    """psycopg prepares a statement at its fifth use on a connection and forgets every one at a ROLLBACK: with
    read-only requests committed, the account's statement is prepared after a few requests and stays so."""
    app, _ = probe
    client = app.test_client()
    for _ in range(8):
        assert client.get("/_probe/read").status_code == 200
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            assert db.engine.dialect.name == "sqlite"  # no statement cache to keep: the tests above cover it
            return
        assert db.engine.pool.checkedin() == 1  # one connection served every request, and is the one read here
        prepared = db.session.scalar(text(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM user_account%'"))
        assert prepared >= 1

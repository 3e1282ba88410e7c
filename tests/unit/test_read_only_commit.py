"""A request that only read ends its transaction with COMMIT (PostgreSQL then keeps its prepared plans); one that
changed anything, flushed or not, or failed, still rolls back and saves nothing."""
import pytest
from sqlalchemy import event, select, text

from caseapp import create_app
from caseapp.access.policy import PUBLIC, requires
from caseapp.auth.models import User
from caseapp.extensions import db

RENAMED = "Renamed Without Commit"


@pytest.fixture
def probe(database_url, world):
    """An app on the suite's database with four test routes around one account, and how each transaction ended."""
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": database_url})
    user_id, endings = world.users["caseworker_a"], []

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
        db.session.get(User, user_id)
        raise RuntimeError("a failure after reading")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", lambda conn: endings.append("commit"))
    event.listen(engine, "rollback", lambda conn: endings.append("rollback"))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield app, endings
    engine.dispose()


def _stored_name(app, user_id: int) -> str:
    with app.app_context():
        return db.session.scalar(select(User.full_name).where(User.id == user_id))


def test_a_read_only_request_commits(probe, world):
    app, endings = probe
    response = app.test_client().get("/_probe/read")
    assert response.status_code == 200 and response.text == "Caseworker A"
    assert endings == ["commit"]


@pytest.mark.parametrize("route", ["/_probe/changed", "/_probe/flushed"])
def test_a_request_that_changed_something_without_committing_saves_nothing(probe, world, route):
    app, endings = probe
    response = app.test_client().get(route)
    assert response.status_code == 200
    assert "commit" not in endings and endings[-1] == "rollback"
    assert _stored_name(app, world.users["caseworker_a"]) == "Caseworker A"


def test_a_failed_request_rolls_back(probe, world):
    app, endings = probe
    assert app.test_client().get("/_probe/failed").status_code == 500
    assert "commit" not in endings


def test_the_next_transaction_starts_clean(probe, world):
    """A flushed write marks its transaction only: the read-only request after it commits again."""
    app, endings = probe
    client = app.test_client()
    client.get("/_probe/flushed")
    endings.clear()
    client.get("/_probe/read")
    assert endings == ["commit"]


def test_postgresql_keeps_the_prepared_statements_of_read_only_requests(probe, world):
    """psycopg prepares a statement at its fifth use on a connection and forgets every one at a ROLLBACK: with
    read-only requests committed, the account's statement is prepared after a few requests and stays so."""
    app, _ = probe
    client = app.test_client()
    for _ in range(8):
        assert client.get("/_probe/read").status_code == 200
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            assert db.engine.dialect.name == "sqlite"  # no statement cache to keep: the commit test covers it
            return
        assert db.engine.pool.checkedin() == 1  # one connection served every request, and is the one read here
        prepared = db.session.scalar(text(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM user_account%'"))
        assert prepared >= 1

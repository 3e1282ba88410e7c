"""Pooled connections: one left idle is checked before use and replaced when dead; one used a moment ago is not."""
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from caseapp.extensions import db
from caseapp.security import database
from caseapp.security.database import configure_sqlite, engine_options, ping_idle_connections

IDLE_SECONDS = 5.0


class Clock:
    """security.database's clock (time.monotonic there, and only there), moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(database, "monotonic", fake)
    return fake


class Pings(list):
    """The DBAPI connections pinged, in order."""

    def __init__(self, monkeypatch):
        super().__init__()
        self.monkeypatch = monkeypatch

    def count_on(self, dialect_class) -> None:
        """Count the pings of every engine of this dialect class (the app's, or one made by the test)."""
        original = dialect_class.do_ping

        def do_ping(dialect, dbapi_connection):
            self.append(dbapi_connection)
            return original(dialect, dbapi_connection)

        self.monkeypatch.setattr(dialect_class, "do_ping", do_ping)


@pytest.fixture
def pings(monkeypatch):
    return Pings(monkeypatch)


@pytest.fixture
def engine(database_url, pings):
    """An engine like the app's, with one pooled connection, so the test knows which one it gets back."""
    made = create_engine(database_url, pool_size=1, max_overflow=0,
                         **engine_options(database_url, {"hide_parameters": True}))
    configure_sqlite(made)
    ping_idle_connections(made, IDLE_SECONDS)
    pings.count_on(type(made.dialect))
    yield made
    made.dispose()


def _backend(connection) -> tuple:
    """What identifies the database connection under `connection`: its raw DBAPI connection and, on PostgreSQL, its
    server process."""
    pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() \
        if connection.dialect.name == "postgresql" else None
    return connection.connection.dbapi_connection, pid


def _kill(engine, backend) -> None:
    """End a pooled connection from outside, as a restarted server or a dropped network link would."""
    dbapi_connection, pid = backend
    if pid is None:  # SQLite has no server: close the connection under the pool
        dbapi_connection.close()
        return
    outside = create_engine(engine.url, poolclass=NullPool)
    with outside.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
    outside.dispose()


def test_a_connection_used_a_moment_ago_is_lent_without_a_ping(engine, clock, pings):
    for _ in range(3):
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
        clock.now += IDLE_SECONDS  # exactly the limit: still "a moment ago"
    assert pings == []


def test_an_idle_connection_is_pinged_and_kept_when_it_answers(engine, clock, pings):
    with engine.connect() as connection:
        first = _backend(connection)
    clock.now += IDLE_SECONDS + 0.1
    with engine.connect() as connection:
        assert _backend(connection) == first  # the same connection, checked once
    assert pings == [first[0]]


def test_a_dead_idle_connection_is_replaced_before_the_request_gets_it(engine, clock, pings):
    with engine.connect() as connection:
        dead = _backend(connection)
    _kill(engine, dead)
    clock.now += IDLE_SECONDS + 0.1
    with engine.connect() as connection:  # no error: the ping found it dead, the pool connected again
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
        assert _backend(connection)[0] is not dead[0]
    assert pings == [dead[0]]


def test_without_the_ping_the_same_dead_connection_fails_one_request_then_is_replaced(engine, clock, pings):
    """What the ping saves: a connection killed less than IDLE_SECONDS after its last use reaches the request."""
    with engine.connect() as connection:
        dead = _backend(connection)
    _kill(engine, dead)
    with pytest.raises(DBAPIError) as failure, engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    assert failure.value.connection_invalidated
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    assert pings == []


def test_the_app_pings_connections_idle_longer_than_its_setting(app, clock, pings):
    idle = app.config["DATABASE_PING_AFTER_IDLE_SECONDS"]
    assert idle == 1.0
    with app.app_context():
        assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        pings.count_on(type(db.engine.dialect))
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        clock.now += idle / 2
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        assert pings == []
        clock.now += idle + 0.1
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        assert len(pings) == 1

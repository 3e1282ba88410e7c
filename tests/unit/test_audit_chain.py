"""Audit trail (requirement 16): append-only on SQLite and PostgreSQL, hash-chained, `flask caseapp audit verify`."""
import os
import threading
import time
import uuid

import flask_migrate
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from caseapp import create_app
from caseapp.audit.chain import GENESIS_HASH, compute_hash, verify_chain
from caseapp.audit.models import AuditEvent
from caseapp.audit.service import record
from caseapp.extensions import db
from tests.conftest import audit_triggers_suspended


def _events(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.id, AuditEvent.action, AuditEvent.details, AuditEvent.hash)
                                  .order_by(AuditEvent.id)).all()
        db.session.rollback()
    return [tuple(row) for row in rows]


def _verify(app):
    with app.app_context():
        return verify_chain(db.session, batch_size=3)  # small pages: the walk crosses page boundaries


def _tamper(app, sql: str, **params) -> None:
    """Change audit_event behind the application's back (the triggers suspended for this one transaction)."""
    with app.app_context(), db.engine.begin() as connection, audit_triggers_suspended(connection):
        connection.execute(text(sql), params)


@pytest.fixture
def chain(app, register):
    """Audit events written by real services: three registrations by two caseworkers."""
    register("caseworker_a", given_name="Amina", phone="+212 600 000 001")
    register("caseworker_a", given_name="Youssef", phone="+212 600 000 002")
    register("caseworker_b", "B-BEM", given_name="Fatima", phone="+212 600 000 003")
    events = _events(app)
    assert len(events) >= 6
    return events


# --- append-only --------------------------------------------------------------------------------------------------


def _truncate(dialect: str) -> str:
    # SQLite has no TRUNCATE; its "truncate optimisation" of an unfiltered DELETE is off for tables with triggers.
    return "TRUNCATE audit_event" if dialect == "postgresql" else "DELETE FROM audit_event"


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET action = 'forged' WHERE id = :id",
    "UPDATE audit_event SET hash = NULL, prev_hash = NULL",
    "DELETE FROM audit_event WHERE id = :id",
    "TRUNCATE",
])
def test_audit_rows_cannot_be_changed_or_deleted(app, chain, statement):
    event_id = chain[1][0]
    with app.app_context():
        engine = db.engine
    if statement == "TRUNCATE":
        statement = _truncate(engine.dialect.name)
    with engine.connect() as connection:
        with pytest.raises(DBAPIError, match="audit_event is append-only"):
            with connection.begin():
                connection.execute(text(statement), {"id": event_id})
    assert _events(app) == chain
    assert _verify(app).ok


def test_inserting_stays_possible(app, chain):
    with app.app_context():
        record(None, "test.append")
        db.session.commit()
    assert len(_events(app)) == len(chain) + 1


# --- the chain ----------------------------------------------------------------------------------------------------


def test_every_event_is_chained_to_the_previous_one(app, chain):
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert events[0].prev_hash == GENESIS_HASH
        for previous, event in zip(events, events[1:]):
            assert event.prev_hash == previous.hash
            assert event.hash == compute_hash(event.prev_hash, event)
            assert event.occurred_at >= previous.occurred_at
        db.session.rollback()


def test_verify_passes_on_a_fresh_chain(app, chain):
    report = _verify(app)
    assert report.ok, report.broken
    assert (report.events, report.last_id, report.last_hash) == (len(chain), chain[-1][0], chain[-1][3])


def test_verify_passes_on_an_empty_table(app):
    report = _verify(app)
    assert report.ok and report.events == 0 and report.last_id is None


def test_verify_detects_an_edited_event(app, chain):
    edited_id = chain[3][0]
    _tamper(app, "UPDATE audit_event SET details = '{}' WHERE id = :id", id=edited_id)
    report = _verify(app)
    assert report.broken is not None and report.broken.event_id == edited_id
    assert report.broken.problem.startswith("edited content")
    assert (report.events, report.last_id) == (3, chain[2][0])


def test_verify_detects_a_deleted_event(app, chain):
    deleted_id = chain[2][0]
    _tamper(app, "DELETE FROM audit_event WHERE id = :id", id=deleted_id)
    report = _verify(app)
    assert report.broken is not None and report.broken.event_id == chain[3][0]
    assert report.broken.problem.startswith("missing event")
    assert f"id {deleted_id} is absent" in report.broken.problem
    assert report.events == 2


def test_verify_detects_the_first_event_deleted(app, chain):
    _tamper(app, "DELETE FROM audit_event WHERE id = :id", id=chain[0][0])
    report = _verify(app)
    assert report.broken is not None and report.broken.event_id == chain[1][0]
    assert "genesis" in report.broken.problem and report.events == 0


def test_verify_detects_an_edit_whose_hash_was_recomputed(app, chain):
    """Recomputing the edited event's own hash moves the break to the next event's link."""
    edited_id = chain[2][0]
    with app.app_context():
        event = db.session.get(AuditEvent, edited_id)
        event.details = '{"forged": true}'
        forged_hash = compute_hash(event.prev_hash, event)
        db.session.rollback()
    _tamper(app, "UPDATE audit_event SET details = '{\"forged\": true}', hash = :hash WHERE id = :id",
            hash=forged_hash, id=edited_id)
    report = _verify(app)
    assert report.broken is not None and report.broken.event_id == chain[3][0]
    assert report.broken.problem == f"wrong prev_hash: it does not match the hash of event {edited_id}"


def test_an_event_without_hash_is_reported(app, chain):
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("INSERT INTO audit_event (occurred_at, action, details, prev_hash) "
                                "VALUES (CURRENT_TIMESTAMP, 'raw.insert', '{}', :prev)"), {"prev": chain[-1][3]})
    report = _verify(app)
    assert report.broken is not None and report.broken.problem.startswith("no hash")


def test_a_rolled_back_event_leaves_a_valid_chain(app):
    """A rollback may leave a hole in the ids (PostgreSQL sequences): not a break, the links are intact."""
    with app.app_context():
        record(None, "test.kept")
        db.session.commit()
        record(None, "test.rolled_back")
        db.session.rollback()
        record(None, "test.kept")
        db.session.commit()
    report = _verify(app)
    assert report.ok, report.broken
    assert [action for _id, action, _details, _hash in _events(app)][-2:] == ["test.kept", "test.kept"]


def test_several_events_in_one_transaction_chain_in_order(app):
    with app.app_context():
        events = [record(None, "test.batch", index=index) for index in range(5)]
        assert [event.prev_hash for event in events[1:]] == [event.hash for event in events[:-1]]
        db.session.commit()
    assert _verify(app).ok


def test_two_concurrent_writers_keep_one_chain(app):
    """Each writer records then waits before committing: without the writers' lock both would chain onto the
    same last event (PostgreSQL: advisory lock; SQLite: BEGIN IMMEDIATE)."""
    errors: list[Exception] = []
    rounds = 15

    def writer(name: str) -> None:
        for index in range(rounds):
            try:
                with app.app_context():
                    record(None, "test.concurrent", writer=name, index=index)
                    time.sleep(0.002)
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = _verify(app)
    assert report.ok, report.broken
    assert report.events == 2 * rounds


# --- `flask caseapp audit verify` ---------------------------------------------------------------------------------


@pytest.fixture
def cli(app, tmp_path):
    """A second app on the test database whose instance folder is a temporary directory."""
    cli_app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                          "INSTANCE_PATH": str(tmp_path)})
    yield cli_app.test_cli_runner()
    with cli_app.app_context():
        db.engine.dispose()


def test_cli_verify_ok_then_broken(app, chain, cli):
    result = cli.invoke(args=["caseapp", "audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"audit chain OK: {len(chain)} events"
    assert f"last event: id {chain[-1][0]}, hash {chain[-1][3]}" in result.output

    _tamper(app, "DELETE FROM audit_event WHERE id = :id", id=chain[4][0])
    broken = cli.invoke(args=["caseapp", "audit", "verify"])
    assert broken.exit_code == 1
    assert broken.output.startswith(f"audit chain BROKEN at event {chain[5][0]}: missing event")
    assert "(4 events before it are intact)" in broken.output


def test_cli_verify_on_an_empty_table(cli):
    result = cli.invoke(args=["caseapp", "audit", "verify"])
    assert (result.exit_code, result.output) == (0, "audit chain OK: 0 events\n")


# --- the migration ------------------------------------------------------------------------------------------------


@pytest.fixture
def scratch_app(tmp_path):
    """An app on an empty scratch database of the suite's backend (PostgreSQL: a temporary schema)."""
    if os.environ.get("CASEAPP_TEST_BACKEND", "sqlite") != "postgresql":
        scratch = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"})
        yield scratch
        with scratch.app_context():
            db.engine.dispose()
        return
    url, schema = os.environ["TEST_DATABASE_URL"], f"scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    scratch = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {
        "connect_args": {"options": f"-csearch_path={schema}"}}})
    try:
        yield scratch
    finally:
        with scratch.app_context():
            db.engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_migration_chains_earlier_events_and_downgrades(scratch_app):
    """Events written before the chain existed get hashes; the triggers come with the upgrade, go with the
    downgrade."""
    with scratch_app.app_context():
        flask_migrate.upgrade(revision="58af879ce0f4")  # hash columns, no triggers, no chain yet
        with db.engine.begin() as connection:
            for action in ("old.one", "old.two", "old.three"):
                connection.execute(text("INSERT INTO audit_event (occurred_at, action, details) "
                                        "VALUES (CURRENT_TIMESTAMP, :action, '{}')"), {"action": action})
        flask_migrate.upgrade()
        report = verify_chain(db.session)
        assert report.ok and report.events == 3, report.broken
        record(None, "new.one")
        db.session.commit()
        assert verify_chain(db.session).events == 4
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text("UPDATE audit_event SET action = 'forged'"))

        flask_migrate.downgrade(revision="58af879ce0f4")
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE audit_event SET action = 'allowed' WHERE action = 'new.one'"))
            connection.execute(text("DELETE FROM audit_event WHERE action = 'old.one'"))
            assert connection.execute(select(func.count()).select_from(AuditEvent)).scalar() == 3
        flask_migrate.upgrade()
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_event"))

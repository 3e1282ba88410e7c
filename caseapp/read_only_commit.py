"""A request whose transaction only read ends it with COMMIT, not ROLLBACK, so PostgreSQL keeps its prepared plans.

psycopg forgets its prepared statements at every ROLLBACK (and has the server DEALLOCATE ALL), and Flask-SQLAlchemy
ends each request with one: no statement ever reached psycopg's fifth use, so PostgreSQL planned every query of
every page anew. At 100,000 people planning took ~6 of the home page's ~8 ms of database time. Committing a
transaction that wrote nothing changes nothing else; one that wrote, or failed, still rolls back as before. To the ORM
every request still ends in a rollback."""
import re

from flask import Flask
from sqlalchemy import event

from caseapp.extensions import db

_WROTE = "caseapp_transaction_wrote"
_READS = re.compile(r"\s*(SELECT|BEGIN)\b", re.IGNORECASE)  # SQLite's transactions open with BEGIN IMMEDIATE


def _note_write(conn, cursor, statement, parameters, context, executemany) -> None:
    """Remember, for the connection's transaction, that it sent something other than a SELECT (or its BEGIN)."""
    if not _READS.match(statement):
        conn.info[_WROTE] = True


def _forget_writes(conn) -> None:
    conn.info.pop(_WROTE, None)


def commit_if_read_only(error: BaseException | None = None) -> None:
    """teardown_request: when the request ran without error and its transaction sent nothing but SELECTs and holds
    no unflushed change, have the database driver COMMIT it. The ORM is not told: it still rolls back what it
    holds (a read recorded for the audit and not committed is dropped, as before), and finds nothing left to end."""
    if error is not None or not db.session.registry.has():
        return
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    connection = session.connection()
    if not connection.info.get(_WROTE):
        _driver_commit(connection)


def _driver_commit(connection) -> None:
    """COMMIT through the database driver, under the ORM (its rollback then finds no transaction to end)."""
    connection.connection.dbapi_connection.commit()


def init_read_only_commit(app: Flask) -> None:
    """Watch the app's engines for writes and commit read-only requests."""
    with app.app_context():
        for engine in db.engines.values():
            event.listen(engine, "before_cursor_execute", _note_write)
            event.listen(engine, "begin", _forget_writes)
    app.teardown_request(commit_if_read_only)

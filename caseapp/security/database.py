"""SQLite connection settings: WAL, foreign keys, busy timeout and BEGIN IMMEDIATE transactions."""
from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 10000


def configure_sqlite(engine: Engine) -> None:
    """Make an SQLite engine safe for concurrent requests; other databases are left as they are."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Taking the write lock up front avoids SQLITE_BUSY when a read transaction later writes.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

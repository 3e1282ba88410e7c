"""SQLite: copies through the online backup API, consistent while the app keeps serving requests."""
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from caseapp.maintenance.manifest import BackupError, Snapshot, read_snapshot
from caseapp.security.database import SQLITE_BUSY_TIMEOUT_MS

NAME = "sqlite"
MEMBER = "database.sqlite3"
_OBJECTS_SQL = ("SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                "ORDER BY type <> 'table', type, name")


def database_path(engine: Engine) -> Path:
    """The database file behind the engine; BackupError for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"the SQLite database {database!r} is not a plain file: nothing to back up or restore")
    return Path(database)


def _copy(source: sqlite3.Connection, destination: Path) -> None:
    """Copy the whole source database into `destination` in one step: one consistent read, one write transaction."""
    with closing(sqlite3.connect(destination, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)) as target:
        source.backup(target)


def dump(engine: Engine, workdir: Path) -> tuple[Path, Snapshot]:
    """Copy the live database into `workdir` and read the copy's row counts and audit head (the same state)."""
    path = database_path(engine)
    if not path.is_file():
        raise BackupError(f"the SQLite database {path} does not exist")
    copy = workdir / MEMBER
    with closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)) as source:
        _copy(source, copy)
    with closing(sqlite3.connect(copy)) as standalone:
        standalone.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    copy_engine = create_engine(f"sqlite:///{copy}", poolclass=NullPool)
    try:
        with copy_engine.connect() as connection:
            return copy, read_snapshot(connection)
    finally:
        copy_engine.dispose()


def load(engine: Engine, database_file: Path) -> None:
    """Copy the unpacked backup over the (empty) target database, all at once or not at all."""
    engine.dispose()  # no pooled connection keeps the old, empty schema cached
    with closing(sqlite3.connect(database_file)) as source:
        _copy(source, database_path(engine))
    engine.dispose()


def objects(connection: Connection) -> list[str]:
    """Every table, index, view and trigger in the database ("table user_account"...)."""
    return list(connection.exec_driver_sql(_OBJECTS_SQL).scalars())


def wipe(engine: Engine) -> None:
    """Make the target database empty again (after a restore that failed its checks)."""
    engine.dispose()
    with closing(sqlite3.connect(":memory:")) as empty:
        _copy(empty, database_path(engine))
    engine.dispose()

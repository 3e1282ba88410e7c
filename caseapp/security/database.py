"""Connection settings. SQLite: WAL, foreign keys, busy timeout and BEGIN IMMEDIATE transactions. PostgreSQL: no
JIT compilation. Both: a pooled connection left idle is checked before it is lent out again."""
from time import monotonic

from sqlalchemy import event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidatePoolError

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


def engine_options(database_uri: str, options: dict) -> dict:
    """The engine options for this database. PostgreSQL: JIT compilation off for the app's sessions (a libpq startup
    option, no extra round trip). PostgreSQL compiles any query its planner costs high, which the report's counts
    over every person are: at 100,000 people compiling took 2.2 of a quarter's 5.4 s build, and saved nothing."""
    url = make_url(database_uri)
    if url.get_backend_name() != "postgresql":
        return options
    connect_args = dict(options.get("connect_args", {}))
    given = connect_args.get("options", url.query.get("options", ""))  # connect_args would replace the URL's
    given = " ".join(given) if isinstance(given, tuple) else given
    connect_args["options"] = f"{given} -c jit=off".strip()
    return {**options, "connect_args": connect_args}


_IDLE_SINCE = "caseapp_idle_since"


def ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Before the pool lends out a connection that sat unused for more than `idle_seconds`, check that the database
    still answers on it; a dead one is replaced, so a restarted database or a connection closed while idle costs no
    failed request.

    SQLAlchemy's `pool_pre_ping` checks every connection at every checkout: one more round trip per request, ~0.1 ms
    of CPU in the app and some in the database, ~3 % of a case list under load. A connection given back less than
    `idle_seconds` ago was working then. The price: when the database restarts or fails over while the app is busy
    (its connections in use within the second), each app process may still lend one dead connection, and that
    request fails (rolled back, an error page), besides those in flight, which fail either way; SQLAlchemy then
    replaces every connection of that pool (its disconnect handling). Restart the database when the app is quiet, or
    set `idle_seconds` to 0 to check at every checkout."""

    @event.listens_for(engine, "checkin")
    def _given_back(dbapi_connection, record):
        record.info[_IDLE_SINCE] = monotonic()  # record.info is emptied when its connection is replaced

    @event.listens_for(engine, "checkout")
    def _lent_out(dbapi_connection, record, proxy):
        since = record.info.get(_IDLE_SINCE)
        if since is None or monotonic() - since <= idle_seconds:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                # The pool connects again (once more), and replaces its other connections at their next checkout:
                # one dead connection is most likely a restarted database.
                raise InvalidatePoolError() from error
            raise

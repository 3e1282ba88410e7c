"""Connection settings. SQLite: WAL, foreign keys, busy timeout and BEGIN IMMEDIATE transactions. PostgreSQL: no
JIT compilation."""
from sqlalchemy import event, make_url
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

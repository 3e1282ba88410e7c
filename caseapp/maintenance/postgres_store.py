"""PostgreSQL: pg_dump --format=custom on an exported snapshot, pg_restore in one transaction.

libpq settings come from the app's SQLAlchemy URL (postgresql+psycopg://user:password@host:port/db?sslmode=...):
everything but the password goes on the command line as a connection string; the password goes in a temporary
password file (mode 0600, in a private folder, removed afterwards) named by PGPASSFILE, never on the command line.
"""
import os
import shutil
import subprocess  # fixed client programs found on PATH, argument lists, never a shell
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, Engine

from caseapp.maintenance.manifest import BackupError, Snapshot, read_snapshot

NAME = "postgresql"
MEMBER = "database.pgdump"
# Tables, views, sequences and routines of the database's own schemas (not the system's, not an extension's).
_OBJECTS_SQL = text("""
SELECT kind, name FROM (
  SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                        WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind,
         format('%I.%I', n.nspname, c.relname) AS name, n.nspname, 'pg_class'::regclass AS catalog, c.oid
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL
  SELECT 'ROUTINE', p.oid::regprocedure::text, n.nspname, 'pg_proc'::regclass, p.oid
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
) AS found
WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = found.catalog AND d.objid = found.oid
                  AND d.deptype = 'e')
ORDER BY kind = 'ROUTINE', kind <> 'TABLE', name
""")


def _pgpass_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


@contextmanager
def libpq_connection(url: URL) -> Iterator[tuple[str, dict[str, str]]]:
    """(connection string without the password, environment for the client) while a 0600 password file exists."""
    settings = {"host": url.host, "port": url.port, "dbname": url.database, "user": url.username}
    settings.update((key, value if isinstance(value, str) else value[-1]) for key, value in url.query.items())
    conninfo = make_conninfo(**{key: str(value) for key, value in settings.items() if value is not None})
    environment = {key: value for key, value in os.environ.items() if key not in ("PGPASSWORD", "PGPASSFILE")}
    with tempfile.TemporaryDirectory(prefix="caseapp-libpq-") as private:  # mode 0700
        if url.password is not None:
            passfile = Path(private) / "pgpass"
            with os.fdopen(os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as stream:
                stream.write(f"*:*:*:*:{_pgpass_escape(url.password)}\n")
            environment["PGPASSFILE"] = str(passfile)
        yield conninfo, environment


def _run(program: str, arguments: list[str], url: URL) -> None:
    """Run a PostgreSQL client program against the database at `url`; BackupError with its message on failure."""
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(f"{program} not found: install the PostgreSQL client programs (Debian: postgresql-client)")
    with libpq_connection(url) as (conninfo, environment):
        done = subprocess.run([executable, *arguments, "--dbname", conninfo], env=environment,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{program} failed (exit {done.returncode}): {done.stderr.strip()}")


def dump(engine: Engine, workdir: Path) -> tuple[Path, Snapshot]:
    """pg_dump the database into `workdir`; the counts and audit head come from the very snapshot pg_dump reads.

    A REPEATABLE READ transaction exports its snapshot, counts the rows in it and stays open while pg_dump
    (--snapshot) reads the same state, so writes committed meanwhile are in neither.
    """
    path = workdir / MEMBER
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, connection.begin():
        snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        snapshot = read_snapshot(connection)
        _run("pg_dump", ["--format=custom", f"--snapshot={snapshot_id}", f"--file={path}"], engine.url)
    return path, snapshot


def load(engine: Engine, database_file: Path) -> None:
    """pg_restore the dump into the (empty) target in a single transaction: all of it or nothing.

    Objects are owned by the restoring role and no grants are restored (--no-owner --no-privileges): the target
    installation's roles may differ. The append-only triggers of audit_event are created after its rows are
    loaded, as pg_dump orders them, so they do not stand in the way.
    """
    engine.dispose()
    _run("pg_restore", ["--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
                        str(database_file)], engine.url)


def _own_objects(connection: Connection) -> list[tuple[str, str]]:
    return [(kind, name) for kind, name in connection.execute(_OBJECTS_SQL)]


def objects(connection: Connection) -> list[str]:
    """Every table, view, sequence and routine of the database's own schemas ("table public.user_account"...)."""
    return [f"{kind.lower()} {name}" for kind, name in _own_objects(connection)]


def wipe(engine: Engine) -> None:
    """Make the target database empty again (after a restore that failed its checks), in one transaction."""
    with engine.begin() as connection:
        for kind, name in _own_objects(connection):
            # Names come quoted from format('%I.%I') and regprocedure; tables go first and CASCADE takes the rest.
            connection.exec_driver_sql(f"DROP {kind} IF EXISTS {name} CASCADE")

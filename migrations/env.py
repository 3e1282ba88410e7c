"""Alembic environment: runs migrations against the Flask app's engine and metadata."""
import logging
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_extension = current_app.extensions["migrate"]
target_metadata = migrate_extension.db.metadata


def run_migrations_offline():
    """Emit SQL for the configured URL without a connection."""
    url = migrate_extension.db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      **migrate_extension.configure_args)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations on the app's engine; an autogenerate with no change writes no file."""

    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(migrate_extension.configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with migrate_extension.db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
        with _sqlite_foreign_keys_deferred(connection) as check_foreign_keys:
            with context.begin_transaction():
                context.run_migrations()
                check_foreign_keys()  # inside the transaction: a dangling reference rolls the migration back


@contextmanager
def _sqlite_foreign_keys_deferred(connection):
    """SQLite: batch mode rebuilds a table by copy, drop and rename, which foreign_keys=ON forbids for a table
    other rows point to. Checks are off during the migration (the pragma only works outside a transaction); the
    whole database is checked before the migration commits: one that leaves a dangling reference is rolled back."""
    if connection.dialect.name != "sqlite":
        yield lambda: None
        return
    raw = connection.connection.dbapi_connection

    def check():
        problems = raw.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"foreign key violations after migration: {problems[:5]}")

    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield check
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

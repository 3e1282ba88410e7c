"""Migrations are the only way the schema is made: upgrade from empty, no drift, down and up again."""
import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from caseapp import create_app
from caseapp.extensions import db


def _drift(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True})
    return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_has_no_drift(app):
    # The session `app` fixture upgraded an empty database (SQLite, or PostgreSQL in the second run).
    with app.app_context(), db.engine.connect() as connection:
        assert _drift(connection) == []
        tables = set(inspect(connection).get_table_names())
    assert {table.name for table in db.metadata.sorted_tables} <= tables


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'mig.sqlite3'}"})
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            assert _drift(connection) == []
        db.engine.dispose()

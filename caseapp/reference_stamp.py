"""The reference stamp: one number that changes, by trigger, with every write to the accounts, their service points,
the organisations, the service points and the vulnerability flags — what the scoped drop-downs of a page are made of.

A process may keep what it made of those tables (caseapp.fragments) under the stamp it read: a write in any app
server changes the stamp in the same transaction, so the next request reads a new one and makes its fragments again.
The stamp is random, not counted: a database restored from a backup cannot bring back a stamp that a process has
already seen with other data. The triggers are frozen DDL (the migration "reference stamp" runs them); on SQLite, a
future `batch_alter_table` of one of these tables silently drops its triggers: create them again after it.
"""
from sqlalchemy import BigInteger, select
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.extensions import db
from caseapp.plain_rows import plain_rows

# Of the accounts, only the columns that a scope or a drop-down reads renew the stamp (as the migration a1f7c3e9b5d2
# created its triggers): a login's bookkeeping (failed logins, last login, second factor step) leaves every fragment
# as it was. tests/http/test_case_list_fragments.py classifies every column of the table.
STAMPED_ACCOUNT_COLUMNS = ("full_name", "role", "partner_id", "restricted_access", "active", "session_version")


class ReferenceStamp(db.Model):
    """The single row (id 1) holding the current stamp."""

    __tablename__ = "reference_stamp"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stamp: Mapped[int] = mapped_column(BigInteger)


_CURRENT = select(ReferenceStamp.stamp).where(ReferenceStamp.id == 1)
STAMP = _CURRENT.scalar_subquery().label("reference_stamp")  # a column for another statement (auth.session)


def current_stamp() -> int | None:
    """The stamp as the request's transaction sees it (caseapp.plain_rows: no ORM layer); None when the row is
    missing, and then nothing may be kept."""
    return plain_rows(_CURRENT).scalar()


def _update_of(table: str, columns: dict[str, tuple[str, ...]]) -> str:
    return f"UPDATE OF {', '.join(columns[table])}" if table in columns else "UPDATE"


def create_statements(dialect: str, tables: tuple[str, ...], columns: dict[str, tuple[str, ...]]) -> list[str]:
    """The triggers renewing the stamp on every insert, update (of `columns[table]` when given) or delete (and, on
    PostgreSQL, truncate) of `tables`."""
    # The DDL is written from the migration's own constant table and column names, never from input.
    if dialect == "postgresql":
        renew = ("CREATE FUNCTION reference_stamp_renew() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                 "UPDATE reference_stamp SET stamp = floor(random() * 9007199254740991)::bigint WHERE id = 1; "
                 "RETURN NULL; END $$")
        events = {table: f"INSERT OR {_update_of(table, columns)} OR DELETE OR TRUNCATE" for table in tables}
        return [renew] + [f"CREATE TRIGGER reference_stamp_{table} AFTER {events[table]} ON {table} "  # nosec B608
                          "FOR EACH STATEMENT EXECUTE FUNCTION reference_stamp_renew()" for table in tables]
    return [f"CREATE TRIGGER reference_stamp_{table}_{name} AFTER {event} ON {table} BEGIN "  # nosec B608
            "UPDATE reference_stamp SET stamp = random() WHERE id = 1; END"
            for table in tables for name, event in (("insert", "INSERT"), ("update", _update_of(table, columns)),
                                                    ("delete", "DELETE"))]


def drop_statements(dialect: str, tables: tuple[str, ...]) -> list[str]:
    """The reverse of `create_statements`."""
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS reference_stamp_{table} ON {table}" for table in tables] + [
            "DROP FUNCTION IF EXISTS reference_stamp_renew()"]
    return [f"DROP TRIGGER IF EXISTS reference_stamp_{table}_{event}" for table in tables
            for event in ("insert", "update", "delete")]

"""Loading an empty database in one transaction: secondary indexes (and, on PostgreSQL, foreign keys) are dropped
at the start and made again at the end, from their own definitions as the database reports them.

Building an index once over all its rows is much cheaper than keeping it up to date row by row, and checking a
foreign key once over the whole table cheaper than one lookup per inserted row. Both databases roll DDL back with
the transaction, so a run that stops leaves the schema and the tables as they were; the rebuilt unique indexes
and foreign keys check every row written.
"""
import json

from sqlalchemy import Connection, text

_POSTGRESQL_FOREIGN_KEYS = text("""
    SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
    FROM pg_constraint c
    WHERE c.contype = 'f' AND (c.conrelid = ANY(CAST(:tables AS regclass[]))
                               OR c.confrelid = ANY(CAST(:tables AS regclass[])))
    ORDER BY c.conrelid::regclass::text, c.conname""")
_POSTGRESQL_INDEXES = text("""
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    WHERE i.indrelid = ANY(CAST(:tables AS regclass[]))
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
    ORDER BY i.indexrelid::regclass::text""")
# SQLite: unique indexes stay (a composite foreign key needs its parent's, and SQLite's foreign keys cannot be
# dropped); all others go.
_SQLITE_INDEXES = text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                       "AND sql NOT LIKE 'CREATE UNIQUE %' AND tbl_name IN (SELECT value FROM json_each(:tables)) "
                       "ORDER BY name")
INDEX_BUILD_MEMORY = "256MB"  # PostgreSQL's maintenance_work_mem while the indexes are made again (default 64MB)


def drop_secondary_indexes(connection: Connection, tables: tuple[str, ...]) -> list[str]:
    """Drop the indexes of `tables` that back no primary key or unique constraint (on SQLite: no unique index), and
    on PostgreSQL the foreign keys from or to them, in the current transaction; return the statements that make
    them again."""
    quote = connection.dialect.identifier_preparer.quote
    if connection.dialect.name == "postgresql":
        # The run holds its locks and idles between chunks, and the last statements rebuild whole indexes: the
        # role's time limits (deploy/README.md) are lifted for this transaction only.
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
        connection.exec_driver_sql("SET LOCAL idle_in_transaction_session_timeout = 0")
        names = [quote(table) for table in tables]
        foreign_keys = connection.execute(_POSTGRESQL_FOREIGN_KEYS, {"tables": names}).all()
        indexes = connection.execute(_POSTGRESQL_INDEXES, {"tables": names}).all()
        for table, name, definition in foreign_keys:
            connection.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, definition in indexes:
            connection.exec_driver_sql(f"DROP INDEX {name}")
        return [definition for _, definition in indexes] + [
            f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}"
            for table, name, definition in foreign_keys]
    indexes = connection.execute(_SQLITE_INDEXES, {"tables": json.dumps(list(tables))}).all()
    for name, definition in indexes:
        connection.exec_driver_sql(f"DROP INDEX {quote(name)}")
    return [definition for _, definition in indexes]


def make_again(connection: Connection, statements: list[str]) -> None:
    """Build the dropped indexes and add the dropped foreign keys back (each checks every row), in the current
    transaction."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
    for statement in statements:
        connection.exec_driver_sql(statement)

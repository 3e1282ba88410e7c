"""DDL of the triggers that make `audit_event` append-only (UPDATE, DELETE and, on PostgreSQL, TRUNCATE fail).

The migration "audit append-only triggers" and the test clean-up both use these statements. They are frozen:
changing them needs a new migration (databases already upgraded keep the old triggers). On SQLite, a future
`batch_alter_table("audit_event")` rebuilds the table and silently drops the triggers: create them again after it.
"""

APPEND_ONLY_MESSAGE = "audit_event is append-only"

SQLITE_CREATE = (
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
)

POSTGRESQL_CREATE = (
    "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$",
    "CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
)

_CREATE = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}
_DROP = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}


def create_statements(dialect: str) -> tuple[str, ...]:
    """The statements creating the append-only triggers on this dialect ("sqlite" or "postgresql")."""
    try:
        return _CREATE[dialect]
    except KeyError:
        raise ValueError(f"no append-only audit triggers for the {dialect!r} dialect") from None


def drop_statements(dialect: str) -> tuple[str, ...]:
    """The statements dropping the append-only triggers on this dialect ("sqlite" or "postgresql")."""
    try:
        return _DROP[dialect]
    except KeyError:
        raise ValueError(f"no append-only audit triggers for the {dialect!r} dialect") from None

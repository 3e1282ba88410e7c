"""DDL of the triggers that keep `case_tally` (caseapp.cases.tally) in step with `case_file`.

Each inserted, deleted or re-keyed case appends rows to the tally (+1 under its new key, -1 under its old one):
appends only, so concurrent writers never wait for each other nor deadlock on a shared counter. The migration
"case tally" uses these statements. They are frozen: changing them needs a new migration. On SQLite, a future
`batch_alter_table("case_file")` that rebuilds the table silently drops the triggers: create them again after it.
"""
from caseapp.tallies import TallyTriggers


# Written out in full (they are frozen): what each trigger appends is one of these two rows.
SQLITE_CREATE = (
    "CREATE TRIGGER case_tally_insert AFTER INSERT ON case_file BEGIN "
    "INSERT INTO case_tally (partner_id, service_point_id, status, assigned_worker_id, delta) "
    "VALUES (NEW.partner_id, NEW.service_point_id, NEW.status, NEW.assigned_worker_id, 1); END",
    "CREATE TRIGGER case_tally_delete AFTER DELETE ON case_file BEGIN "
    "INSERT INTO case_tally (partner_id, service_point_id, status, assigned_worker_id, delta) "
    "VALUES (OLD.partner_id, OLD.service_point_id, OLD.status, OLD.assigned_worker_id, -1); END",
    "CREATE TRIGGER case_tally_update AFTER UPDATE OF partner_id, service_point_id, status, assigned_worker_id "
    "ON case_file WHEN OLD.partner_id IS NOT NEW.partner_id OR OLD.service_point_id IS NOT NEW.service_point_id "
    "OR OLD.status IS NOT NEW.status OR OLD.assigned_worker_id IS NOT NEW.assigned_worker_id BEGIN "
    "INSERT INTO case_tally (partner_id, service_point_id, status, assigned_worker_id, delta) "
    "VALUES (OLD.partner_id, OLD.service_point_id, OLD.status, OLD.assigned_worker_id, -1); "
    "INSERT INTO case_tally (partner_id, service_point_id, status, assigned_worker_id, delta) "
    "VALUES (NEW.partner_id, NEW.service_point_id, NEW.status, NEW.assigned_worker_id, 1); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS case_tally_update",
    "DROP TRIGGER IF EXISTS case_tally_delete",
    "DROP TRIGGER IF EXISTS case_tally_insert",
)

POSTGRESQL_CREATE = (
    "CREATE FUNCTION case_tally_append() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN "
    "INSERT INTO case_tally (partner_id, service_point_id, status, assigned_worker_id, delta) "
    "VALUES (OLD.partner_id, OLD.service_point_id, OLD.status, OLD.assigned_worker_id, -1); END IF; "
    "IF TG_OP <> 'DELETE' THEN "
    "INSERT INTO case_tally (partner_id, service_point_id, status, assigned_worker_id, delta) "
    "VALUES (NEW.partner_id, NEW.service_point_id, NEW.status, NEW.assigned_worker_id, 1); END IF; "
    "RETURN NULL; END $$",
    "CREATE FUNCTION case_tally_clear() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "DELETE FROM case_tally; RETURN NULL; END $$",
    "CREATE TRIGGER case_tally_insert_delete AFTER INSERT OR DELETE ON case_file "
    "FOR EACH ROW EXECUTE FUNCTION case_tally_append()",
    "CREATE TRIGGER case_tally_update AFTER UPDATE OF partner_id, service_point_id, status, assigned_worker_id "
    "ON case_file FOR EACH ROW WHEN (OLD.partner_id IS DISTINCT FROM NEW.partner_id "
    "OR OLD.service_point_id IS DISTINCT FROM NEW.service_point_id OR OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.assigned_worker_id IS DISTINCT FROM NEW.assigned_worker_id) EXECUTE FUNCTION case_tally_append()",
    "CREATE TRIGGER case_tally_truncate AFTER TRUNCATE ON case_file "
    "FOR EACH STATEMENT EXECUTE FUNCTION case_tally_clear()",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS case_tally_truncate ON case_file",
    "DROP TRIGGER IF EXISTS case_tally_update ON case_file",
    "DROP TRIGGER IF EXISTS case_tally_insert_delete ON case_file",
    "DROP FUNCTION IF EXISTS case_tally_clear()",
    "DROP FUNCTION IF EXISTS case_tally_append()",
)

TRIGGERS = TallyTriggers(creating={"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE},
                         dropping={"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})
create_statements, drop_statements = TRIGGERS.create_statements, TRIGGERS.drop_statements  # for the migration

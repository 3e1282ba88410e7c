"""DDL of the triggers that keep `referral_tally` (caseapp.referrals.tally) in step with `referral`.

Each inserted, deleted or re-keyed referral appends rows to the tally (+1 under its new key, -1 under its old one),
including when a case transfer re-keys its referrals through fk_referral_case_scope (ON UPDATE CASCADE): appends
only, so concurrent writers never wait for each other. The migration "referral tally" uses these statements. They
are frozen: changing them needs a new migration. On SQLite, a future `batch_alter_table("referral")` that rebuilds
the table silently drops the triggers: create them again after it.
"""
from caseapp.tallies import TallyTriggers


# Written out in full (they are frozen): what each trigger appends is one of these two rows.
SQLITE_CREATE = (
    "CREATE TRIGGER referral_tally_insert AFTER INSERT ON referral BEGIN INSERT INTO referral_tally "
    "(partner_id, service_point_id, receiving_partner_id, status, delta) VALUES (NEW.partner_id, "
    "NEW.service_point_id, NEW.receiving_partner_id, NEW.status, 1); END",
    "CREATE TRIGGER referral_tally_delete AFTER DELETE ON referral BEGIN INSERT INTO referral_tally "
    "(partner_id, service_point_id, receiving_partner_id, status, delta) VALUES (OLD.partner_id, "
    "OLD.service_point_id, OLD.receiving_partner_id, OLD.status, -1); END",
    "CREATE TRIGGER referral_tally_update AFTER UPDATE OF partner_id, service_point_id, receiving_partner_id, "
    "status ON referral WHEN OLD.partner_id IS NOT NEW.partner_id OR OLD.service_point_id IS NOT "
    "NEW.service_point_id OR OLD.receiving_partner_id IS NOT NEW.receiving_partner_id OR OLD.status IS NOT "
    "NEW.status BEGIN INSERT INTO referral_tally (partner_id, service_point_id, receiving_partner_id, status, "
    "delta) VALUES (OLD.partner_id, OLD.service_point_id, OLD.receiving_partner_id, OLD.status, -1); INSERT "
    "INTO referral_tally (partner_id, service_point_id, receiving_partner_id, status, delta) VALUES "
    "(NEW.partner_id, NEW.service_point_id, NEW.receiving_partner_id, NEW.status, 1); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS referral_tally_update",
    "DROP TRIGGER IF EXISTS referral_tally_delete",
    "DROP TRIGGER IF EXISTS referral_tally_insert",
)

POSTGRESQL_CREATE = (
    "CREATE FUNCTION referral_tally_append() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP <> "
    "'INSERT' THEN INSERT INTO referral_tally (partner_id, service_point_id, receiving_partner_id, status, "
    "delta) VALUES (OLD.partner_id, OLD.service_point_id, OLD.receiving_partner_id, OLD.status, -1); END IF; "
    "IF TG_OP <> 'DELETE' THEN INSERT INTO referral_tally (partner_id, service_point_id, "
    "receiving_partner_id, status, delta) VALUES (NEW.partner_id, NEW.service_point_id, "
    "NEW.receiving_partner_id, NEW.status, 1); END IF; RETURN NULL; END $$",
    "CREATE FUNCTION referral_tally_clear() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM "
    "referral_tally; RETURN NULL; END $$",
    "CREATE TRIGGER referral_tally_insert_delete AFTER INSERT OR DELETE ON referral FOR EACH ROW EXECUTE "
    "FUNCTION referral_tally_append()",
    "CREATE TRIGGER referral_tally_update AFTER UPDATE OF partner_id, service_point_id, receiving_partner_id, "
    "status ON referral FOR EACH ROW WHEN (OLD.partner_id IS DISTINCT FROM NEW.partner_id OR "
    "OLD.service_point_id IS DISTINCT FROM NEW.service_point_id OR OLD.receiving_partner_id IS DISTINCT FROM "
    "NEW.receiving_partner_id OR OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION "
    "referral_tally_append()",
    "CREATE TRIGGER referral_tally_truncate AFTER TRUNCATE ON referral FOR EACH STATEMENT EXECUTE FUNCTION "
    "referral_tally_clear()",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS referral_tally_truncate ON referral",
    "DROP TRIGGER IF EXISTS referral_tally_update ON referral",
    "DROP TRIGGER IF EXISTS referral_tally_insert_delete ON referral",
    "DROP FUNCTION IF EXISTS referral_tally_clear()",
    "DROP FUNCTION IF EXISTS referral_tally_append()",
)

TRIGGERS = TallyTriggers(creating={"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE},
                         dropping={"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})
create_statements, drop_statements = TRIGGERS.create_statements, TRIGGERS.drop_statements  # for the migration

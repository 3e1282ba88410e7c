"""Make audit_event append-only with triggers refusing UPDATE, DELETE and (PostgreSQL) TRUNCATE, after hash-chaining the events written before.

Revision ID: f4ae8037ac64
Revises: 58af879ce0f4
Create Date: 2026-11-23 16:15:59.348415

"""
from alembic import op
import sqlalchemy as sa

from caseapp.audit.chain import backfill_rows
from caseapp.audit.triggers import create_statements, drop_statements


# revision identifiers, used by Alembic.
revision = 'f4ae8037ac64'
down_revision = '58af879ce0f4'
branch_labels = None
depends_on = None

audit_event = sa.table(
    "audit_event",
    sa.column("id", sa.Integer), sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.Integer), sa.column("partner_id", sa.Integer), sa.column("action", sa.String),
    sa.column("object_type", sa.String), sa.column("object_id", sa.Integer), sa.column("ip", sa.String),
    sa.column("details", sa.Text), sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
)


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.select(audit_event).order_by(audit_event.c.id))
    updates = [{"event_id": event_id, "new_prev_hash": prev_hash, "new_hash": new_hash}
               for event_id, prev_hash, new_hash in backfill_rows(rows)]
    if updates:
        connection.execute(
            audit_event.update().where(audit_event.c.id == sa.bindparam("event_id"))
            .values(prev_hash=sa.bindparam("new_prev_hash"), hash=sa.bindparam("new_hash")),
            updates,
        )
    for statement in create_statements(connection.dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)

"""Encrypt the case history's old → new values (change_record.changes) at rest, sealing the rows written before.

Revision ID: 181ee4b1dc75
Revises: 4ecfd3a40403
Create Date: 2026-11-23 17:17:00.701053

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from caseapp.security.encryption import keyring_from_config, new_row_key, seal


# revision identifiers, used by Alembic.
revision = '181ee4b1dc75'
down_revision = '4ecfd3a40403'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('change_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('row_key', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_change_record_row_key'), ['row_key'])
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, changes FROM change_record")).all()
    if not rows:
        return  # an empty database needs no keys
    ring = keyring_from_config(current_app.config)
    for row in rows:
        row_key = new_row_key()
        bind.execute(sa.text("UPDATE change_record SET row_key = :row_key, changes = :sealed WHERE id = :id"),
                     {"id": row.id, "row_key": row_key,
                      "sealed": seal(row.changes or "{}", f"change_record.changes:{row_key}", ring)})


def downgrade():
    """Schema only: sealed values stay sealed (decrypting them back into plain columns is deliberately not offered)."""
    with op.batch_alter_table('change_record', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_change_record_row_key'), type_='unique')
        batch_op.drop_column('row_key')

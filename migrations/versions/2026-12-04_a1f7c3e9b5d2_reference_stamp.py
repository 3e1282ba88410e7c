"""The reference stamp: a one-row table whose number triggers renew at every write to the accounts, their service
points, the organisations, the service points and the vulnerability flags (caseapp.reference_stamp). A process keeps
the case list's filters and assignment drop-down it rendered under the stamp it read (caseapp.fragments), and makes
them again when the stamp changes: at 100,000 people they cost ~2.5 ms of the case list's ~10 ms of CPU.

Revision ID: a1f7c3e9b5d2
Revises: f3a9c2d7e4b1
Create Date: 2026-12-04 07:40:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op

from caseapp.reference_stamp import create_statements, drop_statements


# revision identifiers, used by Alembic.
revision = 'a1f7c3e9b5d2'
down_revision = 'f3a9c2d7e4b1'
branch_labels = None
depends_on = None

# frozen: the tables whose writes renew the stamp, and of the accounts only the columns scopes and drop-downs read
TABLES = ("user_account", "user_service_point", "partner", "service_point", "vulnerability_flag")
COLUMNS = {"user_account": ("full_name", "role", "partner_id", "restricted_access", "active", "session_version")}


def upgrade():
    stamp = op.create_table('reference_stamp',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('stamp', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_stamp'))
    )
    op.bulk_insert(stamp, [{"id": 1, "stamp": secrets.randbits(52)}])
    for statement in create_statements(op.get_bind().dialect.name, TABLES, COLUMNS):
        op.execute(statement)


def downgrade():
    for statement in drop_statements(op.get_bind().dialect.name, TABLES):
        op.execute(statement)
    op.drop_table('reference_stamp')

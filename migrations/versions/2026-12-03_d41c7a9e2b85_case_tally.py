"""The case tally: cases per (organisation, service point, status, worker) as rows appended by triggers on
case_file, so the case list's total and the home page's open cases per worker are sums over a few hundred rows
instead of counts over an organisation's cases (caseapp.cases.tally). Filled here from the cases already there.

Revision ID: d41c7a9e2b85
Revises: 159528e14983
Create Date: 2026-12-03 11:05:00.000000

"""
from alembic import op
import sqlalchemy as sa

from caseapp.cases.tally_triggers import create_statements, drop_statements


# revision identifiers, used by Alembic.
revision = 'd41c7a9e2b85'
down_revision = '159528e14983'
branch_labels = None
depends_on = None

FILL = sa.text(
    "INSERT INTO case_tally (partner_id, service_point_id, status, assigned_worker_id, delta) "
    "SELECT partner_id, service_point_id, status, assigned_worker_id, count(*) FROM case_file "
    "GROUP BY partner_id, service_point_id, status, assigned_worker_id")


def upgrade():
    op.create_table('case_tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assigned_worker_id', sa.Integer(), nullable=True),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_tally'))
    )
    with op.batch_alter_table('case_tally', schema=None) as batch_op:
        batch_op.create_index('ix_case_tally_key', ['partner_id', 'service_point_id', 'status', 'assigned_worker_id',
                                                    'delta'], unique=False)
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":  # the cases stay as they are until the triggers count their changes
        op.execute("LOCK TABLE case_file IN SHARE MODE")
    op.execute(FILL)
    for statement in create_statements(connection.dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table('case_tally', schema=None) as batch_op:
        batch_op.drop_index('ix_case_tally_key')
    op.drop_table('case_tally')

"""The referral tally: referrals per (organisation and service point of the case, receiving organisation, status)
as rows appended by triggers on referral, so the home page's counts by status are sums over a few hundred rows
instead of counts over an organisation's open referrals (caseapp.referrals.tally). Filled here from the referrals
already there. ix_referral_scope_status puts the deadline before the service point, so that the overdue count, the
one count left on the referrals, reads only the late ones.

Revision ID: c5e1a9d37b82
Revises: b2d8f5a61c47
Create Date: 2026-12-03 14:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

from caseapp.referrals.tally_triggers import create_statements, drop_statements


# revision identifiers, used by Alembic.
revision = 'c5e1a9d37b82'
down_revision = 'b2d8f5a61c47'
branch_labels = None
depends_on = None

FILL = sa.text(
    "INSERT INTO referral_tally (partner_id, service_point_id, receiving_partner_id, status, delta) "
    "SELECT partner_id, service_point_id, receiving_partner_id, status, count(*) FROM referral "
    "GROUP BY partner_id, service_point_id, receiving_partner_id, status")


def upgrade():
    op.create_table('referral_tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=False),
    sa.Column('receiving_partner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_tally'))
    )
    with op.batch_alter_table('referral_tally', schema=None) as batch_op:
        batch_op.create_index('ix_referral_tally_key', ['partner_id', 'service_point_id', 'status',
                                                        'receiving_partner_id', 'delta'], unique=False)
        batch_op.create_index('ix_referral_tally_receiver', ['receiving_partner_id', 'status', 'delta'], unique=False)
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_scope_status')
        batch_op.create_index('ix_referral_scope_status', ['partner_id', 'status', 'deadline_at', 'service_point_id'],
                              unique=False)
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":  # the referrals stay as they are until the triggers count changes
        op.execute("LOCK TABLE referral IN SHARE MODE")
    op.execute(FILL)
    for statement in create_statements(connection.dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table('referral_tally', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_tally_receiver')
        batch_op.drop_index('ix_referral_tally_key')
    op.drop_table('referral_tally')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_scope_status')
        batch_op.create_index('ix_referral_scope_status', ['partner_id', 'status', 'service_point_id', 'deadline_at'],
                              unique=False)

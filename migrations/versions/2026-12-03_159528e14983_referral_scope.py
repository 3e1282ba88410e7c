"""A referral carries its case's organisation and service point (referral.partner_id, referral.service_point_id),
filled from the cases and kept equal to them by a foreign key on (case_id, partner_id, service_point_id) with ON
UPDATE CASCADE (a transfer moves its referrals along). Who may see a referral is then read from the referral's own
index: the supervisor's home counted the organisation's open referrals by joining ~55,000 cases (35 ms of SQL at
100,000 people). And the queue of closure requests waiting for a decision gets a partial index of its own
(ix_case_file_awaiting_closure), which the home page's count reads instead of ~24,000 entries of decided requests.

Revision ID: 159528e14983
Revises: c5d8e2f4a719
Create Date: 2026-12-03 04:27:29.248297

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '159528e14983'
down_revision = 'c5d8e2f4a719'
branch_labels = None
depends_on = None

COPY_FROM_CASE = sa.text(
    "UPDATE referral SET partner_id = (SELECT case_file.partner_id FROM case_file WHERE case_file.id = referral.case_id),"
    " service_point_id = (SELECT case_file.service_point_id FROM case_file WHERE case_file.id = referral.case_id)")


AWAITING_CLOSURE = sa.text("closure_requested_at IS NOT NULL AND status <> 'closed'")


def upgrade():
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.create_index('ix_case_file_scope_key', ['id', 'partner_id', 'service_point_id'], unique=True)
        batch_op.drop_index('ix_case_file_partner_closure')
        batch_op.create_index('ix_case_file_awaiting_closure', ['partner_id', 'closure_requested_at', 'id'],
                              unique=False, sqlite_where=AWAITING_CLOSURE, postgresql_where=AWAITING_CLOSURE)

    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('service_point_id', sa.Integer(), nullable=True))
    op.execute(COPY_FROM_CASE)
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.alter_column('partner_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('service_point_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index('ix_referral_scope_status', ['partner_id', 'status', 'service_point_id', 'deadline_at'],
                              unique=False)
        batch_op.create_foreign_key('fk_referral_case_scope', 'case_file', ['case_id', 'partner_id', 'service_point_id'],
                                    ['id', 'partner_id', 'service_point_id'], onupdate='CASCADE')


def downgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_constraint('fk_referral_case_scope', type_='foreignkey')
        batch_op.drop_index('ix_referral_scope_status')
        batch_op.drop_column('service_point_id')
        batch_op.drop_column('partner_id')

    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_index('ix_case_file_awaiting_closure')
        batch_op.create_index('ix_case_file_partner_closure', ['partner_id', 'closure_requested_at', 'status'],
                              unique=False)
        batch_op.drop_index('ix_case_file_scope_key')

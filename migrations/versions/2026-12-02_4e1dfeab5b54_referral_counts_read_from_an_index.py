"""The home page's referral counts by status, with the overdue ones, read from one index: (status, deadline, case)
replaces (status, deadline), so the count joins the organisation's cases without reading the referral table.

Revision ID: 4e1dfeab5b54
Revises: 696bafbb8b12
Create Date: 2026-12-02 19:36:04.189924

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '4e1dfeab5b54'
down_revision = '696bafbb8b12'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index('ix_referral_status_deadline_case', ['status', 'deadline_at', 'case_id'], unique=False)
        batch_op.drop_index('ix_referral_status_deadline')


def downgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index('ix_referral_status_deadline', ['status', 'deadline_at'], unique=False)
        batch_op.drop_index('ix_referral_status_deadline_case')

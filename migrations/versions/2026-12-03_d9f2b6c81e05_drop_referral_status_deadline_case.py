"""Drop ix_referral_status_deadline_case (status, deadline, case): it served the home page's referral counts, which
now come from the referral tally, and their overdue count, which now reads ix_referral_scope_status (the
organisation's late referrals alone). No statement of the app uses it any more; every referral written paid for it.

Revision ID: d9f2b6c81e05
Revises: c5e1a9d37b82
Create Date: 2026-12-03 15:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd9f2b6c81e05'
down_revision = 'c5e1a9d37b82'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_status_deadline_case')


def downgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index('ix_referral_status_deadline_case', ['status', 'deadline_at', 'case_id'], unique=False)

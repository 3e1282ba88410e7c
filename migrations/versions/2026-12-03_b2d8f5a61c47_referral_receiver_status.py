"""The receiving partner's referrals by status (and deadline), replacing the index on receiving_partner_id alone: the
inbox counts its open referrals, and the receiving partner's home page counts them by status with the overdue ones,
from the index alone instead of intersecting two indexes and reading the rows.

Revision ID: b2d8f5a61c47
Revises: a7c4e91b3f20
Create Date: 2026-12-03 14:15:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b2d8f5a61c47'
down_revision = 'a7c4e91b3f20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_receiving_partner_id')
        batch_op.create_index('ix_referral_receiver_status', ['receiving_partner_id', 'status', 'deadline_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_receiver_status')
        batch_op.create_index('ix_referral_receiving_partner_id', ['receiving_partner_id'], unique=False)

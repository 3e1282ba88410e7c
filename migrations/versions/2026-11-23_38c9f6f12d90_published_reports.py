"""Published reports: frozen, versioned snapshots of a period's protected figures.

Revision ID: 38c9f6f12d90
Revises: 181ee4b1dc75
Create Date: 2026-11-23 17:59:17.145396

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '38c9f6f12d90'
down_revision = '181ee4b1dc75'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('published_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['published_by_id'], ['user_account.id'], name=op.f('fk_published_report_published_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_published_report')),
    sa.UniqueConstraint('period', 'version', name='uq_published_report_period_version')
    )
    with op.batch_alter_table('published_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_published_report_period'), ['period'], unique=False)




def downgrade():

    with op.batch_alter_table('published_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_published_report_period'))

    op.drop_table('published_report')


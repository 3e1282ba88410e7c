"""Open follow-ups by due date and id, in a partial index (done_at IS NULL) replacing ix_follow_up_open_due: the home
page's "due today" list (ordered by id) reads its first rows in order and stops, instead of reading every
organisation's follow-ups due that day and sorting them.

Revision ID: a7c4e91b3f20
Revises: e8b3f60c1d27
Create Date: 2026-12-03 14:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c4e91b3f20'
down_revision = 'e8b3f60c1d27'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_open_due')
        batch_op.create_index('ix_follow_up_open_due_id', ['due_date', 'id'], unique=False,
                              sqlite_where=sa.text('done_at IS NULL'), postgresql_where=sa.text('done_at IS NULL'))


def downgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_open_due_id', sqlite_where=sa.text('done_at IS NULL'),
                            postgresql_where=sa.text('done_at IS NULL'))
        batch_op.create_index('ix_follow_up_open_due', ['done_at', 'due_date'], unique=False)

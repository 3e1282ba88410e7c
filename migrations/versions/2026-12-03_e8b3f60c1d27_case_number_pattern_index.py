"""An index for searches by the beginning of a case number (LIKE 'OUJ-2026%') on PostgreSQL whatever the database's
collation (varchar_pattern_ops): the search reads the cases it finds through it instead of scanning the
organisation's cases.

Revision ID: e8b3f60c1d27
Revises: d41c7a9e2b85
Create Date: 2026-12-03 11:55:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e8b3f60c1d27'
down_revision = 'd41c7a9e2b85'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.create_index('ix_case_file_number_pattern', ['number'], unique=False,
                              postgresql_ops={'number': 'varchar_pattern_ops'})


def downgrade():
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_index('ix_case_file_number_pattern')

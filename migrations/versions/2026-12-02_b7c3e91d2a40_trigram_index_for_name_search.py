"""PostgreSQL: the case search's name words (LIKE '%word%' on beneficiary.name_search) are served by a trigram
index (the pg_trgm extension, trusted: the database's owner may create it) instead of a B-tree that no such LIKE
can use. At 100,000 people a two-word search read the whole table twice (count and page, ~40 ms each); with the
index ~2 ms. SQLite keeps its plain index.

Revision ID: b7c3e91d2a40
Revises: 4e1dfeab5b54
Create Date: 2026-12-02 20:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7c3e91d2a40'
down_revision = '4e1dfeab5b54'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # The extension lives in one schema of the database, maybe not on this connection's search path (a database
    # with several schemas, or the tests' scratch schemas): its operator class is named with that schema.
    schema = bind.exec_driver_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'").scalar_one()
    op.drop_index('ix_beneficiary_name_search', table_name='beneficiary')
    op.create_index('ix_beneficiary_name_search', 'beneficiary', ['name_search'], unique=False,
                    postgresql_using='gin', postgresql_ops={'name_search': f'{schema}.gin_trgm_ops'})


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index('ix_beneficiary_name_search', table_name='beneficiary')
    op.create_index('ix_beneficiary_name_search', 'beneficiary', ['name_search'], unique=False)

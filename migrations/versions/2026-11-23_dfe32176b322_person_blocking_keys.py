"""Blocking keys of people (phonetic name keys, with birth years) for duplicate candidates and search across
scripts, computed for the people registered before.

Revision ID: dfe32176b322
Revises: 38c9f6f12d90
Create Date: 2026-11-23 18:17:48.206869

"""
from datetime import date

from alembic import op
import sqlalchemy as sa

from caseapp.beneficiaries.blocking import person_keys


# revision identifiers, used by Alembic.
revision = 'dfe32176b322'
down_revision = '38c9f6f12d90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('person_key',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_person_key_beneficiary_id_beneficiary'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'beneficiary_id', name=op.f('pk_person_key'))
    )
    with op.batch_alter_table('person_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_key_beneficiary_id'), ['beneficiary_id'], unique=False)
    bind = op.get_bind()
    people = bind.execute(sa.text("SELECT id, given_name, family_name, given_name_alt, family_name_alt, "
                                  "date_of_birth FROM beneficiary")).all()
    for person in people:
        birth = person.date_of_birth
        if isinstance(birth, str):  # SQLite hands raw text back to a text() query
            birth = date.fromisoformat(birth[:10])
        keys = person_keys((person.given_name, person.given_name_alt), (person.family_name, person.family_name_alt),
                           birth)
        if keys:
            bind.execute(sa.text("INSERT INTO person_key (key, beneficiary_id) VALUES (:key, :id)"),
                         [{"key": key, "id": person.id} for key in sorted(keys)])


def downgrade():
    with op.batch_alter_table('person_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_key_beneficiary_id'))

    op.drop_table('person_key')

"""Second factor (TOTP, recovery codes), forced password change, encryption at rest of document numbers and notes
(existing rows sealed), blind indexes for document numbers and phones (computed for existing rows), anonymisation mark.

Revision ID: 4ecfd3a40403
Revises: f4ae8037ac64
Create Date: 2026-11-23 17:05:56.506771

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from caseapp.beneficiaries.lookup import lookup_phone_digits
from caseapp.beneficiaries.normalize import normalize_document_number
from caseapp.security.encryption import blind_index, keyring_from_config, new_row_key, seal


# revision identifiers, used by Alembic.
revision = '4ecfd3a40403'
down_revision = 'f4ae8037ac64'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=255), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_recovery_code_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_index', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_beneficiary_phone_index'), ['phone_index'], unique=False)

    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.add_column(sa.Column('row_key', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_case_note_row_key'), ['row_key'])

    with op.batch_alter_table('identity_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('row_key', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('number_index', sa.String(length=64), nullable=True))
        batch_op.alter_column('number',
               existing_type=sa.VARCHAR(length=64),
               type_=sa.Text(),
               existing_nullable=False)
        batch_op.create_index(batch_op.f('ix_identity_document_number_index'), ['number_index'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_identity_document_row_key'), ['row_key'])

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('row_key', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('totp_pending_secret', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mfa_enabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_row_key'), ['row_key'])

    _seal_existing_rows()
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beneficiary_phone_digits'))
        batch_op.drop_column('phone_digits')


def _seal_existing_rows():
    """Encrypt the document numbers and note bodies written before, and index the phones and document numbers."""
    bind = op.get_bind()
    if not any(bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first()
               for table in ("identity_document", "case_note", "beneficiary")):
        return  # an empty database needs no keys
    ring = keyring_from_config(current_app.config)
    for row in bind.execute(sa.text("SELECT id, phone FROM beneficiary WHERE phone IS NOT NULL")).all():
        bind.execute(sa.text("UPDATE beneficiary SET phone_index = :index WHERE id = :id"),
                     {"index": blind_index(lookup_phone_digits(row.phone), "phone", ring), "id": row.id})
    for table, column in (("identity_document", "number"), ("case_note", "body")):
        for row in bind.execute(sa.text(f"SELECT id, {column} AS value FROM {table}")).all():
            row_key = new_row_key()
            values = {"id": row.id, "row_key": row_key,
                      "sealed": seal(row.value, f"{table}.{column}:{row_key}", ring)}
            extra = ""
            if table == "identity_document":
                extra = ", number_index = :index"
                values["index"] = blind_index(normalize_document_number(row.value), "document", ring)
            bind.execute(sa.text(f"UPDATE {table} SET row_key = :row_key, {column} = :sealed{extra} WHERE id = :id"),
                         values)


def downgrade():
    """Schema only: sealed values stay sealed (decrypting them back into plain columns is deliberately not offered)."""
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_account_row_key'), type_='unique')
        batch_op.drop_column('mfa_enabled_at')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_pending_secret')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('row_key')
        batch_op.drop_column('must_change_password')

    with op.batch_alter_table('identity_document', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_identity_document_row_key'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_identity_document_number_index'))
        batch_op.alter_column('number',
               existing_type=sa.Text(),
               type_=sa.VARCHAR(length=64),
               existing_nullable=False)
        batch_op.drop_column('number_index')
        batch_op.drop_column('row_key')

    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_case_note_row_key'), type_='unique')
        batch_op.drop_column('row_key')

    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_digits', sa.VARCHAR(length=20), nullable=True))
        batch_op.drop_index(batch_op.f('ix_beneficiary_phone_index'))
        batch_op.create_index(batch_op.f('ix_beneficiary_phone_digits'), ['phone_digits'], unique=False)
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('phone_index')

    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))

    op.drop_table('recovery_code')

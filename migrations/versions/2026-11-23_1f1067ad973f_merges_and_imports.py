"""Merges of duplicate person records (tombstones, undoable) and bulk imports (batches, saved column mappings).

Revision ID: 1f1067ad973f
Revises: dfe32176b322
Create Date: 2026-11-23 18:19:24.557720

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1f1067ad973f'
down_revision = 'dfe32176b322'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('import_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('mapping', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_import_mapping_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_import_mapping_partner_id_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_mapping')),
    sa.UniqueConstraint('partner_id', 'name', name='uq_import_mapping_partner_name')
    )
    with op.batch_alter_table('import_mapping', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_mapping_partner_id'), ['partner_id'], unique=False)

    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('mapping', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('imported_count', sa.Integer(), nullable=False),
    sa.Column('rolled_back_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rolled_back_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_import_batch_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_import_batch_partner_id_partner')),
    sa.ForeignKeyConstraint(['rolled_back_by_id'], ['user_account.id'], name=op.f('fk_import_batch_rolled_back_by_id_user_account')),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_point.id'], name=op.f('fk_import_batch_service_point_id_service_point')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch'))
    )
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batch_partner_id'), ['partner_id'], unique=False)

    op.create_table('person_merge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kept_id', sa.Integer(), nullable=False),
    sa.Column('merged_id', sa.Integer(), nullable=False),
    sa.Column('merged_by_id', sa.Integer(), nullable=False),
    sa.Column('merged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by_id', sa.Integer(), nullable=True),
    sa.Column('row_key', sa.String(length=32), nullable=True),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['kept_id'], ['beneficiary.id'], name=op.f('fk_person_merge_kept_id_beneficiary')),
    sa.ForeignKeyConstraint(['merged_by_id'], ['user_account.id'], name=op.f('fk_person_merge_merged_by_id_user_account')),
    sa.ForeignKeyConstraint(['merged_id'], ['beneficiary.id'], name=op.f('fk_person_merge_merged_id_beneficiary')),
    sa.ForeignKeyConstraint(['undone_by_id'], ['user_account.id'], name=op.f('fk_person_merge_undone_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_merge')),
    sa.UniqueConstraint('row_key', name=op.f('uq_person_merge_row_key'))
    )
    with op.batch_alter_table('person_merge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_merge_kept_id'), ['kept_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_merge_merged_id'), ['merged_id'], unique=False)

    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_beneficiary_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_beneficiary_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_beneficiary_merged_into_id_beneficiary'), 'beneficiary', ['merged_into_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_beneficiary_import_batch_id_import_batch'), 'import_batch', ['import_batch_id'], ['id'])




def downgrade():

    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_beneficiary_import_batch_id_import_batch'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_beneficiary_merged_into_id_beneficiary'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_beneficiary_merged_into_id'))
        batch_op.drop_index(batch_op.f('ix_beneficiary_import_batch_id'))
        batch_op.drop_column('import_batch_id')
        batch_op.drop_column('merged_into_id')

    with op.batch_alter_table('person_merge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_merge_merged_id'))
        batch_op.drop_index(batch_op.f('ix_person_merge_kept_id'))

    op.drop_table('person_merge')
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batch_partner_id'))

    op.drop_table('import_batch')
    with op.batch_alter_table('import_mapping', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_mapping_partner_id'))

    op.drop_table('import_mapping')


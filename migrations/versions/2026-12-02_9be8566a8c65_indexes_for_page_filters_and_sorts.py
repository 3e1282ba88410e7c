"""Indexes for the filters and sorts the pages offer (tests/unit/test_indexes.py EXPLAINs the pages' queries).

Case list: scope (organisation or service point) then last update or number; a worker's recent cases. Referrals:
the receiving partner's inbox by deadline, the review queue, overdue counts, and the report dates (sent, answered,
accepted, completed). Home pages: open follow-ups by assignee and due date; the unread-notification badge. Audit
search: by user, organisation or address, newest first (the user index replaces the single-column one), and the
action prefix (on PostgreSQL with the varchar_pattern_ops operator class, so that LIKE 'prefix%' uses it whatever
the database collation). Reports: registration and flag dates, active consents to statistics, closures (case and
history); the closing date also serves the team dashboard and retention.

Revision ID: 9be8566a8c65
Revises: f47eebefc3dd
Create Date: 2026-12-02 13:39:47.444852

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9be8566a8c65'
down_revision = 'f47eebefc3dd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_actor_id'))
        batch_op.create_index('ix_audit_event_actor_time', ['actor_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_audit_event_ip_time', ['ip', 'occurred_at'], unique=False)
        batch_op.create_index('ix_audit_event_partner_time', ['partner_id', 'occurred_at'], unique=False)
        batch_op.drop_index('ix_audit_event_action')
        batch_op.create_index('ix_audit_event_action', ['action'], unique=False,
                              postgresql_ops={'action': 'varchar_pattern_ops'})

    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_registered_at'), ['registered_at'], unique=False)

    with op.batch_alter_table('beneficiary_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_flag_set_at'), ['set_at'], unique=False)

    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_file_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index('ix_case_file_partner_number', ['partner_id', 'number'], unique=False)
        batch_op.create_index('ix_case_file_partner_updated', ['partner_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_case_file_service_point_number', ['service_point_id', 'number'], unique=False)
        batch_op.create_index('ix_case_file_service_point_updated', ['service_point_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_case_file_worker_updated', ['assigned_worker_id', 'updated_at'], unique=False)

    with op.batch_alter_table('change_record', schema=None) as batch_op:
        batch_op.create_index('ix_change_record_event', ['object_type', 'action', 'changed_at'], unique=False)

    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.create_index('ix_consent_record_kind_active', ['kind', 'withdrawn_at', 'beneficiary_id'], unique=False)

    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_assignee_open', ['assigned_to_id', 'done_at', 'due_date'], unique=False)
        batch_op.create_index('ix_follow_up_open_due', ['done_at', 'due_date'], unique=False)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_unread', ['user_id', 'read_at'], unique=False)

    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_accepted_at'), ['accepted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_answered_at'), ['answered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index('ix_referral_inbox', ['receiving_partner_id', 'deadline_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_sent_at'), ['sent_at'], unique=False)
        batch_op.create_index('ix_referral_status_created', ['status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_referral_status_deadline', ['status', 'deadline_at'], unique=False)


def downgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_status_deadline')
        batch_op.drop_index('ix_referral_status_created')
        batch_op.drop_index(batch_op.f('ix_referral_sent_at'))
        batch_op.drop_index('ix_referral_inbox')
        batch_op.drop_index(batch_op.f('ix_referral_completed_at'))
        batch_op.drop_index(batch_op.f('ix_referral_answered_at'))
        batch_op.drop_index(batch_op.f('ix_referral_accepted_at'))

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_unread')

    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_open_due')
        batch_op.drop_index('ix_follow_up_assignee_open')

    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_record_kind_active')

    with op.batch_alter_table('change_record', schema=None) as batch_op:
        batch_op.drop_index('ix_change_record_event')

    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_index('ix_case_file_worker_updated')
        batch_op.drop_index('ix_case_file_service_point_updated')
        batch_op.drop_index('ix_case_file_service_point_number')
        batch_op.drop_index('ix_case_file_partner_updated')
        batch_op.drop_index('ix_case_file_partner_number')
        batch_op.drop_index(batch_op.f('ix_case_file_closed_at'))

    with op.batch_alter_table('beneficiary_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beneficiary_flag_set_at'))

    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beneficiary_registered_at'))

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_action')
        batch_op.create_index('ix_audit_event_action', ['action'], unique=False)
        batch_op.drop_index('ix_audit_event_partner_time')
        batch_op.drop_index('ix_audit_event_ip_time')
        batch_op.drop_index('ix_audit_event_actor_time')
        batch_op.create_index(batch_op.f('ix_audit_event_actor_id'), ['actor_id'], unique=False)

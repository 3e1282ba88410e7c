"""The referral lifecycle: creation with sharing consent, the one transition table, deadlines; audited."""
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from caseapp.access.policy import can, ensure
from caseapp.audit.service import record
from caseapp.beneficiaries.models import ConsentRecord
from caseapp.cases.models import Case
from caseapp.errors import DomainError, ValidationFailed
from caseapp.extensions import db
from caseapp.labels import REFERRAL_ACTION_LABELS, REFERRAL_STATUS_LABELS
from caseapp.models_base import utcnow
from caseapp.partners.models import Partner
from caseapp.referrals.models import (
    OPEN_FOR_RECEIVER, OUTCOMES, PRIORITIES, SHAREABLE_FIELDS, DirectoryEntry, Referral, ReferralEvent, Service,
)
from caseapp.referrals.notifications import notify, partner_users
from caseapp.security.form_tokens import bind_form_token, claim_form_token

# action → (statuses it leaves from, status it leads to). No other move exists.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (("draft", "returned"), "submitted"),
    "approve": (("submitted",), "approved"),
    "return": (("submitted",), "returned"),
    "accept": (("approved",), "accepted"),
    "decline": (("approved",), "declined"),
    "start": (("accepted",), "in_progress"),
    "complete": (("in_progress",), "completed"),
    "cancel": (("draft", "submitted", "returned", "approved", "accepted", "in_progress"), "cancelled"),
}
DEFAULT_DEADLINE_HOURS = {"emergency": 24, "urgent": 72, "normal": 14 * 24}


CREATE_FIELDS = ["service_code", "receiving_partner_id", "priority", "reason", "shared_fields"]  # "referral.create" names

def deadline_hours(priority: str) -> int:
    """Hours allowed to answer a referral of this priority (configurable: REFERRAL_DEADLINE_HOURS)."""
    return current_app.config.get("REFERRAL_DEADLINE_HOURS", DEFAULT_DEADLINE_HOURS)[priority]


def is_overdue(referral: Referral, now: datetime | None = None) -> bool:
    """Sent, not yet accepted or declined, and past its deadline (all in UTC, so DST changes nothing)."""
    now = now or utcnow()
    return referral.status == "approved" and referral.deadline_at is not None and _utc(now) > _utc(referral.deadline_at)


def _utc(moment: datetime) -> datetime:
    """The same instant in UTC (naive means UTC): aware local times would add wall-clock hours across DST, and
    SQLite would store their local wall-clock time."""
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def partners_offering(service_code: str, commune_code: str) -> list[DirectoryEntry]:
    """Directory entries of partners offering this service in this commune."""
    query = select(DirectoryEntry).where(DirectoryEntry.service_code == service_code,
                                         DirectoryEntry.commune_code == commune_code, DirectoryEntry.active.is_(True))
    return list(db.session.scalars(query))


def directory_of_commune(commune_code: str) -> dict[str, list[DirectoryEntry]]:
    """Active directory entries of a commune by service code, with their partners, in one query."""
    query = select(DirectoryEntry).where(DirectoryEntry.commune_code == commune_code, DirectoryEntry.active.is_(True))
    by_service: dict[str, list[DirectoryEntry]] = {}
    for entry in db.session.scalars(query.options(joinedload(DirectoryEntry.partner)).order_by(DirectoryEntry.id)):
        by_service.setdefault(entry.service_code, []).append(entry)
    return by_service


def _validate(case: Case, service_code: str, partner_id: int | None, priority: str, reason: str,
              consent_method: str, witness: str, shared: list[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if db.session.get(Service, service_code or "") is None:
        errors["service_code"] = [_("Choose a service.")]
    elif not any(entry.partner_id == partner_id for entry in partners_offering(service_code, case.beneficiary.commune_code)):
        errors["receiving_partner_id"] = [_("Choose a partner that offers this service in the person's commune.")]
    if priority not in PRIORITIES:
        errors["priority"] = [_("Choose a priority.")]
    if not reason.strip():
        errors["reason"] = [_("Say why the person is referred.")]
    elif len(reason) > 4000:
        errors["reason"] = [_("At most %(count)d characters.", count=4000)]
    if consent_method and consent_method not in ("signed_form", "oral_witness"):
        errors["consent_method"] = [_("Choose how the consent was given.")]
    elif consent_method == "oral_witness" and not witness.strip():
        errors["consent_witness"] = [_("Oral consent needs the name of a witness.")]
    if set(shared) - set(SHAREABLE_FIELDS):
        errors["shared_fields"] = [_("Choose fields from the list.")]
    if not case.is_open:
        errors["reason"] = [_("The case is closed.")]
    return errors


def create_referral(actor, case: Case, *, service_code: str, receiving_partner_id: int | None, priority: str,
                    reason: str, consent_method: str = "", consent_witness: str = "", shared_fields: list[str] = (),
                    form_token: str | None = None) -> Referral:
    """Draft a referral of one need of the case; the sharing consent (who, when, how) is recorded with it."""
    ensure(actor, "referral.create", case)
    shared = sorted(set(shared_fields))
    errors = _validate(case, service_code, receiving_partner_id, priority, reason, consent_method, consent_witness,
                       shared)
    if errors:
        raise ValidationFailed(errors)
    earlier = claim_form_token(form_token, Referral.__tablename__)
    if earlier:
        return db.session.get(Referral, earlier)
    referral = Referral(case=case, service_code=service_code, receiving_partner_id=receiving_partner_id,
                        priority=priority, reason=reason.strip(), shared_fields=",".join(shared),
                        created_by_id=actor.id)
    if consent_method:
        referral.consent_id = _record_sharing_consent(actor, case, receiving_partner_id, consent_method,
                                                      consent_witness).id
    db.session.add(referral)
    db.session.flush()
    bind_form_token(form_token, referral)
    record(actor, "referral.create", referral, case_id=case.id, fields=CREATE_FIELDS)
    return referral


def _record_sharing_consent(actor, case: Case, partner_id: int, method: str, witness: str) -> ConsentRecord:
    consent = ConsentRecord(beneficiary_id=case.beneficiary_id, kind="sharing", method=method, partner_id=partner_id,
                            witness_name=witness.strip() or None if method == "oral_witness" else None,
                            recorded_by_id=actor.id)
    db.session.add(consent)
    db.session.flush()
    record(actor, "consent.record", consent, kind="sharing", partner_id=partner_id, method=method)
    return consent


def has_sharing_consent(referral: Referral) -> bool:
    """An active consent to share with the receiving partner is on file for this referral."""
    consent = db.session.get(ConsentRecord, referral.consent_id) if referral.consent_id else None
    return bool(consent and consent.kind == "sharing" and consent.partner_id == referral.receiving_partner_id
                and consent.withdrawn_at is None)


def record_consent(actor, referral: Referral, method: str, witness: str = "") -> None:
    """Record the person's consent to share with the receiving partner, for a referral still in preparation."""
    ensure(actor, "referral.submit", referral)
    if referral.status not in ("draft", "returned"):
        raise DomainError(_("The consent is recorded while the referral is in preparation."))
    if method not in ("signed_form", "oral_witness"):
        raise DomainError(_("Choose how the consent was given."), field="consent_method")
    if method == "oral_witness" and not witness.strip():
        raise DomainError(_("Oral consent needs the name of a witness."), field="consent_witness")
    referral.consent_id = _record_sharing_consent(actor, referral.case, referral.receiving_partner_id, method,
                                                  witness).id


def transition(actor, referral: Referral, action: str, *, comment: str = "", outcome: str = "",
               now: datetime | None = None) -> None:
    """Move the referral by `action` if the table allows it from its status and the policy lets the actor."""
    if action not in TRANSITIONS:
        raise DomainError(_("Unknown action."))
    sources, target = TRANSITIONS[action]
    if referral.status not in sources:
        raise DomainError(_("“%(action)s” is not possible for a referral whose status is “%(status)s”.",
                            action=_label(REFERRAL_ACTION_LABELS, action), status=_label(REFERRAL_STATUS_LABELS,
                                                                                         referral.status)))
    if not can(actor, f"referral.{action}", referral):
        raise DomainError(_("You may not do “%(action)s” on this referral.",
                            action=_label(REFERRAL_ACTION_LABELS, action)))
    now = _utc(now or utcnow())
    _check_action(referral, action, comment, outcome)
    previous = referral.status
    _apply(referral, action, target, outcome, now)
    db.session.add(ReferralEvent(referral=referral, action=action, from_status=previous, to_status=target,
                                 comment=comment.strip() or None, actor_id=actor.id, at=now))
    db.session.flush()
    record(actor, f"referral.{action}", referral, from_status=previous, to_status=target)
    _notify(referral, action, previous)


def cancel_for_withdrawn_consent(actor, referral: Referral, *, comment: str = "",
                                 now: datetime | None = None) -> None:
    """Cancel a referral because the person withdrew consent to share with its receiving partner.

    The "cancel" move of TRANSITIONS with its timeline event and audit event, taken by whoever records the
    withdrawal, whichever organisation's case the referral belongs to (a withdrawal is effective everywhere;
    the caller checks that the actor may manage the person's consents). The receiving partner's focal points
    are told, without any personal data, when the referral had reached them.
    """
    sources, target = TRANSITIONS["cancel"]
    if referral.status not in sources:
        raise DomainError(_("“%(action)s” is not possible for a referral whose status is “%(status)s”.",
                            action=_label(REFERRAL_ACTION_LABELS, "cancel"),
                            status=_label(REFERRAL_STATUS_LABELS, referral.status)))
    now = _utc(now or utcnow())
    previous = referral.status
    _apply(referral, "cancel", target, "", now)
    db.session.add(ReferralEvent(referral=referral, action="cancel", from_status=previous, to_status=target,
                                 comment=comment.strip() or None, actor_id=actor.id, at=now))
    db.session.flush()
    record(actor, "referral.cancel", referral, from_status=previous, to_status=target, cause="consent_withdrawn")
    if previous in OPEN_FOR_RECEIVER:
        notify(partner_users(referral.receiving_partner_id, "referral_receiver"), "consent_withdrawn", referral)


def _check_action(referral: Referral, action: str, comment: str, outcome: str) -> None:
    if action in ("submit", "approve") and not has_sharing_consent(referral):  # withdrawn meanwhile: not sent
        raise DomainError(_("Record the person's consent to share with this partner before submitting."),
                          field="consent_method")
    if action in ("return", "decline") and not comment.strip():
        raise DomainError(_("Give a reason."), field="comment")
    if action == "complete" and outcome not in OUTCOMES:
        raise DomainError(_("Choose the outcome."), field="outcome")


def _apply(referral: Referral, action: str, target: str, outcome: str, now: datetime) -> None:
    referral.status = target
    if action == "approve":
        referral.sent_at = now
        referral.deadline_at = now + timedelta(hours=deadline_hours(referral.priority))
    elif action in ("accept", "decline"):
        referral.answered_at = now
        if action == "accept":
            referral.accepted_at = now
    elif action == "complete":
        referral.completed_at, referral.outcome = now, outcome


def _notify(referral: Referral, action: str, previous: str) -> None:
    from caseapp.auth.models import User

    referrers = [db.session.get(User, referral.created_by_id), referral.case.assigned_worker]
    if action == "submit":
        notify(partner_users(referral.case.partner_id, "supervisor"), "referral.submitted", referral)
    elif action == "return":
        notify(referrers, "referral.returned", referral)
    elif action == "approve":
        notify(partner_users(referral.receiving_partner_id, "referral_receiver"), "referral.approved", referral)
    elif action in ("accept", "decline", "complete"):
        notify(referrers, f"referral.{'accepted' if action == 'accept' else action + 'd'}", referral)
    elif action == "cancel" and previous in OPEN_FOR_RECEIVER:
        notify(partner_users(referral.receiving_partner_id, "referral_receiver"), "referral.cancelled", referral)


def _label(labels: dict, code: str) -> str:
    return str(labels.get(code, code))


def partner_has_accounts(partner_id: int) -> bool:
    """Whether the receiving partner has someone to answer in the app (otherwise: printed slip)."""
    return bool(partner_users(partner_id, "referral_receiver"))


def receiving_partner_choices(case: Case, service_code: str | None) -> list[Partner]:
    """Partners offering the service in the person's commune (all offering partners when no service is chosen)."""
    query = select(Partner).join(DirectoryEntry, DirectoryEntry.partner_id == Partner.id).where(
        DirectoryEntry.commune_code == case.beneficiary.commune_code, DirectoryEntry.active.is_(True))
    if service_code:
        query = query.where(DirectoryEntry.service_code == service_code)
    return list(db.session.scalars(query.distinct().order_by(Partner.name)))

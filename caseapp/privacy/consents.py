"""A person's consents: recording, withdrawing (a sharing consent cancels the referrals it covered); audited."""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from caseapp.access.policy import ensure
from caseapp.audit.service import record
from caseapp.auth.models import User
from caseapp.beneficiaries.models import CONSENT_KINDS, CONSENT_METHODS, Beneficiary, ConsentRecord
from caseapp.cases.models import Case
from caseapp.errors import DomainError, ValidationFailed
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.partners.models import Partner
from caseapp.referrals.models import Referral
from caseapp.referrals.services import TRANSITIONS, cancel_for_withdrawn_consent
from caseapp.security.form_tokens import bind_form_token, claim_form_token

MAX_WITNESS_LENGTH = 160
MAX_LEGAL_BASIS_LENGTH = 2000
# Consents the person gives (sharing, statistics) cannot rest on a legal basis: only processing can.
PERSONAL_METHODS = ("signed_form", "oral_witness")


@dataclass
class ConsentRow:
    """One consent as the person page lists it, with the names of its partner and of the staff involved."""

    consent: ConsentRecord
    partner_name: str | None
    recorded_by: str
    withdrawn_by: str | None


def _refuse_if_anonymised(person: Beneficiary) -> None:
    if person.anonymised_at is not None:
        raise DomainError(_("This person's data has been anonymised."))


def _validate(kind: str, method: str, partner_id: int | None, witness_name: str, legal_basis: str) -> None:
    errors: dict[str, list[str]] = {}
    if kind not in CONSENT_KINDS:
        errors["kind"] = [_("Choose what the consent is for.")]
    if method not in CONSENT_METHODS:
        errors["method"] = [_("Choose how the consent was given.")]
    elif method not in PERSONAL_METHODS and kind in ("sharing", "statistics"):
        errors["method"] = [_("This consent must be given by the person (signed or oral).")]
    elif method == "oral_witness" and not witness_name.strip():
        errors["witness_name"] = [_("Oral consent needs the name of a witness.")]
    elif method == "legal_basis" and not legal_basis.strip():
        errors["legal_basis"] = [_("Describe the legal basis for processing without consent.")]
    if len(witness_name) > MAX_WITNESS_LENGTH:
        errors["witness_name"] = [_("At most %(count)d characters.", count=MAX_WITNESS_LENGTH)]
    if len(legal_basis) > MAX_LEGAL_BASIS_LENGTH:
        errors["legal_basis"] = [_("At most %(count)d characters.", count=MAX_LEGAL_BASIS_LENGTH)]
    if kind == "sharing":
        partner = db.session.get(Partner, partner_id) if partner_id else None
        if partner is None or not partner.active:
            errors["partner_id"] = [_("Choose the partner the person agrees to share with.")]
    if errors:
        raise ValidationFailed(errors)


def record_consent(actor, person: Beneficiary, *, kind: str, method: str, partner_id: int | None = None,
                   witness_name: str = "", legal_basis: str = "", form_token: str | None = None) -> ConsentRecord:
    """Record a consent (or, for processing, a documented legal basis) given by the person; once per form token."""
    ensure(actor, "consent.manage", person)
    _refuse_if_anonymised(person)
    _validate(kind, method, partner_id, witness_name, legal_basis)
    earlier = claim_form_token(form_token, ConsentRecord.__tablename__)
    if earlier:
        return db.session.get(ConsentRecord, earlier)
    consent = ConsentRecord(
        beneficiary_id=person.id, kind=kind, method=method, recorded_by_id=actor.id,
        partner_id=partner_id if kind == "sharing" else None,
        witness_name=witness_name.strip() if method == "oral_witness" else None,
        legal_basis=legal_basis.strip() if method == "legal_basis" else None,
    )
    db.session.add(consent)
    db.session.flush()
    bind_form_token(form_token, consent)
    record(actor, "consent.record", consent, beneficiary_id=person.id, kind=kind, method=method,
           partner_id=consent.partner_id)
    return consent


def referrals_covered(consent: ConsentRecord) -> list[Referral]:
    """Open referrals of the person's cases to the consent's partner (to every partner when it names none)."""
    query = select(Referral).join(Case, Case.id == Referral.case_id).where(
        Case.beneficiary_id == consent.beneficiary_id, Referral.status.in_(TRANSITIONS["cancel"][0]))
    if consent.partner_id is not None:
        query = query.where(Referral.receiving_partner_id == consent.partner_id)
    return list(db.session.scalars(query.order_by(Referral.id)))


def withdraw_consent(actor, consent: ConsentRecord, now: datetime | None = None) -> list[Referral]:
    """Withdraw a consent, dated and attributed; a sharing consent cancels the open referrals it covered.

    Returns the referrals cancelled. Withdrawing the consent to processing does not erase anything: erasure is a
    request to the data-protection officer.
    """
    person = consent.beneficiary
    ensure(actor, "consent.manage", person)
    if consent.withdrawn_at is not None:
        raise DomainError(_("This consent was already withdrawn."))
    consent.withdrawn_at, consent.withdrawn_by_id = now or utcnow(), actor.id
    db.session.flush()
    cancelled = referrals_covered(consent) if consent.kind == "sharing" else []
    for referral in cancelled:
        cancel_for_withdrawn_consent(actor, referral, comment=_("The person withdrew consent to share."), now=now)
    record(actor, "consent.withdraw", consent, beneficiary_id=person.id, kind=consent.kind,
           partner_id=consent.partner_id, cancelled_referrals=[referral.id for referral in cancelled])
    return cancelled


def consent_rows(person: Beneficiary, viewer) -> list[ConsentRow]:
    """All the person's consents, oldest first (one query). Staff and partners are named when the consent was
    recorded by the viewer's own organisation (or for the dpo); otherwise "another organisation", so that the
    page does not tell which other organisations know the person."""
    recorder, withdrawer = aliased(User), aliased(User)
    query = (select(ConsentRecord, Partner.name, recorder.full_name, withdrawer.full_name, recorder.partner_id,
                    withdrawer.partner_id)
             .outerjoin(Partner, Partner.id == ConsentRecord.partner_id)
             .join(recorder, recorder.id == ConsentRecord.recorded_by_id)
             .outerjoin(withdrawer, withdrawer.id == ConsentRecord.withdrawn_by_id)
             .where(ConsentRecord.beneficiary_id == person.id).order_by(ConsentRecord.given_at, ConsentRecord.id))
    everyone = viewer.role == "dpo"
    elsewhere = _("another organisation")
    rows = []
    for consent, partner, recorded_by, withdrawn_by, recorded_in, withdrawn_in in db.session.execute(query):
        ours = everyone or recorded_in == viewer.partner_id
        rows.append(ConsentRow(
            consent, partner if ours or partner is None else elsewhere, recorded_by if ours else elsewhere,
            withdrawn_by if withdrawn_by is None or everyone or withdrawn_in == viewer.partner_id else elsewhere))
    return rows


def find_consent(person: Beneficiary, consent_id: int) -> ConsentRecord | None:
    """The person's consent with this id, or None (a consent of someone else is not found)."""
    consent = db.session.get(ConsentRecord, consent_id)
    return consent if consent is not None and consent.beneficiary_id == person.id else None

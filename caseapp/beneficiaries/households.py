"""Households: linking people who live together, with one head; audited."""
from flask_babel import gettext as _

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from caseapp.access.policy import can, ensure, scope
from caseapp.audit.service import record
from caseapp.beneficiaries.models import Beneficiary, Household
from caseapp.cases.models import Case
from caseapp.errors import DomainError
from caseapp.extensions import db


def link_household(actor, person: Beneficiary, other: Beneficiary) -> Household:
    """Put `person` and `other` in one household (joining the one either already has)."""
    ensure(actor, "household.manage", person)
    if other.id == person.id or not can(actor, "household.manage", other):
        raise DomainError(_("Choose another person you work with."))
    if person.household_id and other.household_id and person.household_id != other.household_id:
        raise DomainError(_("Both people already belong to different households; remove one of them first."))
    household = person.household or other.household
    if household is None:
        household = Household()
        db.session.add(household)
        person.is_household_head = True
    for member in (person, other):
        member.household = household
    db.session.flush()
    record(actor, "household.link", household, members=sorted([person.id, other.id]))
    return household


def set_household_head(actor, person: Beneficiary) -> None:
    """Make `person` the head of their household."""
    ensure(actor, "household.manage", person)
    if person.household is None:
        raise DomainError(_("This person belongs to no household."))
    for member in person.household.members:
        member.is_household_head = member.id == person.id
    record(actor, "household.head", person.household, head=person.id)


def leave_household(actor, person: Beneficiary) -> None:
    """Take `person` out of their household; a household left with one member is dissolved."""
    ensure(actor, "household.manage", person)
    household = person.household
    if household is None:
        raise DomainError(_("This person belongs to no household."))
    person.household, person.is_household_head = None, False
    remaining = [member for member in household.members if member.id != person.id]
    dissolved = len(remaining) <= 1
    if dissolved:
        for member in remaining:
            member.household, member.is_household_head = None, False
    elif not any(member.is_household_head for member in remaining):
        remaining[0].is_household_head = True
    db.session.flush()
    record(actor, "household.leave", household, member=person.id, dissolved=dissolved)
    if dissolved:
        db.session.delete(household)
        db.session.flush()


def visible_members(actor, person: Beneficiary) -> list[Beneficiary]:
    """The other members of the person's household whom the actor may see."""
    if person.household_id is None:
        return []
    others = db.session.scalars(select(Beneficiary).where(  # with their cases, which the policy reads
        Beneficiary.household_id == person.household_id, Beneficiary.id != person.id)
        .options(selectinload(Beneficiary.cases)).order_by(Beneficiary.id))
    return [member for member in others if can(actor, "beneficiary.view", member)]


def find_person_by_case_number(actor, number: str) -> Beneficiary:
    """The person whose case has this number, among the cases the actor may see."""
    case = db.session.scalars(scope(actor, select(Case).where(Case.number == number.strip().upper()), Case)).first()
    if case is None:
        raise DomainError(_("No case of yours has this number."), field="case_number")
    return case.beneficiary

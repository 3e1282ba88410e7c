"""Vulnerability flags a user may see and set (restricted flags need restricted access)."""
from sqlalchemy import select

from caseapp.access.policy import can
from caseapp.beneficiaries.models import VulnerabilityFlag
from caseapp.extensions import db


def flag_choices(actor) -> list[VulnerabilityFlag]:
    """Flags the actor may see and set, in code order."""
    flags = db.session.scalars(select(VulnerabilityFlag).order_by(VulnerabilityFlag.code))
    return [flag for flag in flags if can(actor, "flag.view", flag)]


def allowed_flag_codes(actor) -> set[str]:
    """Codes of the flags the actor may see and set."""
    return {flag.code for flag in flag_choices(actor)}


def restricted_flag_codes() -> set[str]:
    """Codes of every restricted flag."""
    return set(db.session.scalars(select(VulnerabilityFlag.code).where(VulnerabilityFlag.restricted)))

"""Needs assessment and vulnerability screening of a case: needs per area, flags and risk level."""
from flask_babel import gettext as _

from caseapp.access.policy import ensure
from caseapp.beneficiaries.models import BeneficiaryFlag
from caseapp.beneficiaries.flags import allowed_flag_codes, flag_choices, restricted_flag_codes
from caseapp.cases.history import apply_changes, check_version, created, record_change
from caseapp.cases.models import RISK_LEVELS, SERVICE_AREAS, Assessment, Case
from caseapp.errors import ValidationFailed
from caseapp.extensions import db
from caseapp.labels import SERVICE_AREA_LABELS
from caseapp.models_base import utcnow

MAX_NEED_LENGTH = 4000


def _validate(actor, needs: dict[str, str], risk_level: str, flags: list[str]) -> None:
    errors: dict[str, list[str]] = {}
    if risk_level not in RISK_LEVELS:
        errors["risk_level"] = [_("Choose a risk level.")]
    for area in SERVICE_AREAS:
        if len(needs.get(area, "")) > MAX_NEED_LENGTH:
            errors[f"need_{area}"] = [_("At most %(count)d characters.", count=MAX_NEED_LENGTH)]
    if set(flags) - allowed_flag_codes(actor):
        errors["flags"] = [_("Choose flags from the list.")]
    if errors:
        raise ValidationFailed(errors)


def _save_flags(actor, case: Case, chosen: set[str]) -> bool:
    """Set the person's flags to `chosen` among those the actor may see; flags they may not see stay as they are."""
    person = case.beneficiary
    visible = allowed_flag_codes(actor)
    current = {item.flag_code for item in person.flags}
    wanted = (current - visible) | (chosen & visible)
    if wanted == current:
        return False
    person.flags[:] = [item for item in person.flags if item.flag_code in wanted]
    person.flags.extend(BeneficiaryFlag(flag_code=code, set_by_id=actor.id) for code in sorted(wanted - current))
    db.session.flush()
    restricted = restricted_flag_codes()
    open_old, open_new = sorted(current - restricted), sorted(wanted - restricted)
    if open_old != open_new:
        record_change(actor, case, person, "flags", {"flags": [open_old, open_new]})
    if (current & restricted) != (wanted & restricted):
        record_change(actor, case, person, "flags", {"restricted_flags": None}, restricted=True)
    return True


def save_assessment(actor, case: Case, *, needs: dict[str, str], risk_level: str, flags: list[str],
                    expected_version: int | None = None) -> Assessment:
    """Create or update the case's assessment, the person's flags and the case's risk level."""
    ensure(actor, "case.work", case)
    _validate(actor, needs, risk_level, flags)
    assessment = case.assessment
    values = {f"need_{area}": needs.get(area, "").strip() for area in SERVICE_AREAS}
    if assessment is None:
        assessment = Assessment(case=case, assessed_by_id=actor.id, **values)
        db.session.add(assessment)
        db.session.flush()
        record_change(actor, case, assessment, "create", created(values))
    else:
        check_version(assessment, expected_version, _("Assessment"), _compared(actor, case, values, risk_level, flags))
        apply_changes(actor, assessment, values, case=case)
    changed = apply_changes(actor, case, {"risk_level": risk_level}, case=case, action="risk")
    if _save_flags(actor, case, set(flags)) or changed:
        # Risk and flags live elsewhere; re-stamping the assessment bumps its version, so a concurrent
        # save of any part of the screening is caught by the version check.
        assessment.assessed_at, assessment.assessed_by_id = utcnow(), actor.id
        db.session.flush()
    return assessment


def _compared(actor, case: Case, values: dict, risk_level: str, flags: list[str]) -> dict[str, tuple]:
    """Submitted and saved values of every part of the screening, for the conflict page."""
    names = {flag.code: flag.name for flag in flag_choices(actor)}
    saved_flags = sorted(names[item.flag_code] for item in case.beneficiary.flags if item.flag_code in names)
    compared: dict[str, tuple] = {f"need_{area}": (str(SERVICE_AREA_LABELS[area]), values[f"need_{area}"])
                                  for area in SERVICE_AREAS}
    compared["risk_level"] = (_("Risk level"), risk_level, case.risk_level)
    compared["flags"] = (_("Vulnerability flags"), ", ".join(sorted(names.get(code, code) for code in flags)),
                         ", ".join(saved_flags))
    return compared

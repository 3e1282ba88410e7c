"""Opening cases with never-reused numbers, and finding cases within the actor's scope; audited."""
import math
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from caseapp.access.policy import scope
from caseapp.audit.service import record
from caseapp.beneficiaries.models import Beneficiary
from caseapp.beneficiaries.normalize import normalize_name, phone_digits
from caseapp.cases.models import CASE_STATUSES, Case, CaseNumberCounter
from caseapp.extensions import db
from caseapp.models_base import utcnow

CASE_NUMBER_TEXT = re.compile(r"^[A-Za-z]{2,8}-\d{0,4}(-\d{0,5})?$|^[A-Za-z]{2,8}-$")


def next_case_number(commune_code: str, year: int) -> str:
    """Reserve the next number `<COMMUNE>-<YEAR>-<NNNNN>`; the counter row is locked until commit."""
    values = dict(commune_code=commune_code, year=year)
    bump = (
        update(CaseNumberCounter)
        .where(CaseNumberCounter.commune_code == commune_code, CaseNumberCounter.year == year)
        .values(last_value=CaseNumberCounter.last_value + 1)
        .returning(CaseNumberCounter.last_value)
    )
    value = db.session.execute(bump).scalar()
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.add(CaseNumberCounter(**values, last_value=1))
            value = 1
        except IntegrityError:  # another transaction created the row first
            value = db.session.execute(bump).scalar_one()
    return f"{commune_code}-{year}-{value:05d}"


def open_case(actor, person: Beneficiary, service_point) -> Case:
    """Open a case for `person` at `service_point`, assigned to the actor."""
    opened_at = utcnow()
    local_year = opened_at.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).year
    case = Case(
        number=next_case_number(service_point.commune_code, local_year),
        beneficiary=person, partner_id=service_point.partner_id, service_point_id=service_point.id,
        assigned_worker_id=actor.id, status="registered", opened_at=opened_at, opened_by_id=actor.id,
    )
    db.session.add(case)
    db.session.flush()
    record(actor, "case.open", case, fields=["number", "service_point_id", "assigned_worker_id", "status"])
    return case


@dataclass
class CasePage:
    """One page of a case list."""

    items: list[Case]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _text_condition(text: str):
    conditions = []
    compact = text.strip()
    if CASE_NUMBER_TEXT.match(compact):
        conditions.append(Case.number.startswith(compact.upper(), autoescape=True))
    digits = phone_digits(compact)
    if digits and len(digits) >= 4 and re.fullmatch(r"[+\d\s().-]+", compact):
        conditions.append(Beneficiary.phone_digits.contains(digits, autoescape=True))
    words = normalize_name(compact).split()
    if words:
        conditions.append(and_(*(Beneficiary.name_search.contains(word, autoescape=True) for word in words)))
    return or_(*conditions) if conditions else None


def search_cases(actor, *, text: str = "", status: str = "", service_point_id: int | None = None,
                 page: int = 1, per_page: int = 25, audit: bool = True) -> CasePage:
    """Cases the actor may see, matching a name, case number or phone and the filters; newest first."""
    query = select(Case).join(Case.beneficiary)
    query = scope(actor, query, Case)
    condition = _text_condition(text) if text.strip() else None
    if condition is not None:
        query = query.where(condition)
    if status in CASE_STATUSES:
        query = query.where(Case.status == status)
    if service_point_id:
        query = query.where(Case.service_point_id == service_point_id)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    rows = db.session.scalars(
        query.options(contains_eager(Case.beneficiary))
        .order_by(Case.opened_at.desc(), Case.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    used = [name for name, value in (("text", condition is not None), ("status", status in CASE_STATUSES),
                                     ("service_point", service_point_id)) if value]
    if audit and used:
        record(actor, "case.search", None, filters=used, results=total)
    return CasePage(items=list(rows), total=total, page=page, per_page=per_page)


def recent_cases(actor: Any, limit: int = 10) -> list[Case]:
    """The most recently opened cases in the actor's scope."""
    return search_cases(actor, per_page=limit, audit=False).items

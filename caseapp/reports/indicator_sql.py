"""SQL building blocks shared by the indicators (portable: SQLite and PostgreSQL) and the reference domains.

Every expression here is plain SQL-92 (EXISTS, CASE, comparisons with bound dates and UTC instants): no date
arithmetic, no dialect function. Grouping by an expression with bound parameters is avoided (PostgreSQL does not
see `CASE ... $1` and `CASE ... $5` as the same expression): queries compute labelled columns in a derived table
and group the outer query by those columns.
"""
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import and_, case, exists, literal, or_, select
from sqlalchemy.orm import aliased

from caseapp.beneficiaries.models import PROFILES, SEXES, Beneficiary, ConsentRecord, VulnerabilityFlag
from caseapp.cases.models import SERVICE_AREAS, Case, ChangeRecord
from caseapp.extensions import db
from caseapp.partners.models import Partner
from caseapp.places.loader import read_reference
from caseapp.places.models import Commune, Province, Region
from caseapp.referrals.models import DirectoryEntry, Service
from caseapp.reports.periods import Period
from caseapp.reports.tables import AGE_GROUPS

RESTRICTED_TOTAL = "restricted_total"
# Statuses a referral can have once sent (approved); "status at the end of the period" takes one of these.
SENT_STATUSES = ("approved", "accepted", "declined", "in_progress", "completed", "cancelled")
# Upper ages (exclusive) of AGE_GROUPS but the last: 0-4 → under 5, 5-11 → under 12, ...
_AGE_LIMITS = (5, 12, 18, 60)


@dataclass(frozen=True)
class Reference:
    """Reference domains and code lookups, loaded once per report build (5 queries)."""

    regions: tuple[str, ...]
    communes: tuple[str, ...]
    region_of_commune: dict[str, str]
    services: tuple[str, ...]
    area_of_service: dict[str, str]
    partners: tuple[str, ...]  # codes of partners with at least one directory entry
    partner_code: dict[int, str]  # every partner id → code
    flags: tuple[str, ...]  # non-restricted flags, then RESTRICTED_TOTAL
    reasons: tuple[str, ...]  # closure reasons (reference/closure_reasons.csv)

    def region(self, commune: str | None) -> str | None:
        return self.region_of_commune.get(commune) if commune is not None else None

    def area(self, service: str | None) -> str | None:
        return self.area_of_service.get(service) if service is not None else None

    @property
    def base_domains(self) -> dict[str, tuple[str, ...]]:
        return {"region": self.regions, "commune": self.communes, "sex": SEXES, "age_group": AGE_GROUPS,
                "profile": PROFILES, "service_area": SERVICE_AREAS, "service": self.services,
                "status": SENT_STATUSES, "partner": self.partners, "flag": self.flags, "reason": self.reasons}


def load_reference() -> Reference:
    """Regions, communes (the service-point communes the app loads) with their region, services, partners, flags,
    closure reasons (from the shipped CSV, no query)."""
    regions = tuple(db.session.scalars(select(Region.code).order_by(Region.code)))
    communes = db.session.execute(select(Commune.code, Province.region_code).join(
        Province, Province.id == Commune.province_id).order_by(Province.region_code, Commune.code)).all()
    services = db.session.execute(select(Service.code, Service.category).order_by(Service.category, Service.code)).all()
    in_directory = exists().where(DirectoryEntry.partner_id == Partner.id)
    partners = db.session.execute(select(Partner.id, Partner.code, in_directory).order_by(Partner.code)).all()
    flags = db.session.execute(select(VulnerabilityFlag.code, VulnerabilityFlag.restricted)
                               .order_by(VulnerabilityFlag.code)).all()
    return Reference(
        regions=regions, communes=tuple(code for code, _ in communes), region_of_commune=dict(communes),
        services=tuple(code for code, _ in services), area_of_service=dict(services),
        partners=tuple(code for _, code, listed in partners if listed),
        partner_code={pid: code for pid, code, _ in partners},
        flags=tuple(code for code, restricted in flags if not restricted) + (RESTRICTED_TOTAL,),
        reasons=tuple(row["code"] for row in read_reference("closure_reasons.csv")),
    )


def counted(beneficiary_id=Beneficiary.id):
    """The person has an active (never withdrawn) consent to be counted in statistics, whenever it was given."""
    return exists().where(ConsentRecord.beneficiary_id == beneficiary_id, ConsentRecord.kind == "statistics",
                          ConsentRecord.withdrawn_at.is_(None))


def _years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_group(birth_column, on: date):
    """CASE giving the AGE_GROUPS label of the age reached on `on` (birthdays on `on` count as reached).

    Someone is under N on `on` exactly when born after the same day N years earlier; a 29 February birthday is
    reached on 1 March in common years.
    """
    whens = [(birth_column > _years_before(on, limit), label) for limit, label in zip(_AGE_LIMITS, AGE_GROUPS)]
    return case(*whens, else_=AGE_GROUPS[-1])


def _case_history(alias, action: str, *conditions, case_id=Case.id):
    """The case's own history has an `action` row meeting `conditions`. The type and action are written into the
    SQL, not bound: only then may either database read them through the index of those rows alone
    (ix_change_record_case_closes and _reopens, partial), whatever values a prepared statement is later run with."""
    written = literal(Case.__tablename__, literal_execute=True), literal(action, literal_execute=True)
    return exists().where(alias.case_id == case_id, alias.object_type == written[0], alias.action == written[1],
                          *conditions)


def case_active(period: Period):
    """The case was open at some instant of the period (correlated on Case).

    Opened before the end of the period, and not closed during the whole period. Closed throughout means: closed
    now with a closure dated before the start (a later reopening would have cleared closed_at), or closed at the
    start according to the case history (the last close/reopen before the start is a close — reopening clears
    closed_at, so only the history knows) and not reopened during the period.
    """
    start, end = period.start, period.end
    close, reopen, reopen_during = aliased(ChangeRecord), aliased(ChangeRecord), aliased(ChangeRecord)
    reopened_after_close = _case_history(
        reopen, "reopen", reopen.changed_at < start,
        or_(reopen.changed_at > close.changed_at, and_(reopen.changed_at == close.changed_at, reopen.id > close.id)),
        case_id=close.case_id)  # correlated on the enclosing close, so it stays one level deep
    closed_at_start = _case_history(close, "close", close.changed_at < start, ~reopened_after_close)
    reopened_during = _case_history(reopen_during, "reopen", reopen_during.changed_at >= start,
                                    reopen_during.changed_at < end)
    closed_throughout = or_(and_(Case.status == "closed", Case.closed_at < start),
                            and_(closed_at_start, ~reopened_during))
    return and_(Case.opened_at < end, ~closed_throughout)


def in_period(column, period: Period):
    """start <= column < end (UTC instants)."""
    return and_(column >= period.start, column < period.end)


def as_utc(moment: datetime | None) -> datetime | None:
    """An instant read back from the database, aware in UTC (SQLite returns naive UTC)."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

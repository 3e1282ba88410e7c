"""The report's indicators for one period: exact counts (no disclosure control yet) as Tables and Rates.

Common rules, for every indicator:
- People are counted only with an active statistics consent (a `statistics` ConsentRecord never withdrawn, whenever
  it was given): a withdrawal takes effect for every report built afterwards, past periods included (published
  reports stay frozen). `excluded_without_consent` is the exact number of distinct people left out for that reason
  who would otherwise appear in at least one indicator of the report; rounding is for display.
- Anonymised people are counted like everyone else (sex, year of birth, commune and profile are kept).
- Region and commune are the person's commune of residence and its region; age is the age reached on the last day
  of the period (AGE_GROUPS); instants are compared with the period's UTC bounds (local midnights, see periods.py).
- Every Table holds every total (each subset of its dimensions, `()` included) and a cell for every domain value,
  0 when empty. Domains come from reference data, followed by any value the data holds outside it (e.g. "unknown").
- Each indicator is one aggregate query (a few for closures and rates), never one per person.
"""
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select

from caseapp.beneficiaries.models import Beneficiary, BeneficiaryFlag, VulnerabilityFlag
from caseapp.cases.models import Case, ChangeRecord
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.referrals.models import Referral
from caseapp.reports import indicator_referrals
from caseapp.reports.indicator_sql import (
    RESTRICTED_TOTAL, Reference, age_group, as_utc, case_active, counted, in_period, load_reference,
)
from caseapp.reports.indicator_tables import UNKNOWN, Row, build_table, domains_of
from caseapp.reports.periods import Period
from caseapp.reports.tables import Rate, Table

REGISTERED = "beneficiaries_registered"
ACTIVE_CASES = "cases_active"
CLOSED_CASES = "cases_closed"
REFERRALS_SENT = indicator_referrals.REFERRALS_SENT
FLAGS = "vulnerability_flags"
TABLE_INDICATORS = (REGISTERED, ACTIVE_CASES, CLOSED_CASES, REFERRALS_SENT, FLAGS)
RATE_INDICATORS = (indicator_referrals.ACCEPTANCE_RATE, indicator_referrals.MEDIAN_DAYS_TO_ACCEPTANCE,
                   indicator_referrals.MEDIAN_DAYS_TO_COMPLETION, indicator_referrals.ANSWERED_WITHIN_DEADLINE)


@dataclass(frozen=True)
class ReportData:
    """Every figure of one period's report, exact (before disclosure control)."""

    period: Period
    tables: list[Table] = field(default_factory=list)
    rates: list[Rate] = field(default_factory=list)
    excluded_without_consent: int = 0

    def table(self, indicator: str, dimensions: tuple[str, ...]) -> Table:
        """The table of `indicator` by exactly these dimensions (in any order)."""
        for table in self.tables:
            if table.indicator == indicator and sorted(table.dimensions) == sorted(dimensions):
                return table
        raise KeyError((indicator, dimensions))


def build_indicators(period: Period, now: datetime | None = None) -> ReportData:
    """All indicators of `period` from the current data; `now` (default: the current instant) decides which
    response deadlines have passed. Reads only; 15 queries whatever the volume (16 when a closure of the
    period was reversed since: the closure requests of those cases are read)."""
    ref = load_reference()
    now = as_utc(now) if now is not None else utcnow()
    tables = (beneficiaries_registered(period, ref) + active_cases(period, ref) + closed_cases(period, ref)
              + indicator_referrals.referrals_sent(period, ref) + vulnerability_flags(period, ref))
    rates = (indicator_referrals.acceptance_rate(period, ref) + indicator_referrals.median_days(period, ref)
             + indicator_referrals.answered_within_deadline(period, ref, now))
    return ReportData(period=period, tables=tables, rates=rates,
                      excluded_without_consent=excluded_without_consent(period))


def _grouped(inner, names: tuple[str, ...], ref: Reference) -> list[Row]:
    """GROUP BY the derived table's columns `names` (+ count); adds the region of a "commune" column."""
    columns = [inner.c[name] for name in names]
    rows: list[Row] = []
    for *values, count in db.session.execute(select(*columns, func.count()).group_by(*columns)):
        row = dict(zip(names, values))
        if "commune" in row:
            row["region"] = ref.region(row["commune"])
        rows.append((row, count))
    return rows


def _tables(indicator: str, rows: list[Row], ref: Reference, breakdowns) -> list[Table]:
    domains = domains_of(rows, ref.base_domains)
    return [build_table(indicator, dims, domains, rows) for dims in breakdowns]


def beneficiaries_registered(period: Period, ref: Reference) -> list[Table]:
    """REGISTERED: people whose registration (`registered_at`) falls in the period.

    Tables: region × sex, region × age_group, region × profile, region × commune. One aggregate query. Communes
    are broken down within their regions (a commune outside the region is a published 0), so disclosure control
    sees that a region's total is the sum of its communes. The tables share only the region: a sex × age_group
    table would close a cycle (region–sex–age) whose implied three-way table the audit does not model.
    """
    inner = select(
        Beneficiary.commune_code.label("commune"), Beneficiary.sex.label("sex"),
        age_group(Beneficiary.date_of_birth, period.last_day).label("age_group"), Beneficiary.profile.label("profile"),
    ).where(in_period(Beneficiary.registered_at, period), counted(), Beneficiary.merged_into_id.is_(None)).subquery()
    rows = _grouped(inner, ("commune", "sex", "age_group", "profile"), ref)
    return _tables(REGISTERED, rows, ref, (("region", "sex"), ("region", "age_group"), ("region", "profile"),
                                           ("region", "commune")))


def active_cases(period: Period, ref: Reference) -> list[Table]:
    """ACTIVE_CASES: cases open at any instant of the period (a count of cases, not of people).

    Opened before the end of the period and not closed during the whole of it: a case closed before the period and
    reopened during it counts; one closed before and reopened after it does not (closure history from the case's
    change records, see indicator_sql.case_active). Tables: region × sex, profile. One aggregate query.
    """
    inner = (select(Beneficiary.commune_code.label("commune"), Beneficiary.sex.label("sex"),
                    Beneficiary.profile.label("profile"))
             .select_from(Case).join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
             .where(case_active(period), counted()).subquery())
    rows = _grouped(inner, ("commune", "sex", "profile"), ref)
    return _tables(ACTIVE_CASES, rows, ref, (("region", "sex"), ("profile",)))


def closed_cases(period: Period, ref: Reference) -> list[Table]:
    """CLOSED_CASES: cases with an approved closure during the period, once per case, by the reason of their last
    closure in the period — even when the case was reopened since.

    A case still closed with `closed_at` in the period gives its `closure_reason` (one aggregate query). A closure
    in the period that was later reversed (reopening clears closed_at and the reason) is found in the case's change
    records (action "close"); its reason is that of the closure request preceding it, read from the (encrypted)
    history of those few cases only; "unknown" when anonymisation has erased it. Tables: reason, reason × region.
    """
    standing = and_(Case.status == "closed", in_period(Case.closed_at, period))
    inner = (select(Case.closure_reason.label("reason"), Beneficiary.commune_code.label("commune"))
             .select_from(Case).join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
             .where(standing, counted()).subquery())
    rows = _grouped(inner, ("reason", "commune"), ref)
    rows += _reversed_closures(period, ref, standing)
    return _tables(CLOSED_CASES, rows, ref, (("reason",), ("reason", "region")))


def _reversed_closures(period: Period, ref: Reference, standing) -> list[Row]:
    last_close = func.max(ChangeRecord.changed_at)
    closures = db.session.execute(
        select(Case.id, Beneficiary.commune_code, last_close).select_from(ChangeRecord)
        .join(Case, Case.id == ChangeRecord.case_id).join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
        .where(ChangeRecord.object_type == Case.__tablename__, ChangeRecord.action == "close",
               in_period(ChangeRecord.changed_at, period), ~standing, counted())
        .group_by(Case.id, Beneficiary.commune_code)).all()
    if not closures:
        return []
    requests = defaultdict(list)
    for entry in db.session.scalars(select(ChangeRecord).where(
            ChangeRecord.case_id.in_([case_id for case_id, _, _ in closures]),
            ChangeRecord.object_type == Case.__tablename__, ChangeRecord.action == "closure_request",
            ChangeRecord.changed_at < period.end).order_by(ChangeRecord.changed_at, ChangeRecord.id)):
        requests[entry.case_id].append(entry)
    rows: list[Row] = []
    for case_id, commune, closed_at in closures:
        before = [entry for entry in requests[case_id] if as_utc(entry.changed_at) <= as_utc(closed_at)]
        reason = _requested_reason(before[-1]) if before else None
        rows.append(({"reason": reason or UNKNOWN, "commune": commune, "region": ref.region(commune)}, 1))
    return rows


def _requested_reason(entry: ChangeRecord) -> str | None:
    change = json.loads(entry.changes or "{}").get("closure_reason")
    return change[1] if isinstance(change, list) and len(change) == 2 else None


def vulnerability_flags(period: Period, ref: Reference) -> list[Table]:
    """FLAGS: vulnerability flags of the people with a case active in the period (flags still set on them and set
    before the end of the period; removed flags leave no trace), by flag × region.

    Non-restricted flags are counted per flag (people with that flag). Restricted flags are never shown per flag:
    they make one value, RESTRICTED_TOTAL = people with at least one restricted flag, and never below region level.
    A person with several flags counts once under each, so totals over `flag` count flag mentions, not people.
    One aggregate query (COUNT DISTINCT people per flag label and commune).
    """
    label = case((VulnerabilityFlag.restricted.is_(True), RESTRICTED_TOTAL), else_=BeneficiaryFlag.flag_code)
    active = select(Case.id).where(Case.beneficiary_id == Beneficiary.id, case_active(period)).exists()
    inner = (select(Beneficiary.id.label("person"), Beneficiary.commune_code.label("commune"), label.label("flag"))
             .select_from(BeneficiaryFlag)
             .join(Beneficiary, Beneficiary.id == BeneficiaryFlag.beneficiary_id)
             .join(VulnerabilityFlag, VulnerabilityFlag.code == BeneficiaryFlag.flag_code)
             .where(BeneficiaryFlag.set_at < period.end, active, counted()).subquery())
    columns = (inner.c.commune, inner.c.flag)
    rows: list[Row] = [({"commune": commune, "region": ref.region(commune), "flag": flag}, count)
                       for commune, flag, count in db.session.execute(
                           select(*columns, func.count(inner.c.person.distinct())).group_by(*columns))]
    return _tables(FLAGS, rows, ref, (("flag", "region"),))


def excluded_without_consent(period: Period) -> int:
    """People without an active statistics consent who would otherwise count in this report: registered in the
    period, or with a case active in it, or with a referral sent, answered, accepted, completed or due in it."""
    active = select(Case.id).where(Case.beneficiary_id == Beneficiary.id, case_active(period)).exists()
    referred = (select(Referral.id).join(Case, Case.id == Referral.case_id)
                .where(Case.beneficiary_id == Beneficiary.id,
                       or_(*(in_period(column, period) for column in (
                           Referral.sent_at, Referral.answered_at, Referral.accepted_at, Referral.completed_at,
                           Referral.deadline_at)))).exists())
    return db.session.scalar(select(func.count(Beneficiary.id)).where(
        ~counted(), Beneficiary.merged_into_id.is_(None),  # a merge's tombstone is counted through the kept record
        or_(in_period(Beneficiary.registered_at, period), active, referred)))

"""Referral indicators: referrals sent by area/status/service/partner/region, and the derived rates and medians.

Everyone is counted through the case's beneficiary: referrals of people without an active statistics consent are
left out. Regions are those of the person's commune of residence. All instants are compared in UTC with the
period's bounds; durations are computed in Python from the two instants of each referral (no dialect date maths).
"""
from collections import defaultdict
from datetime import datetime
from statistics import median

from sqlalchemy import and_, case, func, or_, select

from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases.models import Case
from caseapp.extensions import db
from caseapp.referrals.models import Referral, ReferralEvent
from caseapp.reports.indicator_sql import Reference, as_utc, counted, in_period
from caseapp.reports.indicator_tables import UNKNOWN, Row, build_table, domains_of
from caseapp.reports.tables import Rate, Table, cell_key

REFERRALS_SENT = "referrals_sent"
ACCEPTANCE_RATE = "referral_acceptance_rate"
MEDIAN_DAYS_TO_ACCEPTANCE = "referral_median_days_to_acceptance"
MEDIAN_DAYS_TO_COMPLETION = "referral_median_days_to_completion"
ANSWERED_WITHIN_DEADLINE = "referral_answered_within_deadline"
# Services nest in their service area, and every table with more than the grand total in common shares only the
# service area: disclosure control then sees every relation between the tables (see reports/disclosure.py).
SENT_BREAKDOWNS = (("service_area", "status"), ("service_area", "service"), ("partner",), ("service_area", "region"))


def _of_counted_people(query):
    return (query.join(Case, Case.id == Referral.case_id).join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
            .where(counted()))


def referrals_sent(period, ref: Reference) -> list[Table]:
    """REFERRALS_SENT: referrals sent (approved by the referring supervisor: `sent_at`) during the period.

    Status is the referral's status at the end of the period: the target of its last timeline event before the
    end (its current status when it has no timeline, e.g. imported rows). Service area is the service's category,
    partner the receiving partner (by code), region the person's region of residence. One aggregate query.
    Tables: service_area × status, service_area × service, partner, service_area × region.
    """
    status_at_end = (select(ReferralEvent.to_status)
                     .where(ReferralEvent.referral_id == Referral.id, ReferralEvent.at < period.end)
                     .order_by(ReferralEvent.at.desc(), ReferralEvent.id.desc()).limit(1).scalar_subquery())
    inner = _of_counted_people(select(
        Referral.service_code.label("service"), Referral.receiving_partner_id.label("partner_id"),
        Beneficiary.commune_code.label("commune"), func.coalesce(status_at_end, Referral.status).label("status"),
    )).where(in_period(Referral.sent_at, period)).subquery()
    columns = (inner.c.service, inner.c.partner_id, inner.c.commune, inner.c.status)
    rows: list[Row] = []
    for service, partner_id, commune, status, count in db.session.execute(
            select(*columns, func.count()).group_by(*columns)):
        rows.append(({"service": service, "service_area": ref.area(service), "status": status,
                      "partner": ref.partner_code.get(partner_id), "region": ref.region(commune)}, count))
    domains = domains_of(rows, ref.base_domains)
    return [build_table(REFERRALS_SENT, dims, domains, rows) for dims in SENT_BREAKDOWNS]


def _by_area(ref: Reference, values: dict[str | None, list], make) -> list[Rate]:
    """One Rate overall (key ()) and one per service area of the domain, from values grouped by area."""
    values = {UNKNOWN if area is None else area: group for area, group in values.items()}
    areas = domains_of([({"service_area": area}, 1) for area in values], ref.base_domains)["service_area"]
    everything = [value for group in values.values() for value in group]
    return [make(cell_key(), everything)] + [make(cell_key(service_area=area), values.get(area, [])) for area in areas]


def _share(indicator: str):
    def make(key, flags: list[tuple[int, int]]) -> Rate:
        base = sum(count for _, count in flags)
        hits = sum(count for flag, count in flags if flag)
        return Rate(indicator=indicator, key=key, value=hits / base if base else None, base=base)
    return make


def _median_days(indicator: str):
    def make(key, durations: list[float]) -> Rate:
        return Rate(indicator=indicator, key=key, value=median(durations) if durations else None, base=len(durations))
    return make


def _grouped_flags(inner, ref: Reference) -> dict[str | None, list[tuple[int, int]]]:
    grouped: dict[str | None, list[tuple[int, int]]] = defaultdict(list)
    query = select(inner.c.service, inner.c.hit, func.count()).group_by(inner.c.service, inner.c.hit)
    for service, hit, count in db.session.execute(query):
        grouped[ref.area(service)].append((hit, count))
    return grouped


def acceptance_rate(period, ref: Reference) -> list[Rate]:
    """ACCEPTANCE_RATE: among referrals answered (accepted or declined: `answered_at`) during the period, the
    share accepted (0..1). Base: referrals answered in the period. Overall and by service area. One aggregate query.
    """
    inner = _of_counted_people(select(
        Referral.service_code.label("service"),
        case((Referral.accepted_at.is_not(None), 1), else_=0).label("hit"),
    )).where(in_period(Referral.answered_at, period)).subquery()
    return _by_area(ref, _grouped_flags(inner, ref), _share(ACCEPTANCE_RATE))


def answered_within_deadline(period, ref: Reference, now: datetime) -> list[Rate]:
    """ANSWERED_WITHIN_DEADLINE: among referrals whose response deadline (`deadline_at`, set when sent, by
    priority) fell in the period, the share accepted or declined no later than the deadline (0..1).

    Unanswered referrals count as late once their deadline has passed (at build time); those whose deadline is still
    ahead at build time are left out, and so are referrals cancelled by the referrer, unanswered, before their
    deadline (no answer was due any more). Base: the referrals kept. Overall and by service area. One query.
    """
    cancelled_in_time = (select(ReferralEvent.id).where(
        ReferralEvent.referral_id == Referral.id, ReferralEvent.to_status == "cancelled",
        ReferralEvent.at <= Referral.deadline_at).exists())
    inner = _of_counted_people(select(
        Referral.service_code.label("service"),
        case((and_(Referral.answered_at.is_not(None), Referral.answered_at <= Referral.deadline_at), 1),
             else_=0).label("hit"),
    )).where(in_period(Referral.deadline_at, period),
             or_(Referral.answered_at.is_not(None), and_(Referral.deadline_at <= now, ~cancelled_in_time))).subquery()
    return _by_area(ref, _grouped_flags(inner, ref), _share(ANSWERED_WITHIN_DEADLINE))


def median_days(period, ref: Reference) -> list[Rate]:
    """MEDIAN_DAYS_TO_ACCEPTANCE: median of (accepted_at − sent_at) in days (fractional) over referrals accepted
    during the period; MEDIAN_DAYS_TO_COMPLETION: median of (completed_at − sent_at) in days over referrals
    completed during the period (from sending, so the whole wait of the person). Base: the number of durations.
    Overall and by service area. One query fetching (service, sent, accepted, completed) per referral concerned.
    """
    query = _of_counted_people(select(Referral.service_code, Referral.sent_at, Referral.accepted_at,
                                      Referral.completed_at)).where(
        Referral.sent_at.is_not(None),
        or_(in_period(Referral.accepted_at, period), in_period(Referral.completed_at, period)))
    to_acceptance: dict[str | None, list[float]] = defaultdict(list)
    to_completion: dict[str | None, list[float]] = defaultdict(list)
    for service, sent, accepted, completed in db.session.execute(query):
        sent, accepted, completed = as_utc(sent), as_utc(accepted), as_utc(completed)
        if accepted is not None and period.start <= accepted < period.end:
            to_acceptance[ref.area(service)].append((accepted - sent).total_seconds() / 86400)
        if completed is not None and period.start <= completed < period.end:
            to_completion[ref.area(service)].append((completed - sent).total_seconds() / 86400)
    return (_by_area(ref, to_acceptance, _median_days(MEDIAN_DAYS_TO_ACCEPTANCE))
            + _by_area(ref, to_completion, _median_days(MEDIAN_DAYS_TO_COMPLETION)))

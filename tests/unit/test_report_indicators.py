"""Report indicators checked against a small hand-computed world (2026-03, Casablanca time: UTC+0 then UTC+1).

The world (all instants UTC; March 2026 runs from 2026-03-01 00:00 to 2026-03-31 23:00 UTC):
  p1  F 2021-03-31 (turns 5 on 31 March: 5-11) family_member OUJ(02) registered 03-10
      flags: unaccompanied_child, gbv_survivor
  p2  M 1990-05-17 returnee        TIZ(09) registered 03-31 22:30 (23:30 local: March); flag homeless
  p3  M 1960-01-01 foreign_migrant NAD(02) registered 03-01 00:00 (the first instant);
      closed 03-20 (not_eligible), reopened 03-22, closed 03-28 (goals_met)
  p4  F 2010-06-01 asylum_seeker   BEM(05) registered 03-31 23:00 (00:00 on 1 April local: April)
  p5  M 2021-04-01 (4 on 31 March) refugee TIZ(09) registered 02-28 23:30 (UTC+0: February);
      flag no_documents set in April
  p6  F returnee OUJ, registered 03-15, never consented to statistics; flag gbv_survivor
  p7  F returnee OUJ, registered 03-20, statistics consent withdrawn on 04-02
  p8  M 1970 returnee BEM(05) registered 2025-11-10; closed 01-15 (goals_met), reopened 03-05;
      flags: no_income, trafficking_victim
  p9  F 2000 foreign_migrant OUJ(02) registered 2025-12-01; closed 03-10 (moved);
      flags: single_parent, gbv_survivor, mental_health
  p10 M 1975 returnee BEM(05) registered 2025-10-01; closed 03-12 (withdrew), reopened 04-05
  p11 M 1988 returnee OUJ(02) registered 2025-09-01; closed 02-10 (lost_contact), reopened 04-10; flag homeless
  p12 F 1992 refugee OUJ(02) registered 2025-08-01; closed 2025-12-20 (goals_met)
  p13 M 2019-06-15 foreign_migrant NAD(02) registered 03-05, anonymised (birth year kept: 5-11)
  p14 M returnee OUJ, registered 2025-06-01 without statistics consent, closed 2025-07-01
Referrals (sent = approved; deadline by priority: emergency 24 h, urgent 72 h, normal 14 days):
  R1  p5  social.health_cover C normal  sent 03-02 10:00, accepted 03-04 10:00, started 03-05, completed 03-20 10:00
  R2  p8  employment.anapec   B urgent  sent 03-10 12:00, declined 03-14 12:00 (deadline 03-13 12:00: late)
  R3  p1  social.health_cover C emergency sent 03-30 12:00, accepted 04-02 (deadline 03-31 12:00: late)
  R4  p9  avrr.counselling    C normal  sent 02-20 09:00, accepted 03-03 09:00 (11 days), started 03-10
  R5  p6  social.health_cover C normal  sent 03-05, accepted 03-06 (no consent: left out)
  R6  p3  employment.anapec   B normal  sent 03-20 08:00, cancelled 03-25
  R7  p5  avrr.counselling    C urgent  sent 03-25 00:00, never answered (deadline 03-28 00:00)
  R8  p8  employment.anapec   B urgent  sent 03-26 00:00, cancelled 03-27 (before its deadline 03-29)
  R9  p1  social.health_cover C normal  draft
  R10 p10 social.health_cover C normal sent 03-01 00:00, accepted 03-03 12:00 (2.5 days), started 04-01, completed 04-03
"""
from datetime import date, datetime, timedelta, timezone
from itertools import combinations, product

import pytest
from sqlalchemy import select

from caseapp.auth.models import User
from caseapp.beneficiaries.models import BeneficiaryFlag, ConsentRecord
from caseapp.beneficiaries.services import register_beneficiary
from caseapp.cases.models import ChangeRecord
from caseapp.cases.workflow import decide_closure, reopen, request_closure
from caseapp.extensions import db
from caseapp.privacy.consents import withdraw_consent
from caseapp.privacy.services import anonymise_person
from caseapp.referrals.models import DirectoryEntry, Referral, ReferralEvent
from caseapp.referrals.services import TRANSITIONS, deadline_hours
from caseapp.reports.indicators import build_indicators
from caseapp.reports.periods import parse_period
from caseapp.reports.tables import AGE_GROUPS, cell_key
from tests.conftest import valid_registration

NOW = datetime(2026, 4, 15, 12, tzinfo=timezone.utc)
REGIONS = tuple(f"{n:02d}" for n in range(1, 13))
COMMUNES = ("BER", "DRI", "FIG", "GUE", "NAD", "OUJ", "BEM", "FBS", "KHO", "TAL", "TIZ")
PROFILES = ("returnee", "foreign_migrant", "asylum_seeker", "refugee", "family_member")
REASONS = ("goals_met", "support_period_ended", "not_eligible", "withdrew", "moved", "re_migrated",
           "returned_country_of_origin", "deceased", "lost_contact")
STATUSES = ("approved", "accepted", "declined", "in_progress", "completed", "cancelled")
AREAS = ("avrr", "social_rights", "employment", "psychosocial")
FLAGS = ("disability", "homeless", "no_documents", "no_income", "older_person", "pregnant_lactating", "single_parent",
         "stranded_migrant", "unaccompanied_child", "restricted_total")
K = cell_key


def utc(*fields) -> datetime:
    return datetime(*fields, tzinfo=timezone.utc)


class Builder:
    """Makes the world through the real services, then dates each step by setting its timestamps directly."""

    def __init__(self, world):
        self.world = world
        self.worker = db.session.get(User, world.users["caseworker_a"])
        self.supervisor = db.session.get(User, world.users["supervisor_a"])
        self.people, self.cases = {}, {}

    def person(self, key, sex, born, profile, commune, registered, consent=True, flags=()):
        data = valid_registration(
            self.world.service_points["A-OUJ"], given_name=key, family_name="Test", given_name_alt="",
            family_name_alt="", sex=sex, date_of_birth=born, profile=profile, commune_code=commune, phone="",
            nationality="MAR" if profile in ("returnee", "family_member") else "SEN",
            country_returned_from="LBY" if profile == "returnee" else "", statistics_consent=consent)
        person, case = register_beneficiary(self.worker, data, today=date(2026, 4, 15))
        person.registered_at = case.opened_at = registered
        for flag, set_at in flags:
            db.session.add(BeneficiaryFlag(beneficiary_id=person.id, flag_code=flag, set_by_id=self.worker.id,
                                           set_at=set_at))
        db.session.flush()
        self.people[key], self.cases[key] = person, case
        return person

    def _last_history(self, case, action) -> ChangeRecord:
        return db.session.scalars(select(ChangeRecord).where(ChangeRecord.case_id == case.id,
                                                             ChangeRecord.action == action)
                                  .order_by(ChangeRecord.id.desc())).first()

    def close(self, key, reason, at):
        case = self.cases[key]
        request_closure(self.worker, case, reason)
        decide_closure(self.supervisor, case, approve=True)
        self._last_history(case, "closure_request").changed_at = at - timedelta(hours=1)
        self._last_history(case, "close").changed_at = at
        case.closed_at = case.closure_requested_at = at
        db.session.flush()

    def reopen(self, key, at):
        case = self.cases[key]
        reopen(self.supervisor, case, "Back for support")
        self._last_history(case, "reopen").changed_at = at
        db.session.flush()

    def referral(self, key, service, partner, priority, *steps):
        referral = Referral(case=self.cases[key], service_code=service,
                            receiving_partner_id=self.world.partners[partner], priority=priority, reason="Need",
                            created_by_id=self.worker.id, status="draft")
        db.session.add(referral)
        db.session.flush()
        for action, at in steps:
            sources, target = TRANSITIONS[action]
            assert referral.status in sources
            db.session.add(ReferralEvent(referral_id=referral.id, action=action, from_status=referral.status,
                                         to_status=target, actor_id=self.worker.id, at=at))
            if action == "approve":
                referral.sent_at, referral.deadline_at = at, at + timedelta(hours=deadline_hours(priority))
            elif action in ("accept", "decline"):
                referral.answered_at = at
                referral.accepted_at = at if action == "accept" else None
            elif action == "complete":
                referral.completed_at, referral.outcome = at, "service_delivered"
            referral.status = target
        db.session.flush()
        return referral


def sent(at, *rest):
    """submit an hour before approval, then the given steps."""
    return (("submit", at - timedelta(hours=1)), ("approve", at)) + rest


@pytest.fixture
def built(app_ctx, world):
    b = Builder(world)
    db.session.add_all([
        DirectoryEntry(partner_id=world.partners["C"], service_code="social.health_cover", commune_code="OUJ"),
        DirectoryEntry(partner_id=world.partners["C"], service_code="avrr.counselling", commune_code="OUJ"),
        DirectoryEntry(partner_id=world.partners["B"], service_code="employment.anapec", commune_code="BEM"),
    ])
    early = utc(2025, 1, 1)
    b.person("p1", "F", date(2021, 3, 31), "family_member", "OUJ", utc(2026, 3, 10, 10),
             flags=[("unaccompanied_child", early), ("gbv_survivor", early)])
    b.person("p2", "M", date(1990, 5, 17), "returnee", "TIZ", utc(2026, 3, 31, 22, 30), flags=[("homeless", early)])
    b.person("p3", "M", date(1960, 1, 1), "foreign_migrant", "NAD", utc(2026, 3, 1, 0, 0))
    b.person("p4", "F", date(2010, 6, 1), "asylum_seeker", "BEM", utc(2026, 3, 31, 23, 0))
    b.person("p5", "M", date(2021, 4, 1), "refugee", "TIZ", utc(2026, 2, 28, 23, 30),
             flags=[("no_documents", utc(2026, 4, 5))])
    b.person("p6", "F", date(1985, 1, 1), "returnee", "OUJ", utc(2026, 3, 15), consent=False,
             flags=[("gbv_survivor", early)])
    b.person("p7", "F", date(1995, 1, 1), "returnee", "OUJ", utc(2026, 3, 20))
    b.person("p8", "M", date(1970, 7, 7), "returnee", "BEM", utc(2025, 11, 10),
             flags=[("no_income", early), ("trafficking_victim", early)])
    b.person("p9", "F", date(2000, 1, 1), "foreign_migrant", "OUJ", utc(2025, 12, 1),
             flags=[("single_parent", early), ("gbv_survivor", early), ("mental_health", early)])
    b.person("p10", "M", date(1975, 3, 3), "returnee", "BEM", utc(2025, 10, 1))
    b.person("p11", "M", date(1988, 8, 8), "returnee", "OUJ", utc(2025, 9, 1), flags=[("homeless", early)])
    b.person("p12", "F", date(1992, 2, 2), "refugee", "OUJ", utc(2025, 8, 1))
    b.person("p13", "M", date(2019, 6, 15), "foreign_migrant", "NAD", utc(2026, 3, 5))
    b.person("p14", "M", date(1980, 1, 1), "returnee", "OUJ", utc(2025, 6, 1), consent=False)

    b.close("p14", "moved", utc(2025, 7, 1))
    b.close("p12", "goals_met", utc(2025, 12, 20))
    b.close("p8", "goals_met", utc(2026, 1, 15))
    b.close("p11", "lost_contact", utc(2026, 2, 10))
    b.reopen("p8", utc(2026, 3, 5))
    b.close("p9", "moved", utc(2026, 3, 10))
    b.close("p10", "withdrew", utc(2026, 3, 12))
    b.close("p3", "not_eligible", utc(2026, 3, 20))
    b.reopen("p3", utc(2026, 3, 22))
    b.close("p3", "goals_met", utc(2026, 3, 28))
    b.reopen("p10", utc(2026, 4, 5))
    b.reopen("p11", utc(2026, 4, 10))

    statistics = db.session.scalars(select(ConsentRecord).where(
        ConsentRecord.beneficiary_id == b.people["p7"].id, ConsentRecord.kind == "statistics")).one()
    withdraw_consent(b.worker, statistics, now=utc(2026, 4, 2))
    anonymise_person(None, b.people["p13"], "retention", now=utc(2026, 4, 12))

    b.referral("p5", "social.health_cover", "C", "normal", *sent(
        utc(2026, 3, 2, 10), ("accept", utc(2026, 3, 4, 10)), ("start", utc(2026, 3, 5)),
        ("complete", utc(2026, 3, 20, 10))))
    b.referral("p8", "employment.anapec", "B", "urgent", *sent(utc(2026, 3, 10, 12), ("decline", utc(2026, 3, 14, 12))))
    b.referral("p1", "social.health_cover", "C", "emergency", *sent(utc(2026, 3, 30, 12),
                                                                      ("accept", utc(2026, 4, 2))))
    b.referral("p9", "avrr.counselling", "C", "normal", *sent(utc(2026, 2, 20, 9), ("accept", utc(2026, 3, 3, 9)),
                                                              ("start", utc(2026, 3, 10))))
    b.referral("p6", "social.health_cover", "C", "normal", *sent(utc(2026, 3, 5), ("accept", utc(2026, 3, 6))))
    b.referral("p3", "employment.anapec", "B", "normal", *sent(utc(2026, 3, 20, 8), ("cancel", utc(2026, 3, 25))))
    b.referral("p5", "avrr.counselling", "C", "urgent", *sent(utc(2026, 3, 25)))
    b.referral("p8", "employment.anapec", "B", "urgent", *sent(utc(2026, 3, 26), ("cancel", utc(2026, 3, 27))))
    b.referral("p1", "social.health_cover", "C", "normal")
    b.referral("p10", "social.health_cover", "C", "normal", *sent(
        utc(2026, 3, 1), ("accept", utc(2026, 3, 3, 12)), ("start", utc(2026, 4, 1)), ("complete", utc(2026, 4, 3))))
    db.session.commit()
    return b


@pytest.fixture
def march(built):
    return build_indicators(parse_period("2026-03"), now=NOW)


def all_keys(table):
    dims = table.dimensions
    return {K(**dict(zip(subset, values)))
            for size in range(len(dims) + 1) for subset in combinations(dims, size)
            for values in product(*(table.domains[dim] for dim in subset))}


def assert_table(table, nonzero: dict):
    """The table holds exactly every cell of its domains: the listed ones with their counts, all others 0."""
    assert set(nonzero) <= all_keys(table), set(nonzero) - all_keys(table)
    assert table.counts == {key: nonzero.get(key, 0) for key in all_keys(table)}


# --- beneficiaries registered -------------------------------------------------------------------------------------


def test_registered_by_region_and_sex_counts_period_boundaries_in_local_time(march):
    table = march.table("beneficiaries_registered", ("region", "sex"))
    assert table.domains == {"region": REGIONS, "sex": ("F", "M")}
    # p1 (F, 02), p3 (M, 02, at the first instant), p13 (M, 02, anonymised), p2 (M, 09, 23:30 local on 31 March);
    # not p4 (00:00 local on 1 April), p5 (23:30 local on 28 February), p6 (no consent), p7 (withdrawn).
    assert_table(table, {
        K(region="02", sex="F"): 1, K(region="02", sex="M"): 2, K(region="09", sex="M"): 1,
        K(region="02"): 3, K(region="09"): 1, K(sex="F"): 1, K(sex="M"): 3, K(): 4,
    })


def test_registered_by_age_group_uses_the_age_on_the_last_day(march):
    table = march.table("beneficiaries_registered", ("region", "age_group"))
    assert table.domains["age_group"] == AGE_GROUPS
    # p1 turns 5 on 31 March (5-11); p13's birth date became 2019-01-01 (7: 5-11); p2 35; p3 66.
    assert_table(table, {
        K(region="02", age_group="5-11"): 2, K(region="02", age_group="60+"): 1, K(region="09", age_group="18-59"): 1,
        K(region="02"): 3, K(region="09"): 1, K(age_group="5-11"): 2, K(age_group="18-59"): 1, K(age_group="60+"): 1,
        K(): 4,
    })


def test_registered_by_profile_and_by_commune(march):
    table = march.table("beneficiaries_registered", ("region", "profile"))
    assert table.domains["profile"] == PROFILES
    assert_table(table, {
        K(region="02", profile="family_member"): 1, K(region="02", profile="foreign_migrant"): 2,
        K(region="09", profile="returnee"): 1,
        K(region="02"): 3, K(region="09"): 1, K(profile="family_member"): 1, K(profile="foreign_migrant"): 2,
        K(profile="returnee"): 1, K(): 4,
    })
    # Communes within their regions, so that disclosure control knows a region is the sum of its communes.
    table = march.table("beneficiaries_registered", ("region", "commune"))
    assert table.domains["commune"] == COMMUNES
    assert_table(table, {K(region="02", commune="OUJ"): 1, K(region="02", commune="NAD"): 2,
                         K(region="09", commune="TIZ"): 1, K(region="02"): 3, K(region="09"): 1,
                         K(commune="OUJ"): 1, K(commune="NAD"): 2, K(commune="TIZ"): 1, K(): 4})


def test_the_four_year_old_and_the_person_turning_five_fall_on_each_side(built):
    quarter = build_indicators(parse_period("2026-Q1"), now=NOW)
    table = quarter.table("beneficiaries_registered", ("region", "age_group"))
    # Q1 adds p5 (born 2021-04-01: still 4 on 31 March) to March's four; p1 turns 5 on 31 March.
    assert table.value(age_group="0-4") == 1
    assert table.value(age_group="5-11") == 2
    assert table.value() == 5


# --- cases ------------------------------------------------------------------------------------------------------


def test_active_cases_count_reopened_cases_and_leave_out_cases_closed_all_period(march):
    # Active: p1, p2, p3 (closed/reopened/closed in March), p5, p8 (reopened 03-05), p9 (closed 03-10),
    # p10 (closed 03-12, reopened in April), p13. Not: p4 (opened on 1 April local), p11 (closed from 02-10 to
    # 04-10: closed_at cleared by the reopening, only the history says so), p12 (closed in 2025), p6/p7 (consent).
    table = march.table("cases_active", ("region", "sex"))
    assert_table(table, {
        K(region="02", sex="F"): 2, K(region="02", sex="M"): 2, K(region="05", sex="M"): 2,
        K(region="09", sex="M"): 2,
        K(region="02"): 4, K(region="05"): 2, K(region="09"): 2, K(sex="F"): 2, K(sex="M"): 6, K(): 8,
    })
    assert_table(march.table("cases_active", ("profile",)), {
        K(profile="family_member"): 1, K(profile="returnee"): 3, K(profile="foreign_migrant"): 3,
        K(profile="refugee"): 1, K(): 8,
    })


def test_a_case_closed_before_the_quarter_and_reopened_after_it_is_active_in_the_months_it_was_open(built):
    february = build_indicators(parse_period("2026-02"), now=NOW)
    quarter = build_indicators(parse_period("2026-Q1"), now=NOW)
    # February: p5 (registered 28 Feb local), p8 (closed since 01-15: not), p9, p10, p11 (closed 02-10), p12 no.
    assert february.table("cases_active", ("profile",)).value() == 4
    assert february.table("cases_active", ("region", "sex")).value(region="02", sex="M") == 1  # p11
    # Q1: March's 8, plus p11 (open until 02-10); p8 was open in January.
    assert quarter.table("cases_active", ("profile",)).value() == 9


def test_cases_closed_by_reason_once_per_case_with_its_last_reason_even_when_reopened_since(march):
    table = march.table("cases_closed", ("reason", "region"))
    assert table.domains == {"reason": REASONS, "region": REGIONS}
    # p9 moved (still closed); p10 withdrew (reopened in April: reason from its history); p3 closed twice in
    # March: counted once, goals_met (its last closure). p14 (no consent) and earlier closures are not counted.
    assert_table(table, {
        K(reason="goals_met", region="02"): 1, K(reason="moved", region="02"): 1, K(reason="withdrew", region="05"): 1,
        K(reason="goals_met"): 1, K(reason="moved"): 1, K(reason="withdrew"): 1, K(region="02"): 2,
        K(region="05"): 1, K(): 3,
    })
    assert_table(march.table("cases_closed", ("reason",)), {
        K(reason="goals_met"): 1, K(reason="moved"): 1, K(reason="withdrew"): 1, K(): 3})


def test_closures_of_the_quarter_include_those_reversed_later(built):
    quarter = build_indicators(parse_period("2026-Q1"), now=NOW)
    # + p8 (goals_met, reopened 03-05) and p11 (lost_contact, reopened 04-10).
    assert_table(quarter.table("cases_closed", ("reason",)), {
        K(reason="goals_met"): 2, K(reason="moved"): 1, K(reason="withdrew"): 1, K(reason="lost_contact"): 1, K(): 5})


# --- referrals ----------------------------------------------------------------------------------------------------


def test_referrals_sent_by_area_and_status_at_the_end_of_the_period(march):
    table = march.table("referrals_sent", ("service_area", "status"))
    assert table.domains == {"service_area": AREAS, "status": STATUSES}
    # R1 completed, R3 approved, R10 accepted (completed since, in April); R2 declined, R6 and R8 cancelled;
    # R7 approved. Not R4 (sent in February), R5 (no consent), R9 (draft).
    assert_table(table, {
        K(service_area="social_rights", status="completed"): 1, K(service_area="social_rights", status="approved"): 1,
        K(service_area="social_rights", status="accepted"): 1, K(service_area="employment", status="declined"): 1,
        K(service_area="employment", status="cancelled"): 2, K(service_area="avrr", status="approved"): 1,
        K(service_area="social_rights"): 3, K(service_area="employment"): 3, K(service_area="avrr"): 1,
        K(status="approved"): 2, K(status="accepted"): 1, K(status="declined"): 1, K(status="completed"): 1,
        K(status="cancelled"): 2, K(): 7,
    })


def test_referrals_sent_by_service_partner_and_region(march):
    # Services within their service area, so that disclosure control knows an area is the sum of its services.
    table = march.table("referrals_sent", ("service_area", "service"))
    assert len(table.domains["service"]) == 18
    assert_table(table, {K(service_area="social_rights", service="social.health_cover"): 3,
                         K(service_area="employment", service="employment.anapec"): 3,
                         K(service_area="avrr", service="avrr.counselling"): 1,
                         K(service="social.health_cover"): 3, K(service="employment.anapec"): 3,
                         K(service="avrr.counselling"): 1, K(service_area="social_rights"): 3,
                         K(service_area="employment"): 3, K(service_area="avrr"): 1, K(): 7})
    table = march.table("referrals_sent", ("partner",))
    assert table.domains == {"partner": ("B", "C")}  # partners with directory entries
    assert_table(table, {K(partner="B"): 3, K(partner="C"): 4, K(): 7})
    assert_table(march.table("referrals_sent", ("service_area", "region")), {
        K(service_area="social_rights", region="02"): 1, K(service_area="social_rights", region="05"): 1,
        K(service_area="social_rights", region="09"): 1, K(service_area="employment", region="02"): 1,
        K(service_area="employment", region="05"): 2, K(service_area="avrr", region="09"): 1,
        K(service_area="social_rights"): 3, K(service_area="employment"): 3, K(service_area="avrr"): 1,
        K(region="02"): 2, K(region="05"): 3, K(region="09"): 2, K(): 7,
    })


def rates(report, indicator):
    return {rate.key: (rate.value, rate.base) for rate in report.rates if rate.indicator == indicator}


def test_acceptance_rate_among_referrals_answered_in_the_period(march):
    # Answered in March: R1 accepted, R2 declined, R4 accepted (sent in February), R10 accepted; R3 in April; R5 no.
    assert rates(march, "referral_acceptance_rate") == {
        K(): (0.75, 4), K(service_area="social_rights"): (1.0, 2), K(service_area="employment"): (0.0, 1),
        K(service_area="avrr"): (1.0, 1), K(service_area="psychosocial"): (None, 0),
    }


def test_median_days_to_acceptance_and_to_completion(march):
    # Accepted in March: R1 2 days, R4 11 days, R10 2.5 days. Completed in March: R1 18 days after sending.
    assert rates(march, "referral_median_days_to_acceptance") == {
        K(): (2.5, 3), K(service_area="social_rights"): (2.25, 2), K(service_area="avrr"): (11.0, 1),
        K(service_area="employment"): (None, 0), K(service_area="psychosocial"): (None, 0),
    }
    assert rates(march, "referral_median_days_to_completion") == {
        K(): (18.0, 1), K(service_area="social_rights"): (18.0, 1), K(service_area="avrr"): (None, 0),
        K(service_area="employment"): (None, 0), K(service_area="psychosocial"): (None, 0),
    }


def test_share_answered_within_the_deadline_among_deadlines_of_the_period(march, built):
    # Deadlines in March: R1 in time, R2 late, R3 late (answered in April), R4 in time, R7 never answered (late),
    # R10 in time; R8 was cancelled before its deadline (left out); R6's deadline is in April; R5 no consent.
    assert rates(march, "referral_answered_within_deadline") == {
        K(): (0.5, 6), K(service_area="social_rights"): (2 / 3, 3), K(service_area="employment"): (0.0, 1),
        K(service_area="avrr"): (0.5, 2), K(service_area="psychosocial"): (None, 0),
    }
    # Built before R7's deadline has passed, the unanswered R7 is not yet late: left out.
    early = build_indicators(parse_period("2026-03"), now=utc(2026, 3, 27, 23))
    assert rates(early, "referral_answered_within_deadline")[K(service_area="avrr")] == (1.0, 1)


# --- vulnerability flags ------------------------------------------------------------------------------------------


def test_flags_of_active_people_with_restricted_flags_only_as_one_total_by_region(march):
    table = march.table("vulnerability_flags", ("flag", "region"))
    assert table.domains == {"flag": FLAGS, "region": REGIONS}
    # Active and consenting: p1 (02) unaccompanied_child + gbv; p9 (02) single_parent + gbv + mental_health;
    # p8 (05) no_income + trafficking; p2 (09) homeless. p5's flag was set after March; p11 was not active; p6 no
    # consent. Restricted: people with at least one restricted flag (p1, p9, p8), never per flag.
    assert_table(table, {
        K(flag="unaccompanied_child", region="02"): 1, K(flag="single_parent", region="02"): 1,
        K(flag="no_income", region="05"): 1, K(flag="homeless", region="09"): 1,
        K(flag="restricted_total", region="02"): 2, K(flag="restricted_total", region="05"): 1,
        K(flag="unaccompanied_child"): 1, K(flag="single_parent"): 1, K(flag="no_income"): 1, K(flag="homeless"): 1,
        K(flag="restricted_total"): 3, K(region="02"): 4, K(region="05"): 2, K(region="09"): 1, K(): 7,
    })


def test_no_restricted_flag_and_no_flag_below_region_appears_anywhere(march):
    restricted = {"serious_medical", "mental_health", "gbv_survivor", "trafficking_victim"}
    for table in march.tables:
        values = {value for key in table.counts for _, value in key}
        assert not values & restricted, table.indicator
        if "flag" in table.dimensions:
            assert set(table.dimensions) <= {"flag", "region"}


# --- consent, completeness, additivity, queries -------------------------------------------------------------------


def test_people_without_statistics_consent_are_left_out_and_counted_exactly(march, built):
    # p6 (never consented) and p7 (withdrew) would have counted in March; p14 (no consent) had nothing in March.
    assert march.excluded_without_consent == 2
    assert build_indicators(parse_period("2025-07"), now=NOW).excluded_without_consent == 1  # p14's closure
    assert build_indicators(parse_period("2025-05"), now=NOW).excluded_without_consent == 0


def test_every_indicator_has_its_tables_and_rates(march):
    assert [(table.indicator, table.dimensions) for table in march.tables] == [
        ("beneficiaries_registered", ("region", "sex")), ("beneficiaries_registered", ("region", "age_group")),
        ("beneficiaries_registered", ("region", "profile")), ("beneficiaries_registered", ("region", "commune")),
        ("cases_active", ("region", "sex")), ("cases_active", ("profile",)),
        ("cases_closed", ("reason",)), ("cases_closed", ("reason", "region")),
        ("referrals_sent", ("service_area", "status")), ("referrals_sent", ("service_area", "service")),
        ("referrals_sent", ("partner",)), ("referrals_sent", ("service_area", "region")),
        ("vulnerability_flags", ("flag", "region")),
    ]
    assert {rate.indicator for rate in march.rates} == {
        "referral_acceptance_rate", "referral_median_days_to_acceptance", "referral_median_days_to_completion",
        "referral_answered_within_deadline"}
    assert march.period.label == "2026-03"


def _assert_additive(table):
    for key, count in table.counts.items():
        fixed = dict(key)
        for dim in table.dimensions:
            if dim not in fixed:
                parts = [table.counts[K(**fixed, **{dim: value})] for value in table.domains[dim]]
                assert count == sum(parts), (table.indicator, table.dimensions, key, dim)


@pytest.mark.parametrize("label", ["2026-03", "2026-Q1", "2026", "2025-12"])
def test_every_table_is_complete_and_its_totals_add_up(built, label):
    report = build_indicators(parse_period(label), now=NOW)
    shared: dict[tuple, int] = {}
    for table in report.tables:
        assert set(table.counts) == all_keys(table)
        assert all(count >= 0 for count in table.counts.values())
        _assert_additive(table)
        for key, count in table.counts.items():  # tables of one indicator agree on the cells they share
            assert shared.setdefault((table.indicator, key), count) == count, (table.indicator, key)


def test_an_empty_world_gives_complete_zero_tables(app_ctx, world):
    report = build_indicators(parse_period("2026-03"), now=NOW)
    assert report.tables and all(set(t.counts) == all_keys(t) and not any(t.counts.values()) for t in report.tables)
    assert all(rate.value is None and rate.base == 0 for rate in report.rates)
    assert report.excluded_without_consent == 0


def test_a_build_takes_a_fixed_number_of_queries(built, count_queries):
    period = parse_period("2026-03")
    with count_queries() as counter:
        build_indicators(period, now=NOW)
    # 5 reference + 1 registered + 1 active + 3 closed (standing, reversed, their requests) + 1 sent
    # + 3 rates + 1 flags + 1 excluded.
    assert counter.count == 16, counter.statements

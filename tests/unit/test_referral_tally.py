"""The referral tally (caseapp.referrals.tally): its sums always equal counting the referrals themselves, through every
change the triggers see (a case transfer re-keys its referrals by cascade), folds and the migration's fill; and the
home page's counts read from it equal counting the referrals each user may see."""
from contextlib import nullcontext
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text

from caseapp.access.policy import scope
from caseapp.cases.dashboard import team_dashboard
from caseapp.cases.models import Case
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.referrals import tally
from caseapp.referrals.models import OPEN_FOR_RECEIVER, Referral
from caseapp.referrals.queries import referral_summary
from tests.unit.tally_checks import TallyCheck
from tests.unit.test_referrals import ReferralWorld, build_referral_world, drive, make_referral, new_case, set_status

CHECK = TallyCheck(tally.REFERRALS, "referral")
_assert_tally_is_true, _tally_rows = CHECK.assert_true, CHECK.rows


@pytest.fixture
def rw(app_ctx, world) -> ReferralWorld:
    return build_referral_world(world)


def _referrals(rw) -> list[Referral]:
    """Referrals to C and B, from cases at A-OUJ and A-NAD, in several statuses."""
    nador = new_case(rw, "caseworker_a2", "A-NAD", given_name="Youssef", phone="+212 612 000 900")
    made = [make_referral(rw), make_referral(rw, partner="B"), make_referral(rw, "caseworker_a2", case=nador),
            make_referral(rw), make_referral(rw, partner="B")]
    drive(rw, made[0], "submit")
    drive(rw, made[1], "submit", "approve")
    set_status(made[2], "accepted")  # its worker's own referral, moved without the services
    drive(rw, made[3], "submit", "approve", "accept", "start")
    db.session.commit()
    return made


def test_the_tally_follows_every_change_of_a_referral(rw):
    made = _referrals(rw)
    _assert_tally_is_true()
    drive(rw, made[0], "approve")  # a status change
    set_status(made[4], "cancelled")
    db.session.commit()
    _assert_tally_is_true()
    rows = _tally_rows()
    made[0].priority = "high"  # not a key: nothing appended
    db.session.commit()
    assert _tally_rows() == rows
    case = db.session.get(Case, made[0].case_id)  # a transfer: the referrals follow their case by cascade
    case.service_point_id = rw.world.service_points["A-NAD"]
    db.session.commit()
    db.session.expire_all()
    assert {referral.service_point_id for referral in db.session.scalars(
        select(Referral).where(Referral.case_id == case.id))} == {rw.world.service_points["A-NAD"]}
    _assert_tally_is_true()
    db.session.execute(delete(Referral).where(Referral.id == made[4].id))  # a referral gone
    db.session.execute(text("UPDATE referral SET status = 'completed' WHERE status = 'in_progress'"))  # outside the ORM
    db.session.commit()
    _assert_tally_is_true()


def test_a_fold_leaves_one_row_per_key_and_every_sum(rw):
    _referrals(rw)
    before = _tally_rows()
    removed = tally.fold(db.session.connection())
    db.session.commit()
    assert _tally_rows() == len(CHECK.truth()) == before - removed
    _assert_tally_is_true()
    assert tally.fold(db.session.connection()) == 0  # folded already


def _counted(actor, now) -> dict[str, int]:
    """The home page's figures, counted from the referrals the actor may see."""
    by_status = dict(db.session.execute(scope(actor, select(Referral.status, func.count()), Referral)
                                        .group_by(Referral.status)).all())
    overdue = db.session.scalar(scope(actor, select(func.count()).select_from(Referral), Referral).where(
        Referral.status == "approved", Referral.deadline_at < now))
    return {"submitted": by_status.get("submitted", 0), "overdue": overdue,
            **{status: by_status[status] for status in OPEN_FOR_RECEIVER if status in by_status}}


def test_home_page_counts_equal_counting_the_referrals_each_user_sees(app, rw):
    _referrals(rw)
    late = make_referral(rw)
    drive(rw, late, "submit", "approve")
    late.deadline_at = utcnow() - timedelta(days=2)
    db.session.commit()
    later = utcnow() + timedelta(days=30)  # every approved referral's deadline has passed by then
    checked = 0
    # Outside a request, then in requests, twice: the second round runs the statements kept per reader in the first
    # (caseapp.fragments.kept_statement), which no other reader ever runs.
    for in_request in (False, True, True):
        with app.test_request_context() if in_request else nullcontext():
            for key in ("caseworker_a", "caseworker_a2", "supervisor_a", "receiver", "receiver_d", "supervisor_b"):
                actor = rw.user(key)
                for now in (utcnow(), later):
                    summary, counted = referral_summary(actor, now), _counted(actor, now)
                    if "to_review" in summary:
                        assert summary.pop("to_review") == counted["submitted"], key
                    if "overdue" in summary:
                        assert summary.pop("overdue") == counted["overdue"], (key, now)
                    assert summary == {status: counted[status] for status in OPEN_FOR_RECEIVER
                                       if counted.get(status)}, key
                    checked += bool(counted["overdue"]) + sum(counted.get(status, 0) for status in OPEN_FOR_RECEIVER)
    assert checked, "no user saw any open referral"
    assert referral_summary(rw.user("supervisor_a"), later)["overdue"] >= 2  # `late` and made[1] at least


def test_the_migration_fills_the_tally_from_the_referrals_there(rw):
    _referrals(rw)
    db.session.commit()
    CHECK.assert_filled_by_migration_after("b2d8f5a61c47")


def test_the_team_dashboard_counts_the_referrals_its_supervisor_sees(rw):
    _referrals(rw)
    set_status(make_referral(rw), "completed")  # every status, not only the open ones
    db.session.commit()
    for key in ("supervisor_a", "supervisor_b"):
        actor = rw.user(key)
        counted = dict(db.session.execute(scope(actor, select(Referral.status, func.count()), Referral)
                                          .group_by(Referral.status)).all())
        assert team_dashboard(actor).referrals_by_status == counted, key
    assert team_dashboard(rw.user("supervisor_a")).referrals_by_status["completed"] == 1

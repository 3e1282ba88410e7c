"""Referral counts read from the referral tally (`ReferralTally`, kept by caseapp.referrals.tally_triggers) instead
of from every referral: an organisation's open referrals at 100,000 people (~9,000) took ~6 ms of database time to
count by status on each home page, ~30 ms at 1,000,000. How a tally is read and folded: caseapp.tallies."""
from functools import partial

from sqlalchemy import Connection, Select, func, select

from caseapp import tallies
from caseapp.access.policy import scope
from caseapp.fragments import kept_statement
from caseapp.referrals.models import ReferralTally

REFERRALS = tallies.Tally(ReferralTally, ("partner_id", "service_point_id", "receiving_partner_id", "status"),
                          fold_lock=0x7265_6674_616C_6C79)  # "reftally"


def referrals_by_status(actor, statuses: tuple[str, ...]) -> dict[str, int]:
    """How many referrals in the actor's scope have each of `statuses` (those with none left out). The statement is
    kept per reader and statuses (caseapp.fragments.kept_statement): a home page's figure."""
    query = kept_statement(actor, "referrals.by_status", statuses, partial(_by_status, actor, statuses))
    return {status: total for status, total in tallies.sums(REFERRALS, query) if total}


def _by_status(actor, statuses: tuple[str, ...]) -> Select:
    return scope(actor, select(ReferralTally.status, func.sum(ReferralTally.delta), func.count()), ReferralTally) \
        .where(ReferralTally.status.in_(statuses)).group_by(ReferralTally.status)


def fold(connection: Connection) -> int:
    """`tallies.fold` of the referral tally."""
    return tallies.fold(connection, REFERRALS)

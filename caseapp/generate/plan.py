"""The outline of a generated population, drawn from the seed before any row: when each person registers, how far
their case goes and which status each of their referrals ends in. Every outcome appears once the run is big enough.
"""
import random
from dataclasses import dataclass

from caseapp.referrals.models import REFERRAL_STATUSES

YEARS = 2
SPAN_DAYS = 365 * YEARS
# How far a case goes by the end of the period: its stages, then closure requested, approved, reopened.
TRAJECTORIES = ("registered", "assessment", "plan", "active", "awaiting_closure", "closed", "reopened")
# Weights of each trajectory by the case's age at the end of the period (days since registration): new cases
# are still being assessed, old ones mostly closed.
_TRAJECTORY_WEIGHTS = (
    (7, (45, 35, 15, 5, 0, 0, 0)),
    (30, (10, 25, 25, 35, 3, 2, 0)),
    (180, (3, 7, 10, 50, 5, 23, 2)),
    (None, (2, 3, 5, 35, 3, 47, 5)),
)
CLOSED_TRAJECTORIES = ("closed", "reopened")
# Statuses a referral ends in: while its case is open, and before its case was closed (it had ended by then).
_OPEN_CASE_REFERRALS = {"draft": 4, "submitted": 5, "returned": 3, "approved": 6, "accepted": 8, "declined": 8,
                        "in_progress": 10, "completed": 40, "cancelled": 8}
_RECENT_CASE_REFERRALS = {"draft": 10, "submitted": 15, "returned": 5, "approved": 20, "accepted": 15,
                          "declined": 5, "in_progress": 15, "completed": 5, "cancelled": 3}
_CLOSED_CASE_REFERRALS = {"completed": 70, "declined": 15, "cancelled": 15}
_REFERRAL_COUNTS = {"registered": (90, 10), "assessment": (60, 35, 5), "plan": (45, 40, 15)}
_REFERRAL_COUNTS_LATER = (35, 35, 20, 10)
MAX_REFERRALS = 4


@dataclass(slots=True)
class PersonPlan:
    """One person of the run: `index` fixes their identity (with the seed), the rest their history."""

    index: int
    age_days: float  # registration, in days before the end of the period
    point: int  # index of the service point in the setting's list
    trajectory: str
    referrals: list[str]  # the status each of the person's referrals ends in


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _trajectory(rng: random.Random, age_days: float) -> str:
    weights = next(weights for limit, weights in _TRAJECTORY_WEIGHTS if limit is None or age_days < limit)
    return rng.choices(TRAJECTORIES, weights=weights)[0]


def _referrals(rng: random.Random, trajectory: str, age_days: float) -> list[str]:
    counts = _REFERRAL_COUNTS.get(trajectory, _REFERRAL_COUNTS_LATER)
    count = rng.choices(range(len(counts)), weights=counts)[0]
    if trajectory in CLOSED_TRAJECTORIES:
        weights = _CLOSED_CASE_REFERRALS
    else:
        weights = _RECENT_CASE_REFERRALS if age_days < 30 else _OPEN_CASE_REFERRALS
    return [_weighted(rng, weights) for _ in range(count)]


def make_plan(count: int, seed: int, point_count: int, with_referrals: bool) -> list[PersonPlan]:
    """`count` people, oldest registration first, spread over the service points (each gets one when there are
    enough people); every trajectory and referral status appears when `count` allows."""
    rng = random.Random(seed)
    plans = []
    for index in range(count):
        age = rng.uniform(0, SPAN_DAYS)
        trajectory = _trajectory(rng, age)
        point = index if index < point_count else rng.randrange(point_count)
        plans.append(PersonPlan(index, age, point, trajectory,
                                _referrals(rng, trajectory, age) if with_referrals else []))
    _cover_trajectories(plans)
    if with_referrals:
        _cover_referral_statuses(plans)
    plans.sort(key=lambda plan: (-plan.age_days, plan.index))
    return plans


def _cover_trajectories(plans: list[PersonPlan]) -> None:
    """Give each missing trajectory to someone on the most common one (old enough for a closure)."""
    for trajectory in TRAJECTORIES:
        if any(plan.trajectory == trajectory for plan in plans):
            continue
        common = max(TRAJECTORIES, key=lambda name: sum(plan.trajectory == name for plan in plans))
        donors = [plan for plan in plans if plan.trajectory == common]
        if len(donors) < 2:
            return  # too few people for every trajectory
        donor = max(donors, key=lambda plan: plan.age_days)
        donor.trajectory = trajectory
        if trajectory in CLOSED_TRAJECTORIES:
            donor.referrals = [status for status in donor.referrals if status in _CLOSED_CASE_REFERRALS]


def _cover_referral_statuses(plans: list[PersonPlan]) -> None:
    """Add a referral with each missing status to someone whose case is open and has room for one more."""
    present = {status for plan in plans for status in plan.referrals}
    hosts = [plan for plan in plans if plan.trajectory not in CLOSED_TRAJECTORIES + ("registered",)]
    for status in REFERRAL_STATUSES:
        if status in present:
            continue
        room = [plan for plan in hosts if len(plan.referrals) < MAX_REFERRALS]
        if not room:
            return
        min(room, key=lambda plan: (len(plan.referrals), -plan.age_days)).referrals.append(status)

"""Where generated people are helped: the service points with their staff, the directory, flags and reasons."""
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from caseapp.auth.models import User
from caseapp.beneficiaries.models import VulnerabilityFlag
from caseapp.cases.workflow import closure_reasons
from caseapp.extensions import db
from caseapp.i18n import programme_timezone
from caseapp.places.models import Commune, ServicePoint
from caseapp.referrals.models import PRIORITIES, DirectoryEntry
from caseapp.referrals.services import deadline_hours


@dataclass(frozen=True)
class Staff:
    """An active account that acts in the generated history."""

    id: int
    partner_id: int
    role: str
    restricted_access: bool


@dataclass
class Point:
    """An active service point and the staff whose scope covers it."""

    id: int
    commune_code: str
    partner_id: int
    workers: list[Staff]  # its caseworkers, or the organisation's supervisors when it has none
    restricted_workers: list[Staff]  # those of the workers with restricted access
    supervisors: list[Staff]  # the organisation's supervisors: closure approvals, reopenings, referral reviews


@dataclass
class Setting:
    """Everything the generator reads from the database once, before writing."""

    points: list[Point]
    communes: list[str]
    directory: dict[str, list[tuple[int, str]]]  # commune → (partner id, service code) offered there
    service_area: dict[str, str]
    receivers: dict[int, list[Staff]]  # partner id → its active referral focal points
    supervisors: dict[int, list[Staff]]  # partner id → its active supervisors
    flags: list[tuple[str, bool]]  # (code, restricted)
    closure_reasons: list[str]
    deadline_hours: dict[str, int]
    timezone: ZoneInfo


def _staff(user: User) -> Staff:
    return Staff(user.id, user.partner_id, user.role, bool(user.restricted_access))


def load_setting() -> Setting:
    """Read the organisations, their active service points and staff, the directory and the reference lists."""
    from caseapp.referrals.models import Service

    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    by_role: dict[str, dict[int, list[Staff]]] = defaultdict(lambda: defaultdict(list))
    caseworkers: dict[int, list[Staff]] = defaultdict(list)
    for user in users:
        by_role[user.role][user.partner_id].append(_staff(user))
        if user.role == "caseworker":
            for point in user.service_points:
                caseworkers[point.id].append(_staff(user))
    points = []
    for point in db.session.scalars(select(ServicePoint).where(ServicePoint.active.is_(True))
                                    .order_by(ServicePoint.id)):
        supervisors = by_role["supervisor"][point.partner_id]
        workers = caseworkers[point.id] or supervisors
        if workers:
            points.append(Point(point.id, point.commune_code, point.partner_id, workers,
                                [staff for staff in workers if staff.restricted_access], supervisors))
    directory: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for entry in db.session.scalars(select(DirectoryEntry).where(DirectoryEntry.active.is_(True))
                                    .order_by(DirectoryEntry.id)):
        directory[entry.commune_code].append((entry.partner_id, entry.service_code))
    return Setting(
        points=points,
        communes=list(db.session.scalars(select(Commune.code).order_by(Commune.code))),
        directory=dict(directory),
        service_area=dict(db.session.execute(select(Service.code, Service.category)).all()),
        receivers=dict(by_role["referral_receiver"]),
        supervisors=dict(by_role["supervisor"]),
        flags=list(db.session.execute(select(VulnerabilityFlag.code, VulnerabilityFlag.restricted)
                                      .order_by(VulnerabilityFlag.code)).all()),
        closure_reasons=sorted(closure_reasons()),
        deadline_hours={priority: deadline_hours(priority) for priority in PRIORITIES},
        timezone=programme_timezone(),
    )

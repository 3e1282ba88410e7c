"""Where an account works: its organisation's name and its service points' names, for the home page's heading."""
from sqlalchemy import bindparam, select

from caseapp.auth.models import user_service_point
from caseapp.partners.models import Partner
from caseapp.places.models import ServicePoint
from caseapp.plain_rows import plain_rows

# The account's organisation and service points by code, in one statement built once (their names head the page;
# the account's relationships would load them in two, through the ORM).
_WORKPLACE = select(Partner.name, ServicePoint.name).select_from(Partner) \
    .outerjoin(user_service_point, user_service_point.c.user_id == bindparam("user_id")) \
    .outerjoin(ServicePoint, ServicePoint.id == user_service_point.c.service_point_id) \
    .where(Partner.id == bindparam("partner_id")).order_by(ServicePoint.code)


def workplace(user) -> tuple[str, list[str]]:
    """The user's organisation's name and the names of their service points, by code."""
    rows = plain_rows(_WORKPLACE, {"user_id": user.id, "partner_id": user.partner_id}).all()
    return (rows[0][0] if rows else ""), [point for _, point in rows if point is not None]

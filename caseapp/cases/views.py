"""The case list with search, filters and pagination."""
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from caseapp.access.policy import requires, scope
from caseapp.cases.forms import CaseFilterForm, CaseSearchForm
from caseapp.cases.models import CASE_STATUSES
from caseapp.cases.services import search_cases
from caseapp.extensions import db
from caseapp.labels import CASE_STATUS_LABELS
from caseapp.places.models import ServicePoint

bp = Blueprint("cases", __name__, url_prefix="/cases")
SEARCH_KEY = "case_search"


def _visible_service_points() -> list[ServicePoint]:
    query = scope(current_user, select(ServicePoint), ServicePoint)
    return list(db.session.scalars(query.order_by(ServicePoint.code)))


@bp.route("/", methods=["GET", "POST"])
@requires("case.list")
def index():
    search = CaseSearchForm()
    if request.method == "POST":
        if search.validate_on_submit():
            session[SEARCH_KEY] = (search.q.data or "").strip()
        return redirect(url_for("cases.index", **request.args))
    search.q.data = session.get(SEARCH_KEY, "")
    filters = CaseFilterForm(request.args)
    filters.status.choices = [("", "—")] + [(s, str(CASE_STATUS_LABELS[s])) for s in CASE_STATUSES]
    service_points = _visible_service_points()
    filters.service_point.choices = [("", "—")] + [(str(sp.id), sp.name) for sp in service_points]
    service_point_id = request.args.get("service_point", type=int)
    page = search_cases(
        current_user, text=search.q.data, status=request.args.get("status", ""),
        service_point_id=service_point_id, page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PAGE_SIZE"],
    )
    filter_args = {name: value for name, value in request.args.items() if name in ("status", "service_point") and value}
    html = render_template("cases/index.html", search=search, filters=filters, page=page, filter_args=filter_args)
    db.session.commit()  # the search's audit event; after rendering, so the loaded rows stay loaded
    return html

"""The case list (search, filters, sort, bulk assignment) and the case page."""
from functools import cache, partial

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from caseapp.access.policy import can, get_or_404, requires, scope
from caseapp.auth.models import User
from caseapp.beneficiaries.flags import flag_choices
from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases import page_context
from caseapp.cases.assignment import assign_cases, assignable_workers
from caseapp.cases.forms import AssignForm, CaseFilterForm, CaseSearchForm
from caseapp.cases.models import CASE_STATUSES, Case, CaseTransfer
from caseapp.cases.services import SORTS, CaseFilters, search_cases
from caseapp.errors import DomainError
from caseapp.extensions import db
from caseapp.forms_common import choices, record_id
from caseapp.fragments import fragment
from caseapp.labels import CASE_STATUS_LABELS, SORT_LABELS
from caseapp.places.models import ServicePoint
from caseapp.safe_redirect import is_local_path
from caseapp.plain_rows import plain_rows

bp = Blueprint("cases", __name__, url_prefix="/cases")
# What the case page reads of a case, loaded with it: six statements fewer than one lazy load each. Of the worker,
# only the name it shows (the account's other 20 columns cost psycopg and the ORM ~0.2 ms a page).
CASE_PAGE_LOADS = (joinedload(Case.beneficiary).joinedload(Beneficiary.flags), joinedload(Case.service_point),
                   joinedload(Case.assessment), joinedload(Case.assigned_worker).load_only(User.full_name),
                   joinedload(Case.proposed_transfer).joinedload(CaseTransfer.to_service_point))
SEARCH_KEY = "case_search"
FILTER_NAMES = ("status", "service_point", "worker", "risk", "flag", "overdue", "sort")


def _filter_form(workers) -> CaseFilterForm:
    form = CaseFilterForm(request.args)
    statuses = CASE_STATUS_LABELS.in_language()
    form.status.choices = choices({code: statuses[code] for code in CASE_STATUSES}, blank=True)
    points = plain_rows(
        scope(current_user, select(ServicePoint.id, ServicePoint.name), ServicePoint).order_by(ServicePoint.code))
    form.service_point.choices = choices({str(point_id): name for point_id, name in points}, blank=True)
    form.worker.choices = choices({str(user_id): name for user_id, name in workers.items()}, blank=True)
    form.flag.choices = choices({flag.code: flag.name for flag in flag_choices(current_user)}, blank=True)
    sorts = SORT_LABELS.in_language()
    form.sort.choices = choices({code: sorts[code] for code in SORTS})
    return form


def _render_filters(workers: dict[int, str]) -> str:
    """The filter form (its drop-downs are the reader's service points, workers and flags): a kept fragment."""
    return render_template("cases/_filters.html", filters=_filter_form(workers))


def _render_assign_controls(workers: dict[int, str]) -> str:
    """The bulk assignment's worker drop-down and button (its CSRF token is written outside): a kept fragment."""
    assign = AssignForm()
    assign.worker_id.choices = choices(workers)
    return render_template("cases/_assign_controls.html", assign=assign)


def _filter_values() -> tuple:
    """What the filter form shows of the request's arguments: the key of its kept fragment."""
    return tuple(tuple(request.args.getlist(name)) for name in FILTER_NAMES)


def _filters() -> CaseFilters:
    args = request.args
    return CaseFilters(status=args.get("status", ""), service_point_id=args.get("service_point", type=record_id),
                       worker_id=args.get("worker", type=record_id), risk=args.get("risk", ""),
                       flag=args.get("flag", ""), overdue=args.get("overdue") in ("y", "1", "on"))


@bp.route("/", methods=["GET", "POST"])
@requires("case.list")
def index():
    if request.method == "POST":
        search = CaseSearchForm()
        if search.validate_on_submit():
            session[SEARCH_KEY] = (search.q.data or "").strip()
        return redirect(url_for("cases.index", **request.args))
    # Shown, never validated here: the page writes the session's CSRF token itself, in each of its two forms.
    search = CaseSearchForm(meta={"csrf": False})
    search.q.data = session.get(SEARCH_KEY, "")
    page = search_cases(current_user, text=search.q.data, filters=_filters(), sort=request.args.get("sort", ""),
                        page=request.args.get("page", 1, type=int), per_page=current_app.config["PAGE_SIZE"])
    filter_args = {name: value for name, value in request.args.items() if name in FILTER_NAMES and value}
    assign = can(current_user, "case.assign") and bool(page.items)
    workers = cache(partial(assignable_workers, current_user))  # read once if both fragments are made
    html = render_template("cases/index.html", search=search, page=page, filter_args=filter_args, assign=assign,
                           filters_html=fragment("cases.filters", _filter_values(),
                                                 lambda: _render_filters(workers())),
                           assign_html=fragment("cases.assign", None, lambda: _render_assign_controls(workers()))
                           if assign else "")
    db.session.commit()  # the search's audit event; after rendering, so the loaded rows stay loaded
    return html


@bp.route("/assign", methods=["POST"])
@requires("case.assign")
def assign():
    form = AssignForm()
    form.worker_id.choices = choices(assignable_workers(current_user))
    form.validate_on_submit()
    try:
        cases = assign_cases(current_user, form.case_ids.data or [], form.worker_id.data)
    except DomainError as refusal:
        db.session.rollback()
        flash(refusal.message, "danger")
    else:
        db.session.commit()
        flash(ngettext("%(num)d case assigned.", "%(num)d cases assigned.", len(cases)), "success")
    back = request.form.get("next")
    return redirect(back if is_local_path(back) else url_for("cases.index"))


@bp.route("/<int:case_id>")
@requires("case.view")
def show(case_id: int):
    case = get_or_404(Case, case_id, "case.view", options=CASE_PAGE_LOADS)
    return page_context.render_case_page(case)


@bp.route("/team")
@requires("dashboard.view")
def team():
    """The supervisor's operational dashboard (their organisation only; named, not anonymised, never exported)."""
    from caseapp.cases.dashboard import team_dashboard

    return render_template("cases/team.html", board=team_dashboard(current_user))

"""The service directory: searchable by caseworkers, maintained by admins."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from caseapp.access.policy import can, get_or_404, requires
from caseapp.errors import DomainError
from caseapp.extensions import db
from caseapp.forms_common import choices
from caseapp.partners.models import Partner
from caseapp.places.models import Commune
from caseapp.referrals import directory
from caseapp.referrals.forms import DirectoryEntryForm, DirectorySearchForm
from caseapp.referrals.models import DirectoryEntry
from caseapp.views_support import show_refusal

bp = Blueprint("directory", __name__, url_prefix="/directory")


def _commune_choices() -> list:
    return choices({commune.code: commune.name for commune in db.session.scalars(select(Commune).order_by(Commune.code))},
                   blank=True)


def _service_choices() -> list:
    return choices({service.code: service.name for service in directory.services()}, blank=True)


@bp.route("/", methods=["GET", "POST"])
@requires("directory.view")
def index():
    search = DirectorySearchForm(request.args)
    search.service.choices, search.commune.choices = _service_choices(), _commune_choices()
    form = None
    if can(current_user, "directory.manage"):
        form = DirectoryEntryForm() if request.method == "POST" else DirectoryEntryForm(formdata=None)
        form.partner_id.choices = choices({0: "—"} | {p.id: p.name for p in db.session.scalars(
            select(Partner).where(Partner.active.is_(True)).order_by(Partner.name))})
        form.service_code.choices, form.commune_code.choices = _service_choices(), _commune_choices()
        if form.validate_on_submit():
            try:
                directory.add_entry(current_user, partner_id=form.partner_id.data or None,
                                    service_code=form.service_code.data or "", commune_code=form.commune_code.data or "",
                                    contact=form.contact.data or "", hours=form.hours.data or "",
                                    languages=form.languages.data or "", eligibility=form.eligibility.data or "")
            except DomainError as refusal:
                db.session.rollback()
                show_refusal(form, refusal)
            else:
                db.session.commit()
                flash(_("Directory entry added."), "success")
                return redirect(url_for("directory.index"))
    elif request.method == "POST":
        abort(403)  # only administrators change the directory
    active_only = request.args.get("active_only", "y") in ("y", "1", "on") or not can(current_user, "directory.manage")
    entries = directory.search_directory(search.service.data or "", search.commune.data or "", active_only)
    return render_template("directory/index.html", search=search, entries=entries, form=form)


@bp.route("/<int:entry_id>/active", methods=["POST"])
@requires("directory.manage")
def toggle(entry_id: int):
    entry = get_or_404(DirectoryEntry, entry_id, "directory.manage")
    directory.set_entry_active(current_user, entry, not entry.active)
    db.session.commit()
    return redirect(url_for("directory.index", active_only=""))

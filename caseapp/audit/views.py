"""Audit pages: a person's access log and the data protection officer's audit search and CSV export."""
import re
from dataclasses import dataclass
from datetime import date, datetime

from flask import Blueprint, Response, current_app, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length, Optional, Regexp, ValidationError
from wtforms.widgets import DateInput

from caseapp.access.policy import get_or_404, requires
from caseapp.audit.export import csv_text, utc_iso
from caseapp.audit.labels import OBJECT_TYPE_LABELS, RESTRICTED_NOTE, action_label, object_type_label
from caseapp.audit.queries import (
    AuditFilters, export_batches, log_cases, person_access_log, search_events, start_export,
)
from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases.models import Case
from caseapp.extensions import db
from caseapp.forms_common import AppForm, MAX_RECORD_ID, SelectField, choices
from caseapp.models_base import utcnow
from caseapp.partners.models import Partner
from caseapp.security.rate_limit import limit_exports

bp = Blueprint("audit", __name__)
MIN_YEAR, MAX_YEAR = 1900, 2999
FILTER_NAMES = ("date_from", "date_to", "actor", "partner", "action", "object_type", "object_id", "ip")


# --- the person's access log ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """One line of an access log, ready to show."""

    occurred_at: datetime
    actor_name: str
    partner_name: str
    action: str
    object_label: str


def _object_label(row, case_numbers: dict[int, str]) -> str:
    event = row.AuditEvent
    if event.object_type == Case.__tablename__ and event.object_id in case_numbers:
        return _("Case %(number)s", number=case_numbers[event.object_id])
    if event.object_type == Beneficiary.__tablename__:
        return object_type_label(event.object_type)
    if event.object_id is None:
        return object_type_label(event.object_type)
    return _("%(type)s #%(id)s", type=object_type_label(event.object_type), id=event.object_id)


def _log_entry(row, case_numbers: dict[int, str], viewer) -> LogEntry:
    """One line of the log. For anyone but the dpo, staff of other organisations are not named: the line would
    tell which other organisations know the person."""
    event = row.AuditEvent
    if row.restricted_note and not viewer.restricted_access:
        action, shown_object = str(RESTRICTED_NOTE), ""
    else:
        action, shown_object = action_label(event.action), _object_label(row, case_numbers)
    if viewer.role == "dpo" or event.partner_id == viewer.partner_id:
        actor_name, partner_name = row.actor_name or "", row.partner_name or ""
    else:
        actor_name, partner_name = _("someone"), _("another organisation")
    return LogEntry(occurred_at=event.occurred_at, actor_name=actor_name, partner_name=partner_name,
                    action=action, object_label=shown_object)


@bp.route("/people/<int:person_id>/access-log")
@requires("person.access_log")
def person_log(person_id: int):
    person = get_or_404(Beneficiary, person_id, "person.access_log")
    cases = log_cases(current_user, person)
    page = person_access_log(current_user, person, cases, request.args.get("page", 1, type=int),
                             current_app.config["PAGE_SIZE"])
    numbers = {case.id: case.number for case in cases}
    entries = [_log_entry(row, numbers, current_user) for row in page.items]
    html = render_template("audit/person_log.html", person=person, page=page, entries=entries,
                           utc_iso=utc_iso)
    db.session.commit()  # the view's audit event; after rendering, so the loaded rows stay loaded
    return html


# --- the audit search and its CSV export ---------------------------------------------------------------------------


def _day(text: str | None) -> date | None:
    """The day written as YYYY-MM-DD, or None when empty; ValueError when it is no such day."""
    return date.fromisoformat(text.strip()) if text and text.strip() else None


def _iso_date(form, field) -> None:
    try:
        day = _day(field.data)
    except ValueError:
        day = date.min
    if day is not None and not MIN_YEAR <= day.year <= MAX_YEAR:  # also keeps "the day after" computable
        raise ValidationError(_("Enter a date as YYYY-MM-DD, for example 2025-03-31."))


def _object_id(form, field) -> None:
    """A record id: digits, no larger than an INTEGER column holds (PostgreSQL refuses a larger bound value)."""
    text = (field.data or "").strip()
    if not re.fullmatch(r"\d{1,18}", text):
        raise ValidationError(_("Enter a whole number."))
    if int(text) > MAX_RECORD_ID:
        raise ValidationError(_("No record has so large an id."))


class AuditFilterForm(AppForm):
    """The audit search's filters; they hold no personal data of beneficiaries, so they travel in the query string."""

    class Meta:
        csrf = False

    date_from = StringField(_l("From"), widget=DateInput(), validators=[Optional(), _iso_date])
    date_to = StringField(_l("To"), widget=DateInput(), validators=[Optional(), _iso_date])
    actor = StringField(_l("Username"), validators=[Optional(), Length(max=80)], render_kw={"autocomplete": "off"})
    partner = SelectField(_l("Partner"), validate_choice=False)
    action = StringField(_l("Action starts with"), validators=[Optional(), Length(max=64)],
                         render_kw={"autocomplete": "off", "dir": "ltr"})
    object_type = SelectField(_l("Object type"), validate_choice=False)
    object_id = StringField(_l("Object id"), validators=[Optional(), _object_id],
                            render_kw={"inputmode": "numeric", "dir": "ltr"})
    ip = StringField(_l("IP address"), validators=[
        Optional(), Regexp(r"^\s*[0-9A-Fa-f:.]{1,45}\s*$", message=_l("Enter an IP address."))],
        render_kw={"dir": "ltr"})

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.date_from.data and self.date_to.data and _day(self.date_from.data) > _day(self.date_to.data):
            self.date_to.errors = list(self.date_to.errors) + [_("The end date is before the start date.")]
            return False
        return valid

    def filters(self) -> AuditFilters:
        """The validated values as filters."""
        return AuditFilters(
            date_from=_day(self.date_from.data), date_to=_day(self.date_to.data),
            actor=(self.actor.data or "").strip(), partner=self.partner.data or "",
            action=(self.action.data or "").strip(), object_type=self.object_type.data or "",
            object_id=int(self.object_id.data) if (self.object_id.data or "").strip() else None,
            ip=(self.ip.data or "").strip())


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    partners = db.session.scalars(select(Partner).order_by(Partner.code))
    form.partner.choices = choices({partner.code: f"{partner.code} · {partner.name}" for partner in partners},
                                   blank=True)
    types = sorted(OBJECT_TYPE_LABELS, key=lambda code: str(OBJECT_TYPE_LABELS[code]))
    form.object_type.choices = choices({code: f"{OBJECT_TYPE_LABELS[code]} ({code})" for code in types}, blank=True)
    return form


def _filter_args() -> dict[str, str]:
    """The filters of the query string (for page links and the export link)."""
    return {name: request.args[name] for name in FILTER_NAMES if request.args.get(name)}


@bp.route("/audit")
@requires("audit.view")
def search():
    form = _filter_form()
    page = None
    if form.validate():
        page = search_events(current_user, form.filters(), request.args.get("page", 1, type=int),
                             current_app.config["PAGE_SIZE"])
    html = render_template("audit/search.html", form=form, page=page, filter_args=_filter_args(),
                           action_label=action_label, object_type_label=object_type_label, utc_iso=utc_iso)
    db.session.commit()  # the search's audit event; after rendering, so the loaded rows stay loaded
    return html


@bp.route("/audit/export.csv")
@requires("audit.export")
def export():
    limit_exports(current_user)
    form = _filter_form()
    if not form.validate():
        return redirect(url_for("audit.search", **_filter_args()))
    query = start_export(current_user, form.filters())
    db.session.commit()  # the export's audit event, before the first row leaves
    response = Response(stream_with_context(csv_text(export_batches(query))), mimetype="text/csv")
    filename = f"audit-{utcnow():%Y%m%d-%H%M%S}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

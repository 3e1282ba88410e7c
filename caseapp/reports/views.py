"""Report pages for the M&E officer: build a period's anonymised report, review it, publish it, download it.

Every page reads the protected content only (caseapp/reports/content.py: suppressed counts are already null), so
no page or download can show a value disclosure control hid. Publishing rebuilds the figures on the server.
"""
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from threading import Lock

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, ValidationError

from caseapp.access.policy import get_or_404, requires
from caseapp.audit.service import record
from caseapp.extensions import db
from caseapp.i18n import current_locale_name
from caseapp.forms_common import AppForm, CreateForm
from caseapp.reports import exports
from caseapp.reports.content import build_content, publish as publish_report, published_content
from caseapp.reports.disclosure import method_text
from caseapp.reports.labels import indicator_titles, labeller, reference_names
from caseapp.reports.models import PublishedReport
from caseapp.reports.periods import parse_period
from caseapp.security.form_tokens import bind_form_token, claim_form_token
from caseapp.templating import number_text

bp = Blueprint("reports", __name__, url_prefix="/reports")

SHARES = ("referral_acceptance_rate", "referral_answered_within_deadline")  # rates shown as percentages
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# parse_period's own messages are English: the form shows this one, in the user's language.
PERIOD_MESSAGE = _l("Enter a period as YYYY-MM (e.g. 2026-03), YYYY-Qn (e.g. 2026-Q1) or YYYY (e.g. 2026), "
                    "with a year from 2000 to 2999.")


def _valid_period(form, field) -> None:
    try:
        parse_period(field.data or "")
    except ValueError:
        raise ValidationError(str(PERIOD_MESSAGE)) from None


class PeriodForm(AppForm):
    """The period of the report to build."""

    period = StringField(_l("Period"), validators=[DataRequired(PERIOD_MESSAGE), _valid_period],
                         filters=[lambda value: value.strip() if isinstance(value, str) else value])


class PublishForm(CreateForm):
    """Publish the figures of a period (rebuilt on the server); the one-time token makes a double click harmless."""

    period = HiddenField(validators=[DataRequired(PERIOD_MESSAGE), _valid_period])


# --- Pages ------------------------------------------------------------------------------------------------------

@bp.route("/")
@requires("report.view")
def index():
    return _index_page(PeriodForm())


def _index_page(form: PeriodForm):
    reports = db.session.scalars(select(PublishedReport).options(selectinload(PublishedReport.published_by))
                                 .order_by(PublishedReport.published_at.desc(), PublishedReport.id.desc())).all()
    return render_template("reports/index.html", reports=reports, form=form)


@bp.route("/preview", methods=["POST"])
@requires("report.build")
def preview():
    form = PeriodForm()
    if not form.validate_on_submit():
        return _index_page(form)
    content = build_content(form.period.data, current_app.config["REPORT_THRESHOLD"])
    return _report_page(content, report=None, publish_form=PublishForm(formdata=None, period=content["period"]))


@bp.route("/publish", methods=["POST"])
@requires("report.publish")
def publish():
    form = PublishForm()
    if not form.validate_on_submit():
        flash(str(PERIOD_MESSAGE) if form.period.errors else _("The form expired. Please submit it again."), "danger")
        return redirect(url_for("reports.index"))
    try:
        earlier = claim_form_token(form.form_token.data, PublishedReport.__tablename__)
    except LookupError:
        db.session.rollback()
        flash(_("This report is still being published. Open the list of reports in a moment."), "warning")
        return redirect(url_for("reports.index"))
    if earlier:  # the same form posted again: show what the first post published
        return redirect(url_for("reports.show", report_id=earlier))
    report = publish_report(current_user, build_content(form.period.data, current_app.config["REPORT_THRESHOLD"]))
    bind_form_token(form.form_token.data, report)
    db.session.commit()
    flash(_("Report %(period)s published as version %(version)s.", period=report.period, version=report.version),
          "success")
    return redirect(url_for("reports.show", report_id=report.id))


@bp.route("/<int:report_id>")
@requires("report.view")
def show(report_id: int):
    report = get_or_404(PublishedReport, report_id, "report.view")
    return render_template("reports/show.html", period=report.period, report_html=_published_report_html(report))


@bp.route("/<int:report_id>/report.csv")
@requires("report.view")
def download_csv(report_id: int):
    return _download(report_id, "csv")


@bp.route("/<int:report_id>/report-long.csv")
@requires("report.view")
def download_long_csv(report_id: int):
    return _download(report_id, "long_csv")


@bp.route("/<int:report_id>/report.xlsx")
@requires("report.view")
def download_xlsx(report_id: int):
    return _download(report_id, "xlsx")


def _download(report_id: int, output_format: str) -> Response:
    report = get_or_404(PublishedReport, report_id, "report.view")
    content = published_content(report)
    name = f"caseapp-{report.period}-v{report.version}"
    if output_format == "long_csv":
        body, mimetype, filename = exports.long_csv(content), "text/csv", f"{name}-long.csv"
    elif output_format == "csv":
        body = exports.people_csv(content, indicator_titles(), labeller(), method_text(content["threshold"]))
        mimetype, filename = "text/csv", f"{name}.csv"
    elif output_format == "xlsx":
        body = exports.workbook_bytes(content, indicator_titles(), labeller(), method_text(content["threshold"]))
        mimetype, filename = XLSX, f"{name}.xlsx"
    else:
        abort(404)
    record(current_user, "report.export", report, format=output_format)
    db.session.commit()
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- What the report page shows (display only: the figures come from the content as they are) -------------------

def _report_page(content: dict, report: PublishedReport | None, publish_form: PublishForm | None):
    return render_template("reports/show.html", period=content["period"],
                           report_html=_report_html(content, report, publish_form))


# Published reports never change (models.FrozenReport) and hold anonymised figures only, the same for every reader:
# their page body is rendered once per language and kept (~130 KB each, ~80 ms of CPU to render).
_PUBLISHED_PAGES: OrderedDict[tuple, Markup] = OrderedDict()
PUBLISHED_PAGES_KEPT = 24
_published_pages_lock = Lock()


def _published_report_html(report: PublishedReport) -> Markup:
    """The body of a published report's page in the request's language, rendered once and then kept."""
    publisher = report.published_by.full_name if report.published_by else None  # a renamed account shows anew
    names = reference_names()  # so do renamed places, services, flags and organisations (a few small tables)
    named = tuple((dimension, tuple(sorted(values.items()))) for dimension, values in sorted(names.items()))
    key = (report.id, report.version, report.content_sha256, report.published_at, publisher, current_locale_name(),
           request.script_root, named)
    with _published_pages_lock:
        html = _PUBLISHED_PAGES.get(key)
        if html is not None:
            _PUBLISHED_PAGES.move_to_end(key)
            return html
    html = _report_html(published_content(report), report, None, names)
    with _published_pages_lock:
        _PUBLISHED_PAGES[key] = html
        while len(_PUBLISHED_PAGES) > PUBLISHED_PAGES_KEPT:
            _PUBLISHED_PAGES.popitem(last=False)
    return html


def _report_html(content: dict, report: PublishedReport | None, publish_form: PublishForm | None,
                 names: dict | None = None) -> Markup:
    """The figures, charts and method of a report (published, or a preview with its publish form); `names`: the
    reference names to label it with (read here when not given)."""
    label, titles = labeller(names), indicator_titles()
    html = render_template(
        "reports/_report.html", content=content, report=report, publish_form=publish_form,
        count=_count_writer(content["threshold"]),
        tables=[_table_view(table, label, titles) for table in content["tables"]],
        rates=_rates_view(content["rates"], label, titles),
        first_day=date.fromisoformat(content["first_day"]), last_day=date.fromisoformat(content["last_day"]),
        excluded=_excluded_text(content["excluded_rounded"]), method=method_text(content["threshold"]))
    # the output of our own template, every value escaped by Jinja as it rendered
    return Markup(html)  # nosec B704


def _count_writer(threshold: int) -> Callable[[int | None], Markup]:
    """`count(value)` for the page: the number in the interface language, or, when suppressed, a dash with the
    reason for every reader (its text made once per page: a report shows ~900 cells)."""
    suppressed = Markup('<abbr class="suppressed" title="%s"><span aria-hidden="true">—</span>'
                        '<span class="visually-hidden">%s</span></abbr>') % (
        _("Not shown: a count from 1 to %(small)s, or a count hidden so that such a count cannot be worked out.",
          small=threshold - 1), _("not shown"))
    return lambda value: suppressed if value is None else escape(number_text(value))


def _key(**values: str) -> tuple:
    return tuple(sorted(values.items()))


def _key_text(key: tuple) -> str:
    return ";".join(f"{dimension}={value}" for dimension, value in key)


def _cell(cells: dict, **values: str) -> dict:
    key = _key(**values)
    return {"key": _key_text(key), "value": cells[key]}


def _table_view(table: dict, label, titles: dict) -> dict:
    """One table as rows (1 dimension) or a cross-table (2 dimensions) with its totals, and its chart's bars."""
    dims, domains = table["dimensions"], table["domains"]
    cells = {tuple(tuple(pair) for pair in key): value for key, value in table["cells"]}
    view = {"id": "-".join(("table", table["indicator"], *dims)), "indicator": table["indicator"],
            "title": titles.get(table["indicator"], table["indicator"]),
            "dimension_titles": [label("dimension", dimension) for dimension in dims],
            "total": _cell(cells), "rows": [], "columns": [], "bars": []}
    if not dims:
        return view
    row_dim = dims[0]
    if len(dims) == 2:
        column_dim = dims[1]
        view["columns"] = [{"label": label(column_dim, value), **_cell(cells, **{column_dim: value})}
                           for value in domains[column_dim]]
    for row_value in domains[row_dim]:
        row = {"label": label(row_dim, row_value), **_cell(cells, **{row_dim: row_value})}
        if len(dims) == 2:
            row["cells"] = [_cell(cells, **{row_dim: row_value, column_dim: value}) for value in domains[column_dim]]
            view["bars"] += [(f"{row['label']} · {column['label']}", cell["value"])
                             for column, cell in zip(view["columns"], row["cells"]) if cell["value"] != 0]
        else:
            view["bars"].append((row["label"], row["value"]))
        view["rows"].append(row)
    view["bars"] = _bars(view["bars"])
    return view


def _bars(items: list[tuple[str, int | None]]) -> list[dict]:
    """Each bar's width as a 5% step of the largest shown value (a CSS class: no inline style under the CSP)."""
    top = max((value for _label, value in items if value), default=0)
    return [{"label": text, "value": value,
             "step": None if value is None else (max(5, round(value / top * 20) * 5) if value else 0)}
            for text, value in items]


def _rates_view(rates: list[dict], label, titles: dict) -> dict:
    """Rates and medians as one table: a column per indicator, a row for all service areas then one per area."""
    indicators = list(dict.fromkeys(rate["indicator"] for rate in rates))
    keys = list(dict.fromkeys(tuple(tuple(pair) for pair in rate["key"]) for rate in rates))
    values = {(rate["indicator"], tuple(tuple(pair) for pair in rate["key"])): rate["value"] for rate in rates}
    rows = []
    for key in keys:
        row_label = ", ".join(label(dimension, value) for dimension, value in key) or _("All service areas")
        rows.append({"label": row_label, "cells": [
            {"present": (indicator, key) in values, "text": _rate_text(indicator, values.get((indicator, key)))}
            for indicator in indicators]})
    return {"columns": [titles.get(indicator, indicator) for indicator in indicators], "rows": rows}


def _rate_text(indicator: str, value: float | None) -> str | None:
    """A share as a percentage, a median in days with one decimal; None when suppressed."""
    if value is None:
        return None
    if indicator in SHARES:
        return format_percent(value, "#,##0.0%")
    return _("%(days)s days", days=format_decimal(value, "#,##0.0"))


def _excluded_text(rounded: str) -> str:
    """The rounded number of people left out ("0", "<10", "~30"), in words."""
    if rounded == "0":
        return _("No one was left out for lack of consent to statistical use.")
    if rounded.startswith("<"):
        return _("Fewer than %(number)s people were left out for lack of consent to statistical use.",
                 number=format_decimal(int(rounded[1:])))
    if rounded.startswith("~"):
        return _("About %(number)s people were left out for lack of consent to statistical use.",
                 number=format_decimal(int(rounded[1:])))
    return rounded

"""Import pages: upload → column mapping → dry-run report → import → batch list, with rollback (supervisors).

The server never keeps the file on disk: each step that needs the rows receives the file again and parses it in
memory (the upload stream of this blueprint is a BytesIO, not Werkzeug's spooled temporary file). The import step
checks that the file is the one the dry run checked (its SHA-256). The dry run and the import work in the
background (caseapp.imports.jobs, the parsed rows in memory): the job's page shows the progress, reloading itself,
then the per-row report or the imported batch.
"""
import io

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests

from caseapp.access.policy import get_or_404, requires, scope
from caseapp.errors import DomainError, ValidationFailed
from caseapp.extensions import db
from caseapp.forms_common import choices
from caseapp.i18n import current_language
from caseapp.imports import jobs, mappings
from caseapp.imports.models import ImportBatch, ImportJob
from caseapp.imports.fields import FIELD_LABELS, mapping_errors, mapping_from_json, suggest_mapping
from caseapp.imports.forms import FILE_HELP, ImportForm, MappingForm, RollbackForm, UploadForm
from caseapp.imports.reading import ImportFileError, Table, read_table
from caseapp.imports.rollback import rollback_batch, worked_on_people
from caseapp.imports.running import ImportRefused, refuse_reimport
from caseapp.models_base import utcnow
from caseapp.places.models import ServicePoint
from caseapp.security.rate_limit import configured_limiter

bp = Blueprint("imports", __name__, url_prefix="/imports")
RATE_SETTING = "IMPORT_RATE_LIMIT"
SUGGEST = "__suggest__"
MAX_LISTED_ROWS = 50


@bp.url_value_preprocessor
def _uploads_in_memory(_endpoint, _values) -> None:
    """Parse this blueprint's uploads into memory (bounded by MAX_CONTENT_LENGTH), never into a temporary file."""
    request._get_file_stream = lambda *args, **kwargs: io.BytesIO()


def _limit() -> None:
    limiter = configured_limiter(RATE_SETTING)
    key = f"user:{current_user.id}"
    if not limiter.hit(key):
        raise TooManyRequests(retry_after=limiter.retry_after(key))


def _service_points() -> list[ServicePoint]:
    query = scope(current_user, select(ServicePoint).where(ServicePoint.active.is_(True)), ServicePoint)
    return list(db.session.scalars(query.order_by(ServicePoint.name)))


def _service_point_choices(form) -> None:
    form.service_point_id.choices = choices({point.id: point.name for point in _service_points()})


def _chosen_service_point(point_id) -> ServicePoint | None:
    return next((point for point in _service_points() if str(point.id) == str(point_id)), None)


def _read(form) -> Table | None:
    """The posted file as a table, or None with the error next to the file field."""
    try:
        return read_table(form.file.data.read())
    except ImportFileError as problem:
        form.file.errors = [problem.message]
        return None


def _mapping_form(table: Table, mapping: dict[str, str]) -> MappingForm:
    form = MappingForm(formdata=None)
    _service_point_choices(form)
    options = choices({heading: heading for heading in table.headings if heading}, blank=True)
    for select_field in form.field_selects():
        select_field.choices = options
    for name in FIELD_LABELS:
        form[f"map_{name}"].data = mapping.get(name, "")
    return form


def _render_mapping(form: MappingForm, table: Table, errors: list[str] | None = None):
    return render_template("imports/mapping.html", form=form, table=table, errors=errors or [], help=FILE_HELP)


@bp.route("/")
@requires("import.manage")
def index():
    batches = mappings.batches(current_user)
    return render_template("imports/index.html", batches=batches, form=RollbackForm())


@bp.route("/new", methods=["GET", "POST"])
@requires("import.manage")
def upload():
    form = UploadForm()
    _service_point_choices(form)
    saved = mappings.saved_mappings(current_user)
    form.saved_mapping.choices = choices({SUGGEST: _("Suggest from the column headings"),
                                          **{item.name: item.name for item in saved}})
    if form.validate_on_submit():
        _limit()
        table = _read(form)
        if table is not None:
            chosen = mappings.find_mapping(current_user, form.saved_mapping.data) \
                if form.saved_mapping.data != SUGGEST else None
            mapping = {name: heading for name, heading in (chosen or suggest_mapping(table.headings)).items()
                       if heading in table.headings}
            mapping_form = _mapping_form(table, mapping)
            mapping_form.service_point_id.data = form.service_point_id.data
            return _render_mapping(mapping_form, table)
    return render_template("imports/upload.html", form=form, help=FILE_HELP)


@bp.route("/check", methods=["POST"])
@requires("import.manage")
def check():
    form = MappingForm()  # the CSRF token was checked before the view (CSRFProtect)
    _service_point_choices(form)
    if not form.file.data:
        flash(_("Choose the file again to check it."), "danger")
        return redirect(url_for("imports.upload"))
    _limit()
    table = _read(form)
    if table is None:
        flash(form.file.errors[0], "danger")
        return redirect(url_for("imports.upload"))
    options = choices({heading: heading for heading in table.headings if heading}, blank=True)
    for select_field in form.field_selects():
        select_field.choices = options
    mapping = form.mapping()
    service_point = _chosen_service_point(form.service_point_id.data)
    problems = mapping_errors(mapping, table.headings)
    if service_point is None:
        problems.append(_("Choose one of your service points."))
    if problems:
        return _render_mapping(form, table, problems)
    if form.save_as.data and form.save_as.data.strip():
        try:
            mappings.save_mapping(current_user, form.save_as.data, mapping)
        except ValidationFailed as failure:
            db.session.rollback()
            form.save_as.errors = failure.errors["save_as"]
            return _render_mapping(form, table)
    return _start(form, "check", table, mapping, service_point)


def _start(form, kind: str, table: Table, mapping: dict[str, str], service_point: ServicePoint,
           only_valid: bool = False):
    """Add the job, commit it (with a mapping saved on the way), start it, and show its page."""
    started = jobs.create_job(current_user, kind, table, mapping, service_point, form.file.data.filename or "",
                          only_valid)
    db.session.commit()
    jobs.launch(started.id, table, current_language())
    return redirect(url_for("imports.job", job_id=started.id))


@bp.route("/run", methods=["POST"])
@requires("import.manage")
def run():
    form = ImportForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_("Choose the file again to import it."), "danger")
        return redirect(url_for("imports.upload"))
    _limit()
    table = _read(form)
    if table is None:
        flash(form.file.errors[0], "danger")
        return redirect(url_for("imports.upload"))
    if table.sha256 != form.sha256.data:
        flash(_("This is not the file that was checked. Check it before importing it."), "danger")
        return redirect(url_for("imports.upload"))
    service_point = _chosen_service_point(form.service_point_id.data)
    if service_point is None:
        abort(404)
    try:
        refuse_reimport(current_user, table.sha256)
    except ImportRefused as refusal:
        flash(refusal.message, "danger")
        return redirect(url_for("imports.upload"))
    return _start(form, "import", table, mapping_from_json(form.mapping.data), service_point, form.only_valid.data)


def _listed_rows(rows: dict) -> str:
    numbers = sorted(int(number) for number in rows)
    return ", ".join(str(number) for number in numbers[:MAX_LISTED_ROWS])


@bp.route("/jobs/<int:job_id>")
@requires("import.manage")
def job(job_id: int):
    """A job's progress while it works (the page reloads itself), then its outcome."""
    found = get_or_404(ImportJob, job_id, "import.manage")
    result = jobs.outcome(found)
    if found.status == "running":
        return render_template("imports/progress.html", job=found, stalled=found.stalled(utcnow()))
    if found.status == "failed":
        return render_template("imports/failed.html", job=found, message=result.get("message", ""),
                               rows=sorted((int(number), errors) for number, errors in result.get("rows", {}).items()),
                               field_labels=FIELD_LABELS, mapping=mapping_from_json(found.mapping))
    if found.kind == "import":
        message = _("%(count)d people imported, each with an open case.", count=result["imported"])
        if result["skipped"]:
            message += " " + _("%(count)d rows left out: %(rows)s.", count=len(result["skipped"]),
                               rows=_listed_rows(result["skipped"]))
        flash(message, "success")
        return redirect(url_for("imports.show", batch_id=result["batch"]))
    service_point = db.session.get(ServicePoint, found.service_point_id)
    import_form = ImportForm(formdata=None, service_point_id=found.service_point_id, mapping=found.mapping,
                             sha256=found.file_sha256)
    return render_template("imports/report.html", report=jobs.report_from_rows(result["rows"]),
                           mapping=mapping_from_json(found.mapping), service_point=service_point, form=import_form,
                           field_labels=FIELD_LABELS, help=FILE_HELP)


@bp.route("/<int:batch_id>")
@requires("import.manage")
def show(batch_id: int):
    batch = get_or_404(ImportBatch, batch_id, "import.manage")
    worked_on = len(worked_on_people(batch)) if batch.status in ("imported", "importing") else 0
    return render_template("imports/batch.html", batch=batch, worked_on=worked_on, form=RollbackForm(),
                           mapping=mapping_from_json(batch.mapping), field_labels=FIELD_LABELS)


@bp.route("/<int:batch_id>/rollback", methods=["POST"])
@requires("import.manage")
def rollback(batch_id: int):
    batch = get_or_404(ImportBatch, batch_id, "import.manage")
    try:
        deleted = rollback_batch(current_user, batch)
    except DomainError as refusal:
        db.session.rollback()
        flash(refusal.message, "danger")
    else:
        db.session.commit()
        flash(_("Import rolled back: %(count)d people and their cases deleted.", count=deleted), "success")
    return redirect(url_for("imports.show", batch_id=batch_id))

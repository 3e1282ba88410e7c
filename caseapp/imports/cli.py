"""`flask caseapp import FILE --mapping NAME --service-point CODE --as USERNAME [--dry-run] [--only-valid]`."""
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from caseapp.access.policy import can, has_permission
from caseapp.auth.models import User
from caseapp.errors import DomainError
from caseapp.extensions import db
from caseapp.i18n import DEFAULT_LANGUAGE, LANGUAGES
from caseapp.imports.checking import check_rows
from caseapp.imports.fields import FIELD_LABELS, mapping_errors
from caseapp.imports.mappings import find_mapping
from caseapp.imports.reading import ImportFileError, read_table
from caseapp.imports.running import ImportRefused, run_import
from caseapp.places.models import ServicePoint


def _errors_text(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{FIELD_LABELS[name]}: {' '.join(messages)}" if name in FIELD_LABELS else " ".join(messages)
                     for name, messages in errors.items())


def _rows_with_progress(count: int, label: str):
    """A click progress bar over `count` rows (shown on a terminal only)."""
    return click.progressbar(length=count, label=label, file=sys.stderr)


@click.command("import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_name", required=True, help="Name of a mapping saved by the user's organisation.")
@click.option("--service-point", "service_point_code", required=True, help="Code of the service point of the rows.")
@click.option("--as", "username", required=True, help="The supervisor the import is made by (and audited as).")
@click.option("--dry-run", is_flag=True, help="Check every row and report; save nothing.")
@click.option("--only-valid", is_flag=True, help="Import the valid rows even when other rows have errors.")
def import_command(file: Path, mapping_name: str, service_point_code: str, username: str, dry_run: bool,
                   only_valid: bool):
    """Import the people of a spreadsheet (XLSX or CSV) exactly as the import pages do."""
    actor = db.session.scalar(select(User).where(User.username == username))
    if actor is None or not actor.active:
        raise click.ClickException(f"{username}: no such active account.")
    language = actor.preferred_language if actor.preferred_language in LANGUAGES else DEFAULT_LANGUAGE
    with force_locale(language):
        _import(actor, file, mapping_name, service_point_code, dry_run, only_valid)


def _import(actor, file: Path, mapping_name: str, service_point_code: str, dry_run: bool, only_valid: bool):
    if not has_permission(actor, "import.manage"):
        raise click.ClickException(f"{actor.username} may not import (supervisors only).")
    mapping = find_mapping(actor, mapping_name)
    if mapping is None:
        raise click.ClickException(f"No mapping named {mapping_name!r} in {actor.username}'s organisation.")
    point = db.session.scalar(select(ServicePoint).where(ServicePoint.code == service_point_code))
    if point is None or not can(actor, "beneficiary.register", point):
        raise click.ClickException(f"{service_point_code}: not one of {actor.username}'s service points.")
    data = file.read_bytes()
    try:
        table = read_table(data)
    except ImportFileError as problem:
        raise click.ClickException(problem.message) from None
    problems = mapping_errors(mapping, table.headings)
    if problems:
        raise click.ClickException(" ".join(problems))
    try:
        if dry_run:
            with _rows_with_progress(len(table.rows), "checking") as bar:
                report = check_rows(actor, table, mapping, point, progress=bar.update)
            for row in report.rows:
                if not row.ok:
                    click.echo(f"row {row.number}: {_errors_text(row.errors)}")
                elif row.in_scope or row.outside_scope or row.same_as_row:
                    same = f", same person as row {row.same_as_row}" if row.same_as_row else ""
                    click.echo(f"row {row.number}: likely duplicates: {row.in_scope} in scope, "
                               f"{row.outside_scope} elsewhere{same}")
            db.session.commit()  # the dry run's audit event only
            click.echo(f"dry run: {len(report.rows)} rows, {report.valid_count} valid, "
                       f"{len(report.error_rows)} with errors, {report.duplicate_count} likely duplicates; "
                       "nothing saved.")
            return
        with _rows_with_progress(len(table.rows), "importing") as bar:
            result = run_import(actor, table, mapping, point, file.name, only_valid=only_valid, progress=bar.update)
    except ImportRefused as refusal:
        db.session.rollback()
        for number, errors in sorted(refusal.row_errors.items()):
            click.echo(f"row {number}: {_errors_text(errors)}")
        raise click.ClickException(refusal.message) from None
    except DomainError as refusal:
        db.session.rollback()
        raise click.ClickException(refusal.message or "refused") from None
    db.session.commit()
    for number, errors in result.skipped.items():
        click.echo(f"row {number} left out: {_errors_text(errors)}")
    click.echo(f"import no. {result.batch.id}: {result.batch.imported_count} people imported, "
               f"{len(result.skipped)} rows left out.")

"""Importing a checked file as one ImportBatch: each row registered like a typed registration, in its own savepoint.

Each row goes through `register_beneficiary` (validation, person, documents, consents, blocking keys, encryption,
audit, first case) inside a SAVEPOINT: a row that fails leaves nothing of itself behind. With any invalid row
nothing is imported (ImportRefused; the caller rolls back the rows saved before it, and the rows after it are
only validated, to report their errors), unless the user chose to import only the valid rows. The same file
(same SHA-256) cannot be imported twice by one organisation while its batch stands.
Flushes only: the command line commits once; the background job (caseapp.imports.jobs) checks every row first,
then commits every few rows so that its progress shows.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

from caseapp.audit.service import record
from caseapp.beneficiaries.models import Beneficiary
from caseapp.beneficiaries.services import register_beneficiary, validate_registration
from caseapp.errors import DomainError, ValidationFailed
from caseapp.extensions import db
from caseapp.imports.checking import ensure_may_import
from caseapp.imports.convert import build_lookups, row_to_registration
from caseapp.imports.fields import mapping_errors, mapping_to_json
from caseapp.imports.models import ImportBatch
from caseapp.imports.reading import Table
from caseapp.partners.models import Partner
from caseapp.places.models import ServicePoint

MAX_FILENAME = ImportBatch.__table__.c.filename.type.length


class ImportRefused(DomainError):
    """Nothing was imported; `row_errors` maps row numbers to field → messages when rows were invalid."""

    def __init__(self, message: str, row_errors: dict[int, dict[str, list[str]]] | None = None):
        super().__init__(message)
        self.row_errors = row_errors or {}


@dataclass
class ImportResult:
    """The batch created, and the rows left out (row number → field → messages) when only valid rows were wanted."""

    batch: ImportBatch
    skipped: dict[int, dict[str, list[str]]] = field(default_factory=dict)


def _earlier_batch(partner_id: int, sha256: str) -> ImportBatch | None:
    return db.session.scalar(select(ImportBatch).where(
        ImportBatch.partner_id == partner_id, ImportBatch.file_sha256 == sha256,
        ImportBatch.status.in_(("importing", "imported"))).limit(1))


def refuse_reimport(actor, sha256: str) -> None:
    """Raise ImportRefused when the actor's organisation imported (or is importing) this very file."""
    earlier = _earlier_batch(actor.partner_id, sha256)
    if earlier is not None:
        raise ImportRefused(_("This file was already imported (import no. %(number)d). Roll that import back first "
                              "to import it again.", number=earlier.id))


def rows_in_error(errors: dict[int, dict[str, list[str]]]) -> ImportRefused:
    """The refusal of a whole file because some rows have errors."""
    return ImportRefused(_("%(count)d rows have errors: nothing was imported. Correct them, or choose to import "
                           "only the valid rows.", count=len(errors)), errors)


def nothing_importable(errors: dict[int, dict[str, list[str]]]) -> ImportRefused:
    """The refusal of a file none of whose rows can be imported."""
    return ImportRefused(_("No row of the file can be imported."), errors)


def _clean_filename(filename: str) -> str:
    name = "".join(char for char in (filename or "").replace("\\", "/").rsplit("/", 1)[-1] if char.isprintable())
    return (name.strip() or "upload")[:MAX_FILENAME]


def open_batch(actor, table: Table, mapping: dict[str, str], service_point: ServicePoint,
               filename: str) -> ImportBatch:
    """Check that the file may be imported there, and add its batch (status "importing" until `import_rows` ends)."""
    ensure_may_import(actor, service_point)
    problems = mapping_errors(mapping, table.headings)
    if problems:
        raise ImportRefused(" ".join(problems))
    # Two imports of one file at once: the partner's row is locked until commit, so the second sees the first batch.
    db.session.execute(select(Partner.id).where(Partner.id == actor.partner_id).with_for_update())
    refuse_reimport(actor, table.sha256)
    batch = ImportBatch(created_by_id=actor.id, partner_id=actor.partner_id, service_point_id=service_point.id,
                        filename=_clean_filename(filename), file_sha256=table.sha256,
                        mapping=mapping_to_json(mapping), status="importing", row_count=len(table.rows))
    db.session.add(batch)
    db.session.flush()
    return batch


def run_import(actor, table: Table, mapping: dict[str, str], service_point: ServicePoint, filename: str,
               only_valid: bool = False, today: date | None = None,
               progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import the rows of `table` at `service_point` as one batch; raise ImportRefused with nothing imported."""
    batch = open_batch(actor, table, mapping, service_point, filename)
    return import_rows(actor, batch, table, mapping, service_point, only_valid, today, progress)


def import_rows(actor, batch: ImportBatch, table: Table, mapping: dict[str, str], service_point: ServicePoint,
                only_valid: bool = False, today: date | None = None,
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Register the rows of `table` into `batch`, each in its own savepoint; ImportRefused when the caller must
    roll back (a row in error without `only_valid`, or no row importable).

    `progress(1)` is called before each row, outside any savepoint: a caller may commit there (the background job
    does, so its progress shows and the database's write lock is released now and then).
    """
    today = today or date.today()
    lookups = build_lookups()
    skipped: dict[int, dict[str, list[str]]] = {}
    imported = 0
    for number, row in table.rows:
        if progress:
            progress(1)
        data, unparsed = row_to_registration(row, mapping, service_point.id, lookups)
        if skipped and not only_valid:  # the import is refused already: only collect the other rows' errors
            try:
                validate_registration(actor, data, today, unparsed)
            except ValidationFailed as failure:
                skipped[number] = failure.errors
            continue
        try:
            with db.session.begin_nested():  # one SAVEPOINT per row: a failing row leaves nothing behind
                person, _case = register_beneficiary(actor, data, today, unparsed=unparsed)
                # A plain UPDATE: linking to the batch is part of the import, not an edit (the version stays 1).
                db.session.execute(update(Beneficiary).where(Beneficiary.id == person.id)
                                   .values(import_batch_id=batch.id).execution_options(synchronize_session=False))
                set_committed_value(person, "import_batch_id", batch.id)
        except ValidationFailed as failure:
            skipped[number] = failure.errors
        except (DomainError, SQLAlchemyError):
            if not only_valid:  # stop at once: the caller rolls everything back
                raise ImportRefused(_("Row %(row)d could not be saved: nothing was imported.", row=number),
                                    {number: {"": [_("This row could not be saved.")]}}) from None
            skipped[number] = {"": [_("This row could not be saved.")]}
        else:
            imported += 1
    if skipped and not only_valid:  # the caller rolls back the rows saved before
        raise rows_in_error(skipped)
    if not imported:
        raise nothing_importable(skipped)
    batch.imported_count = imported
    batch.status = "imported"
    record(actor, "import.run", batch, rows=len(table.rows), imported=imported, skipped=len(skipped),
           service_point_id=service_point.id, only_valid=only_valid)
    return ImportResult(batch, dict(sorted(skipped.items())))

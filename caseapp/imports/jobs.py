"""Dry runs and imports in a background thread, with their progress in the database for any app server to show.

The web request parses the file, adds an ImportJob and commits it, then `launch` hands the parsed rows (kept in
memory only, never on disk) to a thread of the same process; the page polls the job. The thread works in its own
application context and session, in the language of the user who started it, and commits:
  * a dry run: its progress every few rows (nothing else is written but the final audit event);
  * an import: first every row is checked without writing anything (an error with "all rows or none" ends the job
    there, with nothing imported); then the batch is opened and the rows imported, each in its own savepoint, with a
    commit every few rows so the progress shows and the database's write lock is not held for the whole file. If
    the import fails half-way, the job undoes the rows already committed by rolling the batch back as a whole.
A job whose process ended (an app server restarted) stops moving: after ImportJob.STALLED_AFTER the page says so,
and its half-imported batch can be rolled back from the batch page.
"""
import json
import logging
import threading
import time
from dataclasses import asdict
from datetime import date

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, update

from caseapp.auth.models import User
from caseapp.errors import DomainError
from caseapp.extensions import db
from caseapp.imports.checking import CheckReport, RowReport, check_rows, ensure_may_import, validated_rows
from caseapp.imports.fields import mapping_from_json, mapping_to_json
from caseapp.imports.models import ImportBatch, ImportJob
from caseapp.imports.reading import Table
from caseapp.imports.rollback import undo_batch
from caseapp.imports.running import ImportRefused, import_rows, nothing_importable, open_batch, rows_in_error
from caseapp.models_base import utcnow
from caseapp.places.models import ServicePoint

log = logging.getLogger(__name__)
PROGRESS_EVERY_ROWS = 100
PROGRESS_EVERY_SECONDS = 2.0
_threads: dict[int, threading.Thread] = {}
_threads_lock = threading.Lock()


def create_job(actor, kind: str, table: Table, mapping: dict[str, str], service_point: ServicePoint,
               filename: str, only_valid: bool = False) -> ImportJob:
    """Add a running job for `table` (the caller commits, then calls `launch`); forget the actor's finished jobs."""
    ensure_may_import(actor, service_point)
    db.session.execute(delete(ImportJob).where(ImportJob.created_by_id == actor.id,
                                               ImportJob.status.in_(("done", "failed"))))
    rows = len(table.rows)
    job = ImportJob(kind=kind, status="running", created_by_id=actor.id, partner_id=actor.partner_id,
                    service_point_id=service_point.id, filename=(filename or "")[:200], file_sha256=table.sha256,
                    mapping=mapping_to_json(mapping), only_valid=only_valid,
                    rows_total=rows if kind == "check" else 2 * rows, rows_done=0)
    db.session.add(job)
    db.session.flush()
    return job


def launch(job_id: int, table: Table, language: str) -> None:
    """Start the committed job `job_id` on `table` in a thread of this process."""
    app = current_app._get_current_object()
    thread = threading.Thread(target=_work, args=(app, job_id, table, language), name=f"import-job-{job_id}")
    with _threads_lock:
        _threads[job_id] = thread
    thread.start()


def wait(timeout: float = 120.0) -> None:
    """Block until every job started by this process has ended (tests, and a clean shutdown)."""
    with _threads_lock:
        threads = list(_threads.values())
    for thread in threads:
        thread.join(timeout)


class _Progress:
    """Counts rows as they are done; now and then stores the count in the job and commits what is pending."""

    def __init__(self, job_id: int, done: int = 0):
        self.job_id = job_id
        self.done = done
        self.stored_at = time.monotonic()
        self.unstored = 0

    def __call__(self, rows: int) -> None:
        self.done += rows
        self.unstored += rows
        if self.unstored >= PROGRESS_EVERY_ROWS or time.monotonic() - self.stored_at >= PROGRESS_EVERY_SECONDS:
            self.store()

    def store(self, **values) -> None:
        db.session.execute(update(ImportJob).where(ImportJob.id == self.job_id)
                           .values(rows_done=self.done, updated_at=utcnow(), **values))
        db.session.commit()
        self.stored_at, self.unstored = time.monotonic(), 0


def report_rows(report: CheckReport) -> list[dict]:
    """The dry run's per-row report as JSON-ready rows (stored sealed in the job)."""
    return [asdict(row) for row in report.rows]


def report_from_rows(rows: list[dict]) -> CheckReport:
    """The CheckReport stored by `report_rows`."""
    return CheckReport([RowReport(**{**row, "duplicates": [tuple(pair) for pair in row["duplicates"]]})
                        for row in rows])


def outcome(job: ImportJob) -> dict:
    """What the finished job stored: {"rows": [...]} for a dry run; {"batch", "imported", "skipped"} for an
    import; {"message", "rows"} when it failed (row numbers as strings)."""
    return json.loads(job.result) if job.result else {}


def _finish(job_id: int, status: str, result: dict, progress: _Progress) -> None:
    job = db.session.get(ImportJob, job_id)
    job.result = json.dumps(result, ensure_ascii=False)
    job.status, job.rows_done, job.updated_at = status, progress.done, utcnow()
    db.session.commit()


def _check(job: ImportJob, actor, table: Table, point: ServicePoint, progress: _Progress) -> None:
    report = check_rows(actor, table, mapping_from_json(job.mapping), point, progress=progress)
    _finish(job.id, "done", {"rows": report_rows(report)}, progress)


def _row_errors(actor, table: Table, mapping: dict[str, str], point: ServicePoint, progress) -> dict:
    return {number: errors for number, _data, errors in validated_rows(actor, table, mapping, point, date.today(),
                                                                       progress) if errors}


def _import(job: ImportJob, actor, table: Table, point: ServicePoint, progress: _Progress) -> None:
    job_id, mapping, only_valid = job.id, mapping_from_json(job.mapping), job.only_valid
    errors = _row_errors(actor, table, mapping, point, progress)
    if errors and not only_valid:
        raise rows_in_error(errors)
    if len(errors) == len(table.rows):
        raise nothing_importable(errors)
    batch = open_batch(actor, table, mapping, point, job.filename)
    progress.store(batch_id=batch.id)
    try:
        result = import_rows(actor, batch, table, mapping, point, only_valid, progress=progress)
        _finish(job_id, "done", {"batch": batch.id, "imported": result.batch.imported_count,
                                 "skipped": result.skipped}, progress)
    except Exception:
        db.session.rollback()
        _undo(job_id, batch.id, actor)
        raise


def _undo(job_id: int, batch_id: int, actor) -> None:
    """Roll back the rows an import committed before it failed (the job is marked failed first, so it may; the
    import was allowed when it started); ImportRefused naming the batch when someone already worked on them."""
    db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(status="failed", updated_at=utcnow()))
    db.session.commit()
    try:
        undo_batch(actor, db.session.get(ImportBatch, batch_id))
        db.session.commit()
    except DomainError:
        db.session.rollback()
        log.warning("import job %s: batch %s could not be rolled back after a failure", job_id, batch_id)
        raise ImportRefused(_("The import stopped half-way, and the people it had saved could not be removed: "
                              "someone has worked on them since. See import no. %(number)d.",
                              number=batch_id)) from None


def _work(app: Flask, job_id: int, table: Table, language: str) -> None:
    with app.app_context(), force_locale(language):
        progress = _Progress(job_id)
        try:
            job = db.session.get(ImportJob, job_id)
            actor, point = db.session.get(User, job.created_by_id), db.session.get(ServicePoint, job.service_point_id)
            (_check if job.kind == "check" else _import)(job, actor, table, point, progress)
        except ImportRefused as refusal:
            db.session.rollback()
            _finish(job_id, "failed", {"message": refusal.message, "rows": refusal.row_errors}, progress)
        except Exception:  # noqa: BLE001 — whatever went wrong, the job must say it ended
            log.exception("import job %s failed", job_id)
            db.session.rollback()
            _finish(job_id, "failed", {"message": _("The work stopped on an unexpected error: nothing more was "
                                                    "saved. Try again, or ask the administrator.")}, progress)
        finally:
            db.session.remove()
            with _threads_lock:
                _threads.pop(job_id, None)

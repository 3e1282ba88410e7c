"""Import jobs in the background: progress shown while they work, their outcome after, undone when they fail."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from caseapp.beneficiaries.models import Beneficiary
from caseapp.extensions import db
from caseapp.imports import jobs, running
from caseapp.imports.models import ImportBatch, ImportJob
from caseapp.models_base import utcnow
from tests.conftest import csrf_token
from tests.http.test_import_pages import ENGLISH, _check, _import_form, _run
from tests.unit.test_import_services import BAD_SEX, xlsx_bytes

GIVEN = ["Fatima", "Amadou", "Khadija", "Youssef", "Mariam", "Ibrahima", "Salma", "Omar"]
FAMILY = ["Benali", "Diallo", "Tazi", "Camara", "Idrissi", "Keita"]


def many_rows(count: int) -> list[list]:
    """`count` valid rows of different people (different names and birth dates)."""
    return [[GIVEN[index % len(GIVEN)], f"{FAMILY[index % len(FAMILY)]}-{chr(65 + index // 26)}{chr(65 + index % 26)}",
             "F" if index % 2 else "M", f"19{60 + index % 40}-{1 + index % 12:02d}-{1 + index % 28:02d}", "MAR",
             "returnee", "LBY", "OUJ", "", "", "", "signed_form", "oui"] for index in range(count)]


@pytest.fixture
def small_steps(monkeypatch):
    """Progress stored every 5 rows (and the stores recorded), so a small file shows several steps."""
    monkeypatch.setattr(jobs, "PROGRESS_EVERY_ROWS", 5)
    stored = []
    original = jobs._Progress.store

    def recording_store(self, **values):
        stored.append(self.done)
        original(self, **values)

    monkeypatch.setattr(jobs._Progress, "store", recording_store)
    return stored


def _count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def _job(app, world, key="supervisor_a", **values) -> int:
    with app.app_context():
        job = ImportJob(kind="import", created_by_id=world.users[key], partner_id=world.partners["A"],
                        service_point_id=world.service_points["A-OUJ"], filename="registre.xlsx", file_sha256="0" * 64,
                        **values)
        db.session.add(job)
        db.session.commit()
        return job.id


def test_a_working_job_shows_its_progress_and_reloads_itself(app, world, login_as):
    job_id = _job(app, world, status="running", rows_total=2000, rows_done=1300)
    page = login_as("supervisor_a").get(f"/imports/jobs/{job_id}", headers=ENGLISH).get_data(as_text=True)
    assert "Rows imported: 300 of 1000." in page  # checked all 1000 rows, imported 300 of them
    assert '<progress class="w-100" max="2000" value="1300"' in page
    assert '<meta http-equiv="refresh" content="2">' in page


def test_a_job_whose_server_stopped_says_so_and_stops_reloading(app, world, login_as):
    job_id = _job(app, world, status="running", rows_total=20, rows_done=12,
                  updated_at=utcnow() - ImportJob.STALLED_AFTER - timedelta(seconds=1))
    page = login_as("supervisor_a").get(f"/imports/jobs/{job_id}", headers=ENGLISH).get_data(as_text=True)
    assert "This work stopped before its end" in page and "Nothing was imported." in page
    assert 'http-equiv="refresh"' not in page


@pytest.mark.parametrize("key", ["supervisor_b", "caseworker_a"])
def test_a_job_is_seen_by_its_creator_only(app, world, login_as, key):
    job_id = _job(app, world, status="running", rows_total=10)
    assert login_as(key).get(f"/imports/jobs/{job_id}").status_code in (403, 404)


def test_another_supervisor_of_the_same_organisation_does_not_see_the_report(app, world, login_as):
    """The report lists people of its creator's scope: a colleague with another scope must not read it."""
    from caseapp.auth.services import create_user
    from caseapp.auth.models import User
    from caseapp.places.models import ServicePoint

    with app.app_context():
        colleague = create_user(None, username="supervisor.nad", full_name="Supervisor Nad", password="x" * 16,
                                role="supervisor", partner=db.session.get(User, world.users["supervisor_a"]).partner,
                                service_points=[db.session.get(ServicePoint, world.service_points["A-NAD"])])
        db.session.commit()
        colleague_id = colleague.id
    job_id = _job(app, world, status="done", rows_total=10, rows_done=10)
    with app.app_context():
        from caseapp.access.policy import can

        job = db.session.get(ImportJob, job_id)
        assert not can(db.session.get(User, colleague_id), "import.manage", job)
        assert can(db.session.get(User, world.users["supervisor_a"]), "import.manage", job)


def test_a_large_import_stores_its_progress_as_it_goes(app, world, login_as, small_steps):
    client = login_as("supervisor_a")
    data = xlsx_bytes(many_rows(40))
    report = _check(client, data, world)
    assert report.status_code == 200 and "registre.xlsx" not in report.headers.get("Location", "")
    assert small_steps[-1] == 40 and len(small_steps) >= 8  # the dry run: every 5 rows
    small_steps.clear()
    imported = _run(client, data, _import_form(report.get_data(as_text=True)), only_valid=False)
    assert imported.status_code == 302 and "/imports/" in imported.headers["Location"]
    assert small_steps == sorted(small_steps) and len(small_steps) >= 16  # checked, then imported, 5 rows a step
    assert small_steps[-1] == 80
    assert _count(app, Beneficiary) == 40
    with app.app_context():
        job = db.session.scalars(select(ImportJob)).one()
        batch = db.session.scalars(select(ImportBatch)).one()
        assert (job.status, job.rows_done, job.rows_total, job.batch_id) == ("done", 80, 80, batch.id)
        assert (batch.status, batch.imported_count) == ("imported", 40)


def test_an_import_failing_half_way_undoes_the_rows_it_had_committed(app, world, login_as, small_steps,
                                                                    monkeypatch):
    client = login_as("supervisor_a")
    data = xlsx_bytes(many_rows(30))
    form = _import_form(_check(client, data, world).get_data(as_text=True))
    real_register = running.register_beneficiary
    calls = []

    def failing_register(*args, **kwargs):
        calls.append(1)
        if len(calls) == 23:  # rows 2-21 are committed by then (a commit every 5 rows)
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return real_register(*args, **kwargs)

    monkeypatch.setattr(running, "register_beneficiary", failing_register)
    page = _run(client, data, form, only_valid=False)
    assert page.status_code == 200
    assert re.findall(r'<tr id="row-(\d+)">', page.get_data(as_text=True)) == ["24"]  # the 23rd row failed
    assert _count(app, Beneficiary) == 0  # the 20 committed rows were rolled back with their batch
    with app.app_context():
        batch = db.session.scalars(select(ImportBatch)).one()
        assert batch.status == "rolled_back"
        assert db.session.scalars(select(ImportJob.status)).one() == "failed"


def test_the_job_speaks_the_language_of_the_user_who_started_it(app, world, login_as):
    client = login_as("supervisor_a")
    data = xlsx_bytes([BAD_SEX])
    english = _check(client, data, world, headers=ENGLISH).get_data(as_text=True)
    assert "Choose the sex." in english and "Choisissez" not in english
    french = _check(client, xlsx_bytes([BAD_SEX, *many_rows(1)]), world).get_data(as_text=True)
    assert "Choisissez le sexe." in french


def test_a_batch_is_not_rolled_back_while_its_job_works_but_is_once_the_job_stopped(app, world, login_as):
    client = login_as("supervisor_a")
    with app.app_context():
        batch = ImportBatch(created_by_id=world.users["supervisor_a"], partner_id=world.partners["A"],
                            service_point_id=world.service_points["A-OUJ"], filename="x.xlsx", file_sha256="1" * 64,
                            status="importing", row_count=10)
        db.session.add(batch)
        db.session.commit()
        batch_id = batch.id
    job_id = _job(app, world, status="running", rows_total=20, rows_done=14, batch_id=batch_id)
    token = csrf_token(client, "/imports/")
    client.post(f"/imports/{batch_id}/rollback", data={"csrf_token": token})
    assert _count(app, ImportBatch, ImportBatch.status == "importing") == 1
    with app.app_context():
        db.session.get(ImportJob, job_id).updated_at = utcnow() - ImportJob.STALLED_AFTER - timedelta(seconds=1)
        db.session.commit()
    shown = client.post(f"/imports/{batch_id}/rollback", data={"csrf_token": token}, follow_redirects=True,
                        headers=ENGLISH).get_data(as_text=True)
    assert re.search(r"Import rolled back: 0 people", shown)
    assert _count(app, ImportBatch, ImportBatch.status == "rolled_back") == 1

"""Import pages: upload → mapping → dry-run report → import → batch page and rollback; refusals and limits."""
import io
import re

import pytest
from sqlalchemy import func, select

from caseapp.audit.models import AuditEvent
from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases.models import Case
from caseapp.extensions import db
from caseapp.imports import jobs
from caseapp.imports.fields import FIELD_LABELS
from caseapp.imports.models import ImportBatch
from tests.conftest import csrf_token
from tests.unit.test_import_services import GOOD_ROWS, PNG, sample_xlsx, xlsx_bytes

ENGLISH = {"Accept-Language": "en"}
SUGGESTED = {"given_name": "Prénom", "family_name": "Nom", "sex": "Sexe", "date_of_birth": "Date de naissance",
             "nationality": "Nationalité", "profile": "Profil", "country_returned_from": "Pays de retour",
             "commune_code": "Commune", "phone": "Téléphone", "document_type": "Type de document",
             "document_number": "Numéro de document", "processing_basis": "Consentement",
             "statistics_consent": "Statistiques"}


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _post(client, url: str, data: dict, headers=None):
    """A multipart POST built in memory (the test client spools a large body to a temporary file it never closes)."""
    boundary = "caseapp-test-boundary"
    parts = []
    for name, value in data.items():
        if isinstance(value, tuple):
            stream, filename = value
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                         "Content-Type: application/octet-stream\r\n\r\n".encode() + stream.getvalue() + b"\r\n")
        else:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                         .encode())
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", headers=headers)


def _upload(client, data: bytes, world, name="registre.xlsx", headers=None):
    token = csrf_token(client, "/imports/new")
    return _post(client, "/imports/new", headers=headers, data={
        "csrf_token": token, "file": (io.BytesIO(data), name), "service_point_id": world.service_points["A-OUJ"],
        "saved_mapping": "__suggest__"})


def _outcome(client, response, headers=None):
    """A response that starts a background job is followed to the job's page once the job has ended."""
    if response.status_code == 302 and "/imports/jobs/" in response.headers["Location"]:
        jobs.wait()
        return client.get(response.headers["Location"], headers=headers)
    return response


def _check(client, data: bytes, world, mapping=None, headers=None, **extra):
    token = csrf_token(client, "/imports/new")
    fields = {f"map_{name}": heading for name, heading in (mapping or SUGGESTED).items()}
    return _outcome(client, _post(client, "/imports/check", headers=headers, data={
        "csrf_token": token, "file": (io.BytesIO(data), "registre.xlsx"),
        "service_point_id": world.service_points["A-OUJ"], **fields, **extra}), headers)


def _import_form(page: str) -> dict:
    values = {name: re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page) for name in
              ("service_point_id", "mapping", "sha256")}
    return {name: match.group(1).replace("&#34;", '"') for name, match in values.items()}


def _run(client, data: bytes, form: dict, only_valid: bool):
    token = csrf_token(client, "/imports/new")
    posted = {"csrf_token": token, "file": (io.BytesIO(data), "registre.xlsx"), **form}
    if only_valid:
        posted["only_valid"] = "y"
    return _outcome(client, _post(client, "/imports/run", data=posted))


def test_the_whole_journey_dry_run_then_import_of_the_valid_rows_then_rollback(app, world, login_as):
    client = login_as("supervisor_a")
    assert client.get("/imports/").status_code == 200
    data = sample_xlsx()
    mapping_page = _upload(client, data, world)
    assert mapping_page.status_code == 200
    html = mapping_page.get_data(as_text=True)
    assert '<option selected value="Prénom">Prénom</option>' in html  # suggested from the French headings
    assert 'enctype="multipart/form-data"' in html and 'name="csrf_token"' in html

    report = _check(client, data, world)
    assert report.status_code == 200
    page = report.get_data(as_text=True)
    assert re.findall(r'<tr id="row-(\d+)">', page) == ["5", "7", "8"]  # exactly the bad rows
    assert "Choisissez le sexe." in page and "Ce champ est obligatoire." in page  # the user's language (French)
    assert _count(app, Beneficiary) == _count(app, ImportBatch) == 0  # the dry run saved nothing
    form = _import_form(page)

    refused = _run(client, data, form, only_valid=False)  # all rows or none: the job ends without importing
    assert refused.status_code == 200
    assert re.findall(r'<tr id="row-(\d+)">', refused.get_data(as_text=True)) == ["5", "7", "8"]
    assert _count(app, Beneficiary) == _count(app, ImportBatch) == 0

    imported = _run(client, data, form, only_valid=True)
    assert imported.status_code == 302
    batch_url = imported.headers["Location"]
    assert _count(app, Beneficiary) == _count(app, Case) == 4
    shown = client.get(batch_url, headers=ENGLISH).get_data(as_text=True)
    assert "registre.xlsx" in shown and "Roll back this import" in shown
    with app.app_context():
        batch = db.session.scalars(select(ImportBatch)).one()
        assert (batch.row_count, batch.imported_count) == (7, 4)
        assert set(db.session.scalars(select(Beneficiary.import_batch_id))) == {batch.id}
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "import.run")) == 1

    again = _run(client, data, form, only_valid=True)  # a second post of the same form imports nothing more
    assert again.status_code == 302 and _count(app, Beneficiary) == 4

    token = csrf_token(client, "/imports/")
    rolled_back = client.post(f"{batch_url}/rollback", data={"csrf_token": token})
    assert rolled_back.status_code == 302
    assert _count(app, Beneficiary) == _count(app, Case) == 0
    assert "Rolled back" in client.get("/imports/", headers=ENGLISH).get_data(as_text=True)


def test_a_saved_mapping_is_offered_and_reused(app, world, login_as):
    client = login_as("supervisor_a")
    data = sample_xlsx()
    _check(client, data, world, save_as="Registre Oujda")
    upload_page = client.get("/imports/new").get_data(as_text=True)
    assert '<option value="Registre Oujda">Registre Oujda</option>' in upload_page
    token = csrf_token(client, "/imports/new")
    renamed = xlsx_bytes(GOOD_ROWS)
    page = client.post("/imports/new", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(renamed), "x.xlsx"), "service_point_id":
        world.service_points["A-OUJ"], "saved_mapping": "Registre Oujda"}).get_data(as_text=True)
    assert '<option selected value="Numéro de document">' in page


def test_the_import_refuses_a_file_other_than_the_one_checked(app, world, login_as):
    client = login_as("supervisor_a")
    page = _check(client, xlsx_bytes(GOOD_ROWS), world).get_data(as_text=True)
    other = xlsx_bytes(GOOD_ROWS[:2])
    response = _run(client, other, _import_form(page), only_valid=False)
    assert response.status_code == 302 and _count(app, Beneficiary) == 0


HTML_AS_XLSX = b"<!DOCTYPE html><html><body><table><tr><td>Nom</td></tr></table></body></html>"
FIFTY_THOUSAND = ("Prénom;Nom;Sexe\n" + "Fatima;Benali;F\n" * 50_000).encode()


@pytest.mark.parametrize("data, message", [
    (PNG, "This is an image, not a spreadsheet"),
    (HTML_AS_XLSX, "web page or markup"),
    (b"", "The file is empty."),
    (b"\n\n", "The file is empty."),
    (FIFTY_THOUSAND, "more than 5000 rows: split the file"),
    (xlsx_bytes([["=1+1", "Benali"]], ["Prénom", "Nom"]), "Cell A2 holds a formula"),
    (xlsx_bytes([["A" * 1001, "Benali"]], ["Prénom", "Nom"]), "more than 1000 characters"),
    ("Prénom;Nom\nFatima;Benali\n".encode("cp1252"), "CSV UTF-8"),
])
def test_malformed_files_get_a_clear_error_and_nothing_is_imported(app, world, login_as, data, message):
    client = login_as("supervisor_a")
    response = _upload(client, data, world, headers=ENGLISH)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page.replace("&#34;", '"')
    assert 'class="invalid-feedback"' in page  # shown next to the file field
    assert _count(app, Beneficiary) == _count(app, ImportBatch) == 0


def test_a_file_over_the_size_limit_is_refused_with_413(app, world, login_as):
    client = login_as("supervisor_a")
    too_big = b"Nom\n" + b"x" * app.config["MAX_CONTENT_LENGTH"]
    for url in ("/imports/new", "/imports/check", "/imports/run"):
        response = _post(client, url, {"csrf_token": csrf_token(client, "/imports/new"),
                                       "file": (io.BytesIO(too_big), "big.csv")})
        assert response.status_code == 413, url
    assert _count(app, Beneficiary) == _count(app, ImportBatch) == 0


def test_posts_without_csrf_token_are_refused(app, world, login_as):
    client = login_as("supervisor_a")
    response = client.post("/imports/new", content_type="multipart/form-data", data={
        "file": (io.BytesIO(sample_xlsx()), "x.xlsx"), "service_point_id": world.service_points["A-OUJ"]})
    assert response.status_code == 400


@pytest.mark.parametrize("key", ["caseworker_a", "me_officer", "dpo", "admin", "receiver"])
def test_only_supervisors_reach_the_import_pages(app, world, login_as, key):
    client = login_as(key)
    token = csrf_token(client, "/")
    assert client.get("/imports/").status_code == 403
    assert client.get("/imports/new").status_code == 403
    response = client.post("/imports/check", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(sample_xlsx()), "x.xlsx")})
    assert response.status_code == 403


def test_another_partners_batch_does_not_exist_for_a_supervisor(app, world, login_as):
    owner = login_as("supervisor_a")
    data = xlsx_bytes(GOOD_ROWS)  # once: a workbook records when it was written, so two differ across a second
    page = _check(owner, data, world).get_data(as_text=True)
    batch_url = _run(owner, data, _import_form(page), only_valid=False).headers["Location"]
    stranger = login_as("supervisor_b")
    assert stranger.get(batch_url).status_code == 404
    token = csrf_token(stranger, "/imports/")
    assert stranger.post(f"{batch_url}/rollback", data={"csrf_token": token}).status_code == 404
    assert "registre.xlsx" not in stranger.get("/imports/").get_data(as_text=True)
    assert _count(app, Beneficiary) == 3


def test_the_import_cannot_target_another_partners_service_point(app, world, login_as):
    client = login_as("supervisor_a")
    data = xlsx_bytes(GOOD_ROWS)
    page = _check(client, data, world).get_data(as_text=True)
    form = dict(_import_form(page), service_point_id=str(world.service_points["B-BEM"]))
    assert _run(client, data, form, only_valid=False).status_code == 404
    assert _count(app, Beneficiary) == 0


def test_the_mapping_page_names_missing_required_fields(app, world, login_as):
    client = login_as("supervisor_a")
    mapping = {name: heading for name, heading in SUGGESTED.items() if name != "processing_basis"}
    token = csrf_token(client, "/imports/new")
    response = client.post("/imports/check", headers=ENGLISH, content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(sample_xlsx()), "x.xlsx"),
        "service_point_id": world.service_points["A-OUJ"], **{f"map_{k}": v for k, v in mapping.items()}})
    assert response.status_code == 200
    assert f"Choose a column for: {FIELD_LABELS['processing_basis']}" in response.get_data(as_text=True)


def test_file_parsing_is_rate_limited_per_user(app, world, login_as):
    client = login_as("supervisor_a")
    previous = app.config["IMPORT_RATE_LIMIT"]
    app.config["IMPORT_RATE_LIMIT"] = "2/hour"
    try:
        statuses = [_upload(client, sample_xlsx(), world).status_code for _ in range(3)]
    finally:
        app.config["IMPORT_RATE_LIMIT"] = previous
    assert statuses == [200, 200, 429]

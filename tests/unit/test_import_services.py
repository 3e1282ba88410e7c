"""Bulk import services: reading files by content, mapping, dry run, import row by row, rollback, and the CLI."""
import io
import json
import time
from datetime import date, datetime

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from caseapp.audit.models import AuditEvent
from caseapp.auth.models import User
from caseapp.beneficiaries.models import Beneficiary, ConsentRecord, IdentityDocument, PersonKey
from caseapp.cases.models import Case, CaseNumberCounter
from caseapp.extensions import db
from caseapp.imports import running
from caseapp.imports.checking import check_rows
from caseapp.imports.fields import mapping_errors, suggest_mapping
from caseapp.imports.mappings import find_mapping, save_mapping
from caseapp.imports.models import ImportBatch
from caseapp.imports.reading import MAX_ROWS, ImportFileError, read_table
from caseapp.imports.rollback import rollback_batch
from caseapp.imports.running import ImportRefused, run_import
from caseapp.places.models import ServicePoint

HEADINGS = ["Prénom", "Nom", "Sexe", "Date de naissance", "Nationalité", "Profil", "Pays de retour", "Commune",
            "Téléphone", "Type de document", "Numéro de document", "Consentement", "Statistiques"]
GOOD_ROWS = [
    ["Fatima", "Benali", "F", "1985-03-02", "MAR", "returnee", "LBY", "OUJ", "+212 612 000 001", "passport",
     "AB 123456", "signed_form", "oui"],
    ["Amadou", "Diallo", "homme", "17/05/1990", "Sénégal", "Migrant étranger", "", "Nador", "", "", "",
     "Signed form", "non"],
    ["Aïcha", "Traoré", "أنثى", datetime(1995, 1, 20), "MLI", "refugee", "", "OUJ", "", "", "", "signed_form", "yes"],
]
BAD_SEX = ["Yusuf", "Koné", "X", "1992-07-01", "CIV", "foreign_migrant", "", "OUJ", "", "", "", "signed_form", "non"]
BAD_DATE = ["Ibrahim", "Sow", "M", "31/02/1990", "GIN", "foreign_migrant", "", "OUJ", "", "", "", "signed_form", "non"]
NO_FAMILY_NAME = ["Mariam", "", "F", "1999-09-09", "CMR", "asylum_seeker", "", "OUJ", "", "", "", "signed_form", ""]


def xlsx_bytes(rows, headings=HEADINGS) -> bytes:
    """A workbook built in memory: the headings in row 1, then `rows`."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sample_xlsx() -> bytes:
    """Rows 2-4 good, row 5 bad sex, row 6 good, row 7 bad date, row 8 no family name."""
    sixth = ["Oumar", "Camara", "M", "1988-11-30", "MLI", "foreign_migrant", "", "OUJ", "", "", "", "signed_form", ""]
    return xlsx_bytes([*GOOD_ROWS, BAD_SEX, sixth, BAD_DATE, NO_FAMILY_NAME])


def actor(world, key="supervisor_a") -> User:
    return db.session.get(User, world.users[key])


def point(world, code="A-OUJ") -> ServicePoint:
    return db.session.get(ServicePoint, world.service_points[code])


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def mapping_of(table):
    mapping = suggest_mapping(table.headings)
    assert mapping_errors(mapping, table.headings) == []
    return mapping


# Reading ---------------------------------------------------------------------------------------------------------

def test_an_xlsx_is_read_by_content_with_typed_cells(app_ctx, world):
    table = read_table(sample_xlsx())
    assert table.kind == "xlsx" and table.headings == HEADINGS
    assert [number for number, _row in table.rows] == [2, 3, 4, 5, 6, 7, 8]
    assert table.rows[2][1]["Date de naissance"] == date(1995, 1, 20)


def test_a_csv_with_bom_and_semicolons_is_read(app_ctx, world):
    text = "\ufeff" + ";".join(HEADINGS) + "\r\n" + ";".join(str(v) for v in GOOD_ROWS[0]) + "\r\n\r\n"
    table = read_table(text.encode("utf-8"))
    assert table.kind == "csv" and table.headings == HEADINGS
    assert table.rows == [(2, dict(zip(HEADINGS, [str(v) for v in GOOD_ROWS[0]])))]


def test_a_comma_csv_without_bom_is_read(app_ctx, world):
    text = "Prénom,Nom\nFatima,\"Benali, née Alaoui\"\n"
    assert read_table(text.encode()).rows == [(2, {"Prénom": "Fatima", "Nom": "Benali, née Alaoui"})]


def test_the_mapping_is_suggested_from_french_english_and_arabic_headings():
    assert suggest_mapping(["First name", "SURNAME", "Sex (F/M)", "DOB", "الجنسية", "N° de téléphone"]) == {
        "given_name": "First name", "family_name": "SURNAME", "sex": "Sex (F/M)", "date_of_birth": "DOB",
        "nationality": "الجنسية"}
    assert suggest_mapping(["الاسم الشخصي", "الاسم العائلي", "الجنس", "تاريخ الازدياد"]) == {
        "given_name": "الاسم الشخصي", "family_name": "الاسم العائلي", "sex": "الجنس", "date_of_birth": "تاريخ الازدياد"}


def _refused(data: bytes) -> str:
    with force_locale("en"), pytest.raises(ImportFileError) as refusal:
        read_table(data)
    return refusal.value.message


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@pytest.mark.parametrize("data, expected", [
    (PNG, "image"),
    (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "web page"),
    (b"  <html><head></head><body>Pr\xc3\xa9nom;Nom</body></html>", "web page"),
    (b"%PDF-1.7\n<html>", "PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    ("Prénom;Nom\nFatima;Benali\n".encode("latin-1"), "UTF-8"),
    (b"", "empty"),
    (b"\xef\xbb\xbf\r\n  \n", "empty"),
    ("Prénom;Nom\n".encode(), "no rows"),
    (b"1990-05-17;06 12 34 56 78\n1991-01-01;06 00 00 00 00\n", "headings"),
    (b"Nom;Nom\nA;B\n", "same heading"),
    (b"Nom\n=HYPERLINK(\"http://evil\")\n", "formula"),
    (b"Nom;Prenom\n\"Benali;Fatima\n", "cannot be read"),
])
def test_malformed_files_are_refused_with_a_clear_message(app_ctx, world, data, expected):
    assert expected in _refused(data)


def test_a_zip_that_is_not_a_workbook_is_refused(app_ctx, world):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert "not an Excel workbook" in _refused(buffer.getvalue())
    assert "damaged" in _refused(b"PK\x03\x04" + b"\x00" * 64)


def test_a_workbook_declaring_xml_entities_is_refused(app_ctx, world):
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(GOOD_ROWS)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/workbook.xml":
                content = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + content
            archive.writestr(item, content)
    assert "entities" in _refused(buffer.getvalue())


def test_a_formula_cell_is_refused_not_evaluated(app_ctx, world):
    data = xlsx_bytes([GOOD_ROWS[0][:3] + ["=DATE(1990,1,1)"] + GOOD_ROWS[0][4:]])
    message = _refused(data)
    assert "D2" in message and "formula" in message


def test_huge_cells_are_refused(app_ctx, world):
    assert "1000 characters" in _refused(xlsx_bytes([["A" * 1001, "Benali"]], headings=["Prénom", "Nom"]))
    assert "1000 characters" in _refused(("Prénom;Nom\n" + "A" * 1001 + ";B\n").encode())
    assert "1000 characters" in _refused(("Prénom;Nom\n" + "A" * 200_000 + ";B\n").encode())


def test_fifty_thousand_rows_are_refused_quickly(app_ctx, world):
    data = ("Prénom;Nom;Sexe\n" + "Fatima;Benali;F\n" * 50_000).encode()
    started = time.perf_counter()
    message = _refused(data)
    assert time.perf_counter() - started < 2
    assert f"more than {MAX_ROWS} rows" in message and "split the file" in message
    assert "split the file" in _refused(xlsx_bytes([["Fatima", "Benali"]] * (MAX_ROWS + 1), ["Prénom", "Nom"]))


def test_exactly_the_row_limit_is_accepted(app_ctx, world):
    data = ("Prénom;Nom\n" + "Fatima;Benali\n" * MAX_ROWS).encode()
    assert len(read_table(data).rows) == MAX_ROWS


# Dry run ---------------------------------------------------------------------------------------------------------

def test_the_dry_run_reports_exactly_the_bad_rows_in_the_users_language_and_saves_nothing(app_ctx, world):
    table = read_table(sample_xlsx())
    counter_before = count(CaseNumberCounter)
    with force_locale("fr"):
        report = check_rows(actor(world), table, mapping_of(table), point(world), today=date(2026, 6, 1))
    assert [row.number for row in report.error_rows] == [5, 7, 8]
    errors = {row.number: row.errors for row in report.error_rows}
    assert errors[5] == {"sex": ["Choisissez le sexe."]}
    assert list(errors[7]) == ["date_of_birth"]
    assert errors[8] == {"family_name": ["Ce champ est obligatoire."]}
    assert report.valid_count == 4
    db.session.commit()
    assert count(Beneficiary) == count(Case) == count(ImportBatch) == count(PersonKey) == 0
    assert count(CaseNumberCounter) == counter_before
    assert set(db.session.scalars(select(AuditEvent.action))) - {"user.create"} == {"import.check"}


def test_the_dry_run_reports_duplicates_in_scope_by_name_and_outside_only_counted(app_ctx, world, register):
    register("caseworker_a", given_name="Fatima", family_name="Benali", date_of_birth=date(1985, 3, 2), sex="F",
             given_name_alt="", family_name_alt="")
    register("caseworker_b", "B-BEM", given_name="Amadou", family_name="Diallo", date_of_birth=date(1990, 5, 17),
             sex="M", given_name_alt="", family_name_alt="")
    table = read_table(xlsx_bytes([*GOOD_ROWS, GOOD_ROWS[0]]))
    report = check_rows(actor(world), table, mapping_of(table), point(world))
    first, second, _third, repeated = report.rows
    assert first.in_scope == 1 and [name for _id, name in first.duplicates] == ["Fatima Benali"]
    assert second.in_scope == 0 and second.outside_scope == 1 and second.duplicates == []
    assert repeated.same_as_row == 2


def test_only_supervisors_check_and_import_and_only_at_their_service_points(app_ctx, world):
    from caseapp.errors import NotAllowed

    table = read_table(sample_xlsx())
    with pytest.raises(NotAllowed):
        check_rows(actor(world, "caseworker_a"), table, mapping_of(table), point(world))
    with pytest.raises(NotAllowed):
        check_rows(actor(world), table, mapping_of(table), point(world, "B-BEM"))
    with pytest.raises(NotAllowed):
        run_import(actor(world, "supervisor_b"), table, mapping_of(table), point(world), "x.xlsx")


# Import ----------------------------------------------------------------------------------------------------------

def test_a_file_with_bad_rows_imports_nothing_unless_asked(app_ctx, world):
    table = read_table(sample_xlsx())
    with pytest.raises(ImportRefused) as refusal:
        run_import(actor(world), table, mapping_of(table), point(world), "register.xlsx")
    assert sorted(refusal.value.row_errors) == [5, 7, 8]
    db.session.rollback()
    assert count(Beneficiary) == count(ImportBatch) == 0


def test_importing_the_valid_rows_creates_exactly_those_people_with_cases(app_ctx, world):
    table = read_table(sample_xlsx())
    result = run_import(actor(world), table, mapping_of(table), point(world), "C:\\docs\\register.xlsx",
                        only_valid=True)
    db.session.commit()
    batch = result.batch
    assert sorted(result.skipped) == [5, 7, 8]
    assert (batch.row_count, batch.imported_count, batch.filename) == (7, 4, "register.xlsx")
    people = db.session.scalars(select(Beneficiary).order_by(Beneficiary.id)).all()
    assert [(p.given_name, p.family_name, p.sex) for p in people] == [
        ("Fatima", "Benali", "F"), ("Amadou", "Diallo", "M"), ("Aïcha", "Traoré", "F"), ("Oumar", "Camara", "M")]
    assert all(p.import_batch_id == batch.id and p.version == 1 for p in people)
    assert [p.nationality for p in people] == ["MAR", "SEN", "MLI", "MLI"]
    assert people[1].commune_code == "NAD" and people[1].profile == "foreign_migrant"
    assert people[1].date_of_birth == date(1990, 5, 17)
    assert [len(p.cases) for p in people] == [1, 1, 1, 1]
    assert {case.service_point_id for p in people for case in p.cases} == {world.service_points["A-OUJ"]}
    assert people[0].documents[0].number == "AB 123456"
    raw = db.session.execute(select(IdentityDocument.__table__.c.number)).scalar_one()
    assert "AB 123456" not in raw  # encrypted at rest like a typed registration
    assert [sorted(c.kind for c in p.consents) for p in people] == [
        ["processing", "statistics"], ["processing"], ["processing", "statistics"], ["processing"]]
    assert count(PersonKey) > 0
    assert json.loads(batch.mapping)["given_name"] == "Prénom"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import.run")).all()
    assert len(events) == 1 and json.loads(events[0].details) == {
        "imported": 4, "only_valid": True, "rows": 7, "service_point_id": world.service_points["A-OUJ"],
        "skipped": 3}
    assert "Fatima" not in events[0].details


def test_the_same_file_cannot_be_imported_twice(app_ctx, world):
    table = read_table(xlsx_bytes(GOOD_ROWS))
    run_import(actor(world), table, mapping_of(table), point(world), "a.xlsx")
    db.session.commit()
    with force_locale("en"), pytest.raises(ImportRefused, match="already imported"):
        run_import(actor(world), table, mapping_of(table), point(world), "a.xlsx")


def _failing_on(monkeypatch, family_name):
    """register_beneficiary that fails after the person, keys, consents and case are written, for one name."""
    from sqlalchemy.exc import IntegrityError

    real = running.register_beneficiary

    def register(actor, data, today=None, **kwargs):
        person, case = real(actor, data, today, **kwargs)
        if data.family_name == family_name:
            raise IntegrityError("INSERT", {}, Exception("simulated failure at the end of the row"))
        return person, case

    monkeypatch.setattr(running, "register_beneficiary", register)


def test_a_row_that_fails_while_saving_leaves_nothing_of_itself(app_ctx, world, monkeypatch):
    _failing_on(monkeypatch, "Diallo")
    table = read_table(xlsx_bytes(GOOD_ROWS))
    result = run_import(actor(world), table, mapping_of(table), point(world), "a.xlsx", only_valid=True)
    db.session.commit()
    assert list(result.skipped) == [3] and result.batch.imported_count == 2
    assert sorted(db.session.scalars(select(Beneficiary.family_name))) == ["Benali", "Traoré"]
    assert count(Case) == 2
    assert count(ConsentRecord) == 4 and count(IdentityDocument) == 1
    ids = set(db.session.scalars(select(Beneficiary.id)))
    assert set(db.session.scalars(select(PersonKey.beneficiary_id))) == ids
    created = db.session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "beneficiary.create"))
    assert set(created) == ids


def test_a_row_that_fails_while_saving_imports_nothing_without_only_valid(app_ctx, world, monkeypatch):
    _failing_on(monkeypatch, "Traoré")
    table = read_table(xlsx_bytes(GOOD_ROWS))
    with pytest.raises(ImportRefused) as refusal:
        run_import(actor(world), table, mapping_of(table), point(world), "a.xlsx")
    assert list(refusal.value.row_errors) == [4]
    db.session.rollback()
    assert count(Beneficiary) == count(Case) == count(ImportBatch) == count(ConsentRecord) == 0


# Rollback --------------------------------------------------------------------------------------------------------

def test_rollback_removes_exactly_the_batch(app_ctx, world, register):
    kept_id, _number = register("caseworker_a")
    first = read_table(xlsx_bytes(GOOD_ROWS))
    batch = run_import(actor(world), first, mapping_of(first), point(world), "a.xlsx").batch
    second = read_table(xlsx_bytes([GOOD_ROWS[0][:1] + ["Other"] + GOOD_ROWS[0][2:]]))
    other = run_import(actor(world), second, mapping_of(second), point(world, "A-NAD"), "b.xlsx").batch
    db.session.commit()
    assert rollback_batch(actor(world), batch) == 3
    db.session.commit()
    remaining = db.session.execute(select(Beneficiary.id, Beneficiary.import_batch_id)).all()
    assert sorted(remaining) == sorted([(kept_id, None), (remaining[-1][0], other.id)])
    assert count(Case) == 2 and count(ImportBatch) == 2
    assert set(db.session.scalars(select(PersonKey.beneficiary_id))) == {row[0] for row in remaining}
    assert count(ConsentRecord) == 2 * 2  # the registered person's and the other batch's
    batch = db.session.get(ImportBatch, batch.id)
    assert batch.status == "rolled_back" and batch.rolled_back_by_id == world.users["supervisor_a"]
    assert db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "import.rollback")).one() == \
        json.dumps({"cases": 3, "people": 3}, sort_keys=True)
    from caseapp.errors import DomainError

    with pytest.raises(DomainError):
        rollback_batch(actor(world), batch)
    # The same file can be imported again once its batch is rolled back.
    run_import(actor(world), first, mapping_of(first), point(world), "a.xlsx")


def test_rollback_is_refused_once_someone_worked_on_an_imported_case(app_ctx, world):
    from caseapp.cases.notes import add_note
    from caseapp.errors import DomainError

    table = read_table(xlsx_bytes(GOOD_ROWS))
    batch = run_import(actor(world), table, mapping_of(table), point(world), "a.xlsx").batch
    db.session.commit()
    case = db.session.scalars(select(Case).order_by(Case.id)).first()
    add_note(actor(world, "caseworker_a"), case, kind="general", body="Visit done", occurred_on=date.today())
    db.session.commit()
    with force_locale("en"), pytest.raises(DomainError, match="1 people of this import have been worked on"):
        rollback_batch(actor(world), batch)
    db.session.rollback()
    assert count(Beneficiary) == 3 and db.session.get(ImportBatch, batch.id).status == "imported"


def test_only_a_supervisor_of_the_same_partner_rolls_back(app_ctx, world):
    from caseapp.errors import NotAllowed

    table = read_table(xlsx_bytes(GOOD_ROWS))
    batch = run_import(actor(world), table, mapping_of(table), point(world), "a.xlsx").batch
    db.session.commit()
    for key in ("supervisor_b", "caseworker_a"):
        with pytest.raises(NotAllowed):
            rollback_batch(actor(world, key), batch)
    assert count(Beneficiary) == 3


# Saved mappings and the command line -----------------------------------------------------------------------------

def test_a_saved_mapping_belongs_to_the_organisation(app_ctx, world):
    table = read_table(sample_xlsx())
    save_mapping(actor(world), "  Registre  Oujda ", mapping_of(table))
    save_mapping(actor(world), "Registre Oujda", {"given_name": "Prénom"})  # replaces
    db.session.commit()
    assert find_mapping(actor(world), "Registre Oujda") == {"given_name": "Prénom"}
    assert find_mapping(actor(world, "supervisor_b"), "Registre Oujda") is None


def _cli_file(tmp_path, rows) -> str:
    path = tmp_path / "registre.csv"
    lines = [";".join(HEADINGS)] + [";".join(v.strftime("%d/%m/%Y") if isinstance(v, datetime) else str(v)
                                             for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return str(path)


def test_the_command_line_dry_run_and_import(app, world, tmp_path):
    with app.app_context():
        table = read_table(sample_xlsx())
        save_mapping(actor(world), "registre", mapping_of(table))
        db.session.commit()
    path = _cli_file(tmp_path, [*GOOD_ROWS, BAD_SEX])
    runner = app.test_cli_runner()
    base = ["caseapp", "import", path, "--mapping", "registre", "--service-point", "A-OUJ", "--as", "supervisor.a"]
    result = runner.invoke(args=[*base, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "row 5: Sexe: Choisissez le sexe." in result.output  # the user's language (French by default)
    assert "4 rows, 3 valid, 1 with errors" in result.output
    with app.app_context():
        assert count(Beneficiary) == 0
    refused = runner.invoke(args=base)
    assert refused.exit_code == 1 and "rien n'a été importé" in refused.output  # French, as above
    imported = runner.invoke(args=[*base, "--only-valid"])
    assert imported.exit_code == 0, imported.output
    assert "3 people imported, 1 rows left out" in imported.output
    with app.app_context():
        assert count(Beneficiary) == 3 and count(Case) == 3
    for args, message in (([*base[:3], "--mapping", "nope", *base[5:]], "No mapping named"),
                          ([*base[:5], "--service-point", "B-BEM", *base[7:]], "not one of"),
                          ([*base[:7], "--as", "caseworker.a"], "may not import")):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and message in result.output

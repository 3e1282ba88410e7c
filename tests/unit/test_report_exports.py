"""Report exports on a small hand-made content, the `flask caseapp report build` command, and frozen published rows."""
import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.reports.content import build_content, content_json, publish
from caseapp.reports.disclosure import method_text
from caseapp.reports.exports import long_csv, people_csv, workbook_bytes
from caseapp.reports.models import FrozenReport, PublishedReport

METHOD = "Counts below five are hidden."
TITLES = {"beneficiaries_registered": "People registered", "cases_active": "Active cases"}
CONTENT = {
    "period": "2026-Q1", "first_day": "2026-01-01", "last_day": "2026-03-31", "threshold": 5,
    "excluded_rounded": "<10",
    "tables": [
        {"indicator": "beneficiaries_registered", "dimensions": ["region", "sex"],
         "domains": {"region": ["01", "02"], "sex": ["F", "M"]},
         "cells": [[[["region", "01"], ["sex", "F"]], 7], [[["region", "01"], ["sex", "M"]], None],
                   [[["region", "01"]], None],
                   [[["region", "02"], ["sex", "F"]], None], [[["region", "02"], ["sex", "M"]], 9],
                   [[["region", "02"]], None],
                   [[["sex", "F"]], None], [[["sex", "M"]], None], [[], 20]]},
        {"indicator": "cases_active", "dimensions": ["profile"], "domains": {"profile": ["refugee", "returnee"]},
         "cells": [[[["profile", "refugee"]], 0], [[["profile", "returnee"]], 12], [[], 12]]},
    ],
    "rates": [],
}


def _label(dimension: str, code: str) -> str:
    return {"dimension": f"<{code}>"}.get(dimension, f"{dimension}:{code}")


@pytest.fixture
def english(app):
    """A request in English, so the exports' own words (Total, suppressed, Notes) are the English msgids."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield
        db.session.rollback()


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_long_csv(english):
    rows = _rows(long_csv(CONTENT))
    assert rows[0] == ["indicator", "region", "sex", "profile", "value"]
    assert rows[1] == ["beneficiaries_registered", "01", "F", "", "7"]
    assert rows[2] == ["beneficiaries_registered", "01", "M", "", ""]  # suppressed: empty
    assert ["beneficiaries_registered", "", "", "", "20"] in rows  # the grand total: empty dimensions
    assert ["cases_active", "", "", "refugee", "0"] in rows  # a zero is published
    assert len(rows) == 1 + 9 + 3
    assert all(row[-1] == "" or row[-1].isdigit() for row in rows[1:])


def test_people_csv(english):
    rows = _rows(people_csv(CONTENT, TITLES, _label, METHOD))
    assert rows[0] == ["<region>", "<sex>", "People registered"]
    assert rows[1] == ["#adm1+name", "#sex", "#reached"]
    assert rows[2] == ["region:01", "sex:F", "7"]
    assert rows[3] == ["region:01", "sex:M", "suppressed"]
    assert ["region:01", "Total", "suppressed"] in rows
    assert ["Total", "Total", "20"] in rows
    assert ["<profile>", "Active cases"] in rows and ["profile:refugee", "0"] in rows
    notes = {row[0]: row[1] for row in rows if len(row) == 2}
    assert notes["Period"] == "2026-Q1" and notes["Threshold"] == "5" and notes["Method"] == METHOD
    assert notes["People left out (no consent to statistical use), rounded"] == "<10"


def test_workbook(english):
    book = load_workbook(io.BytesIO(workbook_bytes(CONTENT, TITLES, _label, METHOD)))
    assert book.sheetnames == ["01 beneficiaries_registered", "02 cases_active", "Notes"]
    sheet = [list(row) for row in book["01 beneficiaries_registered"].iter_rows(values_only=True)]
    assert sheet[0] == ["<region>", "<sex>", "People registered"]
    assert sheet[1] == ["#adm1+name", "#sex", "#reached"]  # the HXL row under the headers
    assert sheet[2] == ["region:01", "sex:F", 7] and sheet[3] == ["region:01", "sex:M", "suppressed"]
    assert sheet[-1] == ["Total", "Total", 20]
    assert book["01 beneficiaries_registered"]["A1"].font.bold
    assert [list(row) for row in book["02 cases_active"].iter_rows(values_only=True)][1] == ["#population+type",
                                                                                             "#reached"]
    notes = {row[0]: row[1] for row in book["Notes"].iter_rows(values_only=True)}
    assert notes["Period"] == "2026-Q1" and notes["Threshold"] == "5" and notes["Method"] == METHOD
    assert notes["From"] == "2026-01-01" and notes["To"] == "2026-03-31"


def test_method_text_names_the_threshold(english):
    assert "Counts from 1 to 4 are not shown" in method_text(5)


# --- The command line ---------------------------------------------------------------------------------------------

@pytest.fixture
def runner(app, world, register):
    for given in ("Amal", "Badr", "Chama", "Driss", "Elias", "Fatna"):
        register("caseworker_a", "A-OUJ", given_name=given)
    return app.test_cli_runner()


def _published(app) -> list[PublishedReport]:
    with app.app_context():
        reports = db.session.scalars(select(PublishedReport).order_by(PublishedReport.id)).all()
        db.session.expunge_all()
        return reports


def test_cli_builds_the_long_csv(app, runner, tmp_path):
    output = tmp_path / "report.csv"
    result = runner.invoke(args=["caseapp", "report", "build", "--period", "2026", "--format", "csv",
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    text = output.read_text(encoding="utf-8")
    rows = _rows(text)
    assert rows[0][0] == "indicator" and rows[0][-1] == "value"
    assert "beneficiaries_registered" in {row[0] for row in rows[1:]}
    assert all(row[-1] == "" or row[-1].isdigit() for row in rows[1:])
    assert "2026: " in result.output
    assert _published(app) == []  # not published without --publish


def test_cli_builds_the_workbook(app, runner, tmp_path):
    output = tmp_path / "report.xlsx"
    result = runner.invoke(args=["caseapp", "report", "build", "--period", "2026-Q4", "--format", "xlsx",
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    book = load_workbook(output)
    assert str(book.worksheets[0].cell(row=2, column=1).value).startswith("#")
    assert len(book.sheetnames) >= 2


def test_cli_publishes(app, runner, tmp_path):
    output = tmp_path / "report.csv"
    args = ["caseapp", "report", "build", "--period", "2026", "--format", "csv", "--output", str(output), "--publish"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "published 2026 version 1" in result.output
    again = runner.invoke(args=args)
    assert "published 2026 version 2" in again.output
    reports = _published(app)
    assert [(report.period, report.version, report.published_by_id) for report in reports] == [
        ("2026", 1, None), ("2026", 2, None)]


@pytest.mark.parametrize("period", ["2026-Q5", "26", "2026-13", "1999", "next year"])
def test_cli_refuses_a_bad_period(app, runner, tmp_path, period):
    output = tmp_path / "report.csv"
    result = runner.invoke(args=["caseapp", "report", "build", "--period", period, "--format", "csv",
                                 "--output", str(output)])
    assert result.exit_code != 0
    assert "--period" in result.output
    assert not output.exists()
    assert _published(app) == []


# --- Frozen published reports -------------------------------------------------------------------------------------

def test_a_published_report_cannot_be_changed_or_deleted(app, world, app_ctx):
    report = publish(None, build_content("2026-Q1", 5))
    db.session.commit()
    text, sha = report.content, report.content_sha256
    assert text == content_json(build_content("2026-Q1", 5))

    report.threshold = 3
    with pytest.raises(FrozenReport):
        db.session.flush()
    db.session.rollback()

    report = db.session.get(PublishedReport, report.id)
    report.content = content_json({"period": "2026-Q1", "tables": []})
    with pytest.raises(FrozenReport):
        db.session.commit()
    db.session.rollback()

    db.session.delete(db.session.get(PublishedReport, report.id))
    with pytest.raises(FrozenReport):
        db.session.flush()
    db.session.rollback()

    stored = db.session.get(PublishedReport, report.id)
    assert (stored.threshold, stored.content, stored.content_sha256) == (5, text, sha)
    assert db.session.scalar(select(func.count()).select_from(PublishedReport)) == 1


def test_a_version_number_taken_meanwhile_makes_the_publication_take_the_next(app, world, monkeypatch):
    """Two officers publishing the same period at once: the second insert meets the unique (period, version)
    constraint and takes the next number instead of failing."""
    from caseapp.reports import content as content_module

    with app.app_context():
        figures = {"period": "2026-02", "threshold": 5, "tables": [], "rates": []}
        content_module.publish(None, figures)
        db.session.commit()
        real_scalar = db.session.scalar
        stale = iter([0])  # the first read sees no version yet, as a concurrent publisher would have

        def scalar(statement, *args, **kwargs):
            value = next(stale, None)
            return value if value is not None else real_scalar(statement, *args, **kwargs)

        monkeypatch.setattr(db.session, "scalar", scalar)
        report = content_module.publish(None, figures)
        monkeypatch.undo()
        db.session.commit()
        assert report.version == 2
        assert db.session.scalars(select(PublishedReport.version).where(
            PublishedReport.period == "2026-02").order_by(PublishedReport.version)).all() == [1, 2]


def test_labels_that_look_like_formulas_cannot_run_in_a_spreadsheet(app):
    """A partner or service point named by an admin like a formula is written as text, in the workbook and the CSV."""
    def hostile(dimension: str, code: str) -> str:
        return "=HYPERLINK(\"http://evil.example\",\"x\")" if dimension != "dimension" else code

    with app.test_request_context():
        book = load_workbook(io.BytesIO(workbook_bytes(CONTENT, TITLES, hostile, METHOD)))
        text = people_csv(CONTENT, TITLES, hostile, METHOD)
    cells = [cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not any(isinstance(value, str) and value.startswith("=") for value in cells)
    assert any(isinstance(value, str) and value.startswith("'=HYPERLINK") for value in cells)
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text and "'=HYPERLINK" in text
    assert any(isinstance(value, int) and value > 0 for value in cells)  # counts stay numbers

"""cases/table.py writes the case tables' rows exactly as the Jinja row they replace wrote them: same links,
labels, badges and dates in each language, every value from the database escaped."""
import re
from datetime import date, datetime, timezone

import pytest
from flask import render_template_string
from flask_babel import force_locale
from markupsafe import Markup


# The row as cases/_table.html wrote it through Jinja until cases/table.py took over (the oracle); `select_case` is
# the message's translation as Markup, its number filled in by Markup's %.
JINJA_ROWS = """
{% set case_url, person_url = id_urls("cases.show", "case_id"), id_urls("beneficiaries.show", "beneficiary_id") %}
{% set estimated, closure_requested = _("estimated"), _("closure requested") %}
{% for case in rows %}
<tr>
  {% if selectable %}<td><input class="form-check-input" type="checkbox" name="case_ids" value="{{ case.id }}" id="select-{{ case.id }}" aria-label="{{ select_case % {"number": case.number} }}"></td>{% endif %}
  <td class="case-number"><a href="{{ case_url(case.id) }}">{{ case.number }}</a></td>
  <td><a href="{{ person_url(case.beneficiary_id) }}"><bdi>{{ case.beneficiary.display_name }}</bdi></a></td>
  <td>{{ case.beneficiary.sex|sex_label }}</td>
  <td>{{ case.beneficiary.date_of_birth|date }}{% if case.beneficiary.dob_estimated %} <span class="badge text-bg-secondary">{{ estimated }}</span>{% endif %}</td>
  <td>{{ case.status|status_label }}{% if case.awaiting_closure %} <span class="badge text-bg-warning">{{ closure_requested }}</span>{% endif %}</td>
  <td>{{ case.assigned_worker.full_name if case.assigned_worker else "—" }}</td>
  <td>{{ case.opened_at|date }}</td>
</tr>
{% endfor %}
"""

HOSTILE = '<script>alert("x")</script> & \'quoted\''


def _rows() -> list:
    from caseapp.cases.rows import CaseRow, PersonCells, WorkerCells

    opened = datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)
    return [
        CaseRow(1, "NAD-2026-00001", 10, "active", None, opened,
                PersonCells("Fatima", "Idrissi", "F", date(1990, 2, 28), False), WorkerCells("Samira Alaoui")),
        CaseRow(2, "OUJ-2025-00042", 11, "plan", datetime(2026, 3, 2, 9, 0), datetime(2025, 12, 31, 23, 59),
                PersonCells(HOSTILE, "ماما <b>", "M", date(2001, 1, 1), True), None),
        CaseRow(2**31 - 1, HOSTILE, 2**31 - 1, "closed", datetime(2026, 1, 1), datetime(2024, 2, 29, 12, 0),
                PersonCells("Aminatou", "Diallo & fils", "", date(1980, 6, 15), True), WorkerCells(HOSTILE)),
        CaseRow(4, "GUE-2026-03576", 13, "unknown-status", None, datetime(2026, 11, 30, 8, 0),
                PersonCells("Bintu", "Mbarga", "X", date(1975, 12, 1), False), WorkerCells("")),
    ]


def _between_tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
@pytest.mark.parametrize("selectable", [False, True])
def test_rows_are_written_as_the_jinja_row_wrote_them(app, language, selectable):
    rows = _rows()
    written = _compare(app, rows, selectable, language)
    assert written.count("<tr>") == len(rows)
    assert "<script>" not in written and "&lt;script&gt;" in written and "<b>" not in written
    assert ('type="checkbox"' in written) is selectable


def _compare(app, rows, selectable: bool, language: str, base_url: str = "http://localhost/") -> Markup:
    """`case_table_rows(rows)`, checked against the Jinja row's HTML (white space between tags aside)."""
    from caseapp.cases.table import case_table_rows
    from caseapp.i18n import translations

    with app.test_request_context("/cases/", base_url=base_url), force_locale(language):
        select_case = Markup(translations().ugettext("Select case %(number)s"))
        expected = render_template_string(JINJA_ROWS, rows=rows, selectable=selectable, select_case=select_case)
        written = case_table_rows(rows, selectable)
    assert isinstance(written, Markup)
    assert _between_tags(written) == _between_tags(expected)
    return written


def test_case_records_under_a_root_path_with_an_ampersand_are_written_as_the_jinja_row_wrote_them(app, world,
                                                                                                     register):
    """The person page lists case records, not rows; the app may be served under a root path of the server's."""
    from sqlalchemy import select

    from caseapp.cases.models import Case
    from caseapp.extensions import db

    register("caseworker_a", given_name=HOSTILE, family_name="Diallo & fils", phone="+212 612 000 001")
    with app.app_context():
        cases = list(db.session.scalars(select(Case).order_by(Case.id)))
        written = _compare(app, cases, True, "fr", base_url="http://localhost/case&app/")
        assert "/case&amp;app/cases/" in written and "&lt;script&gt;" in written and "<script>" not in written
        db.session.rollback()


def test_no_rows_write_nothing(app):
    from caseapp.cases.table import case_table_rows

    with app.test_request_context("/cases/"):
        assert case_table_rows([], True) == ""

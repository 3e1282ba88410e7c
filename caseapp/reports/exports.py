"""Report exports from published content (see caseapp/reports/content.py): long CSV, CSV and XLSX with HXL tags.

Every export reads the protected content only — suppressed cells are already null there — so no export can leak a
value the page hides. The long CSV is for machines: one row per cell, dimension codes, an integer or nothing. The
CSV and the workbook are for people: labels in the chosen language, one block or sheet per table, an HXL hashtag
row under the headers, and the notes (period, threshold, method).
"""
import csv
import io
from collections.abc import Callable, Iterator

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from caseapp.reports.tables import DIMENSIONS
from caseapp.security.cells import safe_text

Labeller = Callable[[str, str], str]  # (dimension, code) → label in the current language
BOM = "\ufeff"

HXL_TAGS = {
    "region": "#adm1+name", "commune": "#adm2+name", "sex": "#sex", "age_group": "#age", "profile": "#population+type",
    "service_area": "#sector", "service": "#sector+sub", "status": "#status", "partner": "#org+impl",
    "reason": "#status+reason", "flag": "#indicator+flag",
}
VALUE_TAG = "#reached"


def _dimensions_used(content: dict) -> list[str]:
    used = {dimension for table in content["tables"] for dimension in table["dimensions"]}
    return [dimension for dimension in DIMENSIONS if dimension in used]


def _cell_rows(table: dict) -> Iterator[tuple[dict, int | None]]:
    for key, value in table["cells"]:
        yield dict(key), value


def long_rows(content: dict) -> Iterator[list]:
    """Header, then one row per published or suppressed cell: indicator, one column per dimension, value."""
    dimensions = _dimensions_used(content)
    yield ["indicator", *dimensions, "value"]
    for table in content["tables"]:
        for key, value in _cell_rows(table):
            yield [table["indicator"], *(key.get(dimension, "") for dimension in dimensions),
                   "" if value is None else value]


def _csv_text(rows) -> str:
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer, lineterminator="\r\n").writerows([safe_text(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def long_csv(content: dict) -> str:
    """The machine-readable long CSV (UTF-8 with BOM)."""
    return _csv_text(long_rows(content))


def _value_text(value: int | None) -> str | int:
    return _("suppressed") if value is None else value


def _table_rows(table: dict, title: str, label: Labeller) -> list[list]:
    """One table as rows for people: headers, HXL tags, then each cell with labelled dimension values."""
    dimensions = table["dimensions"]
    rows = [[*(label("dimension", dimension) for dimension in dimensions), title],
            [*(HXL_TAGS.get(dimension, "") for dimension in dimensions), VALUE_TAG]]
    for key, value in _cell_rows(table):
        rows.append([*(label(dimension, key[dimension]) if dimension in key else _("Total")
                       for dimension in dimensions), _value_text(value)])
    return rows


def notes_rows(content: dict, method: str) -> list[list[str]]:
    """Period, threshold, method and the rounded number of people left out."""
    return [[_("Period"), content["period"]],
            [_("From"), content["first_day"]], [_("To"), content["last_day"]],
            [_("Threshold"), str(content["threshold"])],
            [_("People left out (no consent to statistical use), rounded"), content["excluded_rounded"]],
            [_("Method"), method]]


def people_csv(content: dict, titles: dict[str, str], label: Labeller, method: str) -> str:
    """Every table one after the other, with labels, for a spreadsheet user; notes at the end."""
    rows: list[list] = []
    for table in content["tables"]:
        rows += _table_rows(table, titles.get(table["indicator"], table["indicator"]), label) + [[]]
    return _csv_text(rows + notes_rows(content, method))


def workbook_bytes(content: dict, titles: dict[str, str], label: Labeller, method: str) -> bytes:
    """XLSX: one sheet per table (headers, HXL row, cells) and a notes sheet."""
    book = Workbook()
    book.remove(book.active)
    for number, table in enumerate(content["tables"], start=1):
        sheet = book.create_sheet(f"{number:02d} {table['indicator']}"[:31])
        for row in _table_rows(table, titles.get(table["indicator"], table["indicator"]), label):
            sheet.append([safe_text(cell) for cell in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    notes = book.create_sheet(_("Notes")[:31])
    for row in notes_rows(content, method):
        notes.append([safe_text(cell) for cell in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

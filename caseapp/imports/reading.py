"""Reading an uploaded spreadsheet in memory: the type is decided by the content (XLSX or UTF-8 CSV), never stored.

Limits (each refused with a clear, translated message and nothing imported): the request size is capped by
MAX_CONTENT_LENGTH (Flask answers 413 before this code runs); at most MAX_ROWS rows of data; at most
MAX_CELL_LENGTH characters in a cell; at most MAX_COLUMNS columns; a header row is required. An XLSX is opened
with openpyxl in read-only mode and its formulas are never evaluated: a cell that holds a formula is refused.
"""
import csv
import hashlib
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import gettext as _

MAX_ROWS = 5_000
MAX_CELL_LENGTH = 1_000
MAX_COLUMNS = 200
# A spreadsheet of MAX_ROWS rows is a few megabytes of XML: anything far beyond is a zip bomb, not a register.
MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024
MAX_ZIP_MEMBERS = 500
# Rows the reader walks through (blank or not) before giving up: formatted but empty rows are skipped cheaply.
MAX_RAW_ROWS = 20 * MAX_ROWS

_BOM = b"\xef\xbb\xbf"
_OOXML_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|iframe|svg|\?xml)\b", re.IGNORECASE)
_DTD = re.compile(rb"<!(?:doctype|entity)", re.IGNORECASE)


class ImportFileError(Exception):
    """The file cannot be imported at all; `message` is translated for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """The headings and data rows of one file; `rows` are (row number in the file, heading → value)."""

    kind: str  # "xlsx" or "csv"
    sha256: str
    headings: list[str]
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)


def read_table(data: bytes) -> Table:
    """Parse an uploaded file (bytes) into a Table, or raise ImportFileError saying what is wrong with it."""
    if not data or not data.strip(_BOM + b" \t\r\n"):
        raise ImportFileError(_("The file is empty."))
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(b"PK\x03\x04"):
        headings, rows = _read_xlsx(data)
        kind = "xlsx"
    else:
        _refuse_known_binary(data)
        headings, rows = _read_csv(data)
        kind = "csv"
    return _table(kind, digest, headings, rows)


def _refuse_known_binary(data: bytes) -> None:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(_("This is an old Excel (.xls) file: save it as .xlsx or as CSV UTF-8, then try again."))
    if data.startswith(b"%PDF"):
        raise ImportFileError(_("This is a PDF document, not a spreadsheet: import an .xlsx or a CSV file."))
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        raise ImportFileError(_("This is an image, not a spreadsheet: import an .xlsx or a CSV file."))


# XLSX ------------------------------------------------------------------------------------------------------------

def _check_zip(data: bytes) -> None:
    """A real OOXML workbook, of a reasonable unpacked size, whose XML declares no DTD (no entity expansion)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
        names = {member.filename for member in members}
        if not all(part in names for part in _OOXML_PARTS):
            raise ImportFileError(_("This is a compressed file but not an Excel workbook: import an .xlsx or a CSV "
                                    "file."))
        if len(members) > MAX_ZIP_MEMBERS or sum(member.file_size for member in members) > MAX_UNCOMPRESSED_BYTES:
            raise ImportFileError(_("This workbook is too large once unpacked: split the file."))
        for member in members:
            if member.filename.endswith((".xml", ".rels")) and _declares_dtd(archive, member):
                raise ImportFileError(_("This workbook contains constructs that are not allowed (XML entities)."))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
        raise ImportFileError(_("This file is damaged or is not an Excel workbook.")) from None


def _declares_dtd(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 16):
            if _DTD.search(tail + chunk):
                return True
            tail = chunk[-16:]
    return False


def _xlsx_value(cell) -> object:
    if cell.data_type == "f":
        raise _FormulaCell(cell)
    value = cell.value
    if isinstance(value, str) and value.startswith("="):  # text another program would run as a formula, as in CSV
        raise _FormulaCell(cell)
    return value


class _FormulaCell(Exception):
    def __init__(self, cell):
        super().__init__("formula")
        self.cell = cell


def _read_xlsx(data: bytes) -> tuple[list, list]:
    _check_zip(data)
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not read
            # data_only=False so that a formula shows as a formula (and is refused) instead of its cached result,
            # which may be stale or missing: formulas are never evaluated.
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # noqa: BLE001 - any failure to open is the same answer for the user
        raise ImportFileError(_("This file is damaged or is not an Excel workbook.")) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The workbook has no sheet."))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # read every cell, whatever size the file declares
        rows, data_rows = [], 0
        too_many = _("The file has more than %(count)d rows: split the file.", count=MAX_ROWS)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for number, cells in enumerate(sheet.iter_rows(), start=1):
                    if number > MAX_RAW_ROWS:
                        raise ImportFileError(too_many)
                    values = [_xlsx_value(cell) for cell in cells]
                    if rows and any(_text(value) for value in values):
                        data_rows += 1
                        if data_rows > MAX_ROWS:
                            raise ImportFileError(too_many)
                    if rows or any(_text(value) for value in values):
                        rows.append((number, values))
        except _FormulaCell as found:
            raise ImportFileError(_("Cell %(cell)s holds a formula. Formulas are not evaluated: copy the sheet and "
                                    "paste the values only, then try again.", cell=found.cell.coordinate)) from None
        except ImportFileError:
            raise
        except Exception:  # noqa: BLE001
            raise ImportFileError(_("This file is damaged or is not an Excel workbook.")) from None
    finally:
        workbook.close()
    if not rows:
        raise ImportFileError(_("The file is empty."))
    return rows[0][1], rows[1:]


# CSV -------------------------------------------------------------------------------------------------------------

def _read_csv(data: bytes) -> tuple[list, list]:
    try:
        text = data.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError:
        raise ImportFileError(_("This file is neither an .xlsx workbook nor a CSV file in UTF-8. In your spreadsheet, "
                                "save it as “CSV UTF-8”, then try again.")) from None
    if "\x00" in text:
        raise ImportFileError(_("This file is neither an .xlsx workbook nor a CSV file in UTF-8."))
    if _MARKUP.search(data[:4096]) or text.lstrip().startswith("<"):
        raise ImportFileError(_("This file is a web page or markup, not a spreadsheet: import an .xlsx or a CSV "
                                "file."))
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, data_rows = [], 0
    try:
        for values in reader:
            number = reader.line_num
            if any(value.strip() for value in values):
                if rows:
                    data_rows += 1
                    if data_rows > MAX_ROWS:
                        raise ImportFileError(_("The file has more than %(count)d rows: split the file.",
                                                count=MAX_ROWS))
                for position, value in enumerate(values):
                    if value.lstrip().startswith("="):
                        raise ImportFileError(_("Row %(row)d, column %(column)d holds a formula. Formulas are not "
                                                "evaluated: remove them, then try again.",
                                                row=number, column=position + 1))
                rows.append((number, values))
            elif not rows:
                continue  # blank lines before the header
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise ImportFileError(_("A cell holds more than %(count)d characters.", count=MAX_CELL_LENGTH)) from None
        raise ImportFileError(_("Line %(line)d of the CSV file cannot be read (a quote is not closed?).",
                                line=reader.line_num)) from None
    if not rows:
        raise ImportFileError(_("The file is empty."))
    return rows[0][1], rows[1:]


# Both ------------------------------------------------------------------------------------------------------------

def _text(value: object) -> str:
    """A cell as text: numbers without a useless '.0', dates kept apart by `cell_value`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value).strip()


def _cell_value(value: object) -> object:
    """What a row keeps of a cell: a date for date cells, text for everything else."""
    if isinstance(value, datetime):
        return value.date() if value.time() == time(0) else value
    if isinstance(value, date):
        return value
    return _text(value)


def _headings(raw: list) -> list[str]:
    headings = [_text(value) for value in raw]
    while headings and not headings[-1]:
        headings.pop()
    if not any(headings):
        raise ImportFileError(_("The first row must hold the column headings."))
    if len(headings) > MAX_COLUMNS:
        raise ImportFileError(_("The file has more than %(count)d columns.", count=MAX_COLUMNS))
    looks_like_data = [h for h in headings if h and (re.fullmatch(r"[\d\s./:+-]+", h) or "@" in h)]
    if len(looks_like_data) * 2 > len([h for h in headings if h]):
        raise ImportFileError(_("The first row must hold the column headings; it looks like data."))
    seen = set()
    for heading in headings:
        if len(heading) > MAX_CELL_LENGTH:
            raise ImportFileError(_("A cell holds more than %(count)d characters.", count=MAX_CELL_LENGTH))
        if heading and heading.casefold() in seen:
            raise ImportFileError(_("Two columns have the same heading “%(heading)s”: rename one of them.",
                                    heading=heading))
        seen.add(heading.casefold())
    return headings


def _table(kind: str, digest: str, raw_headings: list, raw_rows: list) -> Table:
    headings = _headings(raw_headings)
    table = Table(kind=kind, sha256=digest, headings=headings)
    for number, values in raw_rows:
        if not any(_text(value) for value in values):
            continue
        row = {}
        for position, value in enumerate(values):
            cell = _cell_value(value)
            if isinstance(cell, str) and len(cell) > MAX_CELL_LENGTH:
                raise ImportFileError(_("Row %(row)d, column %(column)d: a cell holds more than %(count)d "
                                        "characters.", row=number, column=position + 1, count=MAX_CELL_LENGTH))
            if position < len(headings) and headings[position]:
                row[headings[position]] = cell
            elif cell not in ("", None):
                raise ImportFileError(_("Row %(row)d has a value in column %(column)d, which has no heading.",
                                        row=number, column=position + 1))
        table.rows.append((number, row))
    if not table.rows:
        raise ImportFileError(_("The file has headings but no rows of data."))
    return table

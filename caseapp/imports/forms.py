"""Forms of the import pages: upload, column mapping, import of a checked file, rollback."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import Length, Optional

from caseapp.forms_common import AppForm, IdSelectField, SelectField
from caseapp.imports.fields import FIELD_LABELS, MAX_MAPPING_NAME

FILE_HELP = _l("An .xlsx workbook (first sheet) or a CSV file in UTF-8, with the column headings in the first row; "
               "at most 5,000 rows.")


class UploadForm(AppForm):
    """Step 1: the file, where its people go, and a saved mapping to start from."""

    file = FileField(_l("Spreadsheet file"), validators=[FileRequired(_l("Choose a file."))])
    service_point_id = IdSelectField(_l("Service point"))
    saved_mapping = SelectField(_l("Column mapping"), validate_choice=False)


class MappingForm(AppForm):
    """Step 2: which column holds each field (one select per field, added below), then the dry run."""

    file = FileField(_l("The same file again"), validators=[FileRequired(_l("Choose a file."))])
    service_point_id = IdSelectField(_l("Service point"))
    save_as = StringField(_l("Save this mapping for my organisation as (optional)"),
                          validators=[Optional(), Length(max=MAX_MAPPING_NAME)])

    def mapping(self) -> dict[str, str]:
        """field → heading, for the fields given a column."""
        return {name: self[f"map_{name}"].data for name in FIELD_LABELS if self[f"map_{name}"].data}

    def field_selects(self):
        return [self[f"map_{name}"] for name in FIELD_LABELS]


for _name, _label in FIELD_LABELS.items():
    setattr(MappingForm, f"map_{_name}", SelectField(_label, validate_choice=False))


class ImportForm(AppForm):
    """Step 3: import the checked file (chosen again; it must be the very file that was checked)."""

    file = FileField(_l("The same file again"), validators=[FileRequired(_l("Choose a file."))])
    service_point_id = HiddenField()
    mapping = HiddenField()
    sha256 = HiddenField()
    only_valid = BooleanField(_l("Import only the valid rows and leave out the rows with errors"))


class RollbackForm(AppForm):
    """Roll a whole batch back (the CSRF token is all it carries)."""

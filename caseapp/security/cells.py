"""Spreadsheet cells that cannot run: text a spreadsheet would read as a formula gets a leading apostrophe."""
from typing import Any

# A spreadsheet reads a cell starting with one of these as a formula (CSV / formula injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The value as cell text; formula-looking text is neutralised."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_text(value: Any) -> Any:
    """Text neutralised like `safe_cell`; numbers left as numbers (a spreadsheet should still add them up)."""
    return safe_cell(value) if isinstance(value, str) else value

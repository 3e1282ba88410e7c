"""Report pages for the M&E officer: build a period's anonymised report, review it, publish it, download it."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

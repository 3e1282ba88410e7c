"""URL converters: record ids in paths are ASCII digits an INTEGER column can hold, or the route does not match."""
from werkzeug.routing import IntegerConverter

from caseapp.forms_common import MAX_RECORD_ID


class RecordIdConverter(IntegerConverter):
    """`<int:...>` for the whole app: 0 … 2**31 - 1 in ASCII digits; anything else is a 404 before any SQL.

    Werkzeug's own converter takes any size (PostgreSQL then refuses the INTEGER parameter, SQLite cannot bind
    past 2**63 - 1) and any script's digits ("١" would reach record 1).
    """

    regex = r"[0-9]+"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_RECORD_ID)
        super().__init__(map, *args, **kwargs)

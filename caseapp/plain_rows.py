"""Plain selects of columns, run on the session's connection: the ORM's `Session.execute` adds ~0.1 ms of CPU to each
(its compile state and result layer) and loads no record for them. Changes still pending in the session are written
first when the session autoflushes (not inside `no_autoflush`), as the ORM's would, so a list read after a change in
the same transaction shows it. Only for selects of columns: a select of mapped entities would come back as bare
rows."""
from sqlalchemy import CursorResult, Executable

from caseapp.extensions import db


def plain_rows(statement: Executable, parameters: dict | None = None) -> CursorResult:
    """The result of `statement` (a select of columns, no mapped entity) with `parameters`."""
    session = db.session()
    if session.autoflush:
        session.flush()  # nothing pending: returns at once
    return session.connection().execute(statement, parameters)

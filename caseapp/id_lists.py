"""`column IN (ids)` for long lists of ids, written so that the statement's text does not depend on the list."""
from collections.abc import Collection

from sqlalchemy import Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

from caseapp.extensions import db


def among(column, ids: Collection[int]):
    """`column` is one of `ids`. On PostgreSQL one array parameter (`= ANY(:ids)`): SQLAlchemy and psycopg would
    otherwise write and parse a new statement with one parameter per id (~10 µs each; 500 ids cost ~5 ms)."""
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(None, sorted(ids), type_=ARRAY(Integer)))
    return column.in_(sorted(ids))

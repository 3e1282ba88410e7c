"""What the tally tests check of any tally (caseapp.tallies): its sums against counting the rows themselves."""
import flask_migrate
from sqlalchemy import text

from caseapp.extensions import db
from caseapp.tallies import Tally


class TallyCheck:
    """The truth (a GROUP BY over the counted table) and the tally's sums, for one tally."""

    def __init__(self, tally: Tally, counted_table: str):
        columns, table = ", ".join(tally.key), tally.model.__tablename__
        self.table = table
        self.truth_sql = text(f"SELECT {columns}, count(*) FROM {counted_table} GROUP BY {columns}")
        self.tallied_sql = text(f"SELECT {columns}, sum(delta) FROM {table} GROUP BY {columns} HAVING sum(delta) <> 0")

    def truth(self, connection=None) -> dict:
        return {tuple(row[:-1]): row[-1] for row in (connection or db.session).execute(self.truth_sql)}

    def assert_true(self, connection=None) -> None:
        truth = self.truth(connection)
        assert truth, "nothing to count"
        assert {tuple(row[:-1]): row[-1] for row in (connection or db.session).execute(self.tallied_sql)} == truth

    def rows(self) -> int:
        return db.session.scalar(text(f"SELECT count(*) FROM {self.table}"))

    def assert_filled_by_migration_after(self, revision: str) -> None:
        """Downgrade to `revision` (before the tally), upgrade to the head: the tally is right, one row per key."""
        flask_migrate.downgrade(revision=revision)
        try:
            flask_migrate.upgrade()
        finally:
            db.session.remove()
        self.assert_true()
        assert self.rows() == len(self.truth())

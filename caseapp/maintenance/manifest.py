"""What a backup holds (row counts per table, the audit chain head) and how a restored copy is compared with it."""
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Connection, func, inspect, select, table, text

from caseapp.audit.models import AuditEvent

FORMAT = "caseapp-backup"
VERSION = 1
CHUNK_BYTES = 1024 * 1024  # files are read and copied this much at a time


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in plain words."""


@dataclass(frozen=True)
class Snapshot:
    """Row counts per table, the newest audit event (id and hash) and the schema revision, read in one transaction."""

    row_counts: dict[str, int]
    audit_last_id: int | None
    audit_last_hash: str | None
    revision: str | None

    @property
    def rows(self) -> int:
        """Rows in all tables together."""
        return sum(self.row_counts.values())

    def differences(self, found: "Snapshot") -> list[str]:
        """What differs in `found` (a restored database) from this snapshot (the backup's), one line per problem."""
        problems = [f"table {name} is missing" for name in sorted(self.row_counts.keys() - found.row_counts.keys())]
        problems += [f"table {name} is not in the backup" for name in sorted(found.row_counts.keys()
                                                                               - self.row_counts.keys())]
        problems += [f"table {name} has {found.row_counts[name]} rows, the backup {count}"
                     for name, count in sorted(self.row_counts.items())
                     if name in found.row_counts and found.row_counts[name] != count]
        if (found.audit_last_id, found.audit_last_hash) != (self.audit_last_id, self.audit_last_hash):
            problems.append(f"the newest audit event is {found.audit_last_id} ({found.audit_last_hash}), "
                            f"the backup's {self.audit_last_id} ({self.audit_last_hash})")
        if found.revision != self.revision:
            problems.append(f"schema revision {found.revision}, the backup's {self.revision}")
        return problems


def read_snapshot(connection: Connection) -> Snapshot:
    """Count every table's rows and read the audit chain head, inside the connection's current transaction."""
    names = sorted(inspect(connection).get_table_names())
    counts = {name: connection.execute(select(func.count()).select_from(table(name))).scalar_one() for name in names}
    last = None
    if AuditEvent.__tablename__ in counts:
        last = connection.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc())
                                  .limit(1)).first()
    revision = None
    if "alembic_version" in counts:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return Snapshot(counts, last.id if last else None, last.hash if last else None, revision)


def file_sha256(path: Path) -> str:
    """The file's sha256, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """The backup's description, stored beside the database copy: restore checks the copy and the result against it."""

    backend: str
    database_member: str
    sha256: str
    size: int
    created_at: str
    key_ids: list[str]
    snapshot: Snapshot

    @classmethod
    def describe(cls, backend: str, database_file: Path, snapshot: Snapshot, key_ids: list[str]) -> "Manifest":
        """The manifest of a database copy just made from `snapshot`."""
        return cls(backend, database_file.name, file_sha256(database_file), database_file.stat().st_size,
                   datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), sorted(key_ids), snapshot)

    def to_json(self) -> bytes:
        """The manifest as stored in the backup file."""
        return json.dumps({"format": FORMAT, "version": VERSION, **asdict(self)}, indent=2,
                          sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> "Manifest":
        """Read a stored manifest; BackupError when it is not one this version understands."""
        try:
            values = json.loads(data)
            if values.pop("format") != FORMAT or values.pop("version") != VERSION:
                raise BackupError("the backup's manifest is of an unknown format or version")
            snapshot = Snapshot(**values.pop("snapshot"))
            return cls(snapshot=snapshot, **values)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupError(f"the backup's manifest is unreadable ({error})") from None

"""One chunk of generated history in memory: rows by table with ids handed out ahead, sealed values, case-history
entries and audit events exactly as the services write them (caseapp.cases.history, caseapp.audit.service)."""
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from caseapp.cases.history import created, plain
from caseapp.cases.models import ChangeRecord
from caseapp.cases.services import format_case_number
from caseapp.generate.setting import Staff
from caseapp.security.encryption import Keyring, new_row_key, seal

# The encoders behind `audit.service.record`'s and `history.record_change`'s json.dumps calls (same output; one
# encoder for every call instead of a new one each time).
DETAILS_JSON = json.JSONEncoder(sort_keys=True, default=str)
CHANGES_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class State:
    """Where the generated tables stand: the next id of each, and the case-number counters."""

    next_ids: dict[str, int]
    counters: dict[tuple[str, int], int]  # (commune, local year) → last case sequence used


class Chunk:
    """The rows of one chunk of generated people, by table name, with ids and case numbers following `start`."""

    def __init__(self, start: State, ring: Keyring, timezone: ZoneInfo):
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.events: list[tuple] = []  # (occurred_at, order, actor id, partner id, action, type, id, details)
        self.next_ids = dict(start.next_ids)
        self.counters = dict(start.counters)
        self.ring = ring
        self.timezone = timezone

    def state(self) -> State:
        """Where the tables will stand once this chunk is written."""
        return State(dict(self.next_ids), dict(self.counters))

    def add(self, table: str, row: dict) -> dict:
        """Append a row, giving it the next id of its table when the table has ids; returns the row."""
        if table in self.next_ids:
            row["id"] = self.next_ids[table]
            self.next_ids[table] += 1
        self.rows[table].append(row)
        return row

    def sealed(self, model: type, attribute: str, text: str) -> tuple[str, str]:
        """(row key, envelope) of `text` for a new row of `model`, as its Encrypted `attribute` would seal it."""
        row_key = new_row_key()
        descriptor = getattr(model, attribute)
        return row_key, seal(text, f"{model.__tablename__}.{descriptor.name}:{row_key}", self.ring)

    def audit(self, at: datetime, actor: Staff, action: str, object_type: str | None, object_id: int | None,
              **fields: Any) -> None:
        """An audit event as `audit.service.record` writes it (chained when the chunk is written)."""
        self.events.append((at, len(self.events), actor.id, actor.partner_id, action, object_type, object_id,
                            DETAILS_JSON.encode(fields)))

    def change(self, at: datetime, actor: Staff, case: dict, object_type: str, object_id: int, action: str,
               changes: dict[str, Any], restricted: bool = False) -> None:
        """A history entry of the case, the case touched, and its audit event (`history.record_change`)."""
        row_key, token = self.sealed(ChangeRecord, "changes", CHANGES_JSON.encode(changes))
        self.add("change_record", {"case_id": case["id"], "object_type": object_type, "object_id": object_id,
                                   "action": action, "row_key": row_key, "changes": token, "restricted": restricted,
                                   "actor_id": actor.id, "changed_at": at})
        case["updated_at"] = max(case["updated_at"], at)
        self.audit(at, actor, f"{object_type}.{action}", object_type, object_id, fields=sorted(changes),
                   case_id=case["id"])

    def created(self, at: datetime, actor: Staff, case: dict, object_type: str, row: dict,
                values: dict[str, Any], restricted: bool = False) -> None:
        """The history of a new record of the case: each filled field as None → value (names only if restricted)."""
        changes = created(values)
        self.change(at, actor, case, object_type, row["id"], "create",
                    dict.fromkeys(changes) if restricted else changes, restricted)

    def update(self, at: datetime, actor: Staff, case: dict, object_type: str, row: dict, values: dict[str, Any],
               action: str = "update") -> None:
        """Set `values` on a versioned row and record the fields that changed (`history.apply_changes`)."""
        changes = {name: [plain(row[name]), plain(new)] for name, new in values.items() if row[name] != new}
        if changes:
            row.update(values)
            row["version"] += 1
            self.change(at, actor, case, object_type, row["id"], action, changes)

    def case_number(self, commune_code: str, opened_at: datetime) -> str:
        """The next number `<COMMUNE>-<YEAR>-<NNNNN>` (`cases.services.next_case_number`, local year)."""
        key = (commune_code, opened_at.astimezone(self.timezone).year)
        self.counters[key] = self.counters.get(key, 0) + 1
        return format_case_number(commune_code, key[1], self.counters[key])

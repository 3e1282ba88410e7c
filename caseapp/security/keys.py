"""Key rotation: re-seal every encrypted value with the current key and recompute the blind indexes."""
from dataclasses import dataclass, field

from sqlalchemy import select

from caseapp.audit.service import record
from caseapp.extensions import db
from caseapp.security.encryption import Encrypted, Keyring, key_id_of, keyring

BATCH_SIZE = 500


def encrypted_attributes() -> list[tuple[type, Encrypted]]:
    """Every (model, attribute) pair stored encrypted, found on the mapped classes."""
    found = []
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        found.extend((model, value) for value in vars(model).values() if isinstance(value, Encrypted))
    return sorted(found, key=lambda pair: (pair[0].__tablename__, pair[1].name))


@dataclass
class RotationReport:
    """How many values were re-sealed per table.column, and how many blind indexes were recomputed."""

    resealed: dict[str, int] = field(default_factory=dict)
    reindexed: dict[str, int] = field(default_factory=dict)


def _reseal_model(model: type, attributes: list[Encrypted], ring: Keyring, report: RotationReport) -> None:
    last_id = 0
    while True:
        rows = list(db.session.scalars(select(model).where(model.id > last_id).order_by(model.id).limit(BATCH_SIZE)))
        if not rows:
            return
        for row in rows:
            for attribute in attributes:
                if attribute.reseal(row, ring):
                    key = f"{model.__tablename__}.{attribute.name}"
                    report.resealed[key] = report.resealed.get(key, 0) + 1
        db.session.flush()
        last_id = rows[-1].id
        db.session.expunge_all()  # keep memory flat on large tables


def _reindex(report: RotationReport) -> None:
    from caseapp.beneficiaries.lookup import document_lookup_index, phone_lookup_index
    from caseapp.beneficiaries.models import Beneficiary, IdentityDocument

    for model, index_column, compute in (
        (IdentityDocument, "number_index", lambda row: document_lookup_index(row.number)),
        (Beneficiary, "phone_index", lambda row: phone_lookup_index(row.phone)),
    ):
        changed, last_id = 0, 0
        while rows := list(db.session.scalars(
                select(model).where(model.id > last_id).order_by(model.id).limit(BATCH_SIZE))):
            for row in rows:
                value = compute(row)
                if getattr(row, index_column) != value:
                    setattr(row, index_column, value)
                    changed += 1
            db.session.flush()
            last_id = rows[-1].id
            db.session.expunge_all()
        report.reindexed[f"{model.__tablename__}.{index_column}"] = changed


def rotate_keys(actor=None) -> RotationReport:
    """Re-seal with the current key every value sealed by an older key, recompute blind indexes; audited, not committed.

    `actor` is None when run from the command line. Values sealed by a key no longer in the keyring stop the
    rotation with SealError (nothing is committed): keep the old key listed until the rotation has run.
    """
    ring = keyring()
    report = RotationReport()
    by_model: dict[type, list[Encrypted]] = {}
    for model, attribute in encrypted_attributes():
        by_model.setdefault(model, []).append(attribute)
    for model, attributes in by_model.items():
        _reseal_model(model, attributes, ring, report)
    _reindex(report)
    record(actor, "keys.rotate", None, current_key=ring.current_key_id, resealed=report.resealed,
           reindexed=report.reindexed)
    return report


def key_ids_in_use() -> dict[str, dict[str, int]]:
    """Per table.column, how many values each key id sealed (to check that an old key is no longer needed)."""
    usage: dict[str, dict[str, int]] = {}
    for model, attribute in encrypted_attributes():
        column = getattr(model, attribute.column_attr)
        counts = usage.setdefault(f"{model.__tablename__}.{attribute.name}", {})
        for token in db.session.scalars(select(column).where(column.is_not(None))):
            counts[key_id_of(token)] = counts.get(key_id_of(token), 0) + 1
    return usage

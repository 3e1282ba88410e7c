"""Saved column mappings of an organisation, and the lists of its import batches."""
from flask_babel import gettext as _
from sqlalchemy import select

from caseapp.access.policy import has_permission
from caseapp.audit.service import record
from caseapp.errors import NotAllowed, ValidationFailed
from caseapp.extensions import db
from caseapp.imports.fields import MAX_MAPPING_NAME, mapping_from_json, mapping_to_json
from caseapp.imports.models import ImportBatch, ImportMapping


def _ensure(actor) -> None:
    if not has_permission(actor, "import.manage"):
        raise NotAllowed("import.manage refused")


def saved_mappings(actor) -> list[ImportMapping]:
    """The mappings saved by the actor's organisation, by name."""
    _ensure(actor)
    return list(db.session.scalars(select(ImportMapping).where(ImportMapping.partner_id == actor.partner_id)
                                   .order_by(ImportMapping.name)))


def find_mapping(actor, name: str) -> dict[str, str] | None:
    """The saved mapping `name` of the actor's organisation (field → heading), or None."""
    _ensure(actor)
    saved = db.session.scalar(select(ImportMapping).where(ImportMapping.partner_id == actor.partner_id,
                                                          ImportMapping.name == name.strip()))
    return mapping_from_json(saved.mapping) if saved else None


def save_mapping(actor, name: str, mapping: dict[str, str]) -> ImportMapping:
    """Save `mapping` under `name` for the actor's organisation (replacing one of the same name); audited."""
    _ensure(actor)
    name = " ".join(name.split())
    if not name or len(name) > MAX_MAPPING_NAME or not name.isprintable():
        raise ValidationFailed({"save_as": [_("Give the mapping a name of at most %(count)d characters.",
                                              count=MAX_MAPPING_NAME)]})
    saved = db.session.scalar(select(ImportMapping).where(ImportMapping.partner_id == actor.partner_id,
                                                          ImportMapping.name == name))
    if saved is None:
        saved = ImportMapping(partner_id=actor.partner_id, name=name, created_by_id=actor.id)
        db.session.add(saved)
    saved.mapping = mapping_to_json(mapping)
    db.session.flush()
    record(actor, "import.mapping_save", saved, fields=sorted(mapping))
    return saved


def batches(actor) -> list[ImportBatch]:
    """The import batches of the actor's organisation, newest first."""
    _ensure(actor)
    return list(db.session.scalars(select(ImportBatch).where(ImportBatch.partner_id == actor.partner_id)
                                   .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())))

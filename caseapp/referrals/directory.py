"""The service catalogue and the service directory: loading, searching and admin changes; audited."""
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from caseapp.access.policy import ensure
from caseapp.audit.service import record
from caseapp.errors import ValidationFailed
from caseapp.extensions import db
from caseapp.partners.models import Partner
from caseapp.places.loader import read_reference
from caseapp.places.models import Commune
from caseapp.referrals.models import DirectoryEntry, Service


def load_services() -> int:
    """Create or update the service catalogue from reference/services.csv."""
    rows = read_reference("services.csv")
    for row in rows:
        service = db.session.get(Service, row["code"]) or Service(code=row["code"])
        service.category, service.name_fr, service.name_en = row["category"], row["name_fr"], row["name_en"]
        service.name_ar = row.get("name_ar") or None
        db.session.add(service)
    db.session.flush()
    return len(rows)


def search_directory(service_code: str = "", commune_code: str = "", active_only: bool = True) -> list[DirectoryEntry]:
    """Directory entries matching the filters, by commune then service."""
    query = select(DirectoryEntry).options(joinedload(DirectoryEntry.partner), joinedload(DirectoryEntry.service),
                                           joinedload(DirectoryEntry.commune))
    if service_code:
        query = query.where(DirectoryEntry.service_code == service_code)
    if commune_code:
        query = query.where(DirectoryEntry.commune_code == commune_code)
    if active_only:
        query = query.where(DirectoryEntry.active.is_(True))
    return list(db.session.scalars(query.order_by(DirectoryEntry.commune_code, DirectoryEntry.service_code)))


def add_entry(actor, *, partner_id: int | None, service_code: str, commune_code: str, contact: str, hours: str,
              languages: str, eligibility: str) -> DirectoryEntry:
    """An admin records that a partner offers a service in a commune."""
    ensure(actor, "directory.manage")
    errors = {}
    if not partner_id or db.session.get(Partner, partner_id) is None:
        errors["partner_id"] = [_("Choose a partner.")]
    if db.session.get(Service, service_code or "") is None:
        errors["service_code"] = [_("Choose a service.")]
    if db.session.get(Commune, commune_code or "") is None:
        errors["commune_code"] = [_("Choose a commune from the list.")]
    if errors:
        raise ValidationFailed(errors)
    entry = DirectoryEntry(partner_id=partner_id, service_code=service_code, commune_code=commune_code,
                           contact=contact.strip(), hours=hours.strip(), languages=languages.strip(),
                           eligibility=eligibility.strip())
    db.session.add(entry)
    db.session.flush()
    record(actor, "directory.add", entry, partner_id=partner_id, service_code=service_code, commune=commune_code)
    return entry


def set_entry_active(actor, entry: DirectoryEntry, active: bool) -> None:
    """Withdraw an entry from the directory, or bring it back."""
    ensure(actor, "directory.manage")
    entry.active = active
    record(actor, "directory.activate" if active else "directory.withdraw", entry)


def services() -> list[Service]:
    """The catalogue, by area then code."""
    return list(db.session.scalars(select(Service).order_by(Service.category, Service.code)))

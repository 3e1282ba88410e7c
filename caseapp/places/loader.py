"""Loading the reference data the app ships (regions, communes, flags, partners) from caseapp/reference."""
import csv
from pathlib import Path

from sqlalchemy import select

from caseapp.beneficiaries.models import VulnerabilityFlag
from caseapp.extensions import db
from caseapp.partners.models import Partner
from caseapp.places.models import Commune, Province, Region

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"


def read_reference(name: str) -> list[dict[str, str]]:
    """Rows of one shipped reference CSV."""
    with open(REFERENCE_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _upsert(model: type, key: dict, values: dict):
    row = db.session.scalars(select(model).filter_by(**key)).first()
    if row is None:
        row = model(**key, **values)
        db.session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    return row


def load_places(communes_file: str = "service_point_communes.csv") -> int:
    """Create or update regions, the provinces of the listed communes, and the communes; returns communes."""
    for row in read_reference("regions.csv"):
        _upsert(Region, {"code": row["code"]}, {k: row[k] for k in ("name_fr", "name_ar", "name_en")})
    db.session.flush()
    communes = read_reference(communes_file)
    for row in communes:
        province = _upsert(Province, {"region_code": row["region_code"], "name_fr": row["province_fr"]},
                           {"name_ar": row["province_ar"]})
        db.session.flush()
        _upsert(Commune, {"code": row["code"]},
                {"name_fr": row["name_fr"], "name_ar": row["name_ar"], "province_id": province.id})
    db.session.flush()
    return len(communes)


def load_flags() -> int:
    """Create or update the vulnerability flags."""
    rows = read_reference("vulnerability_flags.csv")
    for row in rows:
        _upsert(VulnerabilityFlag, {"code": row["code"]},
                {"name_fr": row["name_fr"], "name_en": row["name_en"], "name_ar": row.get("name_ar") or None,
                 "restricted": row["restricted"] == "1"})
    db.session.flush()
    return len(rows)


def load_partners(file: str = "partners_demo.csv") -> list[Partner]:
    """Create or update partner organisations from a CSV (code, name, type)."""
    partners = [_upsert(Partner, {"code": row["code"]}, {"name": row["name"], "kind": row["type"]})
                for row in read_reference(file)]
    db.session.flush()
    return partners


def load_reference_data() -> None:
    """Everything an empty database needs before the first user: places, flags and the service catalogue."""
    from caseapp.referrals.directory import load_services

    load_places()
    load_flags()
    load_services()

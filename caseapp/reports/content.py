"""A period's report as published content: disclosure control applied, suppressed values replaced by null.

The content is a JSON-able dict, the only thing pages, exports and published versions read:
    {"period", "first_day", "last_day", "threshold", "excluded_rounded",
     "tables": [{"indicator", "dimensions", "domains", "cells": [[[[dimension, value], ...], count or null], ...]}],
     "rates": [{"indicator", "key": [[dimension, value], ...], "value": number or null}]}
A suppressed count never leaves `build_content`: not in the content, not in a published version, not in an export.
"""
import hashlib
import json

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from caseapp.audit.service import record
from caseapp.extensions import db
from caseapp.reports.disclosure import protect
from caseapp.reports.indicators import build_indicators
from caseapp.reports.models import PublishedReport
from caseapp.reports.periods import parse_period

ROUNDING_BASE = 10


def rounded(count: int, base: int = ROUNDING_BASE) -> str:
    """People left out, as a rounded figure: '0', 'fewer than 10', or a multiple of 10 ('about 30')."""
    if count == 0:
        return "0"
    if count < base:
        return f"<{base}"
    return f"~{base * round(count / base)}"


def build_content(period_label: str, threshold: int) -> dict:
    """Compute the period's indicators and apply disclosure control; raises ValueError for a malformed period."""
    period = parse_period(period_label)
    data = build_indicators(period)
    protection = protect(data.tables, threshold, data.rates, forced=_carried_cells(period.label, data.tables, threshold))
    return {
        "period": period.label,
        "first_day": period.first_day.isoformat(),
        "last_day": period.last_day.isoformat(),
        "threshold": threshold,
        "excluded_rounded": rounded(data.excluded_without_consent),
        "tables": [{
            "indicator": table.indicator,
            "dimensions": list(table.dimensions),
            "domains": {dimension: list(values) for dimension, values in table.domains.items()},
            "cells": [[[list(pair) for pair in key], count if protection.published(table.indicator, key) else None]
                      for key, count in sorted(table.counts.items(), key=lambda item: _order(table, item[0]))],
        } for table in data.tables],
        "rates": [{"indicator": rate.indicator, "key": [list(pair) for pair in rate.key],
                   "value": _published_rate(rate) if protection.rate_published(rate) else None}
                  for rate in data.rates],
    }


def _carried_cells(period_label: str, tables, threshold: int) -> set[tuple[str, tuple]]:
    """Cells a new version must hide: those the latest published version hid, and those that changed since by
    1..k-1 (subtracting the two versions would otherwise show, e.g., the one person who withdrew consent)."""
    latest = db.session.scalar(select(PublishedReport).where(PublishedReport.period == period_label)
                               .order_by(PublishedReport.version.desc()).limit(1))
    if latest is None:
        return set()
    before = {(table["indicator"], tuple(tuple(pair) for pair in key)): value
              for table in published_content(latest)["tables"] for key, value in table["cells"]}
    carried = set()
    for table in tables:
        for key, count in table.counts.items():
            cell = (table.indicator, key)
            if cell in before and (before[cell] is None or 1 <= abs(count - before[cell]) < threshold):
                carried.add(cell)
    return carried


def _published_rate(rate) -> float | None:
    """Medians in whole days (a median of an odd count is one referral's own duration); shares as they are."""
    if rate.value is not None and rate.indicator.startswith("referral_median_"):
        return float(round(rate.value))
    return rate.value


def _order(table, key) -> tuple:
    """Inner cells in domain order, each dimension's total after its values."""
    fixed = dict(key)
    return tuple((0, table.domains[dimension].index(fixed[dimension])) if dimension in fixed else (1, 0)
                 for dimension in table.dimensions)


def content_json(content: dict) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def publish(actor, content: dict, attempts: int = 5) -> PublishedReport:
    """Store `content` as the next version of its period's report; versions are never changed. Audited.

    Two officers publishing the same period at once both read the same last version: the unique (period,
    version) constraint refuses the second insert, which then takes the following number.
    """
    text = content_json(content)
    for attempt in range(attempts):
        latest = db.session.scalar(select(func.max(PublishedReport.version)).where(
            PublishedReport.period == content["period"])) or 0
        report = PublishedReport(period=content["period"], version=latest + 1, threshold=content["threshold"],
                                 content=text, content_sha256=hashlib.sha256(text.encode()).hexdigest(),
                                 published_by_id=getattr(actor, "id", None))
        try:
            with db.session.begin_nested():
                db.session.add(report)
        except IntegrityError:
            if attempt == attempts - 1:
                raise
            continue
        record(actor, "report.publish", report, period=report.period, version=report.version)
        return report
    raise AssertionError("unreachable")


def published_content(report: PublishedReport) -> dict:
    return json.loads(report.content)

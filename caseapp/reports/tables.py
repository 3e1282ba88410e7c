"""The shape every indicator table takes, shared by the indicator builders, disclosure control and exports.

A table counts one indicator broken down by zero, one or two dimensions. Its cells are keyed by the dimension
values they fix: `()` is the grand total, `(("sex", "F"),)` the total of women over every other dimension of the
table, `(("region", "01"), ("sex", "F"))` one inner cell. Keys are tuples of (dimension, value) pairs sorted by
dimension name, so the same cell has the same key in every table of the same indicator: a report's tables of one
indicator share their totals (e.g. "registered by region × sex" and "registered by region × age group" share
"registered in region 01"), and that sharing is what disclosure control must see.
"""
from dataclasses import dataclass, field

CellKey = tuple[tuple[str, str], ...]

DIMENSIONS = ("region", "commune", "sex", "age_group", "profile", "service_area", "service", "status", "partner",
              "reason", "flag")
AGE_GROUPS = ("0-4", "5-11", "12-17", "18-59", "60+")


def cell_key(**values: str) -> CellKey:
    """cell_key(sex="F", region="01") → (("region", "01"), ("sex", "F"))."""
    return tuple(sorted(values.items()))


@dataclass(frozen=True)
class Table:
    """Counts of one indicator by `dimensions` (0-2), with every total: each combination of each subset of them."""

    indicator: str
    dimensions: tuple[str, ...]
    domains: dict[str, tuple[str, ...]]  # every value of each dimension, in display order
    counts: dict[CellKey, int] = field(default_factory=dict)

    def value(self, **values: str) -> int:
        return self.counts[cell_key(**values)]


@dataclass(frozen=True)
class Rate:
    """A derived figure (a share, a rate or a median) and the count it rests on; hidden when that base is below k."""

    indicator: str
    key: CellKey
    value: float | None
    base: int

"""Disclosure control for published reports: which counts and rates may be shown without revealing a small count.

Rule. A report must never let a reader learn a count from 1 to k-1 (k = `REPORT_THRESHOLD`, 5 by default), read
directly, worked out by subtraction from totals, from other breakdowns of the same indicator, or from other
tables of the same report. Zeros are published: 0 is not a small count (but a published zero is a fact the
reader can use, and the audit uses it too).

Model. All tables of one indicator are one system of variables: a cell is identified by (indicator, CellKey),
so "registered in region 01" is the same variable in "region × sex" and in "region × age group" and gets the
same decision in both. Each table states its additivity relations: every total equals the sum of its parts
along any one of the table's dimensions. A dimension where one person may count several times (by default
"flag") may have a total below the sum of its parts; such relations become max(parts) ≤ total ≤ Σ parts.
Different indicators are not related to each other.

Method.
1. Primary suppression: every count from 1 to k-1 is hidden.
2. Secondary suppression, repeated until the audit finds nothing:
   a. a hidden cell alone among the cells of an exact relation is pinned (total minus the published parts): one
      more cell of that relation is hidden;
   b. otherwise the audit (`disclosure_audit.py`) computes, for each hidden cell, its minimum and maximum over all
      non-negative integer values of the hidden cells that satisfy every relation with the published cells
      fixed (linear programming with HiGHS, per connected group of hidden cells, with integrality enforced when
      the LP optimum is fractional). A cell is exposed when that range is a single value or lies within 1..k-1;
      for the first exposed cell one more cell is hidden in a relation that contains it.
   The cell hidden is chosen among the published cells of the relation(s) concerned, in this order: never the
   grand total if anything else will do; non-zero counts before zeros; inner cells before totals; cells whose
   hiding exposes no new relation (a relation that already hides another cell) first; then the smallest count;
   then the first in table order. Everything is deterministic: the same tables give the same result.
   A range only widens when more cells are hidden, so a cell found safe stays safe and is not audited again;
   feasible integer points found by the solver are kept as witnesses that prove other cells safe without
   another LP.
3. Rates, shares and medians (`Rate`) are hidden when their base is below k, or when a count they rest on is
   hidden: by default the cell (rate.indicator, rate.key) when that indicator is also a counted table; pass
   `rate_sources={"acceptance_rate": ("referrals_answered", "referrals_accepted")}` to name the counts a rate
   rests on (its base, and for a share its numerator).

Limits. Only relations stated by the tables are modelled: if a report publishes "by region" and "by commune"
without a region × commune table, the nesting of communes in regions is not known to the audit; publish the
region × commune table (or its relations) when both appear. Three tables of one indicator whose dimensions form
a cycle (A×B, B×C, A×C) imply a hidden three-way table whose non-negativity can narrow ranges further than the
modelled relations do. A share published with its base reveals its numerator (share × base): name the
numerator in `rate_sources` and publish it as a table cell so it is protected too.
"""
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _

from caseapp.reports.disclosure_audit import GroupProgramme, Model, exposed
from caseapp.reports.tables import CellKey, Rate, Table

Cell = tuple[str, CellKey]
PRIMARY, SECONDARY = "primary", "secondary"  # why a count is hidden
CARRIED = "carried"  # hidden because an earlier version of the report hid it, or because it changed by 1..k-1
SMALL_BASE, HIDDEN_SOURCE, SMALL_PART = "small_base", "hidden_source", "small_part"  # why a rate is hidden
# Shares (a count over a base): published with their base they reveal their numerator, value × base.
SHARES = frozenset({"referral_acceptance_rate", "referral_answered_within_deadline"})
MULTI_VALUED = ("flag",)


@dataclass(frozen=True)
class Protection:
    """The decision for every count cell and every rate of a report."""

    k: int
    cells: dict[Cell, str | None]  # None: published; else PRIMARY or SECONDARY
    rates: dict[Rate, str | None]  # None: published; else SMALL_BASE or HIDDEN_SOURCE

    def reason(self, indicator: str, key: CellKey) -> str | None:
        return self.cells[(indicator, key)]

    def published(self, indicator: str, key: CellKey) -> bool:
        return self.cells[(indicator, key)] is None

    def shown(self, table: Table, key: CellKey) -> int | None:
        """The count to print, or None when it is suppressed."""
        return table.counts[key] if self.published(table.indicator, key) else None

    def rate_published(self, rate: Rate) -> bool:
        return self.rates[rate] is None

    @property
    def suppressed(self) -> dict[Cell, str]:
        return {cell: why for cell, why in self.cells.items() if why is not None}


def protect(tables: Iterable[Table], k: int, rates: Iterable[Rate] = (), *,
            rate_sources: Mapping[str, Collection[str]] | None = None,
            multi_valued: Collection[str] = MULTI_VALUED, forced: Collection[Cell] = ()) -> Protection:
    """Primary and secondary suppression for a whole report (see the module docstring).

    `forced` cells are hidden whatever their value (CARRIED), then protected like the others: a new version of a
    published report keeps hiding what the earlier one hid, and hides what changed by 1..k-1 since."""
    if k < 1:
        raise ValueError("the threshold k must be at least 1")
    cells: dict[Cell, str | None] = {}
    for indicator, model in _models(tables, multi_valued).items():
        reasons = _protect_indicator(model, k, {model.index[key] for name, key in forced
                                                if name == indicator and key in model.index})
        for number, key in enumerate(model.keys):
            cells[(indicator, key)] = reasons.get(number)
    decisions: dict[Rate, str | None] = {}
    for rate in rates:
        sources = (rate_sources or {}).get(rate.indicator, (rate.indicator,))
        if rate.base < k:
            decisions[rate] = SMALL_BASE
        elif rate.indicator in SHARES and rate.value is not None and _small_part(rate, k):
            decisions[rate] = SMALL_PART
        elif any(cells.get((source, rate.key)) is not None for source in sources):
            decisions[rate] = HIDDEN_SOURCE
        else:
            decisions[rate] = None
    return Protection(k, cells, decisions)


def _small_part(rate: Rate, k: int) -> bool:
    """A share whose numerator, or the rest of its base, is 1..k-1: value × base would give that count away."""
    hits = round(rate.value * rate.base)
    return 1 <= hits < k or 1 <= rate.base - hits < k


def feasible_ranges(tables: Iterable[Table], suppressed: Iterable[Cell], *,
                    multi_valued: Collection[str] = MULTI_VALUED) -> dict[Cell, tuple[int, int | float]]:
    """The attack: each suppressed cell's exact (min, max) given every other cell of `tables` (max may be inf)."""
    models = _models(tables, multi_valued)
    hidden: dict[str, set[int]] = {indicator: set() for indicator in models}
    for indicator, key in suppressed:
        if indicator not in models or key not in models[indicator].index:
            raise KeyError((indicator, key))
        hidden[indicator].add(models[indicator].index[key])
    ranges = {}
    for indicator, model in models.items():
        groups = model.groups(hidden[indicator])
        programmes: dict[tuple[int, ...], GroupProgramme] = {}
        for cell in sorted(hidden[indicator]):
            programme = programmes.setdefault(groups[cell], GroupProgramme(model, groups[cell]))
            low, high = programme.bound(cell, maximise=False)[0], programme.bound(cell, maximise=True)[0]
            ranges[(indicator, model.keys[cell])] = (low, high)
    return ranges


def method_text(k: int) -> str:
    """The method in one paragraph, for report footers and export notes."""
    return _("Counts from 1 to %(small)d are not shown, and further counts are hidden so that none of them can be "
             "worked out, exactly or to within 1 to %(small)d, from the totals, the other breakdowns or the other "
             "tables of this report. Zeros are shown. Rates and medians are shown only when they rest on at least %(k)d "
             "cases, and a share only when neither the cases it counts nor the others number 1 to %(small)d. "
             "Medians are rounded to whole days.", small=k - 1, k=k)


def _models(tables: Iterable[Table], multi_valued: Collection[str]) -> dict[str, Model]:
    by_indicator: dict[str, list[Table]] = {}
    for table in tables:
        by_indicator.setdefault(table.indicator, []).append(table)
    return {indicator: Model(indicator, group, frozenset(multi_valued)) for indicator, group in by_indicator.items()}


def _protect_indicator(model: Model, k: int, forced: set[int] = frozenset()) -> dict[int, str]:
    reasons = {cell: CARRIED for cell in forced}
    reasons.update({cell: PRIMARY for cell, value in enumerate(model.values) if 1 <= value <= k - 1})
    hidden = set(reasons)
    low, high = list(model.values), list(model.values)  # witnesses: values each cell is known to be able to take
    safe: set[int] = set()
    while True:
        cell, relations = _alone(model, hidden)
        if cell is None:
            cell = _first_exposed(model, hidden, k, low, high, safe)
            if cell is None:
                return reasons
            relations = model.relations_of[cell]
        partner = _partner(model, hidden, cell, relations)
        hidden.add(partner)
        reasons[partner] = SECONDARY


def _alone(model: Model, hidden: set[int]) -> tuple[int | None, list[int]]:
    """The first hidden cell that is the only hidden cell of an exact relation (so pinned), and that relation."""
    for number, relation in enumerate(model.relations):
        if relation.exact:
            members = [c for c in (relation.total, *relation.parts) if c in hidden]
            if len(members) == 1:
                return members[0], [number]
    return None, []


def _first_exposed(model: Model, hidden: set[int], k: int, low: list, high: list, safe: set[int]) -> int | None:
    groups = model.groups(hidden)
    programmes: dict[tuple[int, ...], GroupProgramme] = {}
    for cell in sorted(hidden - safe):
        for maximise in (True, False):
            if not exposed(low[cell], high[cell], k):
                break
            programme = programmes.setdefault(groups[cell], GroupProgramme(model, groups[cell]))
            bound, point = programme.bound(cell, maximise)
            if point is None:  # unbounded above: never a single value, never within 1..k-1
                high[cell] = bound
                break
            for member, value in zip(programme.cells, point):
                low[member], high[member] = min(low[member], value), max(high[member], value)
        if exposed(low[cell], high[cell], k):
            return cell  # both exact bounds are now in low/high
        safe.add(cell)
    return None


def _partner(model: Model, hidden: set[int], cell: int, relations: list[int]) -> int:
    """The published cell to hide so that `cell` is no longer exposed (order in the module docstring)."""
    scopes = (relations, sorted({r for c in model.groups(hidden)[cell] for r in model.relations_of[c]}),
              range(len(model.relations)))
    for scope in scopes:
        candidates = {c for r in scope for c in (model.relations[r].total, *model.relations[r].parts)} - hidden
        if candidates:
            return min(candidates, key=lambda c: _cost(model, hidden, c))
    raise RuntimeError(f"{model.indicator}: no published cell left to protect {model.keys[cell]}")


def _cost(model: Model, hidden: set[int], cell: int) -> tuple:
    value = model.values[cell]
    newly_alone = sum(1 for r in model.relations_of[cell] if model.relations[r].exact
                      and not any(c in hidden for c in (model.relations[r].total, *model.relations[r].parts)))
    return model.keys[cell] == (), value == 0, model.is_total[cell], newly_alone, value, cell

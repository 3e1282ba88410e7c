"""The attacker's view of a report: additivity relations between cells, and the feasible range of hidden cells.

Used by `disclosure.py`. One `Model` per indicator holds every distinct cell of that indicator's tables (a cell
shared by several tables is one variable) and every relation "total = sum of its parts along one dimension"
those tables state. `Model.range(cell, hidden)` is what a reader can learn about a hidden cell: its minimum and
maximum over every non-negative integer assignment of the hidden cells that agrees with the published ones.
It is computed per connected group of hidden cells (cells joined by a relation), with a linear programme solved
by HiGHS; when the LP optimum is not at an integer point, the same programme is solved with integrality, so
the bounds are exact for integer counts.
"""
import math
from dataclasses import dataclass
from itertools import combinations, product

import numpy as np
from scipy.optimize import linprog

from caseapp.reports.tables import CellKey, Table

INTEGRAL = 1e-6  # a solution coordinate this close to an integer is that integer


@dataclass(frozen=True)
class Relation:
    """total = Σ parts (exact), or, for a multi-valued dimension, max(parts) ≤ total ≤ Σ parts."""

    total: int
    parts: tuple[int, ...]
    exact: bool


def table_keys(table: Table) -> list[CellKey]:
    """Every cell key of a table: the grand total, then the totals of one dimension, then the inner cells."""
    keys = []
    for size in range(len(table.dimensions) + 1):
        for fixed in combinations(table.dimensions, size):
            for values in product(*(table.domains[d] for d in fixed)):
                keys.append(tuple(sorted(zip(fixed, values))))
    return keys


class Model:
    """The cells and relations of one indicator, across all of its tables."""

    def __init__(self, indicator: str, tables: list[Table], multi_valued: frozenset[str]):
        self.indicator = indicator
        self.keys: list[CellKey] = []
        self.index: dict[CellKey, int] = {}
        self.values: list[int] = []
        self.relations: list[Relation] = []
        seen: set[tuple[int, frozenset[int]]] = set()
        for table in tables:
            self._add_cells(table)
            for relation in self._table_relations(table, multi_valued):
                signature = (relation.total, frozenset(relation.parts))
                if signature not in seen:
                    seen.add(signature)
                    self.relations.append(relation)
        self.relations_of: list[list[int]] = [[] for _ in self.keys]
        self.is_total = [False] * len(self.keys)
        for number, relation in enumerate(self.relations):
            self.is_total[relation.total] = True
            for cell in (relation.total, *relation.parts):
                self.relations_of[cell].append(number)

    def _add_cells(self, table: Table) -> None:
        if len(table.dimensions) > 2 or len(set(table.dimensions)) != len(table.dimensions):
            raise ValueError(f"{table.indicator}: a table has 0, 1 or 2 distinct dimensions")
        keys = table_keys(table)
        unexpected = set(table.counts) - set(keys)
        if unexpected:
            raise ValueError(f"{table.indicator}: cells outside the table's domains: {sorted(unexpected)[:3]}")
        for key in keys:
            if key not in table.counts:
                raise ValueError(f"{table.indicator}: missing cell {key}")
            count = table.counts[key]
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"{table.indicator}: cell {key} is not a non-negative integer: {count!r}")
            if key in self.index:
                if self.values[self.index[key]] != count:
                    raise ValueError(f"{table.indicator}: cell {key} differs between tables")
                continue
            self.index[key] = len(self.keys)
            self.keys.append(key)
            self.values.append(count)

    def _table_relations(self, table: Table, multi_valued: frozenset[str]) -> list[Relation]:
        relations = []
        for size in range(len(table.dimensions)):
            for fixed in combinations(table.dimensions, size):
                for along in (d for d in table.dimensions if d not in fixed):
                    for values in product(*(table.domains[d] for d in fixed)):
                        base = dict(zip(fixed, values))
                        total = self.index[tuple(sorted(base.items()))]
                        parts = tuple(self.index[tuple(sorted({**base, along: v}.items()))]
                                      for v in table.domains[along])
                        relations.append(self._relation(total, parts, along in multi_valued))
        return relations

    def _relation(self, total: int, parts: tuple[int, ...], multi_valued: bool) -> Relation:
        value, values = self.values[total], [self.values[p] for p in parts]
        if value == sum(values):
            return Relation(total, parts, exact=True)  # additive data: assume the reader knows it is
        if multi_valued and max(values, default=0) <= value <= sum(values):
            return Relation(total, parts, exact=False)
        raise ValueError(f"{self.indicator}: total {self.keys[total]} = {value} does not match its parts")

    def groups(self, hidden: set[int]) -> dict[int, tuple[int, ...]]:
        """Each hidden cell → the sorted hidden cells it is connected to through relations (itself included)."""
        parent = {cell: cell for cell in hidden}

        def root(cell: int) -> int:
            while parent[cell] != cell:
                parent[cell] = parent[parent[cell]]
                cell = parent[cell]
            return cell

        for relation in self.relations:
            members = [c for c in (relation.total, *relation.parts) if c in hidden]
            for other in members[1:]:
                parent[root(other)] = root(members[0])
        members: dict[int, list[int]] = {}
        for cell in sorted(hidden):
            members.setdefault(root(cell), []).append(cell)
        return {cell: tuple(group) for group in members.values() for cell in group}


class GroupProgramme:
    """The LP of one connected group of hidden cells: published cells enter as constants."""

    def __init__(self, model: Model, group: tuple[int, ...]):
        self.cells = group
        position = {cell: i for i, cell in enumerate(group)}
        touching = sorted({r for cell in group for r in model.relations_of[cell]})
        eq_rows, eq_rhs, ub_rows, ub_rhs = [], [], [], []

        def add(terms: list[tuple[int, int]], rows: list, rhs: list) -> None:
            # Σ coefficient·cell (= or ≤) 0, published cells moved to the right-hand side.
            row, constant = np.zeros(len(group)), 0.0
            for cell, coefficient in terms:
                if cell in position:
                    row[position[cell]] += coefficient
                else:
                    constant -= coefficient * model.values[cell]
            if row.any():
                rows.append(row)
                rhs.append(constant)

        for number in touching:
            relation = model.relations[number]
            terms = [(relation.total, 1)] + [(part, -1) for part in relation.parts]
            if relation.exact:
                add(terms, eq_rows, eq_rhs)
            else:
                add(terms, ub_rows, ub_rhs)  # total ≤ Σ parts
                for part in relation.parts:
                    add([(part, 1), (relation.total, -1)], ub_rows, ub_rhs)  # part ≤ total
        self.a_eq = np.array(eq_rows) if eq_rows else None
        self.b_eq = np.array(eq_rhs) if eq_rows else None
        self.a_ub = np.array(ub_rows) if ub_rows else None
        self.b_ub = np.array(ub_rhs) if ub_rows else None

    def bound(self, cell: int, maximise: bool) -> tuple[int | float, np.ndarray | None]:
        """The exact integer min (or max) of `cell`, and an integer feasible point attaining it (None if unbounded)."""
        objective = np.zeros(len(self.cells))
        objective[self.cells.index(cell)] = -1.0 if maximise else 1.0  # linprog minimises
        result = self._solve(objective, integral=False)
        if result.status == 3:
            return math.inf, None
        if np.abs(result.x - np.round(result.x)).max() > INTEGRAL:
            result = self._solve(objective, integral=True)
        point = np.round(result.x).astype(int)
        return int(point[self.cells.index(cell)]), point

    def _solve(self, objective: np.ndarray, integral: bool):
        result = linprog(objective, A_ub=self.a_ub, b_ub=self.b_ub, A_eq=self.a_eq, b_eq=self.b_eq,
                         bounds=(0, None), method="highs", integrality=1 if integral else None)
        if result.status not in (0, 3):
            raise RuntimeError(f"disclosure audit: linear programme failed ({result.message})")
        return result


def exposed(low: float, high: float, k: int) -> bool:
    """A hidden cell whose range is one value, or lies within 1..k-1, discloses it."""
    return low == high or (low >= 1 and high <= k - 1)

"""Disclosure control: hand-made tables with known answers, and an independent LP attack on random tables.

The attack here is written from scratch (it does not call the module's audit): every suppressed cell is a
non-negative integer variable, every total equals the sum of its parts along each dimension of each table, the
published cells are fixed, and scipy's HiGHS (with integrality) finds each suppressed cell's min and max.
"""
import math
from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from caseapp.reports.disclosure import (HIDDEN_SOURCE, PRIMARY, SECONDARY, SMALL_BASE, feasible_ranges,
                                        method_text, protect)
from caseapp.reports.tables import Rate, Table, cell_key


def two_way(indicator, inner, rows=("region", None), columns=("sex", None)):
    """A full table (inner cells, margins, grand total) from a matrix of inner counts."""
    (d1, values1), (d2, values2) = rows, columns
    values1 = values1 or tuple(f"r{i + 1}" for i in range(len(inner)))
    values2 = values2 or tuple(f"c{j + 1}" for j in range(len(inner[0])))
    counts = {(): sum(map(sum, inner))}
    for i, a in enumerate(values1):
        counts[cell_key(**{d1: a})] = sum(inner[i])
        for j, b in enumerate(values2):
            counts[cell_key(**{d1: a, d2: b})] = inner[i][j]
    for j, b in enumerate(values2):
        counts[cell_key(**{d2: b})] = sum(row[j] for row in inner)
    return Table(indicator, (d1, d2), {d1: values1, d2: values2}, counts)


def inner(i, j):
    return cell_key(region=f"r{i}", sex=f"c{j}")


# --- the independent attack -------------------------------------------------------------------------------------

def relations(table):
    """(total key, part keys) for every total of a table of 0-2 dimensions."""
    found = []
    dims = table.dimensions
    for along in dims:
        found.append(((), [cell_key(**{along: v}) for v in table.domains[along]]))
    if len(dims) == 2:
        for fixed, along in ((dims[0], dims[1]), (dims[1], dims[0])):
            for v in table.domains[fixed]:
                found.append((cell_key(**{fixed: v}), [cell_key(**{fixed: v, along: w}) for w in table.domains[along]]))
    return found


def attack(tables, suppressed):
    """{(indicator, key): (min, max)} for every suppressed cell, by integer linear programming."""
    values = {}
    for table in tables:
        for key, count in table.counts.items():
            assert values.setdefault((table.indicator, key), count) == count
    hidden = sorted(suppressed)
    position = {cell: i for i, cell in enumerate(hidden)}
    rows, rhs = [], []
    for table in tables:
        for total, parts in relations(table):
            row, constant = np.zeros(len(hidden)), 0.0
            for key, sign in [(total, 1)] + [(part, -1) for part in parts]:
                cell = (table.indicator, key)
                if cell in position:
                    row[position[cell]] += sign
                else:
                    constant -= sign * values[cell]
            if row.any():
                rows.append(row)
                rhs.append(constant)
            else:
                assert constant == 0
    ranges = {}
    for cell in hidden:
        bounds = []
        for sign in (1, -1):
            c = np.zeros(len(hidden))
            c[position[cell]] = sign
            for integrality in (0, 1):  # the relaxation first: HiGHS's MIP does not tell unbounded from infeasible
                result = linprog(c, A_eq=np.array(rows) if rows else None, b_eq=np.array(rhs) if rows else None,
                                 bounds=(0, None), method="highs", integrality=integrality)
                assert result.status in (0, 3), result.message
                if result.status == 3:
                    break
            bounds.append(math.inf if result.status == 3 else round(sign * result.fun))
        ranges[cell] = tuple(bounds)
    return ranges


def assert_protected(tables, protection, k):
    for table in tables:
        for key, count in table.counts.items():
            if protection.published(table.indicator, key):
                assert not 1 <= count <= k - 1, (table.indicator, key, count)
    for cell, (low, high) in attack(tables, protection.suppressed).items():
        assert low != high, (cell, low, high)
        assert not (low >= 1 and high <= k - 1), (cell, low, high)


# --- hand-made tables ---------------------------------------------------------------------------------------------

def test_a_single_small_cell_gets_the_cheapest_rectangle():
    table = two_way("registered", [[2, 9, 12], [8, 20, 30], [15, 7, 40]])
    protection = protect([table], 5)
    assert protection.suppressed == {("registered", inner(1, 1)): PRIMARY, ("registered", inner(1, 2)): SECONDARY,
                                     ("registered", inner(2, 1)): SECONDARY, ("registered", inner(2, 2)): SECONDARY}
    assert protection.shown(table, inner(1, 1)) is None
    assert protection.shown(table, cell_key(region="r1")) == 23
    assert_protected([table], protection, 5)


def test_a_row_with_two_small_cells():
    table = two_way("registered", [[2, 3, 20, 30], [6, 8, 25, 25], [9, 11, 30, 30]])
    protection = protect([table], 5)
    assert protection.suppressed == {("registered", inner(1, 1)): PRIMARY, ("registered", inner(1, 2)): PRIMARY,
                                     ("registered", inner(2, 1)): SECONDARY, ("registered", inner(2, 2)): SECONDARY}
    assert feasible_ranges([table], protection.suppressed)[("registered", inner(1, 1))] == (0, 5)
    assert_protected([table], protection, 5)


def test_two_hidden_cells_in_every_row_and_column_are_not_enough():
    # The small cells make two rectangles joined by r1c3: every row and column hides at least two cells, yet
    # r1c3 is a bridge between the two groups and equals (rows r1+r2) - (columns c1+c2) of what is hidden.
    table = two_way("registered", [[2, 3, 4, 10], [3, 2, 10, 10], [10, 10, 2, 3], [10, 10, 3, 2]])
    primaries = {("registered", inner(i, j)) for i, j in product(range(1, 5), repeat=2)
                 if table.counts[inner(i, j)] < 5}
    assert feasible_ranges([table], primaries)[("registered", inner(1, 3))] == (4, 4)
    assert attack([table], primaries)[("registered", inner(1, 3))] == (4, 4)
    protection = protect([table], 5)
    assert {c for c, why in protection.suppressed.items() if why == PRIMARY} == primaries
    assert [why for why in protection.suppressed.values()].count(SECONDARY) == 1
    assert_protected([table], protection, 5)


def test_tables_of_one_indicator_sharing_totals_are_protected_together():
    regions = ("region", ("01", "02", "03"))
    by_sex = two_way("registered", [[9, 9], [7, 9], [3, 1]], regions, ("sex", ("F", "M")))
    by_age = two_way("registered", [[2, 0, 16], [5, 5, 6], [0, 3, 1]], regions,
                     ("age_group", ("0-4", "5-11", "18-59")))
    # Protected one table at a time, region 01's total is published by one table and region 02's by the other:
    # together with the grand total they give region 03 (4) and then 0-4 year-olds in region 01 (2).
    alone = [protect([by_sex], 5), protect([by_age], 5)]
    # A cell is hidden in the pair only if neither table publishes it (absent from a table = not published there).
    hidden = {cell for p in alone for cell in p.suppressed
              if all(other.cells.get(cell, SECONDARY) is not None for other in alone)}
    ranges = attack([by_sex, by_age], hidden)
    assert ranges[("registered", cell_key(region="03"))] == (4, 4)
    assert ranges[("registered", cell_key(region="01", age_group="0-4"))] == (2, 2)
    assert feasible_ranges([by_sex, by_age], hidden) == ranges
    # Protected together, a shared cell is one cell with one decision, and nothing can be recovered.
    protection = protect([by_sex, by_age], 5)
    assert_protected([by_sex, by_age], protection, 5)


def test_zeros_are_published_and_pin_what_they_touch():
    table = two_way("registered", [[3, 0, 12], [6, 0, 9], [8, 5, 10]])
    # Hiding the 3 with the zeros beside it protects nothing: column c2 says both zeros are 0, so r1c1 = 15 - 12.
    through_zeros = {("registered", inner(1, 1)), ("registered", inner(1, 2)), ("registered", inner(2, 1)),
                     ("registered", inner(2, 2))}
    assert feasible_ranges([table], through_zeros)[("registered", inner(1, 1))] == (3, 3)
    protection = protect([table], 5)
    assert protection.published("registered", inner(1, 2)) and protection.published("registered", inner(2, 2))
    assert protection.suppressed == {("registered", inner(1, 1)): PRIMARY, ("registered", inner(1, 3)): SECONDARY,
                                     ("registered", inner(2, 1)): SECONDARY, ("registered", inner(2, 3)): SECONDARY}
    assert_protected([table], protection, 5)


def test_rates_are_hidden_when_their_base_is_small_or_suppressed():
    table = two_way("answered", [[2, 9, 12], [8, 20, 30], [15, 7, 40]])
    small = Rate("answered", inner(3, 2), 0.5, base=4)
    on_hidden = Rate("answered", inner(2, 1), 0.75, base=8)  # a secondary suppression
    shown = Rate("answered", inner(3, 3), 0.9, base=40)
    named = Rate("acceptance_rate", inner(1, 2), 0.8, base=9)  # rests on answered r1c2, hidden
    unrelated = Rate("median_days", cell_key(region="r1"), 4.5, base=23)
    protection = protect([table], 5, [small, on_hidden, shown, named, unrelated],
                         rate_sources={"acceptance_rate": ("answered",)})
    assert protection.rates == {small: SMALL_BASE, on_hidden: HIDDEN_SOURCE, shown: None, named: HIDDEN_SOURCE,
                                unrelated: None}
    assert not protection.rate_published(small) and protection.rate_published(shown)


@pytest.mark.parametrize("k", [3, 10])
def test_the_threshold_is_configurable(k):
    table = two_way("registered", [[2, 7, 12, 30], [8, 20, 30, 11], [15, 9, 40, 4], [1, 12, 6, 22]])
    protection = protect([table], k)
    primaries = {cell for cell, why in protection.suppressed.items() if why == PRIMARY}
    assert primaries == {("registered", key) for key, count in table.counts.items() if 1 <= count <= k - 1}
    assert_protected([table], protection, k)


def test_protection_is_deterministic_and_k_1_hides_nothing():
    table = two_way("registered", [[2, 3, 4, 10], [3, 2, 10, 10], [10, 10, 2, 3], [10, 10, 3, 2]])
    assert protect([table], 5) == protect([table], 5)
    assert protect([table], 1).suppressed == {}


def test_inconsistent_or_non_additive_tables_are_refused():
    table = two_way("registered", [[2, 3], [4, 5]])
    broken = Table("registered", table.dimensions, table.domains, {**table.counts, (): 99})
    with pytest.raises(ValueError, match="does not match"):
        protect([broken], 5)
    other = two_way("registered", [[2, 3], [4, 6]], columns=("age_group", None))
    with pytest.raises(ValueError, match="differs between tables"):
        protect([table, other], 5)


def test_a_multi_valued_dimension_may_count_a_person_twice():
    # 10 people flagged in r1, 7 with flag c1 and 6 with flag c2: the total is not the sum.
    counts = {(): 16, cell_key(region="r1"): 10, cell_key(region="r2"): 6, cell_key(flag="c1"): 12,
              cell_key(flag="c2"): 9, cell_key(region="r1", flag="c1"): 7, cell_key(region="r1", flag="c2"): 6,
              cell_key(region="r2", flag="c1"): 5, cell_key(region="r2", flag="c2"): 3}
    table = Table("flagged", ("region", "flag"), {"region": ("r1", "r2"), "flag": ("c1", "c2")}, counts)
    protection = protect([table], 5)
    assert protection.reason("flagged", cell_key(region="r2", flag="c2")) == PRIMARY
    low, high = feasible_ranges([table], protection.suppressed)[("flagged", cell_key(region="r2", flag="c2"))]
    assert low != high and (low <= 0 or high >= 5)


def test_method_text_names_the_threshold():
    assert "1 to 4" in method_text(5) and "at least 5" in method_text(5)
    assert "1 to 9" in method_text(10)


# --- random tables ------------------------------------------------------------------------------------------------

SMALLISH = st.sampled_from([0, 0, 1, 1, 2, 3, 4, 5, 6, 8, 12, 20])


@st.composite
def matrices(draw):
    rows, columns = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    return [[draw(SMALLISH) for _ in range(columns)] for _ in range(rows)]


@settings(derandomize=True, deadline=None, max_examples=40)
@given(matrices(), st.sampled_from([3, 5]))
def test_random_tables_leave_nothing_to_recover(matrix, k):
    table = two_way("registered", matrix)
    assert_protected([table], protect([table], k), k)


@st.composite
def three_way(draw):
    regions, sexes, ages = draw(st.integers(2, 3)), 2, draw(st.integers(2, 3))
    return [[[draw(SMALLISH) for _ in range(ages)] for _ in range(sexes)] for _ in range(regions)]


@settings(derandomize=True, deadline=None, max_examples=40)
@given(three_way())
def test_random_pairs_sharing_region_totals_leave_nothing_to_recover(joint):
    regions = ("region", tuple(f"0{r + 1}" for r in range(len(joint))))
    by_sex = two_way("registered", [[sum(cell) for cell in row] for row in joint], regions, ("sex", ("F", "M")))
    by_age = two_way("registered", [[sum(sexes[s][a] for s in range(2)) for a in range(len(sexes[0]))]
                                    for sexes in joint], regions, ("age_group", None))
    protection = protect([by_sex, by_age], 5)
    assert_protected([by_sex, by_age], protection, 5)


def test_a_share_is_hidden_when_its_count_or_the_rest_is_small():
    """60 % of 5 answered referrals gives 3 accepted and 2 declined: both small, so the share is hidden."""
    from caseapp.reports.disclosure import SMALL_PART

    small = Rate("referral_acceptance_rate", (), 3 / 5, 5)
    rest_small = Rate("referral_acceptance_rate", (("service_area", "avrr"),), 8 / 10, 10)
    safe = Rate("referral_acceptance_rate", (("service_area", "employment"),), 5 / 10, 10)
    none_accepted = Rate("referral_answered_within_deadline", (), 0.0, 12)
    protection = protect([], 5, [small, rest_small, safe, none_accepted])
    assert protection.rates == {small: SMALL_PART, rest_small: SMALL_PART, safe: None, none_accepted: None}


def test_forced_cells_are_hidden_and_protected_like_small_ones():
    """A new version keeps hiding what an earlier one hid: a forced cell of 10 is hidden, and enough other cells
    with it that 10 cannot be worked out from the totals."""
    from caseapp.reports.disclosure import CARRIED

    table = two_way("x", [[10, 20], [30, 40]])
    protection = protect([table], 5, forced={("x", inner(1, 1))})
    assert protection.reason("x", inner(1, 1)) == CARRIED
    hidden = list(protection.suppressed)
    assert len(hidden) >= 4
    low, high = feasible_ranges([table], hidden)[("x", inner(1, 1))]
    assert low < high

"""A whole report built from the database, attacked the way a reader could: from the published content only.

For each indicator, every cell of every table is an unknown, published cells are fixed, every total equals the
sum of its parts along each dimension of each table, cells are non-negative integers; a mixed-integer programme
(scipy's HiGHS) then gives each hidden cell's smallest and largest possible value. No hidden cell may be pinned
to one value or confined to 1..k-1, and no published cell may be in 1..k-1. Written independently of
caseapp/reports/disclosure.py on purpose.
"""
import itertools
import random
from datetime import date

import numpy as np
import pytest
from scipy.optimize import linprog

from caseapp.reports.content import build_content

MULTI_VALUED = {"flag"}  # a person may have several flags: totals over flags are not sums


def _cells(table: dict) -> dict[tuple, int | None]:
    return {tuple(tuple(pair) for pair in key): value for key, value in table["cells"]}


def _relations(table: dict) -> list[tuple[tuple, list[tuple]]]:
    """(total key, part keys): along each dimension of the table, for each combination of the other ones."""
    cells = _cells(table)
    relations = []
    for key in cells:
        fixed = dict(key)
        for dimension in table["dimensions"]:
            if dimension in fixed or dimension in MULTI_VALUED:
                continue
            parts = [tuple(sorted({**fixed, dimension: value}.items())) for value in table["domains"][dimension]]
            relations.append((key, parts))
    return relations


def _attack(tables: list[dict]) -> dict[tuple, tuple[float, float]]:
    """Each hidden cell's (min, max) over non-negative integer solutions of the published tables of one indicator."""
    values: dict[tuple, int | None] = {}
    for table in tables:
        values.update(_cells(table))
    hidden = sorted(key for key, value in values.items() if value is None)
    if not hidden:
        return {}
    column = {key: number for number, key in enumerate(hidden)}
    rows, rhs = [], []
    for table in tables:
        for total, parts in _relations(table):
            row = np.zeros(len(hidden))
            constant = 0
            for key, sign in [(total, -1)] + [(part, 1) for part in parts]:
                if values[key] is None:
                    row[column[key]] += sign
                else:
                    constant += sign * values[key]
            if row.any():
                rows.append(row)
                rhs.append(-constant)
    bounds = [(0, None)] * len(hidden)
    ranges = {}
    for key in hidden:
        objective = np.zeros(len(hidden))
        objective[column[key]] = 1
        low = linprog(objective, A_eq=np.array(rows), b_eq=rhs, bounds=bounds, integrality=1, method="highs")
        high = linprog(-objective, A_eq=np.array(rows), b_eq=rhs, bounds=bounds, integrality=1, method="highs")
        assert low.status == 0, "the published figures must be consistent"
        ranges[key] = (round(low.fun), float("inf") if high.status == 3 else round(-high.fun))
    return ranges


@pytest.fixture
def many_people(app, world, register):
    """60 people over three communes, both sexes, every age group and profile, with a skewed spread so that many
    counts are small — the hard case for disclosure control."""
    rng = random.Random(2026)
    points = [("A-OUJ", "OUJ", "caseworker_a"), ("A-NAD", "NAD", "caseworker_a2"), ("B-BEM", "BEM", "caseworker_b")]
    profiles = ["foreign_migrant", "refugee", "asylum_seeker", "family_member"]
    today = date.today()
    for number in range(60):
        point, commune, user = points[0] if number < 35 else rng.choice(points)
        age = rng.choice([2, 8, 15, 30, 30, 30, 45, 70])
        register(user, point, commune_code=commune, sex=rng.choice("FM"), profile=rng.choice(profiles),
                 country_returned_from="", given_name=f"Person{number}", given_name_alt="", family_name_alt="",
                 phone="", date_of_birth=date(today.year - age - 1, 6, 15))


@pytest.mark.parametrize("k", [5, 3])
def test_no_hidden_count_of_a_built_report_can_be_recovered(app, many_people, k):
    with app.app_context():
        content = build_content(str(date.today().year), k)
    by_indicator: dict[str, list[dict]] = {}
    for table in content["tables"]:
        by_indicator.setdefault(table["indicator"], []).append(table)
    published_small = [(table["indicator"], key, value) for table in content["tables"]
                       for key, value in table["cells"] if value is not None and 1 <= value < k]
    assert published_small == []
    hidden = exposed = 0
    for indicator, tables in by_indicator.items():
        for key, (low, high) in _attack(tables).items():
            hidden += 1
            if low == high or (1 <= low and high <= k - 1):
                exposed += 1
                print("exposed", indicator, key, low, high)
    assert hidden > 0, "the fixture has small counts: something must be hidden"
    assert exposed == 0


def test_the_attack_finds_a_naive_suppression(app, many_people):
    """The attack bites: hiding only the small cells (no secondary suppression) lets it recover some of them."""
    with app.app_context():
        content = build_content(str(date.today().year), 5)
        from caseapp.reports.indicators import build_indicators
        from caseapp.reports.periods import parse_period

        data = build_indicators(parse_period(str(date.today().year)))
    raw = {(table.indicator, table.dimensions): table for table in data.tables}
    recovered = 0
    for table in content["tables"]:
        source = raw[(table["indicator"], tuple(table["dimensions"]))]
        naive = dict(table, cells=[[key, None if 1 <= source.counts[tuple(tuple(p) for p in key)] < 5
                                    else source.counts[tuple(tuple(p) for p in key)]] for key, _ in table["cells"]])
        ranges = _attack([naive])
        recovered += sum(1 for low, high in ranges.values() if low == high or (1 <= low and high <= 4))
    assert recovered > 0


def test_the_attack_helpers_see_every_relation():
    table = {"indicator": "x", "dimensions": ["a", "b"], "domains": {"a": ["1", "2"], "b": ["u", "v"]},
             "cells": [[list(map(list, key)), value] for key, value in [
                 ((), 10), ((("a", "1"),), 6), ((("a", "2"),), 4), ((("b", "u"),), 5), ((("b", "v"),), 5),
                 ((("a", "1"), ("b", "u")), None), ((("a", "1"), ("b", "v")), 3),
                 ((("a", "2"), ("b", "u")), 2), ((("a", "2"), ("b", "v")), 2)]]}
    assert _attack([table]) == {(("a", "1"), ("b", "u")): (3, 3)}
    assert len(list(itertools.chain(_relations(table)))) == 2 + 2 + 2  # the two margins and the grand total twice

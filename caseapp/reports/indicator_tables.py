"""Turning grouped counts into indicator Tables: complete domains, every cell, every total (each subset of dims)."""
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations, product

from caseapp.reports.tables import Table, cell_key

UNKNOWN = "unknown"  # a value the data no longer holds (e.g. a reversed closure's reason erased by anonymisation)

Row = tuple[Mapping[str, str], int]  # dimension → value, and the count of that finest-grained group


def extend_domain(reference: Sequence[str], observed: Iterable[str | None]) -> tuple[str, ...]:
    """The reference values in their order, then any value seen in the data but missing from the reference."""
    known = tuple(reference)
    extra = {UNKNOWN if value is None else str(value) for value in observed} - set(known)
    return known + tuple(sorted(extra))


def domains_of(rows: Sequence[Row], reference: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Domains of every dimension in `reference`, extended by what `rows` hold (one domain per indicator)."""
    return {dim: extend_domain(values, (row[0].get(dim) for row in rows if dim in row[0]))
            for dim, values in reference.items()}


def build_table(indicator: str, dimensions: Sequence[str], domains: Mapping[str, Sequence[str]],
                rows: Iterable[Row]) -> Table:
    """A Table of `indicator` by `dimensions` with a cell (0 when empty) for every combination of every subset.

    `rows` may carry more dimensions than the table: they are summed over. A row value outside the domain is an
    error (domains come from `domains_of` over the same rows).
    """
    dims = tuple(dimensions)
    subsets = [subset for size in range(len(dims) + 1) for subset in combinations(dims, size)]
    counts = {cell_key(**dict(zip(subset, values))): 0
              for subset in subsets for values in product(*(domains[dim] for dim in subset))}
    for values, count in rows:
        for subset in subsets:
            key = cell_key(**{dim: _value(values[dim]) for dim in subset})
            if key not in counts:
                raise ValueError(f"{indicator}: {key} is outside the table's domains")
            counts[key] += count
    return Table(indicator=indicator, dimensions=dims, domains={dim: tuple(domains[dim]) for dim in dims},
                 counts=counts)


def _value(value: str | None) -> str:
    return UNKNOWN if value is None else str(value)

"""One page of a long list: its rows, the total, and which page of how many."""
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass
class Page:
    """One page of an ordered list (cases, referrals, audit events)."""

    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def page_of(total: int, requested: int, per_page: int, read: Callable[[int, int], Iterable[Any]]) -> Page:
    """The requested page of a list of `total` rows, read by `read(offset, limit)`: a number past the end gives the
    last page, one below 1 the first."""
    page = max(1, min(requested, max(1, math.ceil(total / per_page))))
    return Page(items=list(read((page - 1) * per_page, per_page)), total=total, page=page, per_page=per_page)

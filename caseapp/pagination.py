"""One page of a long list: its rows, the total, and which page of how many."""
import math
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


def page_number(requested: int, total: int, per_page: int) -> int:
    """The page to show: a number past the end gives the last page, one below 1 the first."""
    return max(1, min(requested, max(1, math.ceil(total / per_page))))

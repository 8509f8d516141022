"""The energy ledger of a run: every joule harvested, delivered, lost and stored.

Accounts are named ``harvested/<component>``, ``to_loads/<component>`` and ``lost/<kind>/<component>``
(``lost/esr``, ``lost/storage_internal`` for the storage itself). The balance

    harvested - to_loads - lost - (E_stored,end - E_stored,start)

is computed from independently evaluated terms: the draws' energies from exact integrals of the
terminal voltage, the storage losses from exact integrals of the modal dissipation, and the stored
energy from the model's own physical formula (½·C·v², ∫OCV dq). Its size relative to the throughput
is the run's numerical-integrity figure.
"""
from __future__ import annotations

import math
from collections import defaultdict

from .draws import account_category

#: the categories that Ledger.totals sums (a sample row's cumulative energy columns)
CATEGORIES = ("harvested", "to_loads", "lost")

_CATEGORIES: dict[str, str] = {}


def _category(account: str) -> str:
    category = _CATEGORIES.get(account)
    if category is None:
        if len(_CATEGORIES) >= 4096:
            _CATEGORIES.clear()
        category = _CATEGORIES[account] = account_category(account)
    return category


class Ledger:
    def __init__(self, initial_stored_J: float):
        self.accounts: dict[str, float] = defaultdict(float)
        self.initial_stored_J = initial_stored_J

    def add(self, account: str, energy_J: float) -> None:
        self.accounts[account] += energy_J

    def total(self, category: str) -> float:
        return math.fsum(v for k, v in self.accounts.items() if _category(k) == category)

    def totals(self) -> dict[str, float]:
        """Per category, in one pass (every sample row reads them)."""
        parts: dict[str, list[float]] = {c: [] for c in CATEGORIES}
        for k, v in self.accounts.items():
            part = parts.get(_category(k))
            if part is not None:
                part.append(v)
        return {c: math.fsum(values) for c, values in parts.items()}

    def balance_error(self, stored_J: float) -> float:
        t = self.totals()
        return t["harvested"] - t["to_loads"] - t["lost"] - (stored_J - self.initial_stored_J)

    def throughput(self, stored_J: float) -> float:
        t = self.totals()
        return abs(t["harvested"]) + abs(t["to_loads"]) + abs(t["lost"]) + abs(stored_J - self.initial_stored_J)

    def breakdown(self) -> dict[str, float]:
        return dict(sorted(self.accounts.items()))

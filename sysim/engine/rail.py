"""Supply rails: how what a load takes from its rail reaches the storage.

A load asks its rail for a storage-side :class:`~sysim.engine.draws.Draw` (``rail.draw(owner,
current_A)``) and asks whether the rail is up (``rail.is_on(sim)``). The rail decides the
conversion and the ledger split: a direct connection passes everything through; an LDO passes the
current (plus its quiescent current) and books ``(V_storage - V_out)·I`` as regulator loss; a buck
converter or a PMIC's output turns the rail power into storage-side power with its efficiency. The
loads package provides regulators, the PMIC provides its own output rail; both implement this.
"""
from __future__ import annotations

from .draws import Draw, load_draw


class Rail:
    """A supply rail. The base class is the storage terminal itself (no regulator)."""

    name = "storage"

    def draw(self, owner: str, current_A: float = 0.0, power_W: float = 0.0, label: str = "") -> Draw:
        """The storage-side draw of a load taking ``current_A`` (or ``power_W``) from this rail."""
        return load_draw(owner, current_A, power_W, label)

    def is_on(self, sim) -> bool:
        """Whether the rail supplies its loads now (a PMIC's power-good, a regulator's UVLO)."""
        return True

    def voltage(self, storage_voltage: float) -> float:
        """Rail voltage (V) for a given storage terminal voltage."""
        return storage_voltage

    def draws(self, sim) -> tuple[Draw, ...]:
        """What the rail itself draws (quiescent current), whatever its loads do."""
        return ()


DIRECT = Rail()

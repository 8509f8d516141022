"""What a component asks of the storage terminal over a segment, and where that energy is booked.

Components never touch the storage; they describe a :class:`Draw` and the engine does the rest.
A draw is one of

* a constant current ``current_A`` (positive = taken from the storage, negative = charging it),
* a constant power ``power_W`` at the terminal (a load behind a converter, an MPPT PMIC's output),
* a current that depends on the terminal voltage, ``current_of_voltage(V) -> A`` (an LED wired
  straight to the storage, a PV cell connected through a diode).

Power and voltage-dependent draws are turned into constant currents over short stretches in which
the storage's internal voltage moves by less than a stated tolerance (models-and-numerics.md §5.3;
see :mod:`sysim.engine.freeze`).

Ledger: if ``E_s`` is the energy the draw takes from the terminal over a segment of length ``h``
(negative when it charges), every ``(account, per_joule, per_watt_s)`` entry of ``accounts`` adds
``per_joule·E_s + per_watt_s·h`` to that account. Account names start with ``harvested/``,
``to_loads/`` or ``lost/`` (e.g. ``lost/converter/pmic``), so a draw that passes energy straight
through books ``(("to_loads/led", 1.0, 0.0),)`` and a converter with efficiency η delivering to the
storage books ``(("harvested/pv", -1/η, 0), ("lost/converter/pmic", -(1/η - 1), 0))``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

Accounts = tuple[tuple[str, float, float], ...]


@dataclass(frozen=True)
class Draw:
    """A component's constant pull on the storage terminal during one schedule phase."""

    owner: str
    current_A: float = 0.0
    power_W: float = 0.0
    current_of_voltage: Optional[Callable[[float], float]] = None
    accounts: Accounts = ()
    #: lowest terminal voltage (V) at which this draw still runs (e.g. a regulator's dropout);
    #: informational for loads that model their own cut-off
    label: str = ""

    @property
    def is_linear(self) -> bool:
        return self.power_W == 0.0 and self.current_of_voltage is None

    @property
    def is_zero(self) -> bool:
        """Draws nothing and books nothing (a draw with only per-second accounts, e.g. harvest
        lost while a PMIC samples its input, takes no current but still books energy)."""
        return (self.current_A == 0.0 and self.power_W == 0.0 and self.current_of_voltage is None
                and not any(per_second for _, _, per_second in self.accounts))


def load_draw(owner: str, current_A: float = 0.0, power_W: float = 0.0, label: str = "") -> Draw:
    """A load connected straight to the storage: everything it takes is delivered to it."""
    return Draw(owner, current_A, power_W, None, ((f"to_loads/{owner}", 1.0, 0.0),), label)


def source_draw(owner: str, current_A: float = 0.0, power_W: float = 0.0, label: str = "") -> Draw:
    """A harvester connected straight to the storage (through an ideal diode): pass a positive
    current or power; it is booked as harvested energy and charges the storage."""
    return Draw(owner, -current_A, -power_W, None, ((f"harvested/{owner}", -1.0, 0.0),), label)


def account_category(account: str) -> str:
    """``"lost/converter/pmic" -> "lost"``."""
    return account.split("/", 1)[0]

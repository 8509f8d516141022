"""The contract between the engine and every harvester, PMIC, load and firmware runner.

A component never touches the storage. It tells the engine, whenever asked, what it draws
(:meth:`Component.schedule`), which storage outputs it wants to be told about
(:meth:`Component.watches`, e.g. a PMIC's power-good comparator), and it may start SimPy processes
(:meth:`Component.start`, e.g. firmware). Whatever it changes inside a callback or a process takes
effect at once: the engine rebuilds the regime after every callback and every external event.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .schedule import ConstantSchedule, Schedule


@dataclass(frozen=True)
class ComponentWatch:
    """Ask to be called back when storage output ``output`` (a name of the model's outputs:
    ``"terminal"``, ``"cell"``…) crosses ``level`` (V) going ``direction``."""

    output: str
    level: float
    direction: str
    key: object
    with_current: bool = True


class Component:
    """Base class with do-nothing defaults."""

    name: str = "component"
    #: "load" components are cut by brown-out; "source" components are throttled by over-voltage
    kind: str = "load"

    def schedule(self, sim) -> Schedule:
        return ConstantSchedule(())

    def watches(self, sim) -> list[ComponentWatch]:
        return []

    def on_watch(self, sim, key) -> None:
        pass

    def next_change(self, t: float) -> float:
        """The next time (s) after ``t`` at which :meth:`schedule` may give something else without
        any event telling the engine (light segments); the regime ends there."""
        return math.inf

    def on_hold_factor(self, sim, channels, factor: float) -> bool:
        """Told the throttle (0..1) the engine applies to this source's draws among ``channels``
        while it holds a full store (sysim.engine.hold); True asks the engine to build the table
        again (the schedule given for it no longer fits the throttle)."""
        return False

    def on_regime_end(self, sim, t0: float, t1: float) -> None:
        """The regime that started at ``t0`` ended at ``t1`` (its ledger is booked)."""

    def start(self, sim) -> None:
        pass

    def state_columns(self) -> list[str]:
        return []

    def state_values(self) -> list[float]:
        return []

    def summary(self) -> dict:
        return {}

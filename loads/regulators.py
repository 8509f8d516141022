"""Voltage regulators between the storage and a load rail: an LDO and a buck converter.

Both implement the :class:`~sysim.engine.rail.Rail` contract (loads ask ``draw`` for their
storage-side draw) and are engine components themselves (their quiescent current, their modes).

Modes (events on the storage terminal voltage ``V``, with hysteresis):

* ``regulating`` (``V ≥ V_out + V_do``): the rail sits at ``V_out``.
  LDO: the storage current is the load current ``I`` (a power state ``P`` draws ``P/V_out``); the
  load receives ``V_out·I`` and ``(V - V_out)·I`` is booked as ``lost/regulator/<name>``.
  Buck: the storage supplies ``P_in = V_out·I_load / η(I_load)``, a constant power, with ``η``
  interpolated in ``log10(I_load)`` from the efficiency table; ``P_in - V_out·I_load`` is lost.
* ``dropout`` (``V < V_out + V_do``): the pass element is fully on (an LDO in dropout, a buck in
  100 % duty cycle): the rail follows ``V - V_do``, the load current passes through and ``V_do·I``
  is lost.
* ``off`` (below ``uvlo``, optional): the rail is down, only ``shutdown_current`` flows. It restarts
  ``startup_time`` after the storage has risen to ``uvlo + uvlo_hysteresis``.

Every load receives exactly its rail energy (``to_loads/<load>``) and the regulator books the rest
of what the storage delivers, so the ledger balances by construction. The quiescent current is
drawn from the storage in every mode but ``off`` and booked as regulator loss. Efficiency is looked
up from each load's own current (loads on one buck do not share an operating point); at the µA
floors where this matters η varies slowly with current.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from sysim.engine.component import Component, ComponentWatch
from sysim.engine.draws import Draw
from sysim.engine.rail import Rail
from sysim.engine.schedule import ConstantSchedule

_MODE_CODE = {"off": 0.0, "regulating": 1.0, "dropout": 2.0}
_V_FLOOR = 1e-6


class Regulator(Rail, Component, ABC):
    """Common mode machine of the LDO and the buck."""

    kind = "load"

    def __init__(self, name: str, output_voltage: float, quiescent_current: float = 0.0,
                 dropout_voltage: float = 0.0, uvlo: float | None = None, uvlo_hysteresis: float = 0.05,
                 dropout_hysteresis: float = 0.01, startup_time: float = 1e-3, shutdown_current: float = 0.0):
        if not output_voltage > 0:
            raise ValueError("output_voltage must be positive")
        if uvlo is not None and uvlo >= output_voltage + dropout_voltage + 10.0:
            raise ValueError("uvlo is implausibly high")
        self.name = name
        self.v_out, self.i_q, self.v_do = output_voltage, quiescent_current, dropout_voltage
        self.uvlo, self.uvlo_hysteresis = uvlo, uvlo_hysteresis
        self.dropout_hysteresis, self.startup_time = dropout_hysteresis, startup_time
        self.i_shutdown = shutdown_current
        self.mode = "regulating"  # the watches correct it at t = 0 if the storage starts low
        self._starting = False
        self.dropout_events = 0
        self._schedules: dict = {}

    # --- Rail contract ------------------------------------------------------------------------
    @property
    def v_regulate(self) -> float:
        """Storage voltage (V) below which the regulator drops out."""
        return self.v_out + self.v_do

    def is_on(self, sim) -> bool:
        return self.mode != "off"

    def voltage(self, storage_voltage: float) -> float:
        if self.uvlo is not None and storage_voltage < self.uvlo:
            return 0.0
        return max(min(self.v_out, storage_voltage - self.v_do), 0.0)

    def storage_voltage_for(self, v_rail: float) -> float:
        """Lowest storage voltage (V) at which the rail is at least ``v_rail`` (inf if never)."""
        if v_rail > self.v_out * (1 + 1e-12):
            return math.inf
        return max(v_rail + self.v_do, self.uvlo or 0.0)

    def draws(self, sim) -> tuple[Draw, ...]:
        current = self.i_shutdown if self.mode == "off" else self.i_q
        if not current:
            return ()
        return (Draw(self.name, current_A=current, accounts=((self._loss, 1.0, 0.0),)),)

    @property
    def _loss(self) -> str:
        return f"lost/regulator/{self.name}"

    def draw(self, owner: str, current_A: float = 0.0, power_W: float = 0.0, label: str = "") -> Draw:
        if current_A < 0 or power_W < 0:
            raise ValueError("a load draws a positive current or power")
        if current_A and power_W:
            raise ValueError("ask for a current or a power, not both")
        if self.mode == "dropout":
            return self._pass_through(owner, current_A, power_W, label)
        return self._regulated(owner, current_A, power_W, label)

    def draw_function(self, owner: str, current_of_voltage) -> Draw:
        """Storage-side draw of a load whose current depends on the rail voltage."""
        if self.mode != "dropout":
            return self.draw(owner, current_A=max(current_of_voltage(self.v_out), 0.0))
        v_do = self.v_do
        # In dropout the load current follows V - V_do; the loss V_do·I is split at the mode
        # threshold (exact total, approximate split: the split would need ∫I·dt separately).
        share = v_do / self.v_regulate
        return Draw(owner, current_of_voltage=lambda v: current_of_voltage(max(v - v_do, 0.0)),
                    accounts=((f"to_loads/{owner}", 1.0 - share, 0.0), (self._loss, share, 0.0)))

    def _pass_through(self, owner, current_A, power_W, label) -> Draw:
        v_do = self.v_do
        if power_W:
            return Draw(owner, current_of_voltage=lambda v: power_W / max(v - v_do, _V_FLOOR),
                        accounts=((f"to_loads/{owner}", 0.0, power_W), (self._loss, 1.0, -power_W)), label=label)
        return Draw(owner, current_A=current_A,
                    accounts=((f"to_loads/{owner}", 1.0, -v_do * current_A), (self._loss, 0.0, v_do * current_A)),
                    label=label)

    @abstractmethod
    def _regulated(self, owner, current_A, power_W, label) -> Draw:
        """The storage-side draw while regulating."""

    # --- Component contract -------------------------------------------------------------------
    def schedule(self, sim):
        schedule = self._schedules.get(self.mode)
        if schedule is None:
            schedule = self._schedules[self.mode] = ConstantSchedule(self.draws(sim))
        return schedule

    def watches(self, sim) -> list[ComponentWatch]:
        out = []
        if self.mode == "regulating":
            out.append(ComponentWatch("terminal", self.v_regulate, "falling", "dropout"))
        elif self.mode == "dropout":
            out.append(ComponentWatch("terminal", self.v_regulate + self.dropout_hysteresis, "rising", "regulate"))
        elif not self._starting:
            out.append(ComponentWatch("terminal", self.uvlo + self.uvlo_hysteresis, "rising", "start"))
        if self.uvlo is not None and self.mode != "off":
            out.append(ComponentWatch("terminal", self.uvlo, "falling", "off"))
        return out

    def on_watch(self, sim, key) -> None:
        if key == "dropout" and self.mode == "regulating":
            self.mode = "dropout"
            self.dropout_events += 1
            sim.log(self.name, f"dropout: storage below {self.v_regulate:g} V, rail follows the storage")
        elif key == "regulate" and self.mode == "dropout":
            self.mode = "regulating"
            sim.log(self.name, f"regulating at {self.v_out:g} V")
        elif key == "off" and self.mode != "off":
            self.mode = "off"
            sim.log(self.name, f"under-voltage lockout below {self.uvlo:g} V: rail off")
        elif key == "start" and self.mode == "off" and not self._starting:
            self._starting = True
            sim.env.process(self._start_up(sim))

    def _start_up(self, sim):
        yield sim.env.timeout(self.startup_time)
        self._starting = False
        v = sim.voltage()
        if v >= self.uvlo:
            self.mode = "regulating" if v >= self.v_regulate else "dropout"
            sim.log(self.name, f"rail on ({self.mode})")

    def state_columns(self) -> list[str]:
        return [f"{self.name}_mode"]

    def state_values(self) -> list[float]:
        return [_MODE_CODE[self.mode]]

    def summary(self) -> dict:
        return {f"{self.name}_dropout_events": self.dropout_events}


class LDO(Regulator):
    """Linear regulator: the storage current equals the load current (plus the quiescent current)."""

    def _regulated(self, owner, current_A, power_W, label) -> Draw:
        p_load = self.v_out * current_A + power_W
        return Draw(owner, current_A=current_A + power_W / self.v_out,
                    accounts=((f"to_loads/{owner}", 0.0, p_load), (self._loss, 1.0, -p_load)), label=label)


class Buck(Regulator):
    """Step-down converter: constant input power ``V_out·I_load/η(I_load)`` while regulating."""

    def __init__(self, name: str, output_voltage: float, efficiency: list[tuple[float, float]], **kwargs):
        super().__init__(name, output_voltage, **kwargs)
        table = sorted((float(i), float(e)) for i, e in efficiency)
        if not table:
            raise ValueError("the efficiency table is empty")
        if any(i <= 0 for i, _ in table) or any(not 0 < e <= 1 for _, e in table):
            raise ValueError("efficiency entries need a positive current and 0 < η ≤ 1")
        if any(b[0] <= a[0] for a, b in zip(table, table[1:])):
            raise ValueError("efficiency currents must differ")
        self._log_i = np.log10([i for i, _ in table])
        self._eta = np.array([e for _, e in table])

    def efficiency(self, load_current_A: float) -> float:
        """η at a load current (A): linear in log10(I), held constant beyond the table's ends."""
        if load_current_A <= 0:
            return float(self._eta[0])
        return float(np.interp(math.log10(load_current_A), self._log_i, self._eta))

    def _regulated(self, owner, current_A, power_W, label) -> Draw:
        p_load = self.v_out * current_A + power_W
        eta = self.efficiency(p_load / self.v_out)
        return Draw(owner, power_W=p_load / eta,
                    accounts=((f"to_loads/{owner}", 0.0, p_load), (self._loss, 1.0, -p_load)), label=label)

"""Laboratory protocols run through the engine, for the storage tests and the preset fits.

* galvanostatic charge/discharge between two terminal voltages (the GCD test of the papers:
  ``C = I·t_dis/(V_high − V_low)``, ``E = ∫V·I dt`` over the discharge),
* a discharge from rest at a given state (capacity at a rate),
* open-circuit self-discharge from an equilibrated state,
* the instantaneous resistance from the voltage step of a current pulse.

Each protocol builds the storage from a scenario ``[storage]`` dict (presets and units resolved by
the normal loader) and drives it with a :class:`Cycler` component, whose switching points are exact
threshold events.
"""
from __future__ import annotations

import copy
import math

import sysim
from sysim.engine.component import Component, ComponentWatch
from sysim.engine.draws import load_draw, source_draw
from sysim.engine.protection import ProtectionSettings
from sysim.engine.schedule import ConstantSchedule
from sysim.engine.simulation import RunOptions, Simulation, StopRun
from sysim.node import build_node
from sysim.units import parse_quantity


def q(value, dimension):
    return parse_quantity(value, dimension)


def storage_model(storage: dict, duration: float = 1.0, temperature=None):
    """(model, node) for a ``[storage]`` table given as a dict."""
    data = {"simulation": {"duration": duration}, "storage": copy.deepcopy(storage)}
    scenario = sysim.from_dict(data)
    node = build_node(scenario)
    return node.storage, node


class Cycler(Component):
    """Charges at ``current_A`` until the terminal reaches ``v_high``, discharges at ``current_A``
    until it falls to ``v_low``; stops after ``cycles`` discharges. ``start`` is "charge" or
    "discharge". Records (duration, energy) of every discharge and of every charge."""

    kind = "load"

    def __init__(self, current_A, v_low, v_high, cycles, start="charge"):
        self.name = "cycler"
        self.current_A, self.v_low, self.v_high, self.cycles = current_A, v_low, v_high, cycles
        self.mode = start
        self.discharges: list[tuple[float, float]] = []
        self.charges: list[tuple[float, float]] = []
        self._t0 = 0.0
        self._e0 = 0.0
        self._charge = ConstantSchedule((source_draw(self.name, current_A),))
        self._discharge = ConstantSchedule((load_draw(self.name, current_A),))

    def schedule(self, sim):
        return self._charge if self.mode == "charge" else self._discharge

    def watches(self, sim):
        if self.mode == "charge":
            return [ComponentWatch("terminal", self.v_high, "rising", "top")]
        return [ComponentWatch("terminal", self.v_low, "falling", "bottom")]

    def _energy(self, sim, account):
        return sim.ledger.accounts.get(account, 0.0)

    def on_watch(self, sim, key):
        t = sim.now
        if key == "top":
            e = self._energy(sim, "harvested/cycler")
            self.charges.append((t - self._t0, e - self._e0))
            self.mode = "discharge"
            self._e0 = self._energy(sim, "to_loads/cycler")
        else:
            e = self._energy(sim, "to_loads/cycler")
            self.discharges.append((t - self._t0, e - self._e0))
            self.mode = "charge"
            self._e0 = self._energy(sim, "harvested/cycler")
            if len(self.discharges) >= self.cycles:
                raise StopRun
        self._t0 = t


def run_components(model, components, duration, temperature=None, record_every=None):
    options = RunOptions(duration, record_every or duration / 10.0, temperature=temperature)
    sim = Simulation(model, components, ProtectionSettings(), options)
    raw = sim.run()
    return sim, raw


def balance_error(raw) -> float:
    s = raw.summary
    throughput = abs(s["energy_harvested_J"]) + abs(s["energy_to_loads_J"]) + abs(s["energy_lost_J"]) + \
        abs(s["energy_stored_end_J"] - s["energy_stored_start_J"])
    return abs(s["energy_balance_error_J"]) / throughput


def gcd(storage: dict, current_A, v_low, v_high, cycles=4, temperature=None):
    """Galvanostatic cycling of the terminal between ``v_low`` and ``v_high`` from rest at
    ``v_low``; returns the cycler (discharges, charges) and the raw result. Capacitance of a
    discharge: ``I·t/(v_high − v_low)``."""
    storage = {**storage, "initial_voltage": v_low}
    storage.pop("initial_soc", None)
    model, _ = storage_model(storage)
    cycler = Cycler(current_A, v_low, v_high, cycles)
    _, raw = run_components(model, [cycler], 1e9, temperature)  # the cycler stops the run
    assert len(cycler.discharges) == cycles, "the cycler did not finish (window never reached)"
    return cycler, raw


def discharge(storage: dict, current_A, v_low, temperature=None):
    """Discharge at ``current_A`` from the storage's initial state to ``v_low``:
    (duration s, energy J, raw)."""
    model, _ = storage_model(storage)
    cycler = Cycler(current_A, v_low, math.inf, 1, start="discharge")
    _, raw = run_components(model, [cycler], 1e9, temperature)
    assert cycler.discharges, "the discharge did not reach v_low"
    t, e = cycler.discharges[0]
    return t, e, raw


def open_circuit(storage: dict, duration, temperature=None):
    """Terminal voltage after ``duration`` s on open circuit, and the raw result."""
    model, _ = storage_model(storage)
    _, raw = run_components(model, [], duration, temperature)
    return raw.summary["final_voltage_V"], raw


class _Pulse(Component):
    kind = "load"

    def __init__(self, current_A):
        self.name = "pulse"
        self._schedule = ConstantSchedule((load_draw(self.name, current_A),))

    def schedule(self, sim):
        return self._schedule


def step_resistance(storage: dict, current_A, temperature=None, width_s=1e-9):
    """Instantaneous resistance (Ω): the terminal voltage step of a current step from rest, over a
    pulse short enough that no capacitor moves measurably."""
    model, _ = storage_model(storage)
    v_open = model.modal().outputs[0].value(model.initial_state())
    _, raw = run_components(model, [_Pulse(current_A)], width_s, temperature)
    return (v_open - raw.summary["min_voltage_V"]) / current_A


def throughput_cycles(storage: dict, cycles: float, soc_center: float, swing: float, period_s: float = 100.0):
    """Drive ``cycles`` equivalent full cycles (2·Q0 of charge each) through a battery by
    alternating ±I every half period around ``soc_center`` (SOC swing ``swing``, inside one OCV
    piece); returns (capacity fraction left, raw result)."""
    from harvesters.current import CurrentHarvester
    from loads.basic import PeriodicLoad

    model, _ = storage_model({**storage, "initial_soc": soc_center + 0.5 * swing, "initial_voltage": None})
    q0 = model.params.capacity
    current = swing * q0 / (0.5 * period_s)
    duration = cycles * 2.0 * q0 / current
    parts = [CurrentHarvester("source", current),
             PeriodicLoad("sink", period_s, 0.0, [(2.0 * current, 0.5 * period_s)])]
    sim, raw = run_components(model, parts, duration)
    index = sim.stepper.system.output_index["capacity_fraction"]
    return sim.stepper.output(index), raw

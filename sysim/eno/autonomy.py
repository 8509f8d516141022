"""Days of autonomy: how long the node runs on a full store with no harvest at all.

Definition (a simulation, not an energy-budget estimate): the scenario is run with every
``[[harvester]]`` removed and the store full, until the first brown-out; the autonomy is the time
of that brown-out. Everything else stays: loads, PMIC, firmware, leakage, ESR, charge
redistribution, temperature. "Full" is, in this order:

* ``series × v_max`` when ``storage.v_max`` is set (the storage's over-voltage limit, where a
  charger stops; for a battery the SOC whose OCV is ``v_max``, clamped to 1);
* ``initial_soc = 1`` for a storage model with a ``capacity`` (batteries) and no ``v_max``;
* otherwise the scenario's own initial state (reported as such).

For an ideal capacitor ``C`` from ``V_full`` under a constant current ``I`` this is
``C·(V_full − v_min)/I``; with a leakage resistance ``R`` it is ``R·C·ln((V_full + I·R)/(v_min + I·R))``
(models-and-numerics.md §1.1, ``v∞ = −I·R``). The run stops at the first brown-out or at
``limit_s``; with no brown-out by then the autonomy is reported as "more than the limit".
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from sysim.evaluate import run_scenario
from sysim.scenario.loader import Scenario, from_dict

from .meter import DAY_S

DEFAULT_LIMIT_S = 365.0 * DAY_S


@dataclass(frozen=True)
class Autonomy:
    days: float | None        # time to the first brown-out (d); None if none within the limit
    limit_days: float
    full_voltage_V: float | None  # terminal voltage of the full store at the start (V)
    full_means: str           # how "full" was defined for this scenario
    note: str = ""            # why there is no figure, when there is none

    @property
    def exceeds_limit(self) -> bool:
        return self.days is None and not self.note

    def to_dict(self) -> dict:
        return {"days": self.days, "limit_days": self.limit_days, "exceeds_limit": self.exceeds_limit,
                "full_voltage_V": self.full_voltage_V, "full_means": self.full_means, "note": self.note or None}


def full_store_without_harvest(scenario: Scenario, limit_s: float) -> tuple[Scenario, str]:
    """The autonomy scenario (harvesters removed, store full, duration ``limit_s``) and a
    sentence saying what "full" means for it."""
    data = copy.deepcopy(scenario.data)
    data.pop("harvester", None)
    storage = data["storage"]
    table = scenario.storage
    if table.v_max is not None:
        storage.pop("initial_soc", None)
        storage["initial_voltage"] = table.v_max * table.series
        means = f"charged to series × v_max = {table.v_max * table.series:g} V"
    elif "capacity" in type(table).model_fields:
        storage.pop("initial_voltage", None)
        storage["initial_soc"] = 1.0
        means = "state of charge 100 % (no v_max set)"
    else:
        means = "the scenario's initial state (no v_max set, so no better definition of full)"
    simulation = data.setdefault("simulation", {})
    simulation["duration"] = float(limit_s)
    simulation["record_every"] = float(limit_s) / 1000.0
    return from_dict(data, source=scenario.source, base_dir=scenario.base_dir), means


def days_of_autonomy(scenario: Scenario, limit_s: float = DEFAULT_LIMIT_S) -> Autonomy:
    """Simulated days of autonomy of ``scenario`` (see the module docstring for the definition)."""
    limit_days = limit_s / DAY_S
    if scenario.storage.v_min is None:
        return Autonomy(None, limit_days, None, "", "storage.v_min is not set, so the loads are never cut")
    dark, means = full_store_without_harvest(scenario, limit_s)
    start: list[float] = []
    run = run_scenario(dark, stop=lambda sim: sim.protection.brownouts > 0,
                       setup=lambda sim: start.append(sim.stepper.open_circuit()))
    first = run.summary.get("first_brownout_s")
    full_v = start[0]
    return Autonomy(first / DAY_S if first is not None else None, limit_days, full_v, means)

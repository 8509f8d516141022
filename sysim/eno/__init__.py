"""Energy-neutral operation: per day harvested against consumed, and days of autonomy.

    import sysim
    from sysim.eno import energy_neutrality
    report = energy_neutrality(sysim.load("node.toml"))
    report.days[0].harvested_J, report.days[0].consumed_J, report.autonomy.days

* Per day (:mod:`sysim.eno.meter`): harvested, delivered to loads and lost energy from the exact
  ledger at each day boundary (multiples of 24 h from the start of the run), the stored
  energy and voltage at the end of the day, brown-outs and downtime. The last day may be partial.
* Days of autonomy (:mod:`sysim.eno.autonomy`): a second run from a full store with every harvester
  removed, until the first brown-out.

A node is energy-neutral over the run when it harvests at least what it consumes
(``harvested ≥ to_loads + lost``); ``deficit_days`` counts the complete days that did not
(by more than the ledger's accuracy, 1e-9 of the day's throughput).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from sysim.evaluate import run_scenario
from sysim.result import Result
from sysim.scenario.loader import Scenario

from .autonomy import DEFAULT_LIMIT_S, Autonomy, days_of_autonomy
from .meter import DAY_S, DayEnergy, DayMeter

__all__ = ["energy_neutrality", "EnoReport", "DayEnergy", "Autonomy", "days_of_autonomy", "DAY_S"]


@dataclass
class EnoReport:
    scenario: str
    days: list[DayEnergy]
    autonomy: Autonomy | None
    result: Result | None = field(default=None, repr=False)

    @property
    def harvested_J(self) -> float:
        return math.fsum(d.harvested_J for d in self.days)

    @property
    def consumed_J(self) -> float:
        return math.fsum(d.consumed_J for d in self.days)

    @property
    def ratio(self) -> float:
        """Harvested over consumed over the whole run (inf when nothing was consumed)."""
        consumed = self.consumed_J
        return self.harvested_J / consumed if consumed > 0 else math.inf

    @property
    def energy_neutral(self) -> bool:
        return self.harvested_J >= self.consumed_J

    @property
    def deficit_days(self) -> int:
        return sum(1 for d in self.days if d.complete and d.deficit)

    @property
    def worst_day(self) -> DayEnergy | None:
        return min(self.days, key=lambda d: d.net_J) if self.days else None

    def metrics(self) -> dict:
        """The headline numbers (for sweeps and summaries)."""
        worst = self.worst_day
        return {"eno_ratio": self.ratio if math.isfinite(self.ratio) else None,
                "energy_neutral": self.energy_neutral, "deficit_days": self.deficit_days,
                "worst_day_net_J": worst.net_J if worst else None,
                "autonomy_days": self.autonomy.days if self.autonomy else None}

    def to_dict(self) -> dict:
        return {"scenario": self.scenario, **self.metrics(), "harvested_J": self.harvested_J,
                "consumed_J": self.consumed_J, "days": [d.to_dict() for d in self.days],
                "autonomy": self.autonomy.to_dict() if self.autonomy else None,
                "definitions": {
                    "consumed_J": "to_loads_J + lost_J (ESR, leakage, redistribution, converters)",
                    "net_J": "harvested_J - consumed_J = change of stored energy (up to the ledger balance error)",
                    "days": "consecutive 24 h spans from the start of the run; the last may be partial",
                    "autonomy": "a run with every harvester removed, from a full store, until the first brown-out"}}


def energy_neutrality(scenario: Scenario, *, duration: float | None = None, autonomy: bool = True,
                      autonomy_limit_s: float = DEFAULT_LIMIT_S) -> EnoReport:
    """Run ``scenario`` (``duration`` in s overrides its own) with a per-day energy meter, and,
    unless ``autonomy`` is False, the no-harvest run for the days of autonomy."""
    if duration is not None:
        scenario = scenario.with_changes({"simulation.duration": duration})
    meter = DayMeter()
    sims: list = []

    def setup(sim):
        sims.append(sim)
        meter.attach(sim)

    run = run_scenario(scenario, setup=setup)
    days = meter.days(sims[0])
    auto = days_of_autonomy(scenario, autonomy_limit_s) if autonomy else None
    return EnoReport(scenario.name, days, auto, run.result)

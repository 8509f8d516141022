"""Per-day energy from the exact ledger: a SimPy process that reads the run every 24 h.

The process wakes at ``t = k·day_s``. The integrator always steps the storage exactly up to the
next SimPy event before any process runs (sysim.engine.simulation), so at each wake-up the
ledger (harvested, delivered, lost), the stored energy and the protection counters are exact at
the day boundary: the per-day figures are differences of exact cumulative values, with no
interpolation between trace samples.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

DAY_S = 86400.0


@dataclass(frozen=True)
class Mark:
    """Cumulative state of a run at time ``t_s``."""

    t_s: float
    harvested_J: float
    to_loads_J: float
    lost_J: float
    stored_J: float
    open_circuit_V: float
    brownouts: int
    downtime_s: float


@dataclass(frozen=True)
class DayEnergy:
    """One day (or the last, partial day) of a run. ``consumed_J = to_loads_J + lost_J``: every
    joule that left the store or never reached it (ESR, leakage, redistribution, converters);
    ``net_J = harvested_J - consumed_J`` equals the change of stored energy up to the ledger's
    balance error."""

    day: int                 # 1-based
    start_s: float
    end_s: float
    harvested_J: float
    to_loads_J: float
    lost_J: float
    stored_start_J: float
    stored_end_J: float
    voltage_end_V: float     # open-circuit terminal voltage at the end of the day
    brownouts: int
    downtime_s: float

    @property
    def consumed_J(self) -> float:
        return self.to_loads_J + self.lost_J

    @property
    def net_J(self) -> float:
        return self.harvested_J - self.consumed_J

    @property
    def ratio(self) -> float:
        """Harvested over consumed (inf when nothing was consumed)."""
        return self.harvested_J / self.consumed_J if self.consumed_J > 0 else math.inf

    @property
    def deficit(self) -> bool:
        """Consumed more than harvested, by more than the ledger's accuracy (1e-9 of the day's
        throughput), so that a periodic steady state does not count as a deficit on rounding."""
        return self.net_J < -1e-9 * (self.harvested_J + self.consumed_J)

    @property
    def complete(self) -> bool:
        return self.end_s - self.start_s >= DAY_S * (1 - 1e-9)

    def to_dict(self) -> dict:
        return {"day": self.day, "start_s": self.start_s, "end_s": self.end_s, "harvested_J": self.harvested_J,
                "to_loads_J": self.to_loads_J, "lost_J": self.lost_J, "consumed_J": self.consumed_J,
                "net_J": self.net_J, "ratio": self.ratio if math.isfinite(self.ratio) else None,
                "stored_start_J": self.stored_start_J, "stored_end_J": self.stored_end_J,
                "voltage_end_V": self.voltage_end_V, "brownouts": self.brownouts, "downtime_s": self.downtime_s}


class DayMeter:
    """Start with :meth:`attach` before the run; :meth:`days` after it."""

    def __init__(self, day_s: float = DAY_S):
        self.day_s = day_s
        self.marks: list[Mark] = []

    def attach(self, sim) -> None:
        self.marks = [mark(sim)]
        sim.env.process(self._wake(sim))

    def _wake(self, sim):
        k = 1
        while k * self.day_s < sim.t_end * (1 - 1e-12):
            yield sim.env.timeout(max(k * self.day_s - sim.env.now, 0.0))
            self.marks.append(mark(sim))
            k += 1

    def days(self, sim) -> list[DayEnergy]:
        """Per-day figures, closing the last day at the end of the run (call after ``sim.run()``)."""
        marks = list(self.marks)
        end = mark(sim)
        if end.t_s > marks[-1].t_s * (1 + 1e-12) + 1e-9:
            marks.append(end)
        out = []
        for i, (a, b) in enumerate(zip(marks, marks[1:]), start=1):
            out.append(DayEnergy(i, a.t_s, b.t_s, b.harvested_J - a.harvested_J, b.to_loads_J - a.to_loads_J,
                                 b.lost_J - a.lost_J, a.stored_J, b.stored_J, b.open_circuit_V,
                                 b.brownouts - a.brownouts, b.downtime_s - a.downtime_s))
        return out


def mark(sim) -> Mark:
    st = sim.stepper
    totals = sim.ledger.totals()
    t = st.t
    downtime = (1.0 - sim.protection.uptime(t)) * t if t > 0 else 0.0
    return Mark(t, totals["harvested"], totals["to_loads"], totals["lost"], sim.model.stored_energy(st.z),
                st.open_circuit(), sim.protection.brownouts, downtime)
